/*
 * Routing internals, shared by the files of one module and no other:
 * route.c (the table, selection, limits, full tables), route_req.c (seqno
 * requests), route_local.c (the address sets of local gates, our
 * signatures) and route_codec.c (the wire codec).
 */
#ifndef CV_ROUTE_INT_H
#define CV_ROUTE_INT_H

#include <string.h>
#include <sys/queue.h>

#include "route.h"

#define ROUTE_REQ_HOPS 64	/* hop count of a seqno request we start */
#define ROUTE_REQ_CACHE 256	/* outstanding requests remembered */
#define ROUTE_REQ_RETRY_MS 1000	/* an unanswered request of ours goes */
#define ROUTE_REQ_TRIES 5	/* again after this, this often at most */
#define ROUTE_REQ_STUCK_MS 5000	/* then, while still needed, this often */
#define ROUTE_REQ_PEER_MAX 64	/* of them, forwarded for one peer */
#define ROUTE_REQ_WINDOW_MS 1000	/* per prefix and requester, */
#define ROUTE_REQ_BURST 4	/* requests taken in each window */
#define ROUTE_BUMP_MS 500	/* an origin moves a seqno at most this often */
#define ROUTE_OLD_WAIT_MS 2000	/* a better route, infeasible only for its
				 * older seqno, is asked for after this */
#define ROUTE_DEAD_MAX 4096	/* prefixes kept only for their FDs */
#define ROUTE_ADV_DIV 8		/* a metric moved by more than 1/8 of what
				 * we advertised (or hop_cost) is news */

struct rroute {			/* the latest update of one peer */
	uint32_t peer;
	struct node_id origin;
	uint16_t seqno;
	uint32_t metric;	/* as advertised by the peer */
	uint8_t hops;		/* as advertised by the peer */
	uint16_t cbase;
	uint8_t chain[ROUTE_CHAIN_HASH];
	uint8_t siglen;
	uint8_t sig[ROUTE_SIG_MAX];
};

struct rsel {			/* a selection */
	enum nh_kind kind;	/* NH_NONE: nothing */
	uint32_t peer;
	struct node_id origin;
	uint16_t seqno;
	uint32_t metric;
	uint8_t hops;
	uint16_t cbase;
	uint8_t chain[ROUTE_CHAIN_HASH];
	uint8_t siglen;
	uint8_t sig[ROUTE_SIG_MAX];
};

enum lsig_state { LSIG_NONE, LSIG_OK, LSIG_REFUSED };

struct rmp {			/* multipath: the feasible routes in use */
	size_t n;		/* 2..ROUTE_MP_MAX, oldest first */
	uint32_t peer[ROUTE_MP_MAX];
	uint32_t metric[ROUTE_MP_MAX];	/* now */
	uint8_t weight[ROUTE_MP_MAX];	/* 1..4, set when it joined */
	uint64_t pkts[ROUTE_MP_MAX];	/* since it joined */
	int32_t credit[ROUTE_MP_MAX];	/* new flows' weighted turns */
};

/* Multipath: the path each recent flow was given (route_mp.c). */
#define ROUTE_MP_FLOWS 1024		/* a power of 2 */
struct rflow {
	uint32_t flow;			/* its hash, 0: free */
	uint32_t peer;
};

struct rprefix {
	struct addr a;			/* masked */
	struct rprefix *hnext;		/* hash chain */
	struct rprefix *dnext;		/* dirty list */
	TAILQ_ENTRY(rprefix) dlink;	/* dead list */
	struct rroute *routes;
	size_t nroutes, croutes;
	unsigned nlocal;		/* gates announcing it */
	uint16_t lseq;			/* our seqno as its origin */
	uint16_t fd_seqno;		/* feasibility distance */
	uint32_t fd_metric;
	uint8_t fd_valid, dirty, dead;
	uint8_t tell;			/* flushing: sel goes to the peers */
	uint8_t stuck;			/* it needs a newer seqno */
	uint32_t old_ms;		/* since when (ms, 0: not) the better
					 * route's seqno is only older */
	struct node_id fd_origin;	/* who signed fd_seqno, and how: */
	uint16_t fd_cbase;		/* the proof our requests carry, */
	uint8_t fd_chain[ROUTE_CHAIN_HASH];	/* and a checked chain */
	uint8_t fd_siglen;
	uint8_t fd_sig[ROUTE_SIG_MAX];
	uint8_t bump_due;		/* a seqno request waits for its bump */
	uint16_t bump_to;		/* to this seqno */
	uint64_t bump_ms;		/* when we last moved lseq for one */
	uint32_t rq_peer;		/* the last requester, */
	uint64_t rq_start;		/* the start of its window, */
	uint8_t rq_n;			/* and its requests in it */
	enum lsig_state lsig_state;	/* our signature of (a, lseq) */
	uint16_t lsig_seq;
	uint8_t lchained;		/* lcbase is set */
	uint16_t lcbase;		/* our chain of a, */
	uint8_t lchain[ROUTE_CHAIN_HASH];	/* its value at lsig_seq */
	uint8_t lsiglen;
	uint8_t lsig[ROUTE_SIG_MAX];
	struct rsel sel;		/* what we select and forward by */
	struct rsel adv;		/* what we last advertised: sel but
					 * for a metric within route_adv_due */
	struct rmp *mp;			/* NULL: one path */
};

struct rclass {			/* a (len, plen) present in the table */
	uint8_t len;
	uint16_t plen;
	uint32_t refs;
};

struct rpeer {
	uint32_t id;
	uint32_t cost;
	uint32_t nroutes;
	int syncing;		/* its full table is still being sent */
	int again;		/* and once more from the start after that */
	size_t cursor;		/* next hash bucket of it */
};

/* Routes one peer holds from one origin (for max_origin_routes). */
struct rpo {
	struct rpo *next;
	uint32_t peer;
	struct node_id origin;
	uint32_t n;
};

struct rgate {
	uint32_t id;
	struct addr *a;		/* sorted, masked, unique */
	size_t n;
};

/*
 * An outstanding seqno request, ours (from 0) or forwarded. It dedups
 * copies of itself, and carries the duty to follow the route toward the
 * origin: whenever that route changes, the request goes to the new next hop,
 * so a request lost in a transient state is not lost for good. It ends when
 * our selection has the seqno, or when the ring wraps.
 */
struct rreq {
	struct addr a;
	struct node_id origin;
	uint16_t seqno;
	uint8_t hop_count;	/* as we send it */
	uint8_t used;
	uint32_t from;		/* peer it came from, 0: ours */
	uint32_t target;	/* peer we sent it to, 0: none */
	uint64_t sent_ms;	/* when */
	uint8_t tries;		/* ours: times sent */
	struct node_id porigin;	/* its proof (route_seqreq) */
	uint16_t pcbase;
	uint8_t pchain[ROUTE_CHAIN_HASH];
	uint8_t psiglen;
	uint8_t psig[ROUTE_SIG_MAX];
};

struct route_table {
	struct node_id self;
	struct route_conf conf;
	struct route_ops ops;
	struct rprefix **buckets;
	size_t nbuckets, nprefix;
	struct rclass *cls;
	size_t ncls, ccls;
	struct rpeer *peers;
	size_t npeers, cpeers;
	struct rpo **po;		/* hash of (peer, origin) counts */
	size_t npo_buckets, npo;
	struct rgate *gates;
	size_t ngates, cgates;
	struct rprefix *dirty;
	size_t ndirty;
	TAILQ_HEAD(, rprefix) dead;
	size_t ndead;
	size_t nbump;			/* prefixes with bump_due */
	size_t nstuck;			/* prefixes stuck */
	struct route_update *batch;
	size_t cbatch;
	struct rreq reqs[ROUTE_REQ_CACHE];
	unsigned reqpos;
	struct rflow *flows;		/* ROUTE_MP_FLOWS, or NULL */
	route_change_fn *on_change;
	void *change_arg;
};

/* Babel's modular comparison: is a newer than b (mod 2^16)? */
static inline int seq_newer(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) > 0;
}

static inline int id_eq(const struct node_id *a, const struct node_id *b)
{
	return memcmp(a->b, b->b, NODE_ID_LEN) == 0;
}

static inline int addr_valid(const struct addr *a)
{
	return a->len <= ADDR_MAX && a->plen <= a->len * 8;
}

/* route.c */
int route_grow(void *arr, size_t *cap, size_t need, size_t sz);
uint64_t route_now(const struct route_table *rt);
struct rprefix *prefix_find(const struct route_table *rt,
			    const struct addr *a);
struct rprefix *prefix_get(struct route_table *rt, const struct addr *a);
/* Longest-prefix match with a selected route, or NULL. */
struct rprefix *route_match(const struct route_table *rt, uint32_t inst,
			    const uint8_t *dst, size_t dlen);
void mark_dirty(struct route_table *rt, struct rprefix *p);
void route_flush(struct route_table *rt);
struct rpeer *peer_find(const struct route_table *rt, uint32_t id);
int route_feasible(const struct rprefix *p, const struct rroute *r);
uint32_t route_metric(const struct route_table *rt, const struct rroute *r);
int route_better(uint32_t m, uint32_t cur);
int route_adv_due(const struct route_table *rt, const struct rprefix *p);
void sel_update(const struct rprefix *p, const struct rsel *s,
		struct route_update *u);

/* route_req.c: after a flush reselected p */
void req_refresh(struct route_table *rt, const struct rprefix *p);
void prefix_request(struct route_table *rt, struct rprefix *p);

/* route_mp.c: the multipath set of p after it was selected again; and
 * its release with p */
void route_mp_select(struct route_table *rt, struct rprefix *p);
void route_mp_free(struct rprefix *p);

/* route_local.c: our signature of p at lseq; 0, or -1 if we have none */
int local_signed(struct route_table *rt, struct rprefix *p);
/* out = H^k(in) in the chain of (prefix, origin, cbase) (ops.hash set);
 * 0, or -1 if hashing failed */
int chain_walk(const struct route_table *rt, const struct addr *prefix,
		const struct node_id *origin, uint16_t cbase,
		const uint8_t *in, unsigned k, uint8_t *out);

#endif
