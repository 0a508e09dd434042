/*
 * Token buckets and the fair share of a total, on a fake clock:
 *
 *   link A --[own bucket]--\
 *                           +--[total bucket]--> wire
 *   link B --[own bucket]--/
 *
 * Each simulated link sends a chunk whenever lim_may lets it and asks
 * again when it says; ties go to A first, so a scheduler that favoured
 * the first asker would starve B.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limit.h"

#define MS 1000000ull
#define S 1000000000ull
#define T0 (5 * S)

struct sim {
	struct lim_conn *c;
	size_t chunk;
	uint64_t next;			/* when it asks next */
	uint64_t sent;
	int stop;			/* stops asking (a blocked socket) */
	uint64_t max_gap, last_go;	/* longest time between go-aheads */
};

/* Run n senders from *now until end; each always has data. */
static void run(struct sim *s, int n, uint64_t *now, uint64_t end)
{
	for (;;) {
		int i, k = -1;
		uint64_t wait = 0;

		for (i = 0; i < n; i++)
			if (!s[i].stop && (k < 0 || s[i].next < s[k].next))
				k = i;
		if (k < 0 || s[k].next >= end)
			break;
		*now = s[k].next;
		if (lim_may(s[k].c, *now, &wait)) {
			lim_used(s[k].c, s[k].chunk);
			s[k].sent += s[k].chunk;
			if (s[k].last_go && *now - s[k].last_go > s[k].max_gap)
				s[k].max_gap = *now - s[k].last_go;
			s[k].last_go = *now;
			continue;
		}
		assert_true(wait >= LIM_WAIT_MIN_NS);
		s[k].next = *now + wait;
	}
	*now = end;
}

static void sim_init(struct sim *s, struct lim_conn *c, size_t chunk,
		     uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->chunk = chunk;
	s->next = now;
}

/* within pct percent of want */
static void near(uint64_t got, uint64_t want, unsigned pct)
{
	uint64_t d = got > want ? got - want : want - got;

	if (d * 100 > want * pct)
		fail_msg("got %llu, want %llu (+-%u%%)", (unsigned long long)got,
			 (unsigned long long)want, pct);
}

static void test_parse(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "12500", 12500 }, { "10Mbit", 1250000 },
		{ "10Mb", 1250000 }, { "10mbit", 1250000 }, { "2MB", 2000000 },
		{ "500kbit", 62500 }, { "500Kbit", 62500 }, { "64kB", 64000 },
		{ "1GB", 1000000000 }, { "1Gbit", 125000000 },
		{ "1.5Mbit", 187500 }, { "100B", 100 },
	};
	static const char *bad[] = { "", "M", "10M", "10k", "abc", "-1",
				     "10Mbps", "10 Mbit", "10MiB", "1e3x" };
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(lim_parse(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lim_parse(bad[i], &v) == 0)
			fail_msg("\"%s\" parsed as %llu", bad[i],
				 (unsigned long long)v);
}

/* One link at 1 MB/s: 10 s carry the rate times 10 plus the burst. */
static void test_rate(void **state)
{
	static const size_t chunks[] = { 100, 1500, 16384, 65536 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct lim_conn c;
		struct sim s;
		uint64_t now = T0;

		lim_conn_init(&c, NULL, 1000000, 0, 0, now);
		assert_int_equal(c.b.burst, LIM_BURST_MIN);
		sim_init(&s, &c, chunks[i], now);
		run(&s, 1, &now, T0 + 10 * S);
		near(s.sent, 10000000 + LIM_BURST_MIN, 1);
		assert_true(c.limited > 0);
	}
}

/* After idle, a full bucket goes at once; then the rate again. */
static void test_burst(void **state)
{
	struct lim_conn c;
	struct sim s;
	uint64_t now = T0;

	(void)state;
	lim_conn_init(&c, NULL, 125000, 1000000, 0, now);	/* 1 Mbit/s */
	sim_init(&s, &c, 1500, now);
	run(&s, 1, &now, T0 + 1);	/* no time passes */
	near(s.sent, 1000000, 1);
	s.next = now;
	run(&s, 1, &now, T0 + 4 * S);
	near(s.sent, 1000000 + 4 * 125000, 1);
	/* idle for 20 s: full again, not more */
	now += 20 * S;
	s.next = now;
	s.sent = 0;
	run(&s, 1, &now, now + 1);
	near(s.sent, 1000000, 1);
	/* a default burst is 1/20 s of a high rate; a download's 1/4 s */
	assert_int_equal(lim_default_burst(25000000), 25000000 / 20);
	assert_int_equal(lim_down_burst(1250000), LIM_DOWN_BURST_MIN);
	assert_int_equal(lim_down_burst(25000000), 25000000 / 4);
}

/* Links A and B with their own rates (0: none) under a total of 2 MB/s,
 * busy for 10 s: what each sent. */
static void race(uint64_t rate_a, uint64_t rate_b, size_t chunk_a,
		 uint64_t *a_sent, uint64_t *b_sent)
{
	struct lim_total t;
	struct lim_conn a, b;
	struct sim s[2];
	uint64_t now = T0;

	lim_total_init(&t, 2000000, 0, now);
	lim_conn_init(&a, &t, rate_a, 0, 0, now);
	lim_conn_init(&b, &t, rate_b, 0, 0, now);
	sim_init(&s[0], &a, chunk_a, now);
	sim_init(&s[1], &b, 1500, now);
	run(s, 2, &now, T0 + 10 * S);
	*a_sent = s[0].sent;
	*b_sent = s[1].sent;
	lim_conn_leave(&a);
	lim_conn_leave(&b);
	assert_null(t.busy);
}

/* Two busy links: half each, whoever asks first, whatever its chunks. */
static void test_fair(void **state)
{
	uint64_t a, b;

	(void)state;
	race(0, 0, 16384, &a, &b);
	near(a + b, 20000000, 2);
	near(a, 10000000, 5);
	near(b, 10000000, 5);
}

/* A link held by its own lower limit leaves the rest to the other. */
static void test_fair_unequal(void **state)
{
	uint64_t a, b;

	(void)state;
	race(500000, 0, 1500, &a, &b);
	near(a, 5000000, 5);
	near(b, 15000000, 5);
}

/* A link that stops asking (its socket blocks) without going idle
 * holds nobody back for more than LIM_STALE_NS; one that comes back gets
 * no credit for its absence. */
static void test_stale(void **state)
{
	struct lim_total t;
	struct lim_conn a, b;
	struct sim s[2];
	uint64_t now = T0;

	(void)state;
	lim_total_init(&t, 2000000, 0, now);
	lim_conn_init(&a, &t, 0, 0, 0, now);
	lim_conn_init(&b, &t, 0, 0, 0, now);
	sim_init(&s[0], &a, 1500, now);
	sim_init(&s[1], &b, 1500, now);
	run(s, 2, &now, T0 + S);
	s[1].stop = 1;
	s[0].sent = 0;
	run(s, 2, &now, T0 + 6 * S);
	near(s[0].sent, 10000000, 3);
	s[1].stop = 0;
	s[1].next = now;
	s[0].sent = s[1].sent = 0;
	run(s, 2, &now, T0 + 10 * S);
	near(s[0].sent, 4000000, 5);
	near(s[1].sent, 4000000, 5);
}

/* A total alone, one link: the total's rate. */
static void test_total_one(void **state)
{
	struct lim_total t;
	struct lim_conn a;
	struct sim s;
	uint64_t now = T0;

	(void)state;
	lim_total_init(&t, 25000000, 0, now);	/* 200 Mbit/s */
	lim_conn_init(&a, &t, 0, 0, 0, now);
	sim_init(&s, &a, 16384, now);
	run(&s, 1, &now, T0 + 5 * S);
	near(s.sent, 125000000, 1);
	assert_int_equal(lim_rate(&a), 25000000);
}

/* Reading held by a limit never stops for longer than max_hold (so the
 * peer's pings are read), even deep in debt. */
static void test_max_hold(void **state)
{
	struct lim_conn c;
	struct sim s;
	uint64_t now = T0;

	(void)state;
	lim_conn_init(&c, NULL, 1000, 64 * 1024, 100 * MS, now);
	sim_init(&s, &c, 16384, now);
	run(&s, 1, &now, T0 + 10 * S);
	assert_true(s.max_gap <= 100 * MS);
	assert_true(s.max_gap >= 90 * MS);
}

/* A reload's new rate (lim_bucket_set) on a busy link: the rate changes
 * at once, the link is not reset (a bucket in debt stays in debt, a full
 * one keeps at most the new burst), and a link that had no limit starts
 * with a full bucket of the new one. */
static void test_set(void **state)
{
	struct lim_conn c;
	struct sim s;
	uint64_t now = T0;

	(void)state;
	lim_conn_init(&c, NULL, 1000000, 0, 0, now);
	sim_init(&s, &c, 1500, now);
	run(&s, 1, &now, T0 + 5 * S);
	near(s.sent, 5000000 + LIM_BURST_MIN, 1);
	lim_bucket_set(&c.b, 250000, 0, now);
	assert_true(c.b.tokens < 1500);		/* still in its race */
	s.sent = 0;
	run(&s, 1, &now, T0 + 9 * S);
	near(s.sent, 4 * 250000, 2);
	lim_bucket_set(&c.b, 250000, 4096, now + 10 * S);
	assert_int_equal(c.b.tokens, 4096);	/* full: cut to the burst */
	lim_conn_init(&c, NULL, 0, 0, 0, now);
	lim_bucket_set(&c.b, 125000, 0, now);
	assert_int_equal(c.b.tokens, LIM_BURST_MIN);
	assert_int_equal(lim_rate(&c), 125000);
}

/* No limit: always yes, and nothing counted. */
static void test_unlimited(void **state)
{
	struct lim_total t;
	struct lim_conn c;
	uint64_t wait = 0;
	int i;

	(void)state;
	lim_total_init(&t, 0, 0, T0);
	lim_conn_init(&c, &t, 0, 0, 0, T0);
	assert_false(lim_active(&c));
	for (i = 0; i < 1000; i++) {
		assert_true(lim_may(&c, T0, &wait));
		lim_used(&c, 65536);
	}
	assert_int_equal(c.limited, 0);
	assert_int_equal(lim_rate(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_fair),
		cmocka_unit_test(test_fair_unequal),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_total_one),
		cmocka_unit_test(test_max_hold),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
