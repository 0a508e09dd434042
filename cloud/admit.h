/* Admission of new links: max_connections, and who makes room. */
#ifndef CV_ADMIT_H
#define CV_ADMIT_H

struct cloud;

int admit_init(struct cloud *c);
void admit_free(struct cloud *c);
/* Room for one more link? 0 if there is (an unauthenticated link may have
 * been evicted to make it), -1 if not (logged, naming addr). */
int admit_link(struct cloud *c, const char *addr);

#endif
