/* Admission of new links: rates and limits against connection floods
 * (admit.c explains the order), and the cap on links per node. */
#ifndef CV_ADMIT_H
#define CV_ADMIT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct cloud;
struct link;

int admit_init(struct cloud *c);
void admit_free(struct cloud *c);
/* Room for a stranger's connection from sa (addr, its text)? 0 if there
 * is (an older stranger may have been evicted to make it), -1 if not
 * (counted, and logged within the limits of admit_log_ok). */
int admit_inbound(struct cloud *c, const struct sockaddr *sa,
		  const char *addr);
/* Room for a link of our own making (a connector, a handed socket)? */
int admit_outbound(struct cloud *c, const char *addr);
/* May l's authenticated peer hold one more link? -1 (counted) if it
 * already holds max_links_per_node. */
int admit_node(struct cloud *c, struct link *l);
/* 1 if a message about an unauthenticated connection may be logged now;
 * the ones withheld are summed up later. */
int admit_log_ok(struct cloud *c);
void admit_status(const struct cloud *c, FILE *out);
/* Inbound connections refused at accept, by the check that refused them
 * (metrics; refused_node and evicted are handshake failures there). */
struct admit_refused {
	uint64_t source, rate, full;
};
void admit_refused(const struct cloud *c, struct admit_refused *r);

#endif
