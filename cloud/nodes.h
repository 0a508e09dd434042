/*
 * Node records: each node floods a small signed record of itself (name,
 * version, its up links with their RTT and transport), and every node
 * keeps the newest record of each origin, so any node can draw the whole
 * mesh (doc/PROTOCOL.md 2.7). Pure logic, no I/O: the daemon (mesh.c) or a
 * unit test feeds it frames and link changes, and it answers through
 * nodes_ops.
 */
#ifndef CV_NODES_H
#define CV_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define NODE_LINKS_MAX 64	/* links in one record at most */
#define NODE_VERSION_MAX 32	/* bytes of the version string */
#define NODE_SIG_MAX 112	/* an origin's signature (ROUTE_SIG_MAX) */
#define NODES_MAX 1024		/* records kept; more origins are refused */
#define NODE_LINK_LEN (NODE_ID_LEN + 4 + 1)
/* origin, seqno, flags, name length; version length; link count; siglen */
#define NODE_REC_FIXED (NODE_ID_LEN + 4 + 1 + 1 + 1 + 1 + 1)
#define NODE_REC_MAX (NODE_REC_FIXED + NODE_NAME_MAX + NODE_VERSION_MAX + \
		      NODE_LINKS_MAX * NODE_LINK_LEN + NODE_SIG_MAX)
#define NODE_SIG_LABEL "cloudvpn node 1"	/* 15 bytes, signed first */
#define NODE_SIG_DATA_MAX (sizeof(NODE_SIG_LABEL) - 1 + NODE_REC_MAX)

#define NODE_RTT_NONE 0xffffffffu	/* not measured yet */
#define NODE_RATE_MS 1000		/* an origin floods once a second
					 * at most, */
#define NODE_RATE_PER_NODE_MS 200	/* and once per this times the
					 * nodes it knows: each node then
					 * checks at most 5 records'
					 * signatures a second */
#define NODE_SETTLE_MS 1000		/* after a link came or went, once
					 * ours were this long unchanged, */
#define NODE_SETTLE_MAX_MS 5000		/* or changing for this long */
#define NODE_REFRESH_MS (600 * 1000ull)	/* and again every 10 minutes */
#define NODE_EXPIRE_MS (3 * NODE_REFRESH_MS)	/* unheard: forgotten */
#define NODE_RTT_MOVE_PCT 25		/* an RTT change floods past both */
#define NODE_RTT_MOVE_US 1000

enum node_xport { NODE_XP_OTHER = 0, NODE_XP_TCP = 1, NODE_XP_UDP = 2 };

struct node_link {
	struct node_id peer;
	uint32_t rtt_us;	/* NODE_RTT_NONE: not measured */
	uint8_t transport;	/* enum node_xport; others read as other */
};

/* One FR_NODE payload, decoded. Name and version are the origin's bytes
 * (no NUL inside); escape them before they are printed. */
struct node_rec {
	struct node_id origin;
	uint32_t seqno;
	char name[NODE_NAME_MAX + 1];
	char version[NODE_VERSION_MAX + 1];
	size_t nlinks;
	struct node_link links[NODE_LINKS_MAX];
	size_t siglen;
	uint8_t sig[NODE_SIG_MAX];
};

/* The codec. The signed part is every byte before siglen. */
size_t nrec_encode(const struct node_rec *r, uint8_t *buf, size_t cap);
/* A whole payload: 0 and *body (length of the signed part), or -1. */
int nrec_decode(const uint8_t *p, size_t len, struct node_rec *r,
		size_t *body);
/* What the origin signs: NODE_SIG_LABEL, then body[0..len). */
size_t nrec_sig_data(const uint8_t *body, size_t len,
		     uint8_t out[NODE_SIG_DATA_MAX]);
/* a is newer than b (seqnos compare modulo 2^32) */
int nrec_newer(uint32_t a, uint32_t b);

struct nodes_ops {
	void *ctx;
	/* This node's links that are up now: at most max into out. */
	size_t (*links)(void *ctx, struct node_link *out, size_t max);
	/* Our key's signature of data into sig (NODE_SIG_MAX): 0 or -1. */
	int (*sign)(void *ctx, const uint8_t *data, size_t len, uint8_t *sig,
		    size_t *siglen);
	/* 0 if origin's key signed data, else -1 (the caller logs why). */
	int (*verify)(void *ctx, uint32_t peer, const struct node_id *origin,
		      const uint8_t *data, size_t len, const uint8_t *sig,
		      size_t siglen);
	/* An FR_NODE payload of origin to peer; to every peer but except
	 * (0: every peer). */
	void (*send)(void *ctx, uint32_t peer, const struct node_id *origin,
		     const uint8_t *rec, size_t len);
	void (*flood)(void *ctx, uint32_t except, const struct node_id *origin,
		      const uint8_t *rec, size_t len);
	uint64_t (*now_ms)(void *ctx);
	/* Call nodes_tick in about ms. */
	void (*arm)(void *ctx, uint64_t ms);
};

struct nodes;

/* Our records start at seqno (a restart takes the time in seconds, so it
 * passes what it sent before; a newer record of ours heard back moves it
 * on). key seeds the table's hash. */
struct nodes *nodes_new(const struct node_id *self, const char *name,
			const char *version, uint32_t seqno,
			const uint8_t key[16], const struct nodes_ops *ops);
void nodes_free(struct nodes *n);

/* An FR_NODE payload from peer: 0 (taken and flooded, or dropped), -1 if
 * malformed (the link fails). */
int nodes_recv(struct nodes *n, uint32_t peer, const uint8_t *p, size_t len);
/* Our links may have changed (up, down, RTT): flood a new record if they
 * did as far as it matters, at most once per NODE_RATE_MS. */
void nodes_check(struct nodes *n);
/* A link of ours came or went: as nodes_check, once our links have
 * settled (NODE_SETTLE_MS). */
void nodes_moved(struct nodes *n);
/* The time armed through ops has come. */
void nodes_tick(struct nodes *n);
/* Every record we hold, ours too, to a link that just came up. */
void nodes_sync(struct nodes *n, uint32_t peer);

/* A record as we hold it. */
struct node_view {
	const struct node_id *origin;
	uint32_t seqno;
	const char *name, *version;
	size_t nlinks;
	const struct node_link *links;	/* sorted by peer, transport */
	uint64_t age_ms;		/* since it arrived (ours: made) */
	int self;
};
/* 0 and v filled, or -1 if we hold no record of id. */
int nodes_get(const struct nodes *n, const struct node_id *id,
	      struct node_view *v);
void nodes_foreach(const struct nodes *n,
		   void (*fn)(void *arg, const struct node_view *v),
		   void *arg);

struct nodes_stats {
	size_t records;
	uint64_t taken, stale, refused, full, made;
};
void nodes_stats(const struct nodes *n, struct nodes_stats *s);

#endif
