/*
 * Path MTU search against a simulated path:
 *
 *   pmtu --probe(size)--> [ path: size <= hidden passes, else lost ]
 *        <----ack(size), RTT later--------------------------------'
 *   sizes >= local fail at once with EMSGSIZE (pmtu_too_big)
 *
 * The clock only jumps to the module's next event or the next ack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pmtu.h"

#define MS	1000000ULL
#define T0	(1000 * MS)
#define BASE	1200
#define MAX	1472
#define ACKS	64

struct path {
	size_t		hidden;		/* largest size that gets through */
	size_t		local;		/* smallest size refused locally */
	uint64_t	rtt;
	uint64_t	now;
	size_t		ack[ACKS];	/* acks on their way back */
	uint64_t	at[ACKS];
	unsigned	nack;
	unsigned	probes;		/* sent, EMSGSIZE ones included */
	size_t		tries[MAX + 2];	/* sends of each size */
	uint64_t	last[MAX + 2];	/* when each size was last sent */
};

static void path_init(struct path *w, size_t hidden, uint64_t rtt)
{
	memset(w, 0, sizeof(*w));
	w->hidden = hidden;
	w->local = SIZE_MAX;
	w->rtt = rtt;
	w->now = T0;
}

static void path_send(struct path *w, struct pmtu *p, size_t size)
{
	assert_true(size > p->cur && size <= MAX);
	w->probes++;
	/* a retry only after the timeout */
	if (w->tries[size]++ > 0)
		assert_true(w->now - w->last[size] >= PMTU_PROBE_TIMEOUT_NS);
	w->last[size] = w->now;
	if (size >= w->local) {
		pmtu_too_big(p, size, w->now);
	} else if (size <= w->hidden) {
		assert_true(w->nack < ACKS);
		w->ack[w->nack] = size;
		w->at[w->nack++] = w->now + w->rtt;
	}
}

/* Delivers acks due by now, in order of arrival. */
static void path_acks(struct path *w, struct pmtu *p)
{
	unsigned i = 0;

	while (i < w->nack) {
		if (w->at[i] > w->now) {
			i++;
			continue;
		}
		pmtu_ack(p, w->ack[i], w->now);
		assert_true(p->cur <= w->hidden);
		memmove(w->ack + i, w->ack + i + 1,
		    (w->nack - i - 1) * sizeof(w->ack[0]));
		memmove(w->at + i, w->at + i + 1,
		    (w->nack - i - 1) * sizeof(w->at[0]));
		w->nack--;
	}
}

/* Runs until the only event left is the next search (all else is due
 * within a probe timeout), late acks of resent probes delivered. */
static void run(struct path *w, struct pmtu *p)
{
	uint64_t next;
	size_t size;
	unsigned i;

	for (;;) {
		path_acks(w, p);
		while ((size = pmtu_probe(p, w->now)) != 0)
			path_send(w, p, size);
		next = pmtu_next(p);
		assert_true(next > w->now);
		for (i = 0; i < w->nack; i++)
			if (w->at[i] < next)
				next = w->at[i];
		if (w->nack == 0 && next > w->now + PMTU_PROBE_TIMEOUT_NS)
			return;
		w->now = next;
	}
}

/* The LAN case: max itself is the first probe, acked in one RTT. */
static void test_common_case(void **state)
{
	struct path w;
	struct pmtu p;

	(void)state;
	path_init(&w, 9000, 5 * MS);
	pmtu_init(&p, BASE, MAX, 0, T0);
	assert_int_equal(p.cur, BASE);
	assert_int_equal(pmtu_next(&p), T0);
	assert_int_equal(pmtu_probe(&p, T0), MAX);
	assert_int_equal(pmtu_probe(&p, T0), 0);	/* in flight */
	assert_int_equal(pmtu_next(&p), T0 + PMTU_PROBE_TIMEOUT_NS);
	pmtu_ack(&p, MAX, T0 + 5 * MS);
	assert_int_equal(p.cur, MAX);
	assert_int_equal(pmtu_next(&p), T0 + 5 * MS + PMTU_RESEARCH_NS);
	assert_int_equal(pmtu_probe(&p, T0 + 6 * MS), 0);
	/* the same through the simulator, with the path exactly max */
	path_init(&w, MAX, 5 * MS);
	pmtu_init(&p, BASE, MAX, 0, T0);
	run(&w, &p);
	assert_int_equal(p.cur, MAX);
	assert_int_equal(w.probes, 1);
	assert_int_equal(w.now, T0 + 5 * MS);
	/* an event due at time 0 still reads as one */
	pmtu_init(&p, BASE, MAX, 0, 0);
	assert_int_equal(pmtu_next(&p), 1);
}

/*
 * Converges below any hidden MTU between base and max, within
 * PMTU_STEP, sending each failing size PMTU_TRIES times and no more.
 */
static void test_converges(void **state)
{
	struct path w;
	struct pmtu p;
	size_t hidden, sizes, s;
	uint64_t rtt;

	(void)state;
	for (hidden = BASE; hidden <= MAX; hidden++) {
		rtt = hidden % 3 == 0 ? 400 * MS : (hidden % 50) * MS;
		path_init(&w, hidden, rtt);
		pmtu_init(&p, BASE, MAX, 0, T0);
		run(&w, &p);
		assert_true(p.cur <= hidden);
		assert_true(pmtu_next(&p) <= w.now + PMTU_RESEARCH_NS);
		assert_true(hidden == MAX ? p.cur == MAX :
		    hidden - p.cur < PMTU_STEP);
		for (sizes = 0, s = 0; s <= MAX; s++) {
			assert_true(w.tries[s] <= PMTU_TRIES);
			if (s > hidden)
				assert_true(w.tries[s] == 0 ||
				    w.tries[s] == PMTU_TRIES);
			sizes += w.tries[s] != 0;
		}
		/* the top, then bisection of 272 bytes down to 8 */
		assert_true(sizes <= 1 + 6);
		assert_true(w.now - T0 <= sizes * PMTU_TRIES *
		    PMTU_PROBE_TIMEOUT_NS + rtt);
	}
}

/* Nothing above base gets through: base stays, the search ends. */
static void test_all_lost(void **state)
{
	struct path w;
	struct pmtu p;

	(void)state;
	path_init(&w, BASE, 1 * MS);
	pmtu_init(&p, BASE, MAX, 0, T0);
	run(&w, &p);
	assert_int_equal(p.cur, BASE);
	assert_int_equal(w.tries[MAX], PMTU_TRIES);
	assert_true(w.probes <= PMTU_TRIES * 7);
	assert_int_equal(pmtu_next(&p), w.now + PMTU_RESEARCH_NS);
	/* max <= base: nothing to search */
	path_init(&w, BASE, 1 * MS);
	pmtu_init(&p, BASE, BASE - 100, 0, T0);
	run(&w, &p);
	assert_int_equal(w.probes, 0);
	assert_int_equal(p.cur, BASE);
}

static void test_fixed(void **state)
{
	struct pmtu p;
	uint64_t t;

	(void)state;
	pmtu_init(&p, BASE, MAX, 1400, T0);
	assert_int_equal(p.cur, 1400);
	assert_int_equal(pmtu_next(&p), 0);
	for (t = T0; t < T0 + 2 * PMTU_RESEARCH_NS; t += PMTU_RESEARCH_NS / 7)
		assert_int_equal(pmtu_probe(&p, t), 0);
	pmtu_ack(&p, 1450, t);
	assert_int_equal(p.cur, 1400);
	pmtu_too_big(&p, 1401, t);
	assert_int_equal(p.cur, 1400);
	pmtu_too_big(&p, 1400, t);		/* falls back, still fixed */
	assert_int_equal(p.cur, BASE);
	assert_int_equal(pmtu_probe(&p, t), 0);
	assert_int_equal(pmtu_next(&p), 0);
	pmtu_init(&p, BASE, MAX, 1000, T0);	/* below base: kept */
	pmtu_too_big(&p, 1000, T0);
	assert_int_equal(p.cur, 1000);
}

/* EMSGSIZE at cur: back to base, then a search below that size. */
static void test_too_big_lowers(void **state)
{
	struct path w;
	struct pmtu p;
	size_t s;

	(void)state;
	path_init(&w, MAX, 10 * MS);
	pmtu_init(&p, BASE, MAX, 0, T0);
	run(&w, &p);
	assert_int_equal(p.cur, MAX);
	w.now += 1000 * MS;
	w.hidden = 1380;
	w.local = 1420;
	memset(w.tries, 0, sizeof(w.tries));
	pmtu_too_big(&p, 1420, w.now);
	assert_int_equal(p.cur, BASE);
	assert_int_equal(pmtu_next(&p), w.now);
	run(&w, &p);
	assert_true(p.cur <= 1380 && p.cur > 1380 - PMTU_STEP);
	for (s = 1420; s <= MAX; s++)
		assert_int_equal(w.tries[s], 0);
	/* above cur: only a ceiling, cur stays */
	pmtu_too_big(&p, p.cur + 1, w.now);
	assert_true(p.cur > 1380 - PMTU_STEP);
	/* never below base */
	pmtu_too_big(&p, 500, w.now);
	assert_int_equal(p.cur, BASE);
	pmtu_too_big(&p, 500, w.now);
	assert_int_equal(p.cur, BASE);
}

/* A probe refused locally fails at once, with no timeout to wait. */
static void test_too_big_probe(void **state)
{
	struct path w;
	struct pmtu p;
	size_t s;

	(void)state;
	path_init(&w, MAX, 10 * MS);
	w.local = 1401;
	pmtu_init(&p, BASE, MAX, 0, T0);
	s = pmtu_probe(&p, T0);
	assert_int_equal(s, MAX);
	path_send(&w, &p, s);				/* EMSGSIZE */
	assert_int_equal(pmtu_next(&p), T0);
	s = pmtu_probe(&p, T0);
	assert_int_equal(s, BASE + (MAX - BASE) / 2);
	path_send(&w, &p, s);
	run(&w, &p);
	assert_true(p.cur <= 1400 && p.cur > 1400 - PMTU_STEP);
	assert_true(w.now - T0 <= 6 * 10 * MS);
}

/* A new search every PMTU_RESEARCH_NS finds a path that grew. */
static void test_research(void **state)
{
	struct path w;
	struct pmtu p;
	uint64_t done;

	(void)state;
	path_init(&w, 1300, 10 * MS);
	pmtu_init(&p, BASE, MAX, 0, T0);
	run(&w, &p);
	assert_true(p.cur <= 1300 && p.cur > 1300 - PMTU_STEP);
	done = w.now;
	assert_int_equal(pmtu_next(&p), done + PMTU_RESEARCH_NS);
	assert_int_equal(pmtu_probe(&p, done + PMTU_RESEARCH_NS - 1), 0);
	w.hidden = 9000;
	w.now = done + PMTU_RESEARCH_NS;
	w.probes = 0;
	memset(w.tries, 0, sizeof(w.tries));
	run(&w, &p);
	assert_int_equal(p.cur, MAX);
	assert_int_equal(w.probes, 1);
	/* at max, the next search has nothing to probe */
	w.now = pmtu_next(&p);
	assert_int_equal(pmtu_probe(&p, w.now), 0);
	assert_int_equal(pmtu_next(&p), w.now + PMTU_RESEARCH_NS);
}

/* Acks of sizes never in flight, too small, or known to fail: safe. */
static void test_stale_acks(void **state)
{
	struct pmtu p;

	(void)state;
	pmtu_init(&p, BASE, MAX, 0, T0);
	assert_int_equal(pmtu_probe(&p, T0), MAX);
	pmtu_ack(&p, 100, T0);
	pmtu_ack(&p, BASE, T0);
	pmtu_ack(&p, MAX + 1, T0);
	pmtu_ack(&p, SIZE_MAX, T0);
	assert_int_equal(p.cur, BASE);
	/* max lost three times: it fails */
	assert_int_equal(pmtu_probe(&p, T0 + PMTU_PROBE_TIMEOUT_NS), MAX);
	assert_int_equal(pmtu_probe(&p, T0 + 2 * PMTU_PROBE_TIMEOUT_NS), MAX);
	assert_int_equal(pmtu_probe(&p, T0 + 3 * PMTU_PROBE_TIMEOUT_NS),
	    BASE + (MAX - BASE) / 2);
	/* a very late ack for max: it was declared failed, ignored */
	pmtu_ack(&p, MAX, T0 + 3 * PMTU_PROBE_TIMEOUT_NS);
	assert_int_equal(p.cur, BASE);
	/* an ack between cur and the failure is proof, probe or not */
	pmtu_ack(&p, 1250, T0 + 3 * PMTU_PROBE_TIMEOUT_NS);
	assert_int_equal(p.cur, 1250);
	assert_int_equal(pmtu_probe(&p, T0 + 3 * PMTU_PROBE_TIMEOUT_NS), 0);
	pmtu_ack(&p, 1200, T0 + 3 * PMTU_PROBE_TIMEOUT_NS);
	assert_int_equal(p.cur, 1250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_case),
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_all_lost),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_too_big_lowers),
		cmocka_unit_test(test_too_big_probe),
		cmocka_unit_test(test_research),
		cmocka_unit_test(test_stale_acks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
