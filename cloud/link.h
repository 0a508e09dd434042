/*
 * Peer links: TCP + TLS to neighbour daemons, their state machine
 * (connecting -> handshake -> hello -> up), keepalive and RTT, and the
 * output queues (control ahead of data).
 */
#ifndef CV_LINK_H
#define CV_LINK_H

#include <stdint.h>
#include <stdio.h>

#include "pkt.h"

struct cloud;
struct link;
struct route_ops;

/* Load TLS credentials (sets c->self, c->name), open the listeners and
 * schedule the outbound connections. -1 after logging. */
int links_init(struct cloud *c);
/* Route callbacks that frame updates onto links. */
void links_route_ops(struct cloud *c, struct route_ops *ops);
/* SIGHUP: reload CAs and CRLs, close links whose peer no longer passes.
 * Returns the number of links closed, or -1 if the reload failed. */
int links_reload(struct cloud *c);
/* Say goodbye on every link, close everything. */
void links_shutdown(struct cloud *c);

struct link *links_by_peer(struct cloud *c, uint32_t peer);
uint32_t link_peer(const struct link *l);
/* Queue a data packet; 0, or -1 if it was dropped. */
int link_send_data(struct link *l, const struct pkt *p);
/* To every link that is up, except one (may be NULL). */
void links_broadcast(struct cloud *c, const struct link *except,
		     const struct pkt *p);
const char *links_peer_name(struct cloud *c, uint32_t peer);
void links_status(struct cloud *c, FILE *f);
unsigned links_count(struct cloud *c);

#endif
