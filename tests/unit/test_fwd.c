/*
 * Forwarding and duplicate suppression, with the neighbours stubbed out:
 * route_lookup answers from a table the test sets, links and gates record
 * what they were given.
 *
 *   gate --> [fwd] --> link 1 / link 2 / link 3   (the flood)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cloud/fwd.c"

/* ---- stubs ------------------------------------------------------------ */

struct link {
	uint32_t id;
	int sent;
	uint8_t last_ttl;
};

static struct link links[4];	/* links[1..3] are the peers */
static int delivered;
static struct route_nh next;	/* what route_lookup answers */

int route_lookup(const struct route_table *rt, uint32_t inst,
		 const uint8_t *dst, size_t dlen, struct route_nh *nh)
{
	(void)rt;
	(void)inst;
	(void)dst;
	(void)dlen;
	*nh = next;
	return next.kind == NH_NONE ? -1 : 0;
}

void gate_deliver(struct cloud *c, const struct pkt *p)
{
	(void)c;
	(void)p;
	delivered++;
}

struct link *links_by_peer(struct cloud *c, uint32_t peer)
{
	(void)c;
	return peer >= 1 && peer <= 3 ? &links[peer] : NULL;
}

int link_send_data(struct link *l, const struct pkt *p)
{
	l->sent++;
	l->last_ttl = p->ttl;
	return 0;
}

void links_broadcast(struct cloud *c, const struct link *except,
		     const struct pkt *p)
{
	int i;

	for (i = 1; i <= 3; i++)
		if (&links[i] != except)
			link_send_data(&links[i], p);
	(void)c;
}

/* ---- helpers ------------------------------------------------------------ */

static struct cloud cl;

static int setup(void **state)
{
	(void)state;
	memset(&cl, 0, sizeof(cl));
	cl.fwd = fwd_new();
	memset(links, 0, sizeof(links));
	delivered = 0;
	next.kind = NH_NONE;
	return cl.fwd ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fwd_free(cl.fwd);
	return 0;
}

static struct pkt bcast(uint64_t origin, uint32_t seq, uint8_t ttl)
{
	static const uint8_t src[6] = { 2, 0, 0, 0, 0, 1 };
	struct pkt p = { .inst = 1, .ttl = ttl, .slen = 6, .src = src,
			 .bc_origin = origin, .bc_seq = seq };

	return p;
}

static int seen(uint64_t origin, uint32_t seq)
{
	return dup_seen(cl.fwd, origin, seq);
}

/* ---- tests -------------------------------------------------------------- */

static void test_window(void **state)
{
	uint32_t s;

	(void)state;
	assert_false(seen(7, 100));
	assert_true(seen(7, 100));		/* exact duplicate */
	assert_false(seen(7, 101));
	assert_false(seen(7, 99));		/* late, but never seen */
	assert_true(seen(7, 99));
	assert_false(seen(7, 200));		/* jump ahead */
	assert_true(seen(7, 101));		/* still remembered */
	assert_false(seen(7, 150));
	/* a whole window ahead: 200 is now too old to tell, so dropped */
	assert_false(seen(7, 200 + DUP_WINDOW));
	assert_true(seen(7, 200));
	/* every one of a window's worth is new once, then a duplicate */
	for (s = 5000; s < 5000 + DUP_WINDOW; s++)
		assert_false(seen(9, s));
	for (s = 5000; s < 5000 + DUP_WINDOW; s++)
		assert_true(seen(9, s));
}

static void test_window_wraps(void **state)
{
	(void)state;
	assert_false(seen(3, 0xfffffffeu));
	assert_false(seen(3, 0xffffffffu));
	assert_false(seen(3, 0));		/* newer, modulo 2^32 */
	assert_false(seen(3, 1));
	assert_true(seen(3, 0xffffffffu));
	assert_true(seen(3, 0));
}

/* window_shift against a bit-by-bit reference, for every shift. */
static void test_shift(void **state)
{
	struct dup_origin d, ref;
	uint32_t by, i;

	(void)state;
	for (by = 0; by <= DUP_WINDOW + 1; by++) {
		for (i = 0; i < DUP_WINDOW / 64; i++)
			d.bits[i] = 0x9e3779b97f4a7c15ull * (i + 1) ^ by;
		memset(&ref, 0, sizeof(ref));
		for (i = 0; i + by < DUP_WINDOW; i++)
			if (d.bits[i / 64] & (1ull << (i % 64)))
				ref.bits[(i + by) / 64] |= 1ull << ((i + by) % 64);
		window_shift(&d, by);
		assert_memory_equal(d.bits, ref.bits, sizeof(ref.bits));
	}
}

/* Many more origins than slots: memory stays bounded, and the origins
 * heard most recently are still suppressed exactly. */
static void test_many_origins(void **state)
{
	uint64_t o;

	(void)state;
	for (o = 1; o <= 10 * DUP_ORIGINS; o++)
		assert_false(seen(o, 1));
	for (o = 10 * DUP_ORIGINS - 8; o <= 10 * DUP_ORIGINS; o++)
		assert_true(seen(o, 1));
}

static void test_broadcast_flood(void **state)
{
	struct pkt p = bcast(42, 1, 5);

	(void)state;
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 1);
	assert_int_equal(links[1].sent, 0);	/* not back where it came from */
	assert_int_equal(links[2].sent, 1);
	assert_int_equal(links[3].sent, 1);
	assert_int_equal(links[2].last_ttl, 4);	/* one hop spent */
	p = bcast(42, 1, 5);			/* the same, via another link */
	fwd_from_link(&cl, &links[2], &p);
	assert_int_equal(delivered, 1);
	assert_int_equal(links[3].sent, 1);
	p = bcast(42, 2, 1);			/* last hop: deliver, no flood */
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 2);
	assert_int_equal(links[2].sent, 1);
	p = bcast(0, 1, 5);			/* origin 0 is nobody's */
	fwd_from_link(&cl, &links[1], &p);
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 2);
}

static void test_own_broadcast(void **state)
{
	struct pkt p = bcast(0, 0, 64);

	(void)state;
	fwd_from_gate(&cl, 1, &p);
	assert_int_equal(delivered, 1);		/* other local gates */
	assert_int_equal(links[1].sent + links[2].sent + links[3].sent, 3);
	assert_true(p.bc_origin != 0);
	/* our own broadcast coming back over a loop is dropped */
	fwd_from_link(&cl, &links[2], &p);
	assert_int_equal(delivered, 1);
}

static void test_unicast(void **state)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 9 };
	struct pkt p = { .inst = 1, .ttl = 3, .dlen = 6, .dst = dst };

	(void)state;
	next.kind = NH_PEER;
	next.peer = 2;
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(links[2].sent, 1);
	assert_int_equal(links[2].last_ttl, 2);
	p.ttl = 1;				/* would leave with TTL 0 */
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(links[2].sent, 1);
	p.ttl = 9;				/* never back where it came from */
	fwd_from_link(&cl, &links[2], &p);
	assert_int_equal(links[2].sent, 1);
	p.ttl = 1;				/* from a gate: TTL untouched */
	fwd_from_gate(&cl, 1, &p);
	assert_int_equal(links[2].sent, 2);
	assert_int_equal(links[2].last_ttl, 1);
	next.kind = NH_LOCAL;			/* delivered here, any TTL */
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 1);
	next.kind = NH_NONE;			/* no route: dropped */
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 1);
	assert_int_equal(links[3].sent, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_wraps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_origins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_flood, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_broadcast, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unicast, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
