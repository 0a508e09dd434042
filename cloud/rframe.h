/* Route updates framed onto links. */
#ifndef CV_RFRAME_H
#define CV_RFRAME_H

struct cloud;
struct link;
struct route_ops;

/* Route callbacks that frame updates onto the links. */
void rframe_ops(struct cloud *c, struct route_ops *ops);
/* Queue the next chunk of l's full table: 1 if more remain, 0 if done. */
int rframe_sync(struct cloud *c, struct link *l);

#endif
