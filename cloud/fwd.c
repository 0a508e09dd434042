/*
 * Forwarding: one lookup per packet. Broadcasts are flooded over every
 * link; each daemon drops the copies a mesh loop brings back, keyed by
 * (origin, seq): origin a random u64 of the sending daemon, seq its
 * broadcast counter.
 *
 * The rule. An (origin, seq) is delivered once; a copy of it within
 * DUP_LIFE_MS is dropped. Two memories hold what was delivered:
 *
 * - a window per origin: DUP_WINDOW bits below `top`, the highest seq it
 *   holds. A seq in (top - DUP_WINDOW, top + DUP_WINDOW] is "near": it
 *   sets its bit and, if ahead, moves top by at most DUP_WINDOW. Bits
 *   age in two generations, so a bit lives DUP_LIFE_MS to 3 x that.
 * - the far cache: a ring of FAR_ENTRIES exact (origin, seq, time)
 *   entries with a hash index, each valid for DUP_LIFE_MS; when the ring
 *   is full the oldest entry goes first. A seq outside the window (far
 *   ahead, or behind) is looked up and recorded here and never moves the
 *   window; so are the bits the window lets go of while still live.
 *
 * A far seq moves the window (re-bases it there) only when the window
 * has accepted no near seq for DUP_IDLE_MS: an origin that restarted its
 * counter at a new random value comes back to the window that way.
 *
 * Why no one can silence an origin. A packet is dropped only when its own
 * (origin, seq) was delivered before, within DUP_LIFE_MS. A forged seq
 * far from the window lands in the cache and drops nothing else; a forged
 * near seq moves the window by at most DUP_WINDOW, and the real seqs then
 * behind it pass through the cache, once each; a forged re-base of an
 * idle origin is undone by that origin's own packets a DUP_IDLE_MS later,
 * and they pass through the cache until then. What a forger can still do
 * is send the very (origin, seq) the victim will use next, up to
 * DUP_LIFE_MS ahead of it: that packet takes the real one's place, one
 * forged broadcast per real one, which no scheme can tell from a genuine
 * copy without a signature of the origin. Flooding far seqs evicts cache
 * entries early: copies may then be delivered twice, nothing is dropped.
 *
 * Windows are found by a SipHash-2-4 of the origin under a secret key made
 * in fwd_new, the cache by one of (origin, seq): a peer cannot choose
 * values that collide to push others out.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bytes.h"
#include "cloud.h"
#include "fwd.h"
#include "gate.h"
#include "gso.h"
#include "link.h"
#include "log.h"
#include "route.h"
#include "siphash.h"

#define DUP_ORIGINS 1024		/* power of two */
#define DUP_PROBE 16			/* slots looked at before evicting */
#define DUP_WINDOW 1024			/* sequence numbers in a window */
#define DUP_LIFE_MS 2000		/* copies come within this (TTL-bound) */
#define DUP_IDLE_MS 1000		/* no near seq this long: may re-base */
#define FAR_ENTRIES 16384		/* 8192 far seqs/s held DUP_LIFE_MS */
#define FAR_BUCKETS (2 * FAR_ENTRIES)	/* power of two */
#define NOROUTE_SLOTS 64		/* destinations logged lately */
#define NOROUTE_AGAIN_MS 60000		/* one destination, once a minute */
#define NOROUTE_LINES 5			/* lines a second at most */

struct dup_origin {
	uint64_t origin;		/* 0: free slot */
	uint64_t heard;			/* ms, any packet: for eviction */
	uint64_t moved;			/* ms, last near seq accepted */
	uint64_t gen_at;		/* ms, when bits[0] began */
	uint32_t top;			/* highest sequence in the window */
	uint64_t bits[2][DUP_WINDOW / 64]; /* bit i: top - i seen; [1] older */
};

struct far_entry {
	uint64_t origin;		/* 0: never used */
	uint64_t at;			/* ms */
	uint32_t seq;
	uint32_t next;			/* index + 1 in the bucket chain, 0 ends */
};

struct fwd {
	uint64_t origin;		/* our broadcast origin, from a CSPRNG */
	uint32_t seq;
	uint8_t key[SIPHASH_KEY_LEN];	/* secret: the index hashes */
	struct dup_origin dup[DUP_ORIGINS];
	struct far_entry far[FAR_ENTRIES];	/* ring, oldest at far_pos */
	uint32_t far_head[FAR_BUCKETS];		/* index + 1, 0 empty */
	uint32_t far_pos;
	uint64_t no_route, ttl_expired, dups, offload_bad;
	uint64_t far_n, far_evicted, rebases, origins_evicted;
	uint64_t nr_hash[NOROUTE_SLOTS];	/* keyed hash | 1, 0: free */
	uint64_t nr_at[NOROUTE_SLOTS];		/* ms */
	uint64_t nr_sec;
	unsigned nr_lines;
	enum fwd_mp mp;
	uint64_t rng;			/* FWD_MP_PACKET: xorshift */
};

struct fwd *fwd_new(enum fwd_mp mp)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->mp = mp;
	f->rng = 0x9e3779b97f4a7c15ull;
	if (getrandom(f->key, sizeof(f->key), 0) != sizeof(f->key))
		goto err;
	while (!f->origin)
		if (getrandom(&f->origin, sizeof(f->origin), 0) !=
			    sizeof(f->origin) ||
		    getrandom(&f->seq, sizeof(f->seq), 0) != sizeof(f->seq))
			goto err;
	return f;
err:
	free(f);
	return NULL;
}

void fwd_free(struct fwd *f)
{
	free(f);
}

void fwd_status(const struct fwd *f, FILE *out)
{
	fprintf(out, "fwd no_route=%llu ttl_expired=%llu dups=%llu far=%llu "
		"far_evicted=%llu rebases=%llu origins_evicted=%llu "
		"offload_bad=%llu\n",
		(unsigned long long)f->no_route,
		(unsigned long long)f->ttl_expired,
		(unsigned long long)f->dups, (unsigned long long)f->far_n,
		(unsigned long long)f->far_evicted,
		(unsigned long long)f->rebases,
		(unsigned long long)f->origins_evicted,
		(unsigned long long)f->offload_bad);
}

void fwd_drops(const struct fwd *f, struct fwd_drops *d)
{
	d->no_route = f->no_route;
	d->ttl_expired = f->ttl_expired;
	d->dups = f->dups;
	d->offload_bad = f->offload_bad;
}

/* ---- the far cache ------------------------------------------------------ */

static uint32_t far_bucket(const struct fwd *f, uint64_t origin, uint32_t seq)
{
	uint8_t k[12];

	memcpy(k, &origin, 8);
	memcpy(k + 8, &seq, 4);
	return (uint32_t)siphash24(f->key, k, sizeof(k)) & (FAR_BUCKETS - 1);
}

static int far_has(const struct fwd *f, uint64_t origin, uint32_t seq,
		   uint64_t now)
{
	uint32_t i = f->far_head[far_bucket(f, origin, seq)];

	for (; i; i = f->far[i - 1].next) {
		const struct far_entry *e = &f->far[i - 1];

		if (e->origin == origin && e->seq == seq &&
		    now - e->at < DUP_LIFE_MS)
			return 1;
	}
	return 0;
}

static void far_add(struct fwd *f, uint64_t origin, uint32_t seq,
		    uint64_t now)
{
	uint32_t idx = f->far_pos, b, *pp;
	struct far_entry *e = &f->far[idx];

	if (e->origin) {		/* the oldest goes: unlink it */
		if (now - e->at < DUP_LIFE_MS)
			f->far_evicted++;
		pp = &f->far_head[far_bucket(f, e->origin, e->seq)];
		while (*pp != idx + 1)
			pp = &f->far[*pp - 1].next;
		*pp = e->next;
	}
	b = far_bucket(f, origin, seq);
	e->origin = origin;
	e->seq = seq;
	e->at = now;
	e->next = f->far_head[b];
	f->far_head[b] = idx + 1;
	f->far_pos = (idx + 1) % FAR_ENTRIES;
}

/* ---- the window ---------------------------------------------------------- */

static int bit_test(const struct dup_origin *d, uint32_t i)
{
	uint64_t m = 1ull << (i % 64);

	return !!((d->bits[0][i / 64] | d->bits[1][i / 64]) & m);
}

/* Age the window by `by` sequence numbers: bit i moves to bit i + by. */
static void window_shift(uint64_t *bits, uint32_t by)
{
	uint32_t w = by / 64, b = by % 64, i;

	if (by >= DUP_WINDOW) {
		memset(bits, 0, DUP_WINDOW / 8);
		return;
	}
	for (i = DUP_WINDOW / 64; i-- > 0;) {
		uint64_t v = i >= w ? bits[i - w] << b : 0;

		if (b && i >= w + 1)
			v |= bits[i - w - 1] >> (64 - b);
		bits[i] = v;
	}
}

/* Start a new generation every DUP_LIFE_MS; the one before it is kept. */
static void window_age(struct dup_origin *d, uint64_t now)
{
	if (now - d->gen_at < DUP_LIFE_MS)
		return;
	if (now - d->gen_at >= 2 * DUP_LIFE_MS)
		memset(d->bits[1], 0, sizeof(d->bits[1]));
	else
		memcpy(d->bits[1], d->bits[0], sizeof(d->bits[1]));
	memset(d->bits[0], 0, sizeof(d->bits[0]));
	d->gen_at = now;
}

/* Hand the live bits from `from` up (top - from and older) to the far
 * cache: what the window lets go of is still remembered exactly. */
static void window_spill(struct fwd *f, const struct dup_origin *d,
			 uint32_t from, uint64_t now)
{
	uint32_t w;

	for (w = from / 64; w < DUP_WINDOW / 64; w++) {
		uint64_t v = d->bits[0][w] | d->bits[1][w];

		if (w == from / 64)
			v &= ~0ull << (from % 64);
		for (; v; v &= v - 1)
			far_add(f, d->origin,
				d->top - (w * 64 + (uint32_t)__builtin_ctzll(v)),
				now);
	}
}

/* (Re)start the window of d at seq. */
static void window_set(struct fwd *f, struct dup_origin *d, uint32_t seq,
		       uint64_t now)
{
	if (d->origin)
		window_spill(f, d, 0, now);
	memset(d->bits, 0, sizeof(d->bits));
	d->top = seq;
	d->bits[0][0] = 1;
	d->moved = d->gen_at = now;
}

/* The window of origin; a free one (origin 0) if it has none, made by
 * evicting the least recently heard of DUP_PROBE slots if need be. */
static struct dup_origin *dup_slot(struct fwd *f, uint64_t origin,
				   uint64_t now)
{
	uint32_t h = (uint32_t)siphash24(f->key, &origin, sizeof(origin));
	struct dup_origin *free_slot = NULL, *old = NULL, *v;
	uint32_t i;

	for (i = 0; i < DUP_PROBE; i++) {
		struct dup_origin *d = &f->dup[(h + i) & (DUP_ORIGINS - 1)];

		if (d->origin == origin)
			return d;
		if (!d->origin) {
			if (!free_slot)
				free_slot = d;
		} else if (!old || d->heard < old->heard) {
			old = d;
		}
	}
	v = free_slot;
	if (!v) {
		v = old;
		window_age(v, now);
		window_spill(f, v, 0, now);
		f->origins_evicted++;
	}
	memset(v, 0, sizeof(*v));
	return v;
}

/* 1 if (origin, seq) was delivered before (a copy), else 0 and it counts
 * as delivered from now on. now: monotonic ms. */
static int dup_seen(struct fwd *f, uint64_t origin, uint32_t seq,
		    uint64_t now)
{
	struct dup_origin *d = dup_slot(f, origin, now);
	int32_t ahead;

	if (!d->origin) {
		if (far_has(f, origin, seq, now))
			return 1;	/* the slot stays free */
		window_set(f, d, seq, now);
		d->origin = origin;
		d->heard = now;
		return 0;
	}
	d->heard = now;
	window_age(d, now);
	ahead = (int32_t)(seq - d->top);
	if (ahead <= 0 && ahead > -DUP_WINDOW && bit_test(d, (uint32_t)-ahead))
		return 1;
	if (far_has(f, origin, seq, now))
		return 1;
	if (ahead > 0 && ahead <= DUP_WINDOW) {
		window_spill(f, d, DUP_WINDOW - (uint32_t)ahead, now);
		window_shift(d->bits[0], (uint32_t)ahead);
		window_shift(d->bits[1], (uint32_t)ahead);
		d->top = seq;
		ahead = 0;
	}
	if (ahead <= 0 && ahead > -DUP_WINDOW) {
		d->bits[0][(uint32_t)-ahead / 64] |= 1ull << (-ahead % 64);
		d->moved = now;
	} else if (now - d->moved >= DUP_IDLE_MS) {
		window_set(f, d, seq, now);
		f->rebases++;
	} else {
		far_add(f, origin, seq, now);
		f->far_n++;
	}
	return 0;
}

/* ---- forwarding ---------------------------------------------------------- */

/* Log a dropped packet's destination? Once a minute per destination (by
 * keyed hash, in a small table), NOROUTE_LINES lines a second at most. */
static int noroute_new(struct fwd *f, const struct pkt *p, uint64_t now)
{
	uint8_t k[4 + 255];
	uint64_t h;
	size_t i;

	put32(k, p->inst);
	memcpy(k + 4, p->dst, p->dlen);
	h = siphash24(f->key, k, 4 + (size_t)p->dlen) | 1;
	i = h % NOROUTE_SLOTS;
	if (f->nr_hash[i] == h && now - f->nr_at[i] < NOROUTE_AGAIN_MS)
		return 0;
	if (now / 1000 != f->nr_sec) {
		f->nr_sec = now / 1000;
		f->nr_lines = 0;
	}
	if (f->nr_lines >= NOROUTE_LINES)
		return 0;
	f->nr_lines++;
	f->nr_hash[i] = h;
	f->nr_at[i] = now;
	return 1;
}

/* A packet went nowhere: counted, logged within noroute_new's limits,
 * and, if it came from a gate, that gate told. */
static void no_route(struct cloud *c, struct link *from, uint32_t gate,
		     const struct pkt *p)
{
	char dst[2 * 255 + 1];
	unsigned i;

	c->fwd->no_route++;
	if (!from)
		gate_noroute(c, gate, p);
	if (!noroute_new(c->fwd, p, now_ns() / 1000000))
		return;
	for (i = 0; i < p->dlen; i++)
		snprintf(dst + 2 * i, 3, "%02x", p->dst[i]);
	if (from)
		log_info("no route to %u/%s (from link %s): dropped (logged "
			 "once a minute per destination)", p->inst, dst,
			 links_peer_name(c, link_peer(from)));
	else
		log_info("no route to %u/%s (from gate %u): dropped (logged "
			 "once a minute per destination)", p->inst, dst, gate);
}

/*
 * Which of a prefix's paths p takes, as a 32-bit hash: the gate's flow
 * hash (inner addresses and ports), else one of our own over the mesh
 * addresses, so a flow keeps to one path; or anything at all, packet by
 * packet, in FWD_MP_PACKET. 0 without multipath (nothing to choose).
 */
static uint32_t flow_of(struct fwd *f, const struct pkt *p)
{
	uint8_t k[4 + 2 * 255];

	if (f->mp == FWD_MP_OFF)
		return 0;
	if (f->mp == FWD_MP_PACKET) {
		f->rng ^= f->rng << 13;
		f->rng ^= f->rng >> 7;
		f->rng ^= f->rng << 17;
		return (uint32_t)(f->rng >> 32);
	}
	if (p->flow)
		return p->flow;
	put32(k, p->inst);
	memcpy(k + 4, p->dst, p->dlen);
	memcpy(k + 4 + p->dlen, p->src, p->slen);
	return (uint32_t)siphash24(f->key, k, 4 + (size_t)p->dlen + p->slen);
}

/* Unicast: deliver here, or pass on with the TTL spent by one. From a
 * gate: the peer whose link is now too full for more (the gate waits),
 * or 0. */
static uint32_t send_to(struct cloud *c, struct link *from, uint32_t gate,
			struct pkt *p)
{
	struct route_nh nh;
	struct link *l;

	if (route_lookup_flow(c->rt, p->inst, p->dst, p->dlen,
			      flow_of(c->fwd, p), &nh) < 0 ||
	    nh.kind == NH_NONE) {
		no_route(c, from, gate, p);
		return 0;
	}
	if (nh.kind == NH_LOCAL) {
		gate_deliver(c, p);
		return 0;
	}
	if (from) {
		if (p->ttl <= 1) {
			c->fwd->ttl_expired++;
			return 0;
		}
		p->ttl--;
	}
	l = links_by_peer(c, nh.peer);
	if (!l || l == from)
		return 0;
	if (from) {
		link_send_data(l, p);
		return 0;
	}
	link_send_local(l, p);
	return link_busy(l) ? nh.peer : 0;
}

uint32_t fwd_from_gate(struct cloud *c, uint32_t gate, struct pkt *p)
{
	struct fwd *f = c->fwd;

	if (p->dlen)
		return send_to(c, NULL, gate, p);
	p->bc_origin = f->origin;
	p->bc_seq = ++f->seq;
	dup_seen(f, p->bc_origin, p->bc_seq, now_ns() / 1000000);
	gate_deliver(c, p);
	links_broadcast(c, NULL, p);
	return 0;
}

void fwd_from_link(struct cloud *c, struct link *from, struct pkt *p)
{
	struct fwd *f = c->fwd;

	/* a peer chose this vnet header: check it before a gate's kernel,
	 * gso_split (gate_put) or a relay's segmenter (link.c) acts on it */
	if ((p->flags & PKT_OFFLOAD) && gso_check(p->data, p->len, NULL) < 0) {
		f->offload_bad++;
		return;
	}
	if (p->dlen) {
		send_to(c, from, 0, p);
		return;
	}
	/* origin 0 is no daemon's (fwd_new never picks it): a peer that
	 * sends it must not get past duplicate suppression */
	if (p->bc_origin == 0 ||
	    dup_seen(f, p->bc_origin, p->bc_seq, now_ns() / 1000000)) {
		f->dups++;
		return;
	}
	gate_deliver(c, p);
	if (p->ttl > 1) {
		p->ttl--;
		links_broadcast(c, from, p);
	}
}
