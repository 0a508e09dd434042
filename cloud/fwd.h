/* Forwarding: one lookup per packet, duplicate suppression of broadcasts. */
#ifndef CV_FWD_H
#define CV_FWD_H

#include <stdint.h>
#include <stdio.h>

#include "pkt.h"

struct cloud;
struct link;

struct fwd;

/* How multipath spreads unicast packets over a prefix's paths. */
enum fwd_mp { FWD_MP_OFF, FWD_MP_FLOW, FWD_MP_PACKET };

struct fwd *fwd_new(enum fwd_mp mp);
void fwd_free(struct fwd *f);
/* A packet from local gate `gate` (non-zero id). Returns the peer whose
 * link is too full for the gate's next packets (it is to wait until
 * link_drained), or 0. Only relayed packets meet early drop. */
uint32_t fwd_from_gate(struct cloud *c, uint32_t gate, struct pkt *p);
/* A packet from a peer link. */
void fwd_from_link(struct cloud *c, struct link *from, struct pkt *p);
/* The drop counters, one line for the status file. */
void fwd_status(const struct fwd *f, FILE *out);
/* The same counters, for metrics. */
struct fwd_drops {
	uint64_t no_route, ttl_expired, dups, offload_bad;
};
void fwd_drops(const struct fwd *f, struct fwd_drops *d);

#endif
