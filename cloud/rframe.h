/* Route updates framed onto links. */
#ifndef CV_RFRAME_H
#define CV_RFRAME_H

struct cloud;
struct route_ops;

/* Route callbacks that frame updates onto the links. */
void rframe_ops(struct cloud *c, struct route_ops *ops);

#endif
