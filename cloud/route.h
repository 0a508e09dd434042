/*
 * Routing: loop-free incremental distance vector in the style of Babel
 * (RFC 8966 sections 2.4-2.5, 3.5-3.8). Pure logic, no I/O: the daemon (or
 * a unit test) feeds it events and it answers through route_ops.
 *
 * Peers are opaque non-zero u32 handles chosen by the caller; local gates
 * are likewise non-zero u32 handles.
 */
#ifndef CV_ROUTE_H
#define CV_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "proto.h"

#define ROUTE_INF 0xffffffffu	/* metric of a retraction */

struct route_update {		/* one entry of an FR_ROUTE frame */
	struct addr prefix;
	struct node_id origin;
	uint16_t seqno;
	uint32_t metric;	/* ROUTE_INF: retraction */
	uint8_t hops;
};

struct route_seqreq {		/* payload of an FR_SEQREQ frame */
	struct addr prefix;
	struct node_id origin;
	uint16_t seqno;		/* requested: at least this */
	uint8_t hop_count;	/* forwarded while > 0, decremented */
};

struct route_ops {
	void *ctx;
	/* Send these updates to peer (the caller frames and chunks them). */
	void (*send_updates)(void *ctx, uint32_t peer,
			     const struct route_update *u, size_t n);
	void (*send_seqreq)(void *ctx, uint32_t peer,
			    const struct route_seqreq *r);
};

struct route_conf {
	uint32_t max_remote_routes;	/* per peer; excess is refused */
	uint8_t max_hops;		/* route_max_dist */
	uint32_t hop_cost;		/* added per hop, metric units */
};

enum nh_kind { NH_NONE, NH_LOCAL, NH_PEER };

struct route_nh {
	enum nh_kind kind;
	uint32_t peer;		/* NH_PEER */
};

struct route_table;

struct route_table *route_new(const struct node_id *self,
			      const struct route_conf *conf,
			      const struct route_ops *ops);
void route_free(struct route_table *rt);

/* A link came up (full table goes to it), went down, changed cost. */
void route_peer_up(struct route_table *rt, uint32_t peer, uint32_t cost);
void route_peer_down(struct route_table *rt, uint32_t peer);
void route_peer_cost(struct route_table *rt, uint32_t peer, uint32_t cost);

/* Updates from a peer. Returns the number refused (limits), >= 0. */
int route_recv(struct route_table *rt, uint32_t peer,
	       const struct route_update *u, size_t n);
void route_recv_seqreq(struct route_table *rt, uint32_t peer,
		       const struct route_seqreq *r);

/* A local gate's announced set replaces its previous one (n 0: none). */
int route_local_set(struct route_table *rt, uint32_t gate,
		    const struct addr *a, size_t n);

/* Longest-prefix match of dst in inst. Returns 0 and fills nh, or -1. */
int route_lookup(const struct route_table *rt, uint32_t inst,
		 const uint8_t *dst, size_t dlen, struct route_nh *nh);

/* Selected routes, for status and cloudctl. */
struct route_info {
	const struct addr *prefix;
	const struct node_id *origin;
	struct route_nh nh;
	uint32_t metric;
	uint8_t hops;
	uint16_t seqno;
};
void route_foreach(const struct route_table *rt,
		   void (*fn)(void *arg, const struct route_info *ri),
		   void *arg);
/* The order of prefixes: instance, length, prefix length, bytes. */
int route_prefix_cmp(const struct addr *x, const struct addr *y);
/* The selected route of exactly this (masked) prefix: 0, or -1 if none. */
int route_get(const struct route_table *rt, const struct addr *prefix,
	      struct route_info *ri);

/*
 * Called from every flush for each prefix whose selection changed as far
 * as routing re-advertises it: it appeared, went, or its origin, seqno,
 * metric or hops changed. fn must not call back into the table; read the
 * new state later with route_get. NULL fn: no calls.
 */
typedef void route_change_fn(void *arg, const struct addr *prefix);
void route_on_change(struct route_table *rt, route_change_fn *fn,
		     void *arg);

/* Wire codec of FR_ROUTE and FR_SEQREQ payloads (doc/PROTOCOL.md). */
/* Encode up to n updates into buf; returns bytes written, *used = count. */
size_t route_encode(const struct route_update *u, size_t n, uint8_t *buf,
		    size_t cap, size_t *used);
/* Decode a whole payload; -1 if malformed or more than max entries. */
int route_decode(const uint8_t *buf, size_t len, struct route_update *out,
		 size_t max, size_t *n);
size_t route_seqreq_encode(const struct route_seqreq *r, uint8_t *buf,
			   size_t cap);
int route_seqreq_decode(const uint8_t *buf, size_t len,
			struct route_seqreq *r);

#endif
