/*
 * Forwarding: one lookup per packet. Broadcasts are flooded over every
 * link and suppressed exactly once seen, with a sliding window per origin
 * (bounded number of origins, least recently heard evicted).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cloud.h"
#include "fwd.h"
#include "gate.h"
#include "link.h"
#include "route.h"

#define DUP_ORIGINS 1024		/* power of two */
#define DUP_WINDOW 1024			/* sequence numbers remembered */

struct dup_origin {
	uint64_t origin;		/* 0: free slot */
	uint64_t heard;			/* for eviction */
	uint32_t top;			/* highest sequence seen */
	uint64_t bits[DUP_WINDOW / 64];	/* bit i: top - i seen */
};

struct fwd {
	uint64_t origin;		/* our broadcast origin, from a CSPRNG */
	uint32_t seq;
	uint64_t clock;
	struct dup_origin dup[DUP_ORIGINS];
	uint64_t no_route, ttl_expired, dups;
};

struct fwd *fwd_new(void)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	while (!f->origin)
		if (getrandom(&f->origin, sizeof(f->origin), 0) !=
			    sizeof(f->origin) ||
		    getrandom(&f->seq, sizeof(f->seq), 0) != sizeof(f->seq)) {
			free(f);
			return NULL;
		}
	return f;
}

void fwd_free(struct fwd *f)
{
	free(f);
}

void fwd_status(const struct fwd *f, FILE *out)
{
	fprintf(out, "fwd no_route=%llu ttl_expired=%llu dups=%llu\n",
		(unsigned long long)f->no_route,
		(unsigned long long)f->ttl_expired,
		(unsigned long long)f->dups);
}

static int bit_test_set(uint64_t *bits, uint32_t i)
{
	uint64_t m = 1ull << (i % 64);
	int was = !!(bits[i / 64] & m);

	bits[i / 64] |= m;
	return was;
}

/* Age the window by `by` sequence numbers: bit i moves to bit i + by. */
static void window_shift(struct dup_origin *d, uint32_t by)
{
	uint32_t w = by / 64, b = by % 64, i;

	if (by >= DUP_WINDOW) {
		memset(d->bits, 0, sizeof(d->bits));
		return;
	}
	for (i = DUP_WINDOW / 64; i-- > 0;) {
		uint64_t v = i >= w ? d->bits[i - w] << b : 0;

		if (b && i >= w + 1)
			v |= d->bits[i - w - 1] >> (64 - b);
		d->bits[i] = v;
	}
}

static struct dup_origin *dup_slot(struct fwd *f, uint64_t origin)
{
	uint32_t h = (uint32_t)(origin ^ origin >> 29) & (DUP_ORIGINS - 1);
	struct dup_origin *free_slot = NULL, *old = NULL, *v;
	uint32_t i;

	for (i = 0; i < 16; i++) {	/* bounded probe, then evict */
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
	v = free_slot ? free_slot : old;
	memset(v, 0, sizeof(*v));
	return v;
}

/* 1 if (origin, seq) was seen before (or is too old to tell), else 0. */
static int dup_seen(struct fwd *f, uint64_t origin, uint32_t seq)
{
	struct dup_origin *d = dup_slot(f, origin);
	int32_t ahead;

	d->heard = ++f->clock;
	if (!d->origin) {
		d->origin = origin;
		d->top = seq;
		bit_test_set(d->bits, 0);
		return 0;
	}
	ahead = (int32_t)(seq - d->top);
	if (ahead > 0) {
		window_shift(d, (uint32_t)ahead);
		d->top = seq;
		bit_test_set(d->bits, 0);
		return 0;
	}
	if ((uint32_t)-ahead >= DUP_WINDOW)
		return 1;
	return bit_test_set(d->bits, (uint32_t)-ahead);
}

/* Unicast: deliver here, or pass on with the TTL spent by one. */
static void send_to(struct cloud *c, struct link *from, struct pkt *p)
{
	struct route_nh nh;
	struct link *l;

	if (route_lookup(c->rt, p->inst, p->dst, p->dlen, &nh) < 0 ||
	    nh.kind == NH_NONE) {
		c->fwd->no_route++;
		return;
	}
	if (nh.kind == NH_LOCAL) {
		gate_deliver(c, p);
		return;
	}
	if (from) {
		if (p->ttl <= 1) {
			c->fwd->ttl_expired++;
			return;
		}
		p->ttl--;
	}
	l = links_by_peer(c, nh.peer);
	if (l && l != from)
		link_send_data(l, p);
}

void fwd_from_gate(struct cloud *c, uint32_t gate, struct pkt *p)
{
	struct fwd *f = c->fwd;

	(void)gate;
	if (p->dlen) {
		send_to(c, NULL, p);
		return;
	}
	p->bc_origin = f->origin;
	p->bc_seq = ++f->seq;
	dup_seen(f, p->bc_origin, p->bc_seq);
	gate_deliver(c, p);
	links_broadcast(c, NULL, p);
}

void fwd_from_link(struct cloud *c, struct link *from, struct pkt *p)
{
	struct fwd *f = c->fwd;

	if (p->dlen) {
		send_to(c, from, p);
		return;
	}
	/* origin 0 is no daemon's (fwd_new never picks it): a peer that
	 * sends it must not get past duplicate suppression */
	if (p->bc_origin == 0 || dup_seen(f, p->bc_origin, p->bc_seq)) {
		f->dups++;
		return;
	}
	gate_deliver(c, p);
	if (p->ttl > 1) {
		p->ttl--;
		links_broadcast(c, from, p);
	}
}
