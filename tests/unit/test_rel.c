/*
 * Reliable channel tests: the timer and SACK rules on a hand-driven clock,
 * malformed and duplicate datagrams, and a simulated pipe between two
 * channels on a virtual clock:
 *
 *         full routing table -->  loss, duplicates,  --> decoded, compared
 *      A                          delay jitter                              B
 *         decoded, compared <--   (reordering)       <-- full routing table
 *
 * with 10 % loss, 5 % duplicates and reordering, across the wrap of the
 * segment numbers, and through a 5 s outage. Every datagram crosses as an
 * exact-size heap copy.
 * CVREL_SEED=n runs one lossy simulator seed; CVREL_SEEDS=n sets how many.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "rel.h"
#include "route.h"
#include "wire.h"

#define MS 1000000ULL
#define T0 (1000 * MS)		/* the virtual clock starts here */
#define BUF (REL_HDR + REL_SEG_MAX)

/* ---- helpers for the rule tests ----------------------------------------- */

struct sink {
	uint8_t b[4 * REL_WINDOW * REL_SEG_MAX];
	size_t len;
	unsigned calls;
};

static void sink_deliver(void *arg, const uint8_t *p, size_t n)
{
	struct sink *k = arg;

	assert_true(k->len + n <= sizeof(k->b));
	memcpy(k->b + k->len, p, n);
	k->len += n;
	k->calls++;
}

static struct rel *rel_new(uint64_t now)
{
	struct rel *r = test_malloc(sizeof(*r));

	rel_init(r, now);
	return r;
}

/* Both ends' numbering starts at seq (the tests of wrap-around). */
static void start_at(struct rel *snd, struct rel *rcv, uint32_t seq)
{
	snd->snd_una = snd->snd_nxt = snd->snd_end = seq;
	rcv->rcv_nxt = seq;
}

static size_t mk_dgram(uint8_t *b, uint32_t seq, uint32_t ack, uint32_t sack,
		       uint8_t fill, size_t plen)
{
	put32(b, seq);
	put32(b + 4, ack);
	put32(b + 8, sack);
	memset(b + REL_HDR, fill, plen);
	return REL_HDR + plen;
}

/* rel_input on an exact-size heap copy, so ASan sees any over-read
 * (plain malloc: cmocka's test_malloc pads the block with guard bytes). */
static int input(struct rel *r, const uint8_t *p, size_t len, uint64_t now,
		 struct sink *k)
{
	uint8_t *c = malloc(len ? len : 1);
	int rc;

	assert_non_null(c);
	memcpy(c, p, len);
	rc = rel_input(r, c, len, now, sink_deliver, k);
	free(c);
	return rc;
}

/* Write n bytes of fill as one segment and send it; returns its seq. */
static uint32_t send_one(struct rel *r, uint64_t now, uint8_t fill, size_t n)
{
	uint8_t d[REL_SEG_MAX], b[BUF];

	memset(d, fill, n);
	assert_int_equal(rel_write(r, d, n, n, now), n);
	assert_int_equal(rel_output(r, now, b, sizeof(b)), REL_HDR + n);
	return get32(b);
}

/* ---- rules -------------------------------------------------------------- */

static void test_write_packing(void **state)
{
	struct rel *r = rel_new(T0);
	uint8_t d[REL_WINDOW * REL_SEG_MAX] = { 0 }, b[BUF];
	size_t i;

	(void)state;
	assert_true(rel_idle(r));
	assert_int_equal(rel_room(r, 1000), REL_WINDOW * 1000);
	assert_int_equal(rel_room(r, 99999), REL_WINDOW * REL_SEG_MAX);
	/* two small writes share one segment until it is sent */
	assert_int_equal(rel_write(r, d, 10, 1000, T0), 10);
	assert_int_equal(rel_room(r, 1000), REL_WINDOW * 1000 - 10);
	assert_int_equal(rel_write(r, d, 20, 1000, T0), 20);
	assert_false(rel_idle(r));
	assert_int_equal(rel_output(r, T0, b, sizeof(b)), REL_HDR + 30);
	assert_int_equal(rel_output(r, T0, b, sizeof(b)), 0);
	/* a sent segment is never topped up */
	assert_int_equal(rel_write(r, d, 5, 1000, T0), 5);
	assert_int_equal(rel_output(r, T0, b, sizeof(b)), REL_HDR + 5);
	assert_int_equal(get32(b), 1);
	/* a smaller seg_max starts a new segment instead of topping up */
	assert_int_equal(rel_write(r, d, 100, 1000, T0), 100);
	assert_int_equal(rel_write(r, d, 100, 50, T0), 100);
	for (i = 0; i < 3; i++)
		assert_int_equal(rel_output(r, T0, b, sizeof(b)),
				 REL_HDR + (i ? 50 : 100));
	/* too small a buffer: nothing is taken out */
	assert_int_equal(rel_write(r, d, 7, 100, T0), 7);
	assert_int_equal(rel_output(r, T0, b, REL_HDR + 6), 0);
	assert_int_equal(rel_output(r, T0, b, REL_HDR + 7), REL_HDR + 7);
	/* the window: 6 segments used, the rest fill up exactly */
	assert_int_equal(rel_room(r, 100), (REL_WINDOW - 6) * 100);
	assert_int_equal(rel_write(r, d, sizeof(d), 100, T0),
			 (REL_WINDOW - 6) * 100);
	assert_int_equal(rel_room(r, 100), 0);
	assert_int_equal(rel_write(r, d, 1, 100, T0), 0);
	assert_int_equal(rel_write(r, d, 1, 0, T0), 0);
	test_free(r);
}

static void test_rto(void **state)
{
	struct rel *a = rel_new(T0);
	struct sink *k = test_calloc(1, sizeof(*k));
	uint8_t d[BUF];
	uint64_t t = T0;
	int i;

	(void)state;
	assert_int_equal(a->rto_ns, REL_RTO_INIT);
	assert_int_equal(a->srtt_ns, 0);
	assert_int_equal(rel_next_timeout(a), 0);
	/* first sample 10 ms: srtt 10, rttvar 5, rto 10 + 4 * 5 */
	send_one(a, t, 1, 10);
	assert_int_equal(rel_next_timeout(a), t + REL_RTO_INIT);
	t += 10 * MS;
	assert_int_equal(input(a, d, mk_dgram(d, 0, 1, 0, 0, 0), t, k), 0);
	assert_int_equal(a->srtt_ns, 10 * MS);
	assert_int_equal(a->rto_ns, 30 * MS);
	assert_true(rel_idle(a));
	assert_int_equal(rel_next_timeout(a), 0);

	/* no answer: resent when the timer expires, then 60, 120 ms */
	send_one(a, t, 2, 10);
	assert_int_equal(rel_next_timeout(a), t + 30 * MS);
	assert_int_equal(rel_output(a, t + 30 * MS - 1, d, sizeof(d)), 0);
	t += 30 * MS;
	assert_int_equal(rel_output(a, t, d, sizeof(d)), REL_HDR + 10);
	assert_int_equal(get32(d), 1);
	assert_int_equal(a->retransmits, 1);
	assert_int_equal(a->rto_ns, 60 * MS);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), 0);
	assert_int_equal(rel_next_timeout(a), t + 60 * MS);
	t += 60 * MS;
	assert_int_equal(rel_output(a, t, d, sizeof(d)), REL_HDR + 10);
	assert_int_equal(a->rto_ns, 120 * MS);
	/* Karn: the ack of a resent segment is no sample, rto stays */
	t += 1 * MS;
	assert_int_equal(input(a, d, mk_dgram(d, 0, 2, 0, 0, 0), t, k), 0);
	assert_int_equal(a->srtt_ns, 10 * MS);
	assert_int_equal(a->rto_ns, 120 * MS);
	/* a fresh sample of 20 ms: rttvar (3*5 + 10)/4, srtt (7*10 + 20)/8 */
	send_one(a, t, 3, 10);
	t += 20 * MS;
	assert_int_equal(input(a, d, mk_dgram(d, 0, 3, 0, 0, 0), t, k), 0);
	assert_int_equal(a->srtt_ns, 11250000);
	assert_int_equal(a->rttvar_ns, 6250000);
	assert_int_equal(a->rto_ns, 11250000 + 4 * 6250000);

	/* backoff stops at REL_RTO_MAX */
	send_one(a, t, 4, 10);
	for (i = 0; i < 12; i++) {
		t = rel_next_timeout(a);
		assert_true(rel_output(a, t, d, sizeof(d)) > 0);
		assert_true(a->rto_ns <= REL_RTO_MAX);
	}
	assert_int_equal(a->rto_ns, REL_RTO_MAX);
	/* a tiny RTT never takes it below REL_RTO_MIN */
	assert_int_equal(input(a, d, mk_dgram(d, 0, 4, 0, 0, 0), t, k), 0);
	for (i = 0; i < 50; i++) {
		send_one(a, t, 5, 10);
		t += 1000;
		assert_int_equal(input(a, d, mk_dgram(d, 0, 5 + i, 0, 0, 0),
				       t, k), 0);
	}
	assert_int_equal(a->rto_ns, REL_RTO_MIN);
	test_free(a);
	test_free(k);
}

/* Timeouts of segments sent in one burst double the RTO once, not once
 * per segment. */
static void test_backoff_once_per_round(void **state)
{
	struct rel *a = rel_new(T0);
	uint8_t d[BUF];
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		send_one(a, T0, (uint8_t)i, 100);
	for (i = 0; i < 10; i++)
		assert_int_equal(rel_output(a, T0 + REL_RTO_INIT, d,
					    sizeof(d)), REL_HDR + 100);
	assert_int_equal(rel_output(a, T0 + REL_RTO_INIT, d, sizeof(d)), 0);
	assert_int_equal(a->retransmits, 10);
	assert_int_equal(a->rto_ns, 2 * REL_RTO_INIT);
	/* the next round doubles again */
	assert_int_equal(rel_next_timeout(a), T0 + 3 * REL_RTO_INIT);
	assert_true(rel_output(a, T0 + 3 * REL_RTO_INIT, d, sizeof(d)) > 0);
	assert_int_equal(a->rto_ns, 4 * REL_RTO_INIT);
	test_free(a);
}

static void test_fast_retransmit(void **state)
{
	struct rel *a = rel_new(T0);
	struct sink *k = test_calloc(1, sizeof(*k));
	uint8_t d[BUF];
	uint64_t t = T0, ts, d1, d34;
	/* srtt will be 10 ms: fast retransmit waits that plus reordering */
	uint64_t w = 10 * MS + 10 * MS * REL_REORDER_PCT / 100;
	uint32_t i;

	(void)state;
	send_one(a, t, 0, 10);
	t += 10 * MS;
	assert_int_equal(input(a, d, mk_dgram(d, 0, 1, 0, 0, 0), t, k), 0);
	ts = t;
	for (i = 1; i <= 7; i++)
		assert_int_equal(send_one(a, ts, (uint8_t)i, 10), i);
	/* 1, 3 and 4 lost; 2 and 5 SACKed: none has three SACKed above */
	t += 10 * MS;
	assert_int_equal(input(a, d, mk_dgram(d, 0, 1, 1u << 0 | 1u << 3, 0,
					       0), t, k), 0);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), 0);
	/* 6 SACKed: 1 has three above (2, 5, 6) and goes again, once, when
	 * the reordering allowance is over */
	assert_int_equal(input(a, d, mk_dgram(d, 0, 1, 1u << 0 | 1u << 3 |
					       1u << 4, 0, 0), t, k), 0);
	assert_int_equal(a->srtt_ns, 10 * MS);
	assert_int_equal(rel_next_timeout(a), t - 10 * MS + w);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), 0);
	t += w - 10 * MS;
	assert_int_equal(rel_output(a, t, d, sizeof(d)), REL_HDR + 10);
	assert_int_equal(get32(d), 1);
	d1 = t + a->rto_ns;
	assert_int_equal(rel_output(a, t, d, sizeof(d)), 0);
	/* 7 SACKed: so do 3 and 4 (5, 6, 7), once the allowance, grown with
	 * the sample of 12.5 ms, is over */
	assert_int_equal(input(a, d, mk_dgram(d, 0, 1, 1u << 0 | 1u << 3 |
					       1u << 4 | 1u << 5, 0, 0),
			       t, k), 0);
	assert_int_equal(a->srtt_ns, (7 * 10 * MS + w) / 8);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), 0);
	t = rel_next_timeout(a);
	assert_int_equal(t, ts + a->srtt_ns +
			    a->srtt_ns * REL_REORDER_PCT / 100);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), REL_HDR + 10);
	assert_int_equal(get32(d), 3);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), REL_HDR + 10);
	assert_int_equal(get32(d), 4);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), 0);
	assert_int_equal(a->retransmits, 3);
	/* no backoff: the RFC's rto of the samples */
	assert_int_equal(a->rto_ns, a->srtt_ns + 4 * a->rttvar_ns);
	/* fast retransmit is used up: only the timers send them again */
	d34 = t + a->rto_ns;
	assert_int_equal(rel_next_timeout(a), d1 < d34 ? d1 : d34);
	t = d1 < d34 ? d1 : d34;
	assert_int_equal(rel_output(a, t - 1, d, sizeof(d)), 0);
	assert_int_equal(rel_output(a, t, d, sizeof(d)), REL_HDR + 10);
	assert_int_equal(get32(d), d1 < d34 ? 1 : 3);
	assert_int_equal(a->retransmits, 4);
	assert_int_equal(input(a, d, mk_dgram(d, 0, 8, 0, 0, 0), t, k), 0);
	assert_true(rel_idle(a));
	test_free(a);
	test_free(k);
}

static void test_receive_order_dups_window(void **state)
{
	struct rel *b = rel_new(T0);
	struct sink *k = test_calloc(1, sizeof(*k));
	uint8_t d[BUF];
	size_t n;

	(void)state;
	/* 0 twice: delivered once, acked each time */
	n = mk_dgram(d, 0, 0, 0, 'a', 3);
	assert_int_equal(input(b, d, n, T0, k), 0);
	assert_int_equal(input(b, d, n, T0, k), 0);
	assert_int_equal(k->len, 3);
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), REL_HDR);
	assert_int_equal(get32(d + 4), 1);
	assert_int_equal(get32(d + 8), 0);
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), 0);
	assert_int_equal(input(b, d, mk_dgram(d, 0, 0, 0, 'a', 3), T0, k), 0);
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), REL_HDR);
	assert_int_equal(k->len, 3);
	/* 2 and 4 before 1: held, SACKed; 2 again: ignored */
	assert_int_equal(input(b, d, mk_dgram(d, 2, 0, 0, 'c', 2), T0, k), 0);
	assert_int_equal(input(b, d, mk_dgram(d, 4, 0, 0, 'e', 1), T0, k), 0);
	assert_int_equal(input(b, d, mk_dgram(d, 2, 0, 0, 'x', 2), T0, k), 0);
	assert_int_equal(k->len, 3);
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), REL_HDR);
	assert_int_equal(get32(d + 4), 1);
	assert_int_equal(get32(d + 8), 1u << 0 | 1u << 2);
	/* outside [rcv_nxt, rcv_nxt + REL_WINDOW): ignored, still acked */
	assert_int_equal(input(b, d, mk_dgram(d, 1 + REL_WINDOW, 0, 0, 'z', 1),
			       T0, k), 0);
	assert_int_equal(input(b, d, mk_dgram(d, 0xffffffff, 0, 0, 'z', 1),
			       T0, k), 0);
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), REL_HDR);
	assert_int_equal(get32(d + 8), 1u << 0 | 1u << 2);
	assert_int_equal(input(b, d, mk_dgram(d, REL_WINDOW, 0, 0, 'w', 1),
			       T0, k), 0);	/* the window's last slot */
	/* 1 fills the hole: 1, 2 delivered in order; 3 missing */
	assert_int_equal(input(b, d, mk_dgram(d, 1, 0, 0, 'b', 4), T0, k), 0);
	assert_int_equal(k->len, 3 + 4 + 2);
	assert_memory_equal(k->b, "aaabbbbcc", 9);
	assert_int_equal(input(b, d, mk_dgram(d, 3, 0, 0, 'd', 1), T0, k), 0);
	assert_int_equal(k->len, 11);
	assert_memory_equal(k->b + 9, "de", 2);
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), REL_HDR);
	assert_int_equal(get32(d + 4), 5);
	assert_int_equal(get32(d + 8), 0);	/* 64 is past the SACK bits */
	/* filling 5..63 delivers the window's last slot, not what was
	 * beyond it */
	for (n = 5; n < REL_WINDOW; n++)
		assert_int_equal(input(b, d, mk_dgram(d, (uint32_t)n, 0, 0,
						      'f', 1), T0, k), 0);
	assert_int_equal(k->len, 11 + REL_WINDOW - 5 + 1);
	assert_int_equal(k->b[k->len - 1], 'w');
	assert_int_equal(rel_output(b, T0, d, sizeof(d)), REL_HDR);
	assert_int_equal(get32(d + 4), REL_WINDOW + 1);
	assert_true(rel_idle(b));
	test_free(b);
	test_free(k);
}

/* A rejected datagram leaves every byte of the channel as it was. */
static void expect_rejected(struct rel *r, const uint8_t *p, size_t len,
			    struct sink *k)
{
	static struct rel before;
	unsigned calls = k->calls;

	memcpy(&before, r, sizeof(before));
	assert_int_equal(input(r, p, len, T0 + 5 * MS, k), -1);
	assert_memory_equal(&before, r, sizeof(before));
	assert_int_equal(k->calls, calls);
}

static void test_malformed(void **state)
{
	struct rel *a = rel_new(T0);
	struct sink *k = test_calloc(1, sizeof(*k));
	uint8_t d[BUF + 1], good[REL_HDR + 5];
	size_t n, i;
	uint32_t base = 0xfffffffe;	/* snd_nxt wraps to 1 */

	(void)state;
	start_at(a, a, base);
	for (i = 0; i < 3; i++)
		send_one(a, T0, 'x', 10);
	assert_int_equal(a->snd_nxt, 1);
	/* a good one first, so that ack_owed etc. are set */
	assert_int_equal(input(a, d, mk_dgram(d, base + 1, base, 0, 'y', 5),
			       T0, k), 0);
	n = mk_dgram(good, base, base + 1, 1u << 0, 'y', 5);
	for (i = 0; i < REL_HDR; i++)
		expect_rejected(a, good, i, k);
	expect_rejected(a, d, mk_dgram(d, base, 2, 0, 'y', 5), k);
	expect_rejected(a, d, mk_dgram(d, base, 0x7fffffff, 0, 'y', 5), k);
	/* ack 0 fine, but a SACK of 1 (never sent) is a lie */
	expect_rejected(a, d, mk_dgram(d, base, 0, 1u << 0, 'y', 5), k);
	expect_rejected(a, d, mk_dgram(d, base, base, 1u << 31, 0, 0), k);
	expect_rejected(a, d, mk_dgram(d, base, base, 0, 'y', REL_SEG_MAX + 1),
			k);
	assert_int_equal(k->len, 0);
	/* the good ones: the limit itself, an old ack, ack = snd_nxt */
	assert_int_equal(input(a, d, mk_dgram(d, base + 3, base, 1u << 1, 'y',
					      REL_SEG_MAX), T0, k), 0);
	assert_int_equal(input(a, good, n, T0 + MS, k), 0);
	assert_int_equal(k->len, 5 + 5);
	assert_int_equal(a->snd_una, base + 1);
	assert_int_equal(input(a, d, mk_dgram(d, 0, base, 0, 0, 0), T0, k), 0);
	assert_int_equal(a->snd_una, base + 1);
	assert_int_equal(input(a, d, mk_dgram(d, 0, 1, 0, 0, 0), T0, k), 0);
	assert_true(rel_idle(a));
	test_free(a);
	test_free(k);
}

/* ---- the simulated pipe ------------------------------------------------- */

#define ROUTES 10000
#define FRAME_CAP 16384		/* link.c frames route updates in TLS_CHUNKs */
#define ROUTE_BYTES (ROUTE_ENTRY_FIXED + ADDR_MAX)	/* an unsigned entry at most */
#define PIPE_MAX 4096
#define SIM_STEPS 20000		/* bound on event-loop turns (~3500 used) */
#define SIM_TIME (10000 * MS)	/* bound on virtual time (~0.25 s used,
				 * ~7 s with the outage) */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *g)
{
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	return g->s * 0x2545f4914f6cdd1dULL;
}

static unsigned rng_below(struct rng *g, unsigned n)
{
	return (unsigned)((rng_next(g) >> 32) % n);
}

struct dgram {
	uint64_t at;
	size_t len;
	uint8_t *p;		/* exact-size heap copy */
};

struct pipe {			/* one direction, in order of sending */
	struct dgram q[PIPE_MAX];
	size_t n;
};

struct sim_conf {
	unsigned loss, dup;	/* percent */
	uint64_t delay, jitter;	/* one way: delay + [0, jitter) */
	uint32_t start;		/* first segment number */
	int vary_seg;		/* B varies seg_max (path MTU) per turn */
	uint64_t outage_from, outage_len;	/* everything is lost */
};

struct end {
	struct rel r;
	struct route_update *routes;	/* what we send */
	uint8_t *out;
	size_t out_len, out_off;
	const uint8_t *expect;		/* what the peer sends */
	size_t expect_len;
	uint8_t *in;
	size_t got;
	size_t seg_max;
	uint32_t max_flight;
	uint64_t max_rto;
};

static void pipe_send(struct pipe *p, const struct sim_conf *c,
		      struct rng *g, const uint8_t *b, size_t len,
		      uint64_t now)
{
	unsigned copies = rng_below(g, 100) < c->dup ? 2 : 1;

	if (rng_below(g, 100) < c->loss ||
	    (now >= c->outage_from && now - c->outage_from < c->outage_len))
		return;
	while (copies--) {
		struct dgram *d;

		if (p->n == PIPE_MAX)
			fail_msg("pipe overflow: more than %d datagrams in "
				 "flight", PIPE_MAX);
		d = &p->q[p->n++];
		d->at = now + c->delay +
			(c->jitter ? rng_next(g) % c->jitter : 0);
		d->len = len;
		d->p = malloc(len);
		assert_non_null(d->p);
		memcpy(d->p, b, len);
	}
}

/* The first of the earliest datagrams, or -1: equal times keep FIFO. */
static long pipe_first(const struct pipe *p)
{
	long best = -1;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (best < 0 || p->q[i].at < p->q[best].at)
			best = (long)i;
	return best;
}

static void end_deliver(void *arg, const uint8_t *p, size_t n)
{
	struct end *e = arg;

	if (e->got + n > e->expect_len ||
	    memcmp(e->expect + e->got, p, n) != 0)
		fail_msg("stream corrupted at byte %zu (+%zu)", e->got, n);
	memcpy(e->in + e->got, p, n);
	e->got += n;
}

static uint64_t pipe_next(const struct pipe *p)
{
	long i = pipe_first(p);

	return i >= 0 ? p->q[i].at : 0;
}

/* Deliver what has arrived by now. */
static void pipe_deliver(struct pipe *p, struct end *to, uint64_t now)
{
	long i;

	while ((i = pipe_first(p)) >= 0 && p->q[i].at <= now) {
		struct dgram d = p->q[i];

		memmove(&p->q[i], &p->q[i + 1],
			(p->n - (size_t)i - 1) * sizeof(d));
		p->n--;
		if (rel_input(&to->r, d.p, d.len, now, end_deliver, to) != 0)
			fail_msg("a datagram of the peer was refused");
		free(d.p);
	}
}

/* Write as much of the stream as the window takes, in random pieces. */
static void end_feed(struct end *e, struct rng *g, const struct sim_conf *c,
		     uint64_t now)
{
	if (c->vary_seg && rng_below(g, 4) == 0)
		e->seg_max = 200 + rng_below(g, REL_SEG_MAX - 200 + 1);
	while (e->out_off < e->out_len) {
		size_t want = 1 + rng_below(g, 3 * REL_SEG_MAX);
		size_t room = rel_room(&e->r, e->seg_max), n;

		if (want > e->out_len - e->out_off)
			want = e->out_len - e->out_off;
		n = rel_write(&e->r, e->out + e->out_off, want, e->seg_max,
			      now);
		assert_int_equal(n, want < room ? want : room);
		e->out_off += n;
		if (n < want)
			break;
	}
}

static void end_check(struct end *e)
{
	uint32_t flight = e->r.snd_end - e->r.snd_una;

	if (flight > REL_WINDOW || e->r.snd_nxt - e->r.snd_una > flight)
		fail_msg("window exceeded: %u segments", flight);
	if (e->r.rto_ns < REL_RTO_MIN || e->r.rto_ns > REL_RTO_MAX)
		fail_msg("rto %llu ns out of bounds",
			 (unsigned long long)e->r.rto_ns);
	if (flight > e->max_flight)
		e->max_flight = flight;
	if (e->r.rto_ns > e->max_rto)
		e->max_rto = e->r.rto_ns;
}

static void end_flush(struct end *e, struct pipe *p, const struct sim_conf *c,
		      struct rng *g, uint64_t now)
{
	uint8_t b[BUF];
	size_t n;
	unsigned i = 0;
	uint64_t t;

	while ((n = rel_output(&e->r, now, b, sizeof(b))) > 0) {
		if (++i > 2 * REL_WINDOW + 1)
			fail_msg("rel_output does not run dry");
		pipe_send(p, c, g, b, n, now);
	}
	t = rel_next_timeout(&e->r);
	if (t != 0 && t <= now)
		fail_msg("next timeout %llu is not after now %llu",
			 (unsigned long long)t, (unsigned long long)now);
	end_check(e);
}

static void make_routes(struct route_update *u, struct rng *g)
{
	size_t i, j;

	for (i = 0; i < ROUTES; i++) {
		memset(&u[i], 0, sizeof(u[i]));
		u[i].prefix.inst = rng_below(g, 4);
		u[i].prefix.len = rng_below(g, 2) ? 4 : 16;
		u[i].prefix.plen = (uint16_t)rng_below(g,
						       u[i].prefix.len * 8 + 1);
		for (j = 0; j < u[i].prefix.len; j++)
			u[i].prefix.b[j] = (uint8_t)rng_next(g);
		for (j = 0; j < NODE_ID_LEN; j++)
			u[i].origin.b[j] = (uint8_t)rng_next(g);
		u[i].seqno = (uint16_t)rng_next(g);
		u[i].metric = rng_below(g, 8) ? (uint32_t)rng_next(g)
					      : ROUTE_INF;
		u[i].hops = (uint8_t)rng_next(g);
	}
}

/* FR_ROUTE frames of varying entry counts, as ops_send_updates frames. */
static size_t frame_routes(const struct route_update *u, uint8_t *out,
			   struct rng *g)
{
	size_t i = 0, off = 0, used, len, n;

	while (i < ROUTES) {
		n = 1 + rng_below(g, 500);
		if (n > ROUTES - i)
			n = ROUTES - i;
		len = route_encode(u + i, n, out + off + FRAME_HDR, FRAME_CAP,
				   &used);
		assert_true(used > 0);
		wire_put_hdr(out + off, FR_ROUTE, len);
		off += FRAME_HDR + len;
		i += used;
	}
	return off;
}

static void end_setup(struct end *e, struct rng *g)
{
	e->routes = test_malloc(ROUTES * sizeof(*e->routes));
	e->out = test_malloc(ROUTES * (FRAME_HDR + ROUTE_BYTES));
	e->in = test_malloc(ROUTES * (FRAME_HDR + ROUTE_BYTES));
	make_routes(e->routes, g);
	e->out_len = frame_routes(e->routes, e->out, g);
	e->out_off = e->got = 0;
	e->seg_max = REL_SEG_MAX;
	e->max_flight = 0;
	e->max_rto = 0;
}

/* The far end decodes the stream and finds every route, in order. */
static void check_routes(const struct end *e, const struct end *from)
{
	struct route_update *u = test_malloc(ROUTES * sizeof(*u));
	size_t off = 0, k = 0, n, plen, i;
	uint8_t type;

	assert_int_equal(e->got, from->out_len);
	while (off < e->got) {
		assert_int_equal(wire_frame(e->in + off, e->got - off,
					    FRAME_MAX, &type, &plen), 1);
		assert_int_equal(type, FR_ROUTE);
		assert_true(e->got - off >= FRAME_HDR + plen);
		assert_int_equal(route_decode(e->in + off + FRAME_HDR, plen,
					      u + k, ROUTES - k, &n), 0);
		k += n;
		off += FRAME_HDR + plen;
	}
	assert_int_equal(k, ROUTES);
	for (i = 0; i < ROUTES; i++) {
		const struct route_update *w = &from->routes[i];

		assert_int_equal(u[i].prefix.inst, w->prefix.inst);
		assert_int_equal(u[i].prefix.len, w->prefix.len);
		assert_int_equal(u[i].prefix.plen, w->prefix.plen);
		assert_memory_equal(u[i].prefix.b, w->prefix.b, w->prefix.len);
		assert_memory_equal(u[i].origin.b, w->origin.b, NODE_ID_LEN);
		assert_int_equal(u[i].seqno, w->seqno);
		assert_int_equal(u[i].metric, w->metric);
		assert_int_equal(u[i].hops, w->hops);
	}
	test_free(u);
}

static int end_done(const struct end *e, const struct end *peer)
{
	return e->out_off == e->out_len && rel_idle(&e->r) &&
	       peer->got == e->out_len;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

struct sim_result {
	uint64_t time;		/* virtual ns from start to done */
	unsigned steps;
	uint64_t retransmits;
	uint64_t srtt[2];
	uint64_t max_rto;
};

/* Both tables cross at once; every event-loop turn delivers what has
 * arrived, then each end writes what its window takes and flushes. */
static void sim_run(const struct sim_conf *c, uint64_t seed,
		    struct sim_result *res)
{
	struct end *a = test_malloc(sizeof(*a)), *b = test_malloc(sizeof(*b));
	struct pipe *ab = test_calloc(1, sizeof(*ab));
	struct pipe *ba = test_calloc(1, sizeof(*ba));
	struct rng g = { seed * 0x9e3779b97f4a7c15ULL + 1 };
	uint64_t now = T0, next;
	unsigned steps;

	rel_init(&a->r, now);
	rel_init(&b->r, now);
	start_at(&a->r, &b->r, c->start);
	start_at(&b->r, &a->r, c->start);
	end_setup(a, &g);
	end_setup(b, &g);
	a->expect = b->out;
	a->expect_len = b->out_len;
	b->expect = a->out;
	b->expect_len = a->out_len;
	for (steps = 0; !end_done(a, b) || !end_done(b, a); steps++) {
		if (steps >= SIM_STEPS || now - T0 > SIM_TIME)
			fail_msg("seed %llu: not done within %u turns and %llu "
				 "virtual ms (at %u turns, %llu ms)",
				 (unsigned long long)seed, SIM_STEPS,
				 SIM_TIME / MS, steps,
				 (unsigned long long)((now - T0) / MS));
		end_feed(a, &g, c, now);
		end_feed(b, &g, c, now);
		end_flush(a, ab, c, &g, now);
		end_flush(b, ba, c, &g, now);
		next = earliest(rel_next_timeout(&a->r),
				rel_next_timeout(&b->r));
		next = earliest(next, pipe_next(ab));
		next = earliest(next, pipe_next(ba));
		if (!next)
			fail_msg("seed %llu: stalled, nothing pending",
				 (unsigned long long)seed);
		now = next;
		pipe_deliver(ab, b, now);
		pipe_deliver(ba, a, now);
	}
	check_routes(b, a);
	check_routes(a, b);
	if (a->max_flight != REL_WINDOW || b->max_flight != REL_WINDOW)
		fail_msg("the window never filled: %u, %u", a->max_flight,
			 b->max_flight);
	res->time = now - T0;
	res->steps = steps;
	res->retransmits = a->r.retransmits + b->r.retransmits;
	res->srtt[0] = a->r.srtt_ns;
	res->srtt[1] = b->r.srtt_ns;
	res->max_rto = a->max_rto < b->max_rto ? a->max_rto : b->max_rto;
	while (ab->n)
		free(ab->q[--ab->n].p);
	while (ba->n)
		free(ba->q[--ba->n].p);
	test_free(a->routes);
	test_free(a->out);
	test_free(a->in);
	test_free(b->routes);
	test_free(b->out);
	test_free(b->in);
	test_free(a);
	test_free(b);
	test_free(ab);
	test_free(ba);
}

/* A perfect pipe: nothing is sent twice, srtt is the path's RTT. */
static void test_sim_clean(void **state)
{
	struct sim_conf c = { .delay = 5 * MS, .start = 0 };
	struct sim_result res;

	(void)state;
	sim_run(&c, 1, &res);
	assert_int_equal(res.retransmits, 0);
	assert_int_equal(res.srtt[0], 10 * MS);
	assert_int_equal(res.srtt[1], 10 * MS);
}

static void test_sim_lossy(void **state)
{
	struct sim_conf c = { .loss = 10, .dup = 5, .delay = 2 * MS,
			      .jitter = 4 * MS, .vary_seg = 1 };
	const char *one = getenv("CVREL_SEED");
	const char *cnt = getenv("CVREL_SEEDS");
	unsigned seed, first = 1, last = cnt ? (unsigned)atoi(cnt) : 16;
	struct sim_result res;

	(void)state;
	if (one)
		first = last = (unsigned)atoi(one);
	for (seed = first; seed <= last; seed++) {
		/* every other seed wraps the numbering early on */
		c.start = seed % 2 ? 0 : 0xffffffff - 40;
		sim_run(&c, seed, &res);
		if (res.retransmits == 0)
			fail_msg("seed %u: 10%% loss without a retransmission",
				 seed);
		print_message("seed %u%s: %u turns, %llu virtual ms, %llu "
			      "retransmits\n", seed, seed % 2 ? "" : " (wrap)",
			      res.steps,
			      (unsigned long long)(res.time / MS),
			      (unsigned long long)res.retransmits);
	}
}

/* Five seconds of total loss in the middle: the timers back off to
 * REL_RTO_MAX and the transfer still completes. */
static void test_sim_outage(void **state)
{
	struct sim_conf c = { .loss = 10, .dup = 5, .delay = 2 * MS,
			      .jitter = 4 * MS, .outage_from = T0 + 50 * MS,
			      .outage_len = 5000 * MS };
	struct sim_result res;

	(void)state;
	sim_run(&c, 99, &res);
	assert_int_equal(res.max_rto, REL_RTO_MAX);
	assert_true(res.time > 5000 * MS);
	print_message("outage: %u turns, %llu virtual ms, %llu retransmits\n",
		      res.steps, (unsigned long long)(res.time / MS),
		      (unsigned long long)res.retransmits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_packing),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_backoff_once_per_round),
		cmocka_unit_test(test_fast_retransmit),
		cmocka_unit_test(test_receive_order_dups_window),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sim_clean),
		cmocka_unit_test(test_sim_lossy),
		cmocka_unit_test(test_sim_outage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
