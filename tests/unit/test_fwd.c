/*
 * Forwarding and duplicate suppression, with the neighbours stubbed out:
 * route_lookup answers from a table the test sets, links and gates record
 * what they were given, and the clock is the test's (now_ms).
 *
 *   gate --> [fwd] --> link 1 / link 2 / link 3   (the flood)
 *
 * Duplicate suppression is driven as the mesh would: a victim origin V
 * sends seq s, s+1, ...; copies of each come back over loops; a forger
 * sends V's origin with seqs of its choice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../cloud/fwd.c"

/* ---- stubs ------------------------------------------------------------ */

struct link {
	uint32_t id;
	int sent;
	uint8_t last_ttl;
	int local;		/* packets sent as a local gate's */
	int busy;		/* link_busy answers this */
};

static struct link links[4];	/* links[1..3] are the peers */
static int delivered;
static struct route_nh next;	/* what route_lookup answers */
static uint64_t now_ms;		/* the test's clock */

uint64_t now_ns(void)
{
	return now_ms * 1000000;
}

static uint32_t flow_seen;	/* the flow route_lookup_flow was given */

int route_lookup_flow(struct route_table *rt, uint32_t inst,
		      const uint8_t *dst, size_t dlen, uint32_t flow,
		      struct route_nh *nh)
{
	(void)rt;
	(void)inst;
	(void)dst;
	(void)dlen;
	flow_seen = flow;
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

int link_send_local(struct link *l, const struct pkt *p)
{
	l->local++;
	return link_send_data(l, p);
}

int link_busy(const struct link *l)
{
	return l->busy;
}

static uint32_t told_gate;	/* gate_noroute's last gate */
static int told;		/* and how often it was called */

void gate_noroute(struct cloud *c, uint32_t gate, const struct pkt *p)
{
	(void)c;
	(void)p;
	told_gate = gate;
	told++;
}

uint32_t link_peer(const struct link *l)
{
	return l->id;
}

const char *links_peer_name(struct cloud *c, uint32_t peer)
{
	(void)c;
	(void)peer;
	return "peer";
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
	cl.fwd = fwd_new(FWD_MP_OFF);
	memset(links, 0, sizeof(links));
	delivered = 0;
	told = 0;
	next.kind = NH_NONE;
	now_ms = 5000;
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
	return dup_seen(cl.fwd, origin, seq, now_ms);
}

/* A genuine broadcast: new once, and every copy of it dropped. */
static void once(uint64_t origin, uint32_t seq)
{
	assert_false(seen(origin, seq));
	assert_true(seen(origin, seq));
	assert_true(seen(origin, seq));
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
	/* a whole window ahead: 200 leaves the window for the far cache */
	assert_false(seen(7, 200 + DUP_WINDOW));
	assert_true(seen(7, 200));
	assert_true(seen(7, 150));
	assert_false(seen(7, 199));		/* never seen: still new */
	assert_true(seen(7, 199));
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
	uint64_t d[DUP_WINDOW / 64], ref[DUP_WINDOW / 64];
	uint32_t by, i;

	(void)state;
	for (by = 0; by <= DUP_WINDOW + 1; by++) {
		for (i = 0; i < DUP_WINDOW / 64; i++)
			d[i] = 0x9e3779b97f4a7c15ull * (i + 1) ^ by;
		memset(ref, 0, sizeof(ref));
		for (i = 0; i + by < DUP_WINDOW; i++)
			if (d[i / 64] & (1ull << (i % 64)))
				ref[(i + by) / 64] |= 1ull << ((i + by) % 64);
		window_shift(d, by);
		assert_memory_equal(d, ref, sizeof(ref));
	}
}

/* Many more origins than slots: memory stays bounded, windows are
 * evicted, and what they held goes to the far cache: every origin is
 * still suppressed exactly. */
static void test_many_origins(void **state)
{
	uint64_t o;

	(void)state;
	for (o = 1; o <= 10 * DUP_ORIGINS; o++)
		assert_false(seen(o, 1));
	assert_true(cl.fwd->origins_evicted >= 9 * DUP_ORIGINS);
	for (o = 1; o <= 10 * DUP_ORIGINS; o++)
		assert_true(seen(o, 1));
}

/* Origins chosen to collide under an unkeyed hash (origin ^ origin >> 29
 * puts every 1024 * i + 5 in slot 5) spread under the keyed one: none
 * pushes another's window out. */
static void test_colliding_origins(void **state)
{
	uint64_t i;

	(void)state;
	for (i = 1; i <= 64; i++)
		once(1024 * i + 5, 1);
	assert_int_equal(cl.fwd->origins_evicted, 0);
}


/* Copies in any order within a window: each seq new once, then dropped. */
static void test_window_reordered(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < DUP_WINDOW; i++)	/* 7 is prime to 1024 */
		assert_false(seen(11, 7000 + i * 7 % DUP_WINDOW));
	for (i = 0; i < DUP_WINDOW; i++)
		assert_true(seen(11, 7000 + i));
	assert_int_equal(cl.fwd->far_n + cl.fwd->rebases, 0);
}

/* A copy is dropped for at least DUP_LIFE_MS; a bit is forgotten after
 * at most three of them, so a seq sent ahead of its origin takes the real
 * one's place only if the real one comes within that time. */
static void test_window_ages(void **state)
{
	(void)state;
	once(11, 100);
	now_ms += DUP_LIFE_MS - 1;
	assert_true(seen(11, 100));
	now_ms += 2 * DUP_LIFE_MS + 1;
	once(11, 100);
}

/* ---- the attacks (issue 11) --------------------------------------------- */

#define V 0x5eed5eed5eed5eedull		/* the victim's origin */

/* One forged seq + 2^31 - 1 must not silence the victim's next seqs
 * (the old sliding window jumped there and dropped them all). */
static void test_forged_far_jump(void **state)
{
	uint32_t s;

	(void)state;
	for (s = 100; s < 110; s++, now_ms += 10)
		once(V, s);
	once(V, 109 + 0x7fffffffu);		/* the forger's, delivered once */
	for (s = 110; s < 400; s++, now_ms += 10)
		once(V, s);
	assert_int_equal(cl.fwd->rebases, 0);
	assert_int_equal(cl.fwd->far_n, 1);
}

/* Forged jumps that each stay within a window (+1024 from the top the
 * forger made), and far ones (+1000000), between the real seqs: the real
 * seqs, left behind the window, pass through the far cache. */
static void test_forged_bounded_jumps(void **state)
{
	uint32_t s = 1000, forged = 1000;
	int i;

	(void)state;
	for (i = 0; i < 200; i++, now_ms += 5) {
		forged += DUP_WINDOW;
		once(V, forged);
		once(V, s + 1000000 + (uint32_t)i);
		once(V, s++);
		once(V, s++);
	}
	/* all real ones but 1001 (inside the first forged window) were far */
	assert_int_equal(cl.fwd->far_n, 200 + 2 * 200 - 1);
	assert_int_equal(cl.fwd->rebases, 0);
	for (s = 1000; s < 1000 + 400; s++)	/* copies still dropped */
		assert_true(seen(V, s));
}

/* A forger re-bases the window of an origin that has been silent: the
 * real stream passes through the far cache and, once the forged window
 * has been idle DUP_IDLE_MS, takes its window back. */
static void test_forged_rebase_of_idle(void **state)
{
	uint32_t s;

	(void)state;
	for (s = 10; s < 20; s++)
		once(V, s);
	now_ms += DUP_IDLE_MS;
	once(V, 0x80000000u);			/* forged, re-bases */
	assert_int_equal(cl.fwd->rebases, 1);
	for (; s < 20 + DUP_IDLE_MS / 50; s++, now_ms += 50)
		once(V, s);			/* far: through the cache */
	assert_int_equal(cl.fwd->rebases, 1);
	assert_int_equal(cl.fwd->far_n, DUP_IDLE_MS / 50);
	once(V, s++);				/* idle a second: back */
	assert_int_equal(cl.fwd->rebases, 2);
	/* nothing from before is forgotten within DUP_LIFE_MS */
	assert_true(seen(V, 15));
	assert_true(seen(V, 25));
	assert_true(seen(V, 0x80000000u));
	for (; s < 200; s++, now_ms += 10)
		once(V, s);
	assert_int_equal(cl.fwd->far_n, DUP_IDLE_MS / 50);
}

/* An origin that restarts its counter at a new random seq after a second
 * of silence gets its window there; copies of the old seqs are still
 * dropped, the new ones exact. */
static void test_restart(void **state)
{
	uint32_t s;

	(void)state;
	for (s = 1; s <= 50; s++, now_ms += 10)
		once(V, s);
	now_ms += DUP_IDLE_MS;
	for (s = 0xdeadbeef; s != 0xdeadbeef + 50; s++, now_ms += 10)
		once(V, s);
	assert_int_equal(cl.fwd->rebases, 1);
	assert_int_equal(cl.fwd->far_n, 0);
	assert_true(seen(V, 50));
	assert_true(seen(V, 1));
	/* a restart within the second: far until then, exact throughout */
	now_ms += DUP_IDLE_MS / 2;
	for (s = 77; s < 77 + 100; s++, now_ms += 20)
		once(V, s);
	assert_int_equal(cl.fwd->rebases, 2);
	assert_true(cl.fwd->far_n > 0 && cl.fwd->far_n < 100);
}

/* A flood of 100000 distinct far seqs: the cache keeps FAR_ENTRIES, the
 * oldest evicted first; an evicted seq is delivered again, never lost. */
static void test_far_flood(void **state)
{
	uint32_t i, b, n = 0, x;
	static uint8_t hit[FAR_ENTRIES];

	(void)state;
	once(V, 0);
	for (i = 0; i < 100000; i++)
		assert_false(seen(V, 0x10000000 + i));
	assert_int_equal(cl.fwd->far_n, 100000);
	assert_int_equal(cl.fwd->far_evicted, 100000 - FAR_ENTRIES);
	/* the index holds every ring entry exactly once */
	memset(hit, 0, sizeof(hit));
	for (b = 0; b < FAR_BUCKETS; b++)
		for (x = cl.fwd->far_head[b]; x; x = cl.fwd->far[x - 1].next) {
			assert_int_equal(hit[x - 1], 0);
			hit[x - 1] = 1;
			n++;
		}
	assert_int_equal(n, FAR_ENTRIES);
	for (i = 100000 - FAR_ENTRIES; i < 100000; i++)
		assert_true(seen(V, 0x10000000 + i));
	assert_false(seen(V, 0x10000000));	/* evicted: new again */
	assert_true(seen(V, 0));		/* the window unmoved */
}

/* A far entry lives DUP_LIFE_MS. */
static void test_far_expiry(void **state)
{
	(void)state;
	once(V, 1);
	once(V, 1u << 30);
	now_ms += DUP_LIFE_MS / 2;
	once(V, 2);				/* keeps the window busy */
	now_ms += DUP_LIFE_MS / 2 - 1;
	assert_true(seen(V, 1u << 30));
	once(V, 3);
	now_ms += 1;
	once(V, 1u << 30);
	assert_int_equal(cl.fwd->far_n, 2);
}

static void test_status(void **state)
{
	char buf[256];
	FILE *out = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(out);
	once(V, 1);
	once(V, 1u << 30);
	fwd_status(cl.fwd, out);
	fclose(out);
	assert_string_equal(buf, "fwd no_route=0 ttl_expired=0 dups=0 far=1 "
			    "far_evicted=0 rebases=0 origins_evicted=0 "
			    "offload_bad=0\n");
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

/* A packet without a route: its gate is told (a link's sender is not),
 * and the log hears of each destination once a minute, 5 lines a second
 * at most. */
static void test_no_route(void **state)
{
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 9 };
	struct pkt p = { .inst = 1, .ttl = 3, .dlen = 6, .dst = dst };
	int i, logged = 0;

	(void)state;
	fwd_from_gate(&cl, 7, &p);
	assert_int_equal(told, 1);
	assert_int_equal(told_gate, 7);
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(told, 1);
	assert_int_equal(cl.fwd->no_route, 2);
	/* the first drop of dst was logged: not again within the minute */
	assert_false(noroute_new(cl.fwd, &p, now_ms));
	now_ms += NOROUTE_AGAIN_MS;
	assert_true(noroute_new(cl.fwd, &p, now_ms));
	p.inst = 2;				/* another instance: new */
	assert_true(noroute_new(cl.fwd, &p, now_ms));
	for (i = 0; i < 20; i++) {		/* a sweep: 5 a second */
		dst[5] = (uint8_t)(100 + i);
		logged += noroute_new(cl.fwd, &p, now_ms);
	}
	assert_int_equal(logged, 3);
	now_ms += 1000;
	dst[5] = 200;
	assert_true(noroute_new(cl.fwd, &p, now_ms));
}

/* The flow a unicast packet is routed by: none without multipath; the
 * gate's when it gave one; else one hash per (instance, dst, src), the
 * same for every packet of the pair; any per packet in packet mode. */
static void test_flow_of(void **state)
{
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 9 }, src[6] = { 2, 0, 0, 0, 0, 1 };
	struct pkt p = { .inst = 1, .ttl = 3, .dlen = 6, .dst = dst,
			 .slen = 6, .src = src };
	uint32_t a, b;

	(void)state;
	next.kind = NH_PEER;
	next.peer = 2;
	fwd_from_gate(&cl, 1, &p);
	assert_int_equal(flow_seen, 0);			/* off */
	cl.fwd->mp = FWD_MP_FLOW;
	p.flow = 77;
	fwd_from_gate(&cl, 1, &p);
	assert_int_equal(flow_seen, 77);		/* the gate's */
	p.flow = 0;
	fwd_from_link(&cl, &links[1], &p);
	a = flow_seen;
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(flow_seen, a);			/* stable */
	src[5] = 2;
	fwd_from_link(&cl, &links[1], &p);
	assert_int_not_equal(flow_seen, a);		/* per pair */
	cl.fwd->mp = FWD_MP_PACKET;
	fwd_from_link(&cl, &links[1], &p);
	b = flow_seen;
	fwd_from_link(&cl, &links[1], &p);
	assert_int_not_equal(flow_seen, b);		/* per packet */
}

/* A gate's unicast goes as local (no early drop) and names the full link
 * it went to, so the gate waits; relayed packets do not. */
static void test_backpressure(void **state)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 9 };
	struct pkt p = { .inst = 1, .ttl = 3, .dlen = 6, .dst = dst };

	(void)state;
	links[2].id = 2;
	next.kind = NH_PEER;
	next.peer = 2;
	assert_int_equal(fwd_from_gate(&cl, 1, &p), 0);
	assert_int_equal(links[2].local, 1);
	links[2].busy = 1;
	assert_int_equal(fwd_from_gate(&cl, 1, &p), 2);	/* wait for 2 */
	assert_int_equal(links[2].sent, 2);		/* still queued */
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(links[2].local, 2);		/* relayed: not */
	assert_int_equal(links[2].sent, 3);
}

/* Offload metadata a peer chose is checked before a gate or a relay gets
 * it: gso_size 1 on a TCP super-segment is dropped, and counted. */
static void test_offload_checked(void **state)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t b[10 + 60] = { 0 };
	struct pkt p = bcast(0, 0, 9);

	(void)state;
	p.dlen = 6;
	p.dst = dst;
	p.flags = PKT_OFFLOAD;
	p.data = b;
	p.len = sizeof(b);
	next.kind = NH_LOCAL;
	fwd_from_link(&cl, &links[1], &p);	/* no work in it: passes */
	assert_int_equal(delivered, 1);
	b[1] = 1;				/* TCPV4, gso_size 1 */
	b[4] = 1;
	fwd_from_link(&cl, &links[1], &p);
	next.kind = NH_PEER;
	next.peer = 2;
	fwd_from_link(&cl, &links[1], &p);
	p.dlen = 0;				/* nor flooded */
	p.bc_origin = 7;
	p.bc_seq = 1;
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 1);
	assert_int_equal(links[2].sent + links[3].sent, 0);
	assert_int_equal(cl.fwd->offload_bad, 3);
	p.flags = 0;				/* the same bytes, not offload */
	fwd_from_link(&cl, &links[1], &p);
	assert_int_equal(delivered, 2);
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
		cmocka_unit_test_setup_teardown(test_colliding_origins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window_reordered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window_ages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_far_jump, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_bounded_jumps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_rebase_of_idle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_far_flood, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_far_expiry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_flood, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_broadcast, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_route, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flow_of, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offload_checked, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
