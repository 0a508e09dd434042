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
#define ROUTE_SIG_MAX 112	/* an origin's signature: ECDSA P-384 DER fits */
/*
 * Seqno hash chains (doc/PROTOCOL.md 2.4): an origin's seqnos cbase ..
 * cbase + ROUTE_CHAIN_LEN of a prefix each carry a value of one hash
 * chain, c(s) = H^(cbase + LEN - s)(seed), so H^(s2 - s1)(c(s2)) = c(s1).
 * A node that holds a checked c(s1) takes a newer seqno s2 by hashing,
 * without checking its signature: only the origin knows preimages.
 */
#define ROUTE_CHAIN_HASH 16	/* bytes of a chain value */
#define ROUTE_CHAIN_LEN 256	/* seqnos of one chain after its cbase */
/* What H hashes: a context string, the prefix as the codec writes it, the
 * origin ID, cbase, and the value. */
#define ROUTE_CHAIN_DATA_MAX (16 + 7 + ADDR_MAX + NODE_ID_LEN + 2 + \
			      ROUTE_CHAIN_HASH)
/* What an origin signs: a context string, the prefix as the codec writes
 * it, the origin ID, the seqno, cbase and the chain value (2.4). */
#define ROUTE_SIG_DATA_MAX (16 + 7 + ADDR_MAX + NODE_ID_LEN + 2 + 2 + \
			    ROUTE_CHAIN_HASH)
/* Bytes of an encoded entry: fixed part, plus address and signature. */
#define ROUTE_ENTRY_FIXED (1 + 7 + NODE_ID_LEN + 2 + 4 + 1 + 2 + \
			   ROUTE_CHAIN_HASH + 1)

struct route_update {		/* one entry of an FR_ROUTE frame */
	struct addr prefix;
	struct node_id origin;
	uint16_t seqno;
	uint32_t metric;	/* ROUTE_INF: retraction */
	uint8_t hops;
	uint16_t cbase;		/* seqno's chain: its first seqno */
	uint8_t chain[ROUTE_CHAIN_HASH];	/* and its value at seqno */
	uint8_t siglen;		/* 0 only in a retraction */
	uint8_t sig[ROUTE_SIG_MAX];	/* origin's, over route_sig_data */
};

struct route_seqreq {		/* payload of an FR_SEQREQ frame */
	struct addr prefix;
	struct node_id origin;
	uint16_t seqno;		/* requested: at least this */
	uint8_t hop_count;	/* forwarded while > 0, decremented */
	/* Proof that seqno - 1 was announced: the signature of (prefix,
	 * porigin, seqno - 1) by porigin (psiglen 0: none). With it an
	 * origin may jump to seqno (after its restart, say); without it, it
	 * moves by one. */
	struct node_id porigin;
	uint16_t pcbase;
	uint8_t pchain[ROUTE_CHAIN_HASH];
	uint8_t psiglen;
	uint8_t psig[ROUTE_SIG_MAX];
};

struct route_ops {
	void *ctx;
	/* Send these updates to peer (the caller frames and chunks them). */
	void (*send_updates)(void *ctx, uint32_t peer,
			     const struct route_update *u, size_t n);
	void (*send_seqreq)(void *ctx, uint32_t peer,
			    const struct route_seqreq *r);
	/* Origin authentication (NULL: none, as in most unit tests). verify:
	 * 0 if u carries its origin's signature and the origin may announce
	 * the prefix, else -1 (the caller logs why). sign: fill u->sig and
	 * u->siglen for an address of ours; -1 if we may not announce it. */
	int (*verify)(void *ctx, uint32_t peer, const struct route_update *u);
	int (*sign)(void *ctx, struct route_update *u);
	/* Milliseconds of a monotonic clock, and a request to be called at
	 * route_tick in about ms (deferred seqno bumps). */
	uint64_t (*now_ms)(void *ctx);
	void (*arm)(void *ctx, uint64_t ms);
	/* The chains' H: the first ROUTE_CHAIN_HASH bytes of SHA-256 of
	 * data; 0, or -1 on failure (NULL: no chains; every new seqno's
	 * signature is checked). */
	int (*hash)(void *ctx, const uint8_t *data, size_t len,
		    uint8_t out[ROUTE_CHAIN_HASH]);
};

#define ROUTE_MP_MAX 8		/* next hops of one prefix in multipath */

struct route_conf {
	uint32_t max_remote_routes;	/* per peer; excess is refused */
	uint8_t max_hops;		/* route_max_dist */
	uint32_t hop_cost;		/* added per hop, metric units */
	uint32_t max_origin_routes;	/* per peer and origin, 0: no limit;
					 * half of max_remote_routes at most */
	uint8_t hash_key[16];		/* secret: keys every table hash */
	uint8_t chain_key[ROUTE_CHAIN_HASH];	/* secret: seeds our chains
						 * (a restart: new ones) */
	uint32_t mp_ratio_pct;		/* multipath: routes within this
					 * percent of the best; 0: off */
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

/* A link came up, went down, changed cost. A new peer's full table is
 * not sent at once: the caller pulls it with route_sync as the link's
 * output drains, so no table size stops a link from coming up. */
void route_peer_up(struct route_table *rt, uint32_t peer, uint32_t cost);
/* Send peer (through ops) about want more entries of its full table:
 * 1 if more remain, 0 when it has all of it. */
int route_sync(struct route_table *rt, uint32_t peer, size_t want);
/* Send peer its full table again (from route_sync): the caller dropped
 * updates it could not queue. Retractions must never be dropped: the
 * full table only says what is there. */
void route_resync(struct route_table *rt, uint32_t peer);
/* Deferred work is due (see route_ops.arm). */
void route_tick(struct route_table *rt);
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
/* route_lookup for forwarding: with multipath, the next hop of flow (a
 * hash) among the prefix's paths, weighted by 1 / metric, and counted. */
int route_lookup_flow(struct route_table *rt, uint32_t inst,
		      const uint8_t *dst, size_t dlen, uint32_t flow,
		      struct route_nh *nh);

/* Selected routes, for status and cloudctl. */
struct route_info {
	const struct addr *prefix;
	const struct node_id *origin;
	struct route_nh nh;
	uint32_t metric;
	uint8_t hops;
	uint16_t seqno;
	/* multipath: the paths in use (npaths 0: nh alone), best first,
	 * with the packets each forwarded since the set last changed */
	size_t npaths;
	const uint32_t *path_peer, *path_metric;
	const uint64_t *path_pkts;
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
/* The bytes an origin signs for u (prefix, origin, seqno, cbase,
 * chain); their length. */
size_t route_sig_data(const struct route_update *u,
		      uint8_t buf[ROUTE_SIG_DATA_MAX]);
/* What H hashes for (prefix, origin, cbase), but the value: its length
 * (the value goes after it). */
size_t route_chain_data(const struct addr *prefix,
			const struct node_id *origin, uint16_t cbase,
			uint8_t buf[ROUTE_CHAIN_DATA_MAX]);
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
