/*
 * Routing tests: unit tests of the rules (feasibility, seqno wrap, limits,
 * codec) and a simulator that runs N route tables in-process over FIFO
 * links, delivering messages one at a time in random order across links,
 * checking for forwarding loops after every delivery and for shortest
 * paths (within hysteresis) whenever the network is quiet. Announcements
 * are signed (a keyed hash per node stands in for its key), new links
 * pull their full tables in small chunks between deliveries, time moves a
 * millisecond per delivery (seqno bumps wait for it), and in some seeds one
 * node forges: others' routes with bad or its own signatures, and seqno
 * requests for far seqnos. It must never win a prefix it does not own.
 *
 * CVROUTE_SEED=n runs one simulator seed; CVROUTE_SEEDS=n sets how many.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route_int.h"
#include "siphash.h"
#include "simdue.h"

#define ENTRY_SIZE(len) (66 + (len))
#define SEQREQ_SIZE(len) (42 + (len))

/* ---- recording ops for the unit tests ---------------------------------- */

#define REC_MAX 64

struct rec_call {
	uint32_t peer;
	size_t n;
	struct route_update u[8];	/* the first few */
};

struct rec {
	struct rec_call calls[REC_MAX];
	size_t ncalls;
	struct {
		uint32_t peer;
		struct route_seqreq r;
	} reqs[REC_MAX];
	size_t nreqs;
};

static void rec_updates(void *ctx, uint32_t peer, const struct route_update *u,
			size_t n)
{
	struct rec *r = ctx;
	struct rec_call *c;

	assert_true(n > 0);
	assert_true(r->ncalls < REC_MAX);
	c = &r->calls[r->ncalls++];
	c->peer = peer;
	c->n = n;
	memcpy(c->u, u, (n < 8 ? n : 8) * sizeof(*u));
}

static void rec_seqreq(void *ctx, uint32_t peer, const struct route_seqreq *q)
{
	struct rec *r = ctx;

	assert_true(r->nreqs < REC_MAX);
	r->reqs[r->nreqs].peer = peer;
	r->reqs[r->nreqs].r = *q;
	r->nreqs++;
}

static void rec_clear(struct rec *r)
{
	r->ncalls = 0;
	r->nreqs = 0;
}

/* The one call to peer, or NULL. */
static const struct rec_call *rec_to(const struct rec *r, uint32_t peer)
{
	const struct rec_call *c = NULL;
	size_t i;

	for (i = 0; i < r->ncalls; i++) {
		if (r->calls[i].peer == peer) {
			assert_null(c);
			c = &r->calls[i];
		}
	}
	return c;
}

static struct node_id nid(uint8_t x)
{
	struct node_id id;

	memset(&id, 0, sizeof(id));
	id.b[0] = x;
	id.b[31] = x;
	return id;
}

static struct addr mac(uint32_t inst, uint8_t last)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.inst = inst;
	a.len = 6;
	a.plen = 48;
	a.b[0] = 0x02;
	a.b[4] = (uint8_t)(last >> 4);
	a.b[5] = last;
	return a;
}

static struct route_update upd(struct addr a, uint8_t origin, uint16_t seqno,
			       uint32_t metric, uint8_t hops)
{
	struct route_update u;

	memset(&u, 0, sizeof(u));
	u.prefix = a;
	u.origin = nid(origin);
	u.seqno = seqno;
	u.metric = metric;
	u.hops = hops;
	return u;
}

/* A link comes up and its full table is pulled at once. */
static void peer_up(struct route_table *rt, uint32_t peer, uint32_t cost)
{
	int n = 0;

	route_peer_up(rt, peer, cost);
	while (route_sync(rt, peer, 1000))
		assert_true(++n < 1000);
}

struct ufix {
	struct rec rec;
	struct route_table *rt;
};

static struct route_table *ufix_new(struct ufix *f, uint32_t maxr,
				    uint8_t maxhops)
{
	struct route_conf conf = { .max_remote_routes = maxr,
				   .max_hops = maxhops };
	struct route_ops ops = { .ctx = &f->rec, .send_updates = rec_updates,
				 .send_seqreq = rec_seqreq };
	struct node_id self = nid(1);

	memset(&f->rec, 0, sizeof(f->rec));
	f->rt = route_new(&self, &conf, &ops);
	assert_non_null(f->rt);
	return f->rt;
}

static int lookup_addr(const struct route_table *rt, const struct addr *a,
		       struct route_nh *nh)
{
	return route_lookup(rt, a->inst, a->b, a->len, nh);
}

struct sel_info {
	struct addr prefix;
	struct node_id origin;
	uint32_t metric;
	uint16_t seqno;
	uint8_t hops;
	struct route_nh nh;
	int found;
};

static void sel_cb(void *arg, const struct route_info *ri)
{
	struct sel_info *s = arg;

	if (!addr_equal(ri->prefix, &s->prefix))
		return;
	s->found++;
	s->origin = *ri->origin;
	s->metric = ri->metric;
	s->seqno = ri->seqno;
	s->hops = ri->hops;
	s->nh = ri->nh;
}

static struct sel_info sel_of(const struct route_table *rt, struct addr a)
{
	struct sel_info s;

	memset(&s, 0, sizeof(s));
	s.prefix = a;
	route_foreach(rt, sel_cb, &s);
	assert_true(s.found <= 1);
	return s;
}

/* ---- unit tests ---------------------------------------------------------- */

/*
 *   peer 2 (cost 10) --.
 *                      [1] (us)
 *   peer 3 (cost 10) --'
 */
static void test_feasibility(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct addr a = mac(1, 7);
	struct route_update u;
	const struct rec_call *c;
	struct sel_info s;

	(void)state;
	peer_up(rt, 2, 10);
	peer_up(rt, 3, 10);
	rec_clear(&f.rec);
	u = upd(a, 9, 5, 20, 2);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	s = sel_of(rt, a);
	assert_int_equal(s.found, 1);
	assert_int_equal(s.metric, 30);	/* FD becomes (5, 30) */
	assert_int_equal(s.hops, 3);
	/* split horizon, poisoned reverse: peer 2 gets nothing (it never
	 * had our route), peer 3 gets it */
	assert_null(rec_to(&f.rec, 2));
	c = rec_to(&f.rec, 3);
	assert_non_null(c);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->u[0].metric, 30);

	/* (5, 30) from peer 3: not < FD metric 30, infeasible */
	rec_clear(&f.rec);
	u = upd(a, 9, 5, 30, 2);
	assert_int_equal(route_recv(rt, 3, &u, 1), 0);
	s = sel_of(rt, a);
	assert_int_equal(s.nh.peer, 2);
	/* peer 2 retracts: only the infeasible route is left, so we retract
	 * and ask peer 3 for seqno 6 */
	rec_clear(&f.rec);
	u = upd(a, 9, 5, ROUTE_INF, 0);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(sel_of(rt, a).found, 0);
	c = rec_to(&f.rec, 3);
	assert_non_null(c);
	assert_int_equal(c->u[0].metric, ROUTE_INF);
	assert_null(rec_to(&f.rec, 2));
	assert_int_equal(f.rec.nreqs, 1);
	assert_int_equal(f.rec.reqs[0].peer, 3);
	assert_int_equal(f.rec.reqs[0].r.seqno, 6);
	assert_true(addr_equal(&f.rec.reqs[0].r.prefix, &a));
	/* (5, 29) is feasible again (29 < 30) */
	u = upd(a, 9, 5, 29, 2);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).metric, 39);
	u = upd(a, 9, 5, ROUTE_INF, 0);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	/* a newer seqno is feasible whatever its metric */
	u = upd(a, 9, 6, 500, 2);
	route_recv(rt, 3, &u, 1);
	s = sel_of(rt, a);
	assert_int_equal(s.metric, 510);
	assert_int_equal(s.seqno, 6);
	route_free(rt);
}

static void test_seqno_wrap(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct addr a = mac(1, 8);
	struct route_update u;

	(void)state;
	peer_up(rt, 2, 1);
	peer_up(rt, 3, 1);
	u = upd(a, 9, 0xffff, 10, 1);
	route_recv(rt, 2, &u, 1);	/* FD (0xffff, 11) */
	/* 0xfff0 is older than 0xffff: infeasible even with metric 0 */
	u = upd(a, 9, 0xfff0, 0, 1);
	route_recv(rt, 3, &u, 1);
	u = upd(a, 9, 0xffff, ROUTE_INF, 0);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	assert_true(f.rec.nreqs >= 1);
	assert_int_equal(f.rec.reqs[f.rec.nreqs - 1].r.seqno, 0); /* wraps */
	/* 0x0000 is newer than 0xffff */
	u = upd(a, 9, 0, 1000, 1);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).seqno, 0);
	assert_int_equal(sel_of(rt, a).metric, 1001);
	/* and 0x7fff newer than 0x0000; 0x8001 is older than 0x0000 */
	u = upd(a, 9, 0x7fff, 2000, 1);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).seqno, 0x7fff);
	u = upd(a, 9, 0x7fff, ROUTE_INF, 1);
	route_recv(rt, 3, &u, 1);
	u = upd(a, 9, 0x7ffe, 0, 1);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	route_free(rt);
}

static void test_max_remote_routes(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 3, 64);
	struct route_update u[5];
	struct route_nh nh;
	struct addr a;
	int i;

	(void)state;
	peer_up(rt, 2, 1);
	peer_up(rt, 3, 1);
	for (i = 0; i < 5; i++)	/* five origins: only the peer's limit */
		u[i] = upd(mac(1, (uint8_t)(10 + i)), (uint8_t)(9 + i), 1, 5, 1);
	assert_int_equal(route_recv(rt, 2, u, 5), 2);
	for (i = 0; i < 5; i++) {
		a = mac(1, (uint8_t)(10 + i));
		assert_int_equal(lookup_addr(rt, &a, &nh), i < 3 ? 0 : -1);
	}
	/* updates of known routes are fine; new ones still refused */
	u[0].seqno = 2;
	u[0].metric = 7;
	assert_int_equal(route_recv(rt, 2, u, 1), 0);
	assert_int_equal(sel_of(rt, u[0].prefix).metric, 8);
	assert_int_equal(route_recv(rt, 2, &u[4], 1), 1);
	/* another peer has its own budget */
	assert_int_equal(route_recv(rt, 3, &u[2], 3), 0);
	/* a retraction frees a slot */
	u[1].metric = ROUTE_INF;
	assert_int_equal(route_recv(rt, 2, &u[1], 1), 0);
	assert_int_equal(route_recv(rt, 2, &u[4], 1), 0);
	/* invalid entries are refused too, and an unknown peer's all */
	u[0].prefix.plen = 49;
	assert_int_equal(route_recv(rt, 2, u, 1), 1);
	u[0].prefix.len = ADDR_MAX + 1;
	assert_int_equal(route_recv(rt, 2, u, 1), 1);
	assert_int_equal(route_recv(rt, 77, &u[2], 2), 2);
	route_peer_down(rt, 2);
	peer_up(rt, 2, 1);
	assert_int_equal(route_recv(rt, 2, u, 5), 1);
	route_free(rt);
}

static void test_max_hops(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 8);
	struct route_update u;
	struct addr a = mac(1, 3);

	(void)state;
	peer_up(rt, 2, 1);
	u = upd(a, 9, 1, 5, 7);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).hops, 8);
	u.hops = 8;	/* would be 9 hops here: a retraction */
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(sel_of(rt, a).found, 0);
	route_free(rt);
}

static void test_own_origin_ignored(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct route_update u;
	struct addr a = mac(1, 4);

	(void)state;
	peer_up(rt, 2, 1);
	u = upd(a, 1, 1, 5, 1);	/* origin 1 is us */
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(sel_of(rt, a).found, 0);
	u = upd(a, 9, 1, 5, 1);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 1);
	u = upd(a, 1, 1, 5, 1);	/* replaces peer 2's route: withdrawn */
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	route_free(rt);
}

/* Metric overflow: a route whose metric would reach ROUTE_INF is unusable. */
static void test_metric_overflow(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct route_update u;
	struct addr a = mac(1, 5);

	(void)state;
	peer_up(rt, 2, 10);
	u = upd(a, 9, 1, ROUTE_INF - 5, 1);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	u.metric = ROUTE_INF - 11;
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).metric, ROUTE_INF - 1);
	route_free(rt);
}

static void test_hysteresis(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct route_update u;
	struct addr a = mac(1, 6);

	(void)state;
	peer_up(rt, 2, 0);
	peer_up(rt, 3, 0);
	u = upd(a, 9, 1, 99, 1);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).metric, 100);	/* +1 minimum */
	u = upd(a, 9, 2, 89, 1);	/* 90: not better by more than 1/8 */
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 2);
	u = upd(a, 9, 2, 86, 1);	/* 87 < 100 - 12 */
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 3);
	/* a cost increase on the current link switches when it is worse by
	 * the margin; then losing the peer switches whatever the metric */
	route_peer_cost(rt, 3, 100);
	assert_int_equal(sel_of(rt, a).nh.peer, 3);	/* 2 is infeasible */
	u = upd(a, 9, 3, 99, 1);
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 2);
	/* peer 2 lost: peer 3's (2, 86) is older than the FD (3, 100) */
	rec_clear(&f.rec);
	route_peer_down(rt, 2);
	assert_int_equal(sel_of(rt, a).found, 0);
	assert_int_equal(f.rec.nreqs, 1);
	assert_int_equal(f.rec.reqs[0].peer, 3);
	assert_int_equal(f.rec.reqs[0].r.seqno, 4);
	route_free(rt);
}

/* Paths of a (multipath_ratio 2): the share of 10000 flows each takes. */
static size_t mp_paths(struct route_table *rt, struct addr a,
		       unsigned share[5])
{
	struct route_info ri;
	struct route_nh nh, again;
	uint32_t i, flow;

	memset(share, 0, 5 * sizeof(share[0]));
	for (i = 0; i < 10000; i++) {
		flow = i * 429497u;
		assert_int_equal(route_lookup_flow(rt, a.inst, a.b, a.len,
						   flow, &nh), 0);
		assert_int_equal(route_lookup_flow(rt, a.inst, a.b, a.len,
						   flow, &again), 0);
		assert_int_equal(nh.peer, again.peer);	/* a flow stays */
		assert_true(nh.peer >= 2 && nh.peer <= 4);
		share[nh.peer]++;
	}
	assert_int_equal(route_get(rt, &a, &ri), 0);
	return ri.npaths;
}

/*
 *        2 (cost 0)
 *   us --3 (cost 0)-- origin 9
 *        4 (cost4)
 * with multipath_ratio 2; routes: 100 via 2, then 90 via 3, 51 + cost4
 * via 4.
 */
static struct route_table *mp_fan(struct rec *rec, uint32_t cost4)
{
	struct route_conf conf = { .max_hops = 64, .mp_ratio_pct = 200 };
	struct route_ops ops = { .ctx = rec, .send_updates = rec_updates,
				 .send_seqreq = rec_seqreq };
	struct node_id self = nid(1);
	struct route_table *rt;
	struct route_update u;
	struct addr a = mac(1, 6);

	memset(rec, 0, sizeof(*rec));
	rt = route_new(&self, &conf, &ops);
	assert_non_null(rt);
	peer_up(rt, 2, 0);
	peer_up(rt, 3, 0);
	peer_up(rt, 4, cost4);
	u = upd(a, 9, 1, 99, 1);
	route_recv(rt, 2, &u, 1);		/* selected: 100, FD 100 */
	u = upd(a, 9, 1, 89, 1);
	route_recv(rt, 3, &u, 1);		/* 90: feasible, near */
	u = upd(a, 9, 1, 50, 1);
	route_recv(rt, 4, &u, 1);		/* feasible, far */
	return rt;
}

/* Fan with 4 far (cost 500, then 100, 900). */
static void test_multipath_set(void **state)
{
	struct rec rec;
	struct route_table *rt = mp_fan(&rec, 500);	/* 4: 551 */
	struct route_update u;
	struct addr a = mac(1, 6);
	unsigned share[5];

	(void)state;
	assert_int_equal(mp_paths(rt, a, share), 2);
	assert_in_range(share[2], 4000, 6000);	/* equal weights */
	assert_in_range(share[3], 4000, 6000);
	assert_int_equal(share[4], 0);
	route_peer_cost(rt, 4, 100);		/* 151: joins, weight 3 of 11 */
	assert_int_equal(mp_paths(rt, a, share), 3);
	assert_in_range(share[4], 2200, 3300);
	route_peer_cost(rt, 4, 900);		/* 951: loaded; stays, same share */
	assert_int_equal(mp_paths(rt, a, share), 3);
	assert_in_range(share[4], 2200, 3300);
	route_peer_down(rt, 2);			/* a dead path leaves at once */
	assert_int_equal(mp_paths(rt, a, share), 2);
	assert_int_equal(share[2], 0);
	u = upd(a, 9, 1, 95, 1);		/* 4 infeasible now (FD 90) */
	route_recv(rt, 4, &u, 1);
	assert_int_equal(mp_paths(rt, a, share), 0);
	assert_int_equal(share[3], 10000);
	route_free(rt);
}

/* Four flows over two equal paths take two each, whatever their hashes;
 * a path that joins takes new flows and leaves the old where they are. */
static void test_multipath_turns(void **state)
{
	struct rec rec;
	struct route_table *rt = mp_fan(&rec, 5000);	/* 4: not in the set */
	struct route_nh nh;
	struct addr a = mac(1, 6);
	uint32_t flow[7] = { 7, 8, 0x80000009u, 10, 11, 12, 13 }, got[4];
	unsigned n[5] = { 0 }, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(route_lookup_flow(rt, a.inst, a.b, a.len,
						   flow[i], &nh), 0);
		got[i] = nh.peer;
		n[nh.peer]++;
	}
	assert_int_equal(n[2], 2);
	assert_int_equal(n[3], 2);
	route_peer_cost(rt, 4, 69);		/* 120: joins, not the best */
	for (i = 0; i < 4; i++) {		/* the old flows stay */
		assert_int_equal(route_lookup_flow(rt, a.inst, a.b, a.len,
						   flow[i], &nh), 0);
		assert_int_equal(nh.peer, got[i]);
	}
	for (i = 4; i < 7; i++) {		/* weights 4, 4, 3 */
		assert_int_equal(route_lookup_flow(rt, a.inst, a.b, a.len,
						   flow[i], &nh), 0);
		n[nh.peer]++;
	}
	assert_true(n[4] >= 1);			/* the newcomer gets new flows */
	route_free(rt);
}

/* Updates from the origin: our own seqno goes up on request. */
static void test_local_origin(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct addr a[3] = { mac(1, 1), mac(1, 2), mac(1, 3) };
	struct route_seqreq q;
	const struct rec_call *c;
	struct route_nh nh;
	struct addr bad;
	uint16_t seq;

	(void)state;
	peer_up(rt, 2, 1);
	peer_up(rt, 3, 1);
	rec_clear(&f.rec);
	assert_int_equal(route_local_set(rt, 5, a, 2), 0);
	c = rec_to(&f.rec, 2);
	assert_non_null(c);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->u[0].metric, 0);
	assert_int_equal(c->u[0].hops, 0);
	assert_int_equal(lookup_addr(rt, &a[0], &nh), 0);
	assert_int_equal(nh.kind, NH_LOCAL);
	seq = sel_of(rt, a[0]).seqno;

	/* set {a1, a2} -> {a2, a3}: one batch per peer, a1 retracted */
	rec_clear(&f.rec);
	assert_int_equal(route_local_set(rt, 5, a + 1, 2), 0);
	assert_int_equal(f.rec.ncalls, 2);
	c = rec_to(&f.rec, 3);
	assert_int_equal(c->n, 2);
	assert_true((addr_equal(&c->u[0].prefix, &a[0]) &&
		     c->u[0].metric == ROUTE_INF) ||
		    (addr_equal(&c->u[1].prefix, &a[0]) &&
		     c->u[1].metric == ROUTE_INF));
	assert_int_equal(lookup_addr(rt, &a[0], &nh), -1);

	/* a request for a newer seqno of ours: bump by one (never to what
	 * was asked) and announce to all */
	rec_clear(&f.rec);
	memset(&q, 0, sizeof(q));
	q.prefix = a[1];
	q.origin = nid(1);
	q.seqno = (uint16_t)(seq + 3);
	q.hop_count = 10;
	route_recv_seqreq(rt, 2, &q);
	assert_int_equal(f.rec.ncalls, 2);
	assert_int_equal(sel_of(rt, a[1]).seqno, (uint16_t)(seq + 1));
	/* not newer: just re-send to the requester */
	rec_clear(&f.rec);
	q.seqno = seq;
	route_recv_seqreq(rt, 3, &q);
	assert_int_equal(f.rec.ncalls, 1);
	assert_int_equal(f.rec.calls[0].peer, 3);
	assert_int_equal(f.rec.calls[0].u[0].seqno, (uint16_t)(seq + 1));

	/* invalid address: rejected, nothing changes */
	bad = a[0];
	bad.plen = 49;
	assert_int_equal(route_local_set(rt, 5, &bad, 1), -1);
	assert_int_equal(sel_of(rt, a[1]).found, 1);
	/* a second gate announcing the same prefix keeps it alive */
	assert_int_equal(route_local_set(rt, 6, a + 1, 1), 0);
	assert_int_equal(route_local_set(rt, 5, NULL, 0), 0);
	assert_int_equal(sel_of(rt, a[1]).found, 1);
	assert_int_equal(sel_of(rt, a[2]).found, 0);
	assert_int_equal(route_local_set(rt, 6, NULL, 0), 0);
	assert_int_equal(sel_of(rt, a[1]).found, 0);
	route_free(rt);
}

/* A request for someone else's source: answer, forward or drop. */
static void test_seqreq_forward(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct addr a = mac(1, 9);
	struct route_update u;
	struct route_seqreq q;

	(void)state;
	peer_up(rt, 2, 1);
	peer_up(rt, 3, 1);
	peer_up(rt, 4, 1);
	u = upd(a, 9, 10, 5, 1);
	route_recv(rt, 2, &u, 1);
	memset(&q, 0, sizeof(q));
	q.prefix = a;
	q.origin = nid(9);
	q.seqno = 10;
	q.hop_count = 5;
	rec_clear(&f.rec);
	route_recv_seqreq(rt, 3, &q);	/* we have seqno 10: answer */
	assert_int_equal(f.rec.ncalls, 1);
	assert_int_equal(f.rec.calls[0].peer, 3);
	assert_int_equal(f.rec.nreqs, 0);
	q.seqno = 11;			/* we don't: forward to 2 */
	rec_clear(&f.rec);
	route_recv_seqreq(rt, 3, &q);
	assert_int_equal(f.rec.ncalls, 0);
	assert_int_equal(f.rec.nreqs, 1);
	assert_int_equal(f.rec.reqs[0].peer, 2);
	assert_int_equal(f.rec.reqs[0].r.hop_count, 4);
	rec_clear(&f.rec);		/* duplicate: dropped */
	route_recv_seqreq(rt, 4, &q);
	assert_int_equal(f.rec.nreqs, 0);
	q.seqno = 12;			/* never back to the sender */
	route_recv_seqreq(rt, 2, &q);
	assert_int_equal(f.rec.nreqs, 0);
	q.hop_count = 1;		/* hop count exhausted */
	q.seqno = 13;
	route_recv_seqreq(rt, 3, &q);
	assert_int_equal(f.rec.nreqs, 0);
	q.hop_count = 2;
	route_recv_seqreq(rt, 3, &q);
	assert_int_equal(f.rec.nreqs, 1);
	assert_int_equal(f.rec.reqs[0].r.hop_count, 1);
	q.prefix = mac(1, 10);		/* unknown prefix: dropped */
	q.seqno = 14;
	route_recv_seqreq(rt, 3, &q);
	assert_int_equal(f.rec.nreqs, 1);
	route_free(rt);
}

/* 1000 routes via one peer going down: one call per remaining peer. */
static void test_batching(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct route_update *u = calloc(1000, sizeof(*u));
	struct addr a;
	size_t n;
	int i;

	(void)state;
	assert_non_null(u);
	peer_up(rt, 2, 1);
	peer_up(rt, 3, 1);
	peer_up(rt, 4, 1);
	for (i = 0; i < 1000; i++) {
		a = mac(7, 0);
		a.b[3] = (uint8_t)(i >> 8);
		a.b[5] = (uint8_t)i;
		u[i] = upd(a, 9, 1, 5, 1);
	}
	rec_clear(&f.rec);
	assert_int_equal(route_recv(rt, 2, u, 1000), 0);
	assert_int_equal(f.rec.ncalls, 2);
	assert_int_equal(rec_to(&f.rec, 3)->n, 1000);
	rec_clear(&f.rec);
	route_peer_up(rt, 5, 1);	/* a new peer gets the whole table, */
	assert_int_equal(f.rec.ncalls, 0);	/* streamed: */
	for (i = 0; route_sync(rt, 5, 100); i++)
		assert_true(i < 20);
	assert_true(f.rec.ncalls >= 10);
	for (i = 0, n = 0; i < (int)f.rec.ncalls; i++) {
		assert_int_equal(f.rec.calls[i].peer, 5);
		n += f.rec.calls[i].n;
	}
	assert_int_equal(n, 1000);
	rec_clear(&f.rec);
	route_peer_down(rt, 2);
	assert_int_equal(f.rec.ncalls, 3);
	for (i = 3; i <= 5; i++) {
		assert_int_equal(rec_to(&f.rec, (uint32_t)i)->n, 1000);
		assert_int_equal(rec_to(&f.rec, (uint32_t)i)->u[0].metric,
				 ROUTE_INF);
	}
	free(u);
	route_free(rt);
}

static void test_lookup(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct addr l[4];
	struct route_update u[3];
	struct route_nh nh;
	uint8_t dst[6];
	uint8_t ip[4] = { 10, 1, 2, 3 };

	(void)state;
	peer_up(rt, 2, 1);
	peer_up(rt, 3, 1);
	l[0] = mac(1, 0x42);			/* exact MAC, local */
	l[1] = mac(1, 0);			/* 02:00:00/24, local... */
	l[1].plen = 24;
	addr_mask(&l[1]);
	l[2] = mac(2, 0);			/* everything in inst 2 */
	l[2].len = 0;
	l[2].plen = 0;
	addr_mask(&l[2]);
	assert_int_equal(route_local_set(rt, 1, l, 1), 0);
	u[0] = upd(l[1], 9, 1, 5, 1);
	u[1] = upd(l[2], 9, 1, 5, 1);
	u[2] = upd(mac(1, 0x43), 8, 1, 5, 1);
	assert_int_equal(route_recv(rt, 2, u, 2), 0);
	assert_int_equal(route_recv(rt, 3, &u[2], 1), 0);

	memcpy(dst, l[0].b, 6);
	assert_int_equal(route_lookup(rt, 1, dst, 6, &nh), 0);
	assert_int_equal(nh.kind, NH_LOCAL);
	memcpy(dst, u[2].prefix.b, 6);
	assert_int_equal(route_lookup(rt, 1, dst, 6, &nh), 0);
	assert_int_equal(nh.peer, 3);
	dst[5] = 0x44;			/* falls back to the /24 */
	assert_int_equal(route_lookup(rt, 1, dst, 6, &nh), 0);
	assert_int_equal(nh.peer, 2);
	dst[2] = 1;				/* outside the /24 */
	assert_int_equal(route_lookup(rt, 1, dst, 6, &nh), -1);
	assert_int_equal(route_lookup(rt, 1, dst, 5, &nh), -1);
	assert_int_equal(route_lookup(rt, 3, dst, 6, &nh), -1);
	assert_int_equal(route_lookup(rt, 2, ip, 4, &nh), 0); /* plen 0 */
	assert_int_equal(nh.peer, 2);
	assert_int_equal(route_lookup(rt, 2, NULL, 0, &nh), 0);
	/* the /24 retracted: no fallback left */
	u[0].metric = ROUTE_INF;
	route_recv(rt, 2, u, 1);
	dst[2] = 0;
	assert_int_equal(route_lookup(rt, 1, dst, 6, &nh), -1);
	route_free(rt);
}

/* ---- re-advertisement: what is news (route_adv_due) --------------------- */

/*
 *   peer 2 (cost 1000) --.
 *                        [1] (us) --- peer 4 (cost 1000)
 *   peer 3 (cost 1000) --'
 *
 * Units as the daemon's: hop cost 100 (1 ms), links 10 ms. a (origin 9)
 * comes from peer 2 at 2000 and from peer 3 at 2050: we select peer 2 at
 * 3100 and have told peers 3 and 4 so; the FD is (1, 3100).
 */
static struct route_table *adv_new(struct ufix *f, struct addr a)
{
	struct route_table *rt = ufix_new(f, 0, 64);
	struct route_update u;

	rt->conf.hop_cost = 100;
	peer_up(rt, 2, 1000);
	peer_up(rt, 3, 1000);
	peer_up(rt, 4, 1000);
	u = upd(a, 9, 1, 2000, 1);
	route_recv(rt, 2, &u, 1);
	u = upd(a, 9, 1, 2050, 1);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 2);
	assert_int_equal(sel_of(rt, a).metric, 3100);
	rec_clear(&f->rec);
	return rt;
}

static uint32_t fd_metric(const struct route_table *rt, struct addr a)
{
	return prefix_find(rt, &a)->fd_metric;
}

/* A link's cost jitters: nothing goes while the metric stays within
 * max(hop cost, 1/8) of what was told (3100: 387), measured from what was
 * told, not from the last value; the FD stays what was told. */
static void test_adv_jitter(void **state)
{
	struct ufix f;
	struct addr a = mac(1, 7), b = mac(1, 8);
	struct route_table *rt = adv_new(&f, a);
	struct route_update u;

	(void)state;
	route_peer_cost(rt, 2, 1300);
	assert_int_equal(sel_of(rt, a).metric, 3400);
	route_peer_cost(rt, 2, 800);
	assert_int_equal(sel_of(rt, a).metric, 2900);
	assert_int_equal(f.rec.ncalls, 0);
	assert_int_equal(fd_metric(rt, a), 3100);
	/* a new peer's full table says what the others hold */
	peer_up(rt, 5, 1000);
	assert_int_equal(rec_to(&f.rec, 5)->u[0].metric, 3100);
	rec_clear(&f.rec);
	route_peer_cost(rt, 2, 1300);
	assert_int_equal(f.rec.ncalls, 0);
	route_peer_cost(rt, 2, 1450);		/* 3550: 450 from 3100 */
	assert_int_equal(f.rec.ncalls, 3);
	assert_null(rec_to(&f.rec, 2));
	assert_int_equal(rec_to(&f.rec, 4)->u[0].metric, 3550);
	assert_int_equal(fd_metric(rt, a), 3100);	/* never raised */
	/* under 800 the hop cost is the margin: b at 300, then 390, 420 */
	route_peer_cost(rt, 4, 200);
	u = upd(b, 8, 1, 0, 0);
	route_recv(rt, 4, &u, 1);
	assert_int_equal(sel_of(rt, b).metric, 300);
	rec_clear(&f.rec);
	route_peer_cost(rt, 4, 290);
	assert_int_equal(f.rec.ncalls, 0);
	route_peer_cost(rt, 4, 320);
	assert_int_equal(rec_to(&f.rec, 2)->u[0].metric, 420);
	route_free(rt);
}

/* A new next hop, a new seqno, another hop count, a retraction: news
 * however little the metric moved. */
static void test_adv_news(void **state)
{
	struct ufix f;
	struct addr a = mac(1, 7);
	struct route_table *rt = adv_new(&f, a);
	struct route_update u;

	(void)state;
	u = upd(a, 9, 1, 2700, 1);	/* via 2: 3800; via 3: 3150 wins */
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 3);
	assert_int_equal(rec_to(&f.rec, 2)->u[0].metric, 3150);
	assert_int_equal(rec_to(&f.rec, 3)->u[0].metric, ROUTE_INF);
	assert_int_equal(rec_to(&f.rec, 4)->u[0].metric, 3150);
	rec_clear(&f.rec);
	u = upd(a, 9, 2, 2050, 1);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(rec_to(&f.rec, 4)->u[0].seqno, 2);
	assert_int_equal(rec_to(&f.rec, 2)->u[0].seqno, 2);
	assert_null(rec_to(&f.rec, 3));
	rec_clear(&f.rec);
	u = upd(a, 9, 2, 2050, 4);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(rec_to(&f.rec, 4)->u[0].hops, 5);
	assert_int_equal(rec_to(&f.rec, 4)->u[0].metric, 3150);
	/* peer 2's seqno 1 is older than the FD (2, 3150): nothing left */
	rec_clear(&f.rec);
	u = upd(a, 9, 2, ROUTE_INF, 0);
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	assert_int_equal(rec_to(&f.rec, 2)->u[0].metric, ROUTE_INF);
	assert_int_equal(rec_to(&f.rec, 4)->u[0].metric, ROUTE_INF);
	route_free(rt);
}

/* ---- route_on_change: what a gate subscription hears ------------------- */

struct chg {
	struct addr a[REC_MAX];
	size_t n;
};

static void chg_cb(void *arg, const struct addr *prefix)
{
	struct chg *c = arg;

	assert_true(c->n < REC_MAX);
	c->a[c->n++] = *prefix;
}

/* Exactly one call since the last check, for a. */
static void chg_once(struct chg *c, struct addr a)
{
	assert_int_equal(c->n, 1);
	assert_true(addr_equal(&c->a[0], &a));
	c->n = 0;
}

/*
 *   peer 2 (cost 10) --.
 *                      [1] (us) -- listener (route_on_change)
 *   peer 3 (cost 10) --'
 *
 * a (origin 9) is learned from peer 2 before each case below; b is not.
 */
struct chg_fix {
	struct ufix f;
	struct chg c;
	struct addr a, b;
	struct route_table *rt;
};

static int chg_setup(void **state)
{
	struct chg_fix *x = calloc(1, sizeof(*x));
	struct route_update u;

	assert_non_null(x);
	x->a = mac(1, 7);
	x->b = mac(1, 8);
	x->rt = ufix_new(&x->f, 0, 64);
	route_on_change(x->rt, chg_cb, &x->c);
	peer_up(x->rt, 2, 10);
	peer_up(x->rt, 3, 10);
	assert_int_equal(x->c.n, 0);
	u = upd(x->a, 9, 1, 100, 1);
	route_recv(x->rt, 2, &u, 1);
	assert_int_equal(sel_of(x->rt, x->a).nh.peer, 2);
	chg_once(&x->c, x->a);
	*state = x;
	return 0;
}

static int chg_teardown(void **state)
{
	struct chg_fix *x = *state;

	route_free(x->rt);
	free(x);
	return 0;
}

static void test_change_learned(void **state)
{
	struct chg_fix *x = *state;
	struct route_update u = upd(x->b, 9, 1, 100, 1);

	route_recv(x->rt, 3, &u, 1);
	chg_once(&x->c, x->b);
}

/* The listener hears of a metric when routing re-advertises it: not a
 * move within 1/8 of what went out, a bigger one. */
static void test_change_metric(void **state)
{
	struct chg_fix *x = *state;
	uint32_t m = sel_of(x->rt, x->a).metric;

	route_peer_cost(x->rt, 2, 5);
	assert_int_equal(sel_of(x->rt, x->a).metric, m - 5);
	assert_int_equal(x->c.n, 0);
	route_peer_cost(x->rt, 2, 50);
	assert_int_equal(sel_of(x->rt, x->a).metric, m + 40);
	chg_once(&x->c, x->a);
}

static void test_change_retracted(void **state)
{
	struct chg_fix *x = *state;
	struct route_update u = upd(x->a, 9, 1, ROUTE_INF, 1);

	route_recv(x->rt, 2, &u, 1);
	assert_int_equal(sel_of(x->rt, x->a).found, 0);
	chg_once(&x->c, x->a);
}

/* A worse route from peer 3 touches a but leaves its selection as it
 * was: routing sends no update, and the listener hears nothing. */
static void test_change_not_readvertised(void **state)
{
	struct chg_fix *x = *state;
	struct route_update u = upd(x->a, 9, 1, 500, 1);

	rec_clear(&x->f.rec);
	route_recv(x->rt, 3, &u, 1);
	assert_int_equal(sel_of(x->rt, x->a).nh.peer, 2);
	assert_int_equal(x->f.rec.ncalls, 0);
	assert_int_equal(x->c.n, 0);
}

static void test_change_unregistered(void **state)
{
	struct chg_fix *x = *state;
	struct route_update u = upd(x->b, 9, 1, 100, 1);

	route_on_change(x->rt, NULL, NULL);
	route_recv(x->rt, 3, &u, 1);
	route_peer_cost(x->rt, 2, 5);
	assert_int_equal(sel_of(x->rt, x->b).found, 1);
	assert_int_equal(x->c.n, 0);
}

/* ---- codec ------------------------------------------------------------ */

static void fill_update(struct route_update *u, unsigned i)
{
	unsigned k;

	memset(u, 0, sizeof(*u));
	u->prefix.inst = i * 2654435761u;
	u->prefix.len = (uint8_t)(i % (ADDR_MAX + 1));
	u->prefix.plen = (uint16_t)((i * 7) % (u->prefix.len * 8 + 1));
	for (k = 0; k < u->prefix.len; k++)
		u->prefix.b[k] = (uint8_t)(i * 31 + k);
	for (k = 0; k < NODE_ID_LEN; k++)
		u->origin.b[k] = (uint8_t)(i + k * 3);
	u->seqno = (uint16_t)(i * 977);
	u->metric = i & 1 ? ROUTE_INF : i * 1000003u;
	u->hops = (uint8_t)i;
	u->cbase = (uint16_t)(i * 131);
	for (k = 0; k < ROUTE_CHAIN_HASH; k++)
		u->chain[k] = (uint8_t)(i * 7 + k);
}

static int update_eq(const struct route_update *x, const struct route_update *y)
{
	return addr_equal(&x->prefix, &y->prefix) &&
	       memcmp(x->prefix.b, y->prefix.b, ADDR_MAX) == 0 &&
	       memcmp(&x->origin, &y->origin, sizeof(x->origin)) == 0 &&
	       x->seqno == y->seqno && x->metric == y->metric &&
	       x->hops == y->hops && x->cbase == y->cbase &&
	       memcmp(x->chain, y->chain, ROUTE_CHAIN_HASH) == 0;
}

static void test_codec_roundtrip(void **state)
{
	struct route_update in[50], out[50];
	uint8_t buf[4096];
	size_t used, n, len, done = 0, got = 0;
	unsigned i;

	(void)state;
	for (i = 0; i < 50; i++)
		fill_update(&in[i], i);
	/* chunked: a small buffer holds a few entries at a time */
	while (done < 50) {
		len = route_encode(in + done, 50 - done, buf, 300, &used);
		assert_true(used > 0);
		assert_true(len <= 300);
		assert_int_equal(route_decode(buf, len, out + got, 50 - got,
					      &n), 0);
		assert_int_equal(n, used);
		done += used;
		got += n;
	}
	for (i = 0; i < 50; i++)
		assert_true(update_eq(&in[i], &out[i]));
	/* exact size of one entry, and a buffer one byte short */
	len = route_encode(in + 6, 1, buf, ENTRY_SIZE(6), &used);
	assert_int_equal(len, ENTRY_SIZE(6));
	assert_int_equal(used, 1);
	assert_int_equal(route_encode(in + 6, 1, buf, ENTRY_SIZE(6) - 1,
				      &used), 0);
	assert_int_equal(used, 0);
	/* empty payload: zero entries */
	assert_int_equal(route_decode(buf, 0, out, 50, &n), 0);
	assert_int_equal(n, 0);
}

static void test_codec_malformed(void **state)
{
	struct route_update in[3], out[3];
	uint8_t buf[512], *copy;
	size_t used, n, len, cut;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++)
		fill_update(&in[i], 4 + i);	/* len 4, 5, 6 */
	len = route_encode(in, 3, buf, sizeof(buf), &used);
	assert_int_equal(len, ENTRY_SIZE(4) + ENTRY_SIZE(5) + ENTRY_SIZE(6));
	/* every truncation (copied, so ASan sees any over-read) */
	for (cut = 1; cut < len; cut++) {
		if (cut == ENTRY_SIZE(4) ||
		    cut == ENTRY_SIZE(4) + ENTRY_SIZE(5))
			continue;	/* whole entries: valid */
		copy = malloc(cut);
		assert_non_null(copy);
		memcpy(copy, buf, cut);
		assert_int_equal(route_decode(copy, cut, out, 3, &n), -1);
		free(copy);
	}
	/* trailing bytes */
	buf[len] = 0;
	assert_int_equal(route_decode(buf, len + 1, out, 3, &n), -1);
	/* too many entries */
	assert_int_equal(route_decode(buf, len, out, 2, &n), -1);
	assert_int_equal(route_decode(buf, len, out, 3, &n), 0);
	/* non-zero flags */
	buf[0] = 1;
	assert_int_equal(route_decode(buf, len, out, 3, &n), -1);
	buf[0] = 0;
	/* len > ADDR_MAX (claims 17 bytes) */
	buf[5] = ADDR_MAX + 1;
	assert_int_equal(route_decode(buf, len, out, 3, &n), -1);
	buf[5] = 4;
	/* plen > len * 8 */
	buf[6] = 0;
	buf[7] = 33;
	assert_int_equal(route_decode(buf, len, out, 3, &n), -1);
	buf[7] = 32;
	assert_int_equal(route_decode(buf, len, out, 3, &n), 0);
	/* len pointing past the buffer */
	buf[5] = 16;
	assert_int_equal(route_decode(buf, ENTRY_SIZE(4), out, 3, &n), -1);
}

static void test_seqreq_codec(void **state)
{
	struct route_seqreq q, r;
	uint8_t buf[128], *copy;
	size_t len, cut;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.prefix = mac(0x01020304, 0x99);
	q.prefix.plen = 44;
	q.origin = nid(0xab);
	q.seqno = 0xfffe;
	q.hop_count = 64;
	len = route_seqreq_encode(&q, buf, sizeof(buf));
	assert_int_equal(len, SEQREQ_SIZE(6));
	assert_int_equal(route_seqreq_encode(&q, buf, len - 1), 0);
	len = route_seqreq_encode(&q, buf, len);
	memset(&r, 0xee, sizeof(r));
	assert_int_equal(route_seqreq_decode(buf, len, &r), 0);
	assert_true(addr_equal(&q.prefix, &r.prefix));
	assert_int_equal(memcmp(q.prefix.b, r.prefix.b, ADDR_MAX), 0);
	assert_int_equal(memcmp(&q.origin, &r.origin, NODE_ID_LEN), 0);
	assert_int_equal(r.seqno, 0xfffe);
	assert_int_equal(r.hop_count, 64);
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, buf, cut);
		assert_int_equal(route_seqreq_decode(copy, cut, &r), -1);
		free(copy);
	}
	buf[len] = 0;
	assert_int_equal(route_seqreq_decode(buf, len + 1, &r), -1);
	buf[4] = ADDR_MAX + 1;
	assert_int_equal(route_seqreq_decode(buf, len, &r), -1);
	buf[4] = 6;
	buf[5] = 0;
	buf[6] = 49;
	assert_int_equal(route_seqreq_decode(buf, len, &r), -1);
	buf[6] = 48;
	assert_int_equal(route_seqreq_decode(buf, len, &r), 0);
	/* with a proof: its origin, chain and signature come back */
	q.porigin = nid(0xcd);
	q.pcbase = 0x1234;
	memset(q.pchain, 0x5c, ROUTE_CHAIN_HASH);
	q.psiglen = 5;
	memset(q.psig, 0x77, 5);
	len = route_seqreq_encode(&q, buf, sizeof(buf));
	assert_int_equal(len, SEQREQ_SIZE(6) + NODE_ID_LEN + 2 +
			      ROUTE_CHAIN_HASH + 1 + 5);
	assert_int_equal(route_seqreq_decode(buf, len, &r), 0);
	assert_int_equal(memcmp(&q.porigin, &r.porigin, NODE_ID_LEN), 0);
	assert_int_equal(r.pcbase, 0x1234);
	assert_memory_equal(r.pchain, q.pchain, ROUTE_CHAIN_HASH);
	assert_int_equal(r.psiglen, 5);
	assert_memory_equal(r.psig, q.psig, 5);
	assert_int_equal(route_seqreq_decode(buf, len - 1, &r), -1);
}

/* ---- origins: limits, signatures, requests ------------------------------ */

struct tfix {				/* a table with signing ops */
	struct rec rec;
	struct route_table *rt;
	uint64_t now, armed;
	unsigned verified, signed_;
	int refuse_sign;
};

/* A signature is good if it is 4 bytes: the origin's first byte, the
 * prefix's last byte and the seqno. */
static void tsig(const struct route_update *u, uint8_t *sig)
{
	sig[0] = u->origin.b[0];
	sig[1] = u->prefix.b[5];
	sig[2] = (uint8_t)(u->seqno >> 8);
	sig[3] = (uint8_t)u->seqno;
}

static int t_verify(void *ctx, uint32_t peer, const struct route_update *u)
{
	struct tfix *t = (struct tfix *)((char *)ctx - offsetof(struct tfix,
								rec));
	uint8_t sig[4];

	(void)peer;
	t->verified++;
	tsig(u, sig);
	return u->siglen == 4 && !memcmp(sig, u->sig, 4) ? 0 : -1;
}

static int t_sign(void *ctx, struct route_update *u)
{
	struct tfix *t = (struct tfix *)((char *)ctx - offsetof(struct tfix,
								rec));

	if (t->refuse_sign)
		return -1;
	t->signed_++;
	tsig(u, u->sig);
	u->siglen = 4;
	return 0;
}

static uint64_t t_now(void *ctx)
{
	return ((struct tfix *)((char *)ctx - offsetof(struct tfix, rec)))->now;
}

static void t_arm(void *ctx, uint64_t ms)
{
	struct tfix *t = (struct tfix *)((char *)ctx - offsetof(struct tfix,
								rec));

	t->armed = t->now + ms;
}

static struct route_table *tfix_new(struct tfix *t, uint32_t maxr,
				    uint32_t maxo)
{
	struct route_conf conf = { .max_remote_routes = maxr, .max_hops = 64,
				   .max_origin_routes = maxo };
	struct route_ops ops = { &t->rec, rec_updates, rec_seqreq, t_verify,
				 t_sign, t_now, t_arm, NULL };
	struct node_id self = nid(1);

	memset(t, 0, sizeof(*t));
	t->now = 1000;
	t->rt = route_new(&self, &conf, &ops);
	assert_non_null(t->rt);
	return t->rt;
}

static struct route_update supd(struct addr a, uint8_t origin, uint16_t seqno,
				uint32_t metric)
{
	struct route_update u = upd(a, origin, seqno, metric, 1);

	tsig(&u, u.sig);
	u.siglen = 4;
	return u;
}

/*
 *   peer 2 --.
 *            [1] --- peer 4
 *   peer 3 --'
 * A forgery (another's origin, a bad or replayed signature) is refused and
 * changes nothing; a signature already checked is not checked again.
 */
static void test_signed_routes(void **state)
{
	struct tfix t;
	struct route_table *rt = tfix_new(&t, 0, 0);
	struct addr a = mac(1, 7);
	struct route_update u;

	(void)state;
	peer_up(rt, 2, 10);
	peer_up(rt, 3, 10);
	peer_up(rt, 4, 10);
	u = supd(a, 9, 5, 100);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(t.verified, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 2);
	/* the same signature relayed by peer 3: no second check */
	u.metric = 50;
	assert_int_equal(route_recv(rt, 3, &u, 1), 0);
	assert_int_equal(t.verified, 1);
	/* what we relay carries the origin's signature */
	rec_clear(&t.rec);
	u.metric = 10;
	assert_int_equal(route_recv(rt, 3, &u, 1), 0);
	assert_non_null(rec_to(&t.rec, 4));
	assert_int_equal(rec_to(&t.rec, 4)->u[0].siglen, 4);
	assert_memory_equal(rec_to(&t.rec, 4)->u[0].sig, u.sig, 4);
	/* peer 4 forges: seqno + 30000 with the old signature, metric 0 */
	u.seqno = 30005;
	u.metric = 0;
	assert_int_equal(route_recv(rt, 4, &u, 1), 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 3);
	assert_int_equal(sel_of(rt, a).seqno, 5);
	/* ... or unsigned, or signed by itself as origin 9 */
	u.siglen = 0;
	assert_int_equal(route_recv(rt, 4, &u, 1), 1);
	u = supd(a, 4, 30005, 0);
	u.origin = nid(9);
	assert_int_equal(route_recv(rt, 4, &u, 1), 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 3);
	/* a refused update leaves the peer's earlier route as it was */
	u = supd(a, 9, 6, 40);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	u.sig[3] ^= 1;
	assert_int_equal(route_recv(rt, 2, &u, 1), 1);
	u = upd(a, 9, 5, ROUTE_INF, 0);		/* peer 3 retracts */
	assert_int_equal(route_recv(rt, 3, &u, 1), 0);
	assert_int_equal(sel_of(rt, a).nh.peer, 2);
	assert_int_equal(sel_of(rt, a).seqno, 6);
	route_free(rt);
}

/* The chains' H, for tests: FNV-1a of the data, twice over. */
static int t_hash(void *ctx, const uint8_t *data, size_t len,
		  uint8_t out[ROUTE_CHAIN_HASH])
{
	uint64_t h = 0xcbf29ce484222325ull, g;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	g = (h ^ 0x5a) * 0x100000001b3ull;
	memcpy(out, &h, 8);
	memcpy(out + 8, &g, 8);
	return 0;
}

/* u's chain value: seqno's of the chain (cbase) from seed. */
static void t_chain(struct route_update *u, uint16_t cbase, uint8_t seed)
{
	uint8_t buf[ROUTE_CHAIN_DATA_MAX];
	size_t n = route_chain_data(&u->prefix, &u->origin, cbase, buf);
	unsigned k = ROUTE_CHAIN_LEN - (uint16_t)(u->seqno - cbase);

	u->cbase = cbase;
	memset(u->chain, seed, ROUTE_CHAIN_HASH);
	while (k-- > 0) {
		memcpy(buf + n, u->chain, ROUTE_CHAIN_HASH);
		t_hash(NULL, buf, n + ROUTE_CHAIN_HASH, u->chain);
	}
}

static struct route_update cupd(struct addr a, uint16_t seqno,
				uint32_t metric, uint8_t seed)
{
	struct route_update u = supd(a, 9, seqno, metric);

	t_chain(&u, 100, seed);
	return u;
}

/*
 *   peer 2 --[1]-- peer 3
 * A newer seqno whose chain value hashes to one already checked is taken
 * without a signature check, also once only the FD remembers the chain;
 * a value that does not link, or a seqno past its chain, is refused as a
 * bad signature is. Our own chain starts at our seqno.
 */
static void test_seqno_chains(void **state)
{
	struct tfix t;
	struct route_table *rt;
	struct route_conf conf = { .max_hops = 64 };
	struct route_ops ops = { &t.rec, rec_updates, rec_seqreq, t_verify,
				 t_sign, t_now, t_arm, t_hash };
	struct node_id self = nid(1);
	struct addr a = mac(1, 7), b = mac(1, 8);
	struct route_update u;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.now = 1000;
	rt = t.rt = route_new(&self, &conf, &ops);
	assert_non_null(rt);
	peer_up(rt, 2, 10);
	peer_up(rt, 3, 10);
	u = cupd(a, 110, 100, 0x11);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(t.verified, 1);
	/* two seqnos on, a spoiled signature: the chain vouches */
	u = cupd(a, 112, 50, 0x11);
	u.sig[3] ^= 0xff;
	assert_int_equal(route_recv(rt, 3, &u, 1), 0);
	assert_int_equal(t.verified, 1);
	assert_int_equal(sel_of(rt, a).seqno, 112);
	/* another seed: no link, and the signature is bad */
	u = cupd(a, 113, 100, 0x22);
	u.sig[3] ^= 0xff;
	assert_int_equal(route_recv(rt, 2, &u, 1), 1);
	assert_int_equal(t.verified, 2);
	/* past the chain: refused unchecked */
	u = supd(a, 9, 100 + ROUTE_CHAIN_LEN + 1, 100);
	u.cbase = 100;
	assert_int_equal(route_recv(rt, 2, &u, 1), 1);
	assert_int_equal(t.verified, 2);
	/* both retract: the FD still links the next seqno */
	u = upd(a, 9, 112, ROUTE_INF, 0);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(route_recv(rt, 3, &u, 1), 0);
	assert_int_equal(sel_of(rt, a).found, 0);
	u = cupd(a, 120, 300, 0x11);
	u.sig[0] ^= 0xff;
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(t.verified, 2);
	assert_int_equal(sel_of(rt, a).seqno, 120);
	/* ours: a chain from our seqno, sent with the signature */
	rec_clear(&t.rec);
	assert_int_equal(route_local_set(rt, 5, &b, 1), 0);
	assert_non_null(rec_to(&t.rec, 2));
	u = rec_to(&t.rec, 2)->u[0];
	assert_int_equal(u.cbase, u.seqno);
	assert_int_equal(u.siglen, 4);
	route_free(rt);
}

/* Our own addresses are signed once per seqno; one our certificate does
 * not grant (the sign op refuses) is not announced, and another origin's
 * route to it is used instead. */
static void test_local_signing(void **state)
{
	struct tfix t;
	struct route_table *rt = tfix_new(&t, 0, 0);
	struct addr a = mac(1, 7), b = mac(1, 8);
	struct route_update u;

	(void)state;
	peer_up(rt, 2, 10);
	rec_clear(&t.rec);
	assert_int_equal(route_local_set(rt, 5, &a, 1), 0);
	assert_int_equal(t.signed_, 1);
	assert_int_equal(rec_to(&t.rec, 2)->u[0].siglen, 4);
	assert_int_equal(route_local_set(rt, 6, &a, 1), 0);
	assert_int_equal(t.signed_, 1);	/* same seqno: same signature */
	t.refuse_sign = 1;
	rec_clear(&t.rec);
	assert_int_equal(route_local_set(rt, 5, &b, 1), 0);
	assert_null(rec_to(&t.rec, 2));
	assert_int_equal(sel_of(rt, b).found, 0);
	u = supd(b, 9, 3, 20);
	assert_int_equal(route_recv(rt, 2, &u, 1), 0);
	assert_int_equal(sel_of(rt, b).nh.kind, NH_PEER);
	route_free(rt);
}

/* One origin fills at most max_origin_routes of a peer's routes (and
 * never more than half of max_remote_routes); others still fit. */
static void test_origin_limit(void **state)
{
	struct tfix t;
	struct route_table *rt = tfix_new(&t, 0, 3);
	struct route_update u[6];
	int i;

	(void)state;
	peer_up(rt, 2, 10);
	peer_up(rt, 3, 10);
	for (i = 0; i < 6; i++)
		u[i] = supd(mac(1, (uint8_t)(20 + i)), 9, 1, 5);
	assert_int_equal(route_recv(rt, 2, u, 6), 3);
	assert_int_equal(t.verified, 3);	/* over the limit: unchecked */
	assert_int_equal(route_recv(rt, 3, u, 6), 3);	/* per peer */
	u[0] = supd(mac(1, 40), 8, 1, 5);	/* another origin */
	assert_int_equal(route_recv(rt, 2, u, 1), 0);
	route_free(rt);
	rt = tfix_new(&t, 4, 0);		/* half of 4 */
	peer_up(rt, 2, 10);
	for (i = 0; i < 6; i++)
		u[i] = supd(mac(1, (uint8_t)(20 + i)), 9, 1, 5);
	assert_int_equal(route_recv(rt, 2, u, 6), 4);
	route_free(rt);
}

/* An origin asked for a far seqno moves by one, at most every
 * ROUTE_BUMP_MS (later ones wait for route_tick); a request that proves
 * seqno - 1 was announced (after a restart) moves it there. */
static void test_seqreq_origin(void **state)
{
	struct tfix t;
	struct route_table *rt = tfix_new(&t, 0, 0);
	struct addr a = mac(1, 7);
	struct route_seqreq q;
	struct route_update pu;
	uint16_t seq;

	(void)state;
	peer_up(rt, 2, 10);
	assert_int_equal(route_local_set(rt, 5, &a, 1), 0);
	seq = sel_of(rt, a).seqno;
	memset(&q, 0, sizeof(q));
	q.prefix = a;
	q.origin = nid(1);
	q.seqno = (uint16_t)(seq + 32767);
	q.hop_count = 10;
	route_recv_seqreq(rt, 2, &q);
	assert_int_equal(sel_of(rt, a).seqno, (uint16_t)(seq + 1));
	t.now += 10;
	route_recv_seqreq(rt, 2, &q);	/* too soon: deferred */
	assert_int_equal(sel_of(rt, a).seqno, (uint16_t)(seq + 1));
	assert_int_equal(t.armed, 1000 + 500);
	t.now = t.armed;
	route_tick(rt);
	assert_int_equal(sel_of(rt, a).seqno, (uint16_t)(seq + 2));
	/* with proof that seqno 900 was ours: straight to 901 */
	t.now += 1000;
	pu = supd(a, 1, 900, 0);
	q.seqno = 901;
	q.porigin = pu.origin;
	q.psiglen = 4;
	memcpy(q.psig, pu.sig, 4);
	route_recv_seqreq(rt, 2, &q);
	assert_int_equal(sel_of(rt, a).seqno, 901);
	/* a bad proof moves it by one only */
	t.now += 1000;
	q.seqno = 20000;
	route_recv_seqreq(rt, 2, &q);
	assert_int_equal(sel_of(rt, a).seqno, 902);
	route_free(rt);
}

/* A prefix left with an infeasible route only asks for a new seqno 5
 * times, a second apart; unanswered still, again 5 s after the last, as
 * long as it needs one (a request lost, or pushed out of the cache by a
 * storm of others', left it without a route for good). */
static void test_req_stuck(void **state)
{
	struct tfix t;
	struct route_table *rt = tfix_new(&t, 0, 0);
	struct addr a = mac(1, 7);
	struct route_update u;
	int i;

	(void)state;
	peer_up(rt, 2, 10);
	peer_up(rt, 3, 10);
	u = supd(a, 9, 1, 100);
	route_recv(rt, 2, &u, 1);
	u = supd(a, 9, 1, 200);
	route_recv(rt, 3, &u, 1);
	u.metric = ROUTE_INF;
	route_recv(rt, 2, &u, 1);
	assert_int_equal(sel_of(rt, a).found, 0);
	for (i = 0; i < 5; i++) {		/* at 1000, 2000 ... 5000 */
		assert_int_equal(t.rec.nreqs, (size_t)i + 1);
		t.now = t.armed;
		route_tick(rt);
	}
	assert_int_equal(t.rec.nreqs, 5);
	assert_int_equal(t.armed, 6000 + ROUTE_REQ_STUCK_MS);
	t.now = t.armed;
	route_tick(rt);
	assert_int_equal(t.rec.nreqs, 6);
	assert_int_equal(t.rec.reqs[5].peer, 3);
	assert_int_equal(t.rec.reqs[5].r.seqno, 2);
	assert_int_equal(t.armed, t.now + ROUTE_REQ_RETRY_MS);
	u = supd(a, 9, 2, 200);			/* answered: no more */
	route_recv(rt, 3, &u, 1);
	assert_int_equal(sel_of(rt, a).nh.peer, 3);
	t.now += ROUTE_REQ_STUCK_MS;
	route_tick(rt);
	assert_int_equal(t.rec.nreqs, 6);
	assert_int_equal(rt->nstuck, 0);
	route_free(rt);
}

/* A resync asked for in the middle of a full table's walk gives a second
 * walk after it (what the first had passed may have changed); one asked
 * for before the walk started costs nothing more. */
static void test_resync(void **state)
{
	struct ufix f;
	struct route_table *rt = ufix_new(&f, 0, 64);
	struct route_update u[100];
	size_t i, n;
	int k;

	(void)state;
	peer_up(rt, 2, 1);
	for (i = 0; i < 100; i++)
		u[i] = upd(mac(7, (uint8_t)i), 9, 1, 5, 1);
	assert_int_equal(route_recv(rt, 2, u, 100), 0);
	route_peer_up(rt, 3, 1);
	route_resync(rt, 3);			/* not started: no extra walk */
	rec_clear(&f.rec);
	assert_int_equal(route_sync(rt, 3, 10), 1);
	route_resync(rt, 3);			/* halfway: once more after */
	for (k = 0; route_sync(rt, 3, 10); k++)
		assert_true(k < 100);
	for (i = 0, n = 0; i < f.rec.ncalls; i++)
		n += f.rec.calls[i].n;
	assert_true(n >= 100 + 100);
	assert_true(n < 100 + 100 + 40);
	assert_int_equal(route_sync(rt, 3, 10), 0);
	route_free(rt);
}

/* ---- the simulator ---------------------------------------------------- */

#define SIM_MAXN 16
#define SIM_MAXD 12
#define SIM_HOP_COST 10
#define SIM_CHUNK 400		/* small frames to exercise chunking */
#define SIM_INF UINT64_MAX

#define SIM_T0 1000		/* ms: the clock starts here */
#define SIM_SIG 8		/* bytes of a simulated signature */

struct msg {
	struct msg *next;
	int seqreq;
	int forged;
	size_t len;
	uint8_t buf[];
};

struct fifo {
	struct msg *head, *tail;
};

struct sim;

struct simnode {
	struct sim *sim;
	int idx;
	struct route_table *rt;
};

struct sim {
	unsigned seed;
	uint64_t rng;
	int n;
	struct simnode node[SIM_MAXN];
	int edge[SIM_MAXN][SIM_MAXN];	/* potential link */
	int up[SIM_MAXN][SIM_MAXN];
	uint32_t cost[SIM_MAXN][SIM_MAXN];
	struct fifo q[SIM_MAXN][SIM_MAXN];	/* from i to j */
	int nd;
	struct addr dest[SIM_MAXD];
	uint8_t owner[SIM_MAXD][SIM_MAXN];	/* bit per gate 1, 2 */
	int sync[SIM_MAXN][SIM_MAXN];	/* i still streams its table to j */
	uint8_t secret[SIM_MAXN][SIPHASH_KEY_LEN];	/* node keys */
	uint64_t now, due[SIM_MAXN];	/* ms; route_tick due, 0: none */
	int forger;			/* node index, or -1 */
	int mp;				/* multipath on every node */
	unsigned long multi;		/* sets of 2+ paths seen */
	unsigned long delivered, requests, exact, inexact, forged;
};


static uint32_t sim_rand(struct sim *s, uint32_t n)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)(s->rng % n);
}

static void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "simulator seed %u failed: ", s->seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  rerun with CVROUTE_SEED=%u\n", s->seed);
	fail_msg("seed %u", s->seed);
}

static void fifo_push(struct fifo *f, int seqreq, const uint8_t *b,
		      size_t len)
{
	struct msg *m = malloc(sizeof(*m) + len);

	assert_non_null(m);
	m->next = NULL;
	m->seqreq = seqreq;
	m->forged = 0;
	m->len = len;
	memcpy(m->buf, b, len);
	if (f->tail)
		f->tail->next = m;
	else
		f->head = m;
	f->tail = m;
}

static void fifo_clear(struct fifo *f)
{
	struct msg *m, *next;

	for (m = f->head; m; m = next) {
		next = m->next;
		free(m);
	}
	f->head = f->tail = NULL;
}

static void sim_send_updates(void *ctx, uint32_t peer,
			     const struct route_update *u, size_t n)
{
	struct simnode *nd = ctx;
	struct sim *s = nd->sim;
	int j = (int)peer - 1;
	uint8_t buf[SIM_CHUNK];
	size_t len, used;

	if (j < 0 || j >= s->n || !s->up[nd->idx][j])
		sim_fail(s, "node %d sends updates to peer %u, not up",
			 nd->idx, peer);
	while (n > 0) {
		len = route_encode(u, n, buf, sizeof(buf), &used);
		assert_true(used > 0);
		fifo_push(&s->q[nd->idx][j], 0, buf, len);
		u += used;
		n -= used;
	}
}

static void sim_send_seqreq(void *ctx, uint32_t peer,
			    const struct route_seqreq *r)
{
	struct simnode *nd = ctx;
	struct sim *s = nd->sim;
	int j = (int)peer - 1;
	uint8_t buf[256];
	size_t len;

	if (j < 0 || j >= s->n || !s->up[nd->idx][j])
		sim_fail(s, "node %d sends a seqreq to peer %u, not up",
			 nd->idx, peer);
	len = route_seqreq_encode(r, buf, sizeof(buf));
	assert_true(len > 0);
	fifo_push(&s->q[nd->idx][j], 1, buf, len);
	s->requests++;
}

static void sim_node_gates(struct sim *s, int i)
{
	struct addr set[SIM_MAXD];
	uint8_t g;
	size_t n;
	int d;

	for (g = 1; g <= 2; g++) {
		n = 0;
		for (d = 0; d < s->nd; d++)
			if (s->owner[d][i] & g)
				set[n++] = s->dest[d];
		assert_int_equal(route_local_set(s->node[i].rt, g, set, n), 0);
	}
}

/* Node idx's signature of u: a keyed hash under its secret. */
static void sim_sig(const struct sim *s, int idx,
		    const struct route_update *u, uint8_t out[SIM_SIG])
{
	uint8_t d[ROUTE_SIG_DATA_MAX];
	size_t n = route_sig_data(u, d);
	uint64_t h = siphash24(s->secret[idx], d, n);
	int k;

	for (k = 0; k < SIM_SIG; k++)
		out[k] = (uint8_t)(h >> 8 * k);
}

static int sim_sign(void *ctx, struct route_update *u)
{
	struct simnode *nd = ctx;

	sim_sig(nd->sim, nd->idx, u, u->sig);
	u->siglen = SIM_SIG;
	return 0;
}

/* Good if signed by the node the origin ID names (nid(idx + 1)). */
static int sim_verify(void *ctx, uint32_t peer, const struct route_update *u)
{
	struct simnode *nd = ctx;
	int o = u->origin.b[0] - 1;
	uint8_t sig[SIM_SIG];

	(void)peer;
	if (o < 0 || o >= nd->sim->n || u->siglen != SIM_SIG)
		return -1;
	sim_sig(nd->sim, o, u, sig);
	return memcmp(sig, u->sig, SIM_SIG) ? -1 : 0;
}

static uint64_t sim_now(void *ctx)
{
	struct simnode *nd = ctx;

	return nd->sim->now;
}

static void sim_arm(void *ctx, uint64_t ms)
{
	struct simnode *nd = ctx;
	uint64_t *due = &nd->sim->due[nd->idx];

	if (!*due || nd->sim->now + ms < *due)
		*due = nd->sim->now + ms;
}

static void sim_node_new(struct sim *s, int i)
{
	struct route_conf conf = { .max_remote_routes = 1000, .max_hops = 64,
				   .hop_cost = SIM_HOP_COST };
	struct route_ops ops = { &s->node[i], sim_send_updates,
				 sim_send_seqreq, sim_verify, sim_sign,
				 sim_now, sim_arm, t_hash };
	struct node_id id = nid((uint8_t)(i + 1));

	conf.hash_key[0] = (uint8_t)i;	/* each table hashes its own way */
	conf.mp_ratio_pct = s->mp ? 400 : 0;	/* wide: many paths */
	s->due[i] = 0;
	s->node[i].sim = s;
	s->node[i].idx = i;
	s->node[i].rt = route_new(&id, &conf, &ops);
	assert_non_null(s->node[i].rt);
}

static void sim_link_up(struct sim *s, int i, int j)
{
	if (s->up[i][j])
		return;
	s->up[i][j] = s->up[j][i] = 1;
	s->sync[i][j] = s->sync[j][i] = 1;
	route_peer_up(s->node[i].rt, (uint32_t)j + 1, s->cost[i][j]);
	route_peer_up(s->node[j].rt, (uint32_t)i + 1, s->cost[j][i]);
}

/* Like a TCP reset: what was in flight is lost. */
static void sim_link_down(struct sim *s, int i, int j)
{
	if (!s->up[i][j])
		return;
	s->up[i][j] = s->up[j][i] = 0;
	s->sync[i][j] = s->sync[j][i] = 0;
	fifo_clear(&s->q[i][j]);
	fifo_clear(&s->q[j][i]);
	route_peer_down(s->node[i].rt, (uint32_t)j + 1);
	route_peer_down(s->node[j].rt, (uint32_t)i + 1);
}

static void sim_set_cost(struct sim *s, int i, int j, uint32_t c)
{
	s->cost[i][j] = s->cost[j][i] = c;
	if (!s->up[i][j])
		return;
	route_peer_cost(s->node[i].rt, (uint32_t)j + 1, c);
	route_peer_cost(s->node[j].rt, (uint32_t)i + 1, c);
}

static void sim_edge(struct sim *s, int i, int j)
{
	if (i == j)
		return;
	s->edge[i][j] = s->edge[j][i] = 1;
	s->cost[i][j] = s->cost[j][i] = 1 + sim_rand(s, 100);
}

/* Metric of one hop from i to j, as route.c computes it. */
static uint64_t sim_w(const struct sim *s, int i, int j)
{
	uint64_t w = (uint64_t)s->cost[i][j] + SIM_HOP_COST;

	return w ? w : 1;
}

/* With multipath, every node may send to any path of its set: the graph
 * of all of them must have no cycle (depth-first, gray on the stack). */
static void sim_mp_dfs(struct sim *s, int d, int cur, uint8_t *color)
{
	struct route_info ri;
	size_t k;

	if (color[cur] == 2)
		return;
	if (color[cur] == 1)
		sim_fail(s, "multipath loop for dest %d through %d", d, cur);
	if (route_get(s->node[cur].rt, &s->dest[d], &ri) < 0 ||
	    ri.nh.kind == NH_LOCAL) {
		color[cur] = 2;
		return;
	}
	color[cur] = 1;
	for (k = 0; k < (ri.npaths ? ri.npaths : 1); k++) {
		uint32_t peer = ri.npaths ? ri.path_peer[k] : ri.nh.peer;

		if (!s->up[cur][peer - 1])
			sim_fail(s, "node %d has a path via down peer %u",
				 cur, peer);
		sim_mp_dfs(s, d, (int)peer - 1, color);
	}
	s->multi += ri.npaths > 1;
	color[cur] = 2;
}

static void sim_check_mp(struct sim *s)
{
	uint8_t color[SIM_MAXN];
	int d, i;

	for (d = 0; d < s->nd; d++) {
		memset(color, 0, sizeof(color));
		for (i = 0; i < s->n; i++)
			sim_mp_dfs(s, d, i, color);
	}
}

/* Follow next hops for dest d from every node: no loop, no dead link. */
static void sim_check_loops(struct sim *s)
{
	if (s->mp)
		sim_check_mp(s);
	struct route_nh nh;
	int d, i, cur, steps;
	uint8_t seen[SIM_MAXN];

	for (d = 0; d < s->nd; d++) {
		for (i = 0; i < s->n; i++) {
			memset(seen, 0, sizeof(seen));
			cur = i;
			for (steps = 0;; steps++) {
						if (seen[cur])
					sim_fail(s, "forwarding loop for "
						 "dest %d from node %d "
						 "through %d", d, i, cur);
				seen[cur] = 1;
				if (lookup_addr(s->node[cur].rt, &s->dest[d],
						&nh) < 0)
					break;
				if (nh.kind == NH_LOCAL) {
					if (!s->owner[d][cur])
						sim_fail(s, "node %d local for "
							 "dest %d it lost", cur,
							 d);
					break;
				}
				if (!s->up[cur][nh.peer - 1])
					sim_fail(s, "node %d routes via down "
						 "peer %u", cur, nh.peer);
				cur = (int)nh.peer - 1;
			}
		}
	}
}

static void sim_deliver(struct sim *s, int i, int j, struct msg *m)
{
	struct route_update u[64];
	struct route_seqreq r;
	size_t n;
	int refused;

	if (m->seqreq) {
		if (route_seqreq_decode(m->buf, m->len, &r) < 0)
			sim_fail(s, "seqreq does not decode");
		route_recv_seqreq(s->node[j].rt, (uint32_t)i + 1, &r);
		return;
	}
	if (route_decode(m->buf, m->len, u, 64, &n) < 0)
		sim_fail(s, "update frame does not decode");
	refused = route_recv(s->node[j].rt, (uint32_t)i + 1, u, n);
	if (refused != (m->forged ? (int)n : 0))
		sim_fail(s, "node %d refused %d of %zu updates (forged: %d)",
			 j, refused, n, m->forged);
}

/* Nothing in flight: run the earliest route_tick due; 0 if none. */
static int sim_tick(struct sim *s)
{
	int k = sim_due_take(s->due, s->n, &s->now);

	if (k < 0)
		return 0;
	route_tick(s->node[k].rt);
	return 1;
}

/*
 * One event, a millisecond apart: deliver a message from a random
 * non-empty link, or pull a chunk of a full table; with neither, a due
 * route_tick. 0 if all quiet.
 */
static int sim_step(struct sim *s)
{
	int cand[2 * SIM_MAXN * SIM_MAXN], nc = 0, i, j, k;
	struct msg *m;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++) {
			if (s->q[i][j].head)
				cand[nc++] = i * SIM_MAXN + j;
			if (s->sync[i][j])
				cand[nc++] = SIM_MAXN * SIM_MAXN +
					     i * SIM_MAXN + j;
		}
	if (nc == 0)
		return sim_tick(s);
	s->now++;
	k = cand[sim_rand(s, (uint32_t)nc)];
	if (k >= SIM_MAXN * SIM_MAXN) {
		k -= SIM_MAXN * SIM_MAXN;
		i = k / SIM_MAXN;
		j = k % SIM_MAXN;
		if (!route_sync(s->node[i].rt, (uint32_t)j + 1,
				1 + sim_rand(s, 4)))
			s->sync[i][j] = 0;
		sim_check_loops(s);
		return 1;
	}
	i = k / SIM_MAXN;
	j = k % SIM_MAXN;
	m = s->q[i][j].head;
	s->q[i][j].head = m->next;
	if (s->q[i][j].head == NULL)
		s->q[i][j].tail = NULL;
	sim_deliver(s, i, j, m);
	free(m);
	s->delivered++;
	sim_check_loops(s);
	return 1;
}

static void sim_run(struct sim *s)
{
	unsigned long steps = 0;

	while (sim_step(s))
		if (++steps > 2000000)
			sim_fail(s, "no convergence after %lu deliveries",
				 steps);
}

/* Shortest distance from every node to the owners of d (Dijkstra). */
static void sim_dijkstra(const struct sim *s, int d, uint64_t *dist)
{
	uint8_t done[SIM_MAXN] = { 0 };
	int i, j, best;

	for (i = 0; i < s->n; i++)
		dist[i] = s->owner[d][i] ? 0 : SIM_INF;
	for (;;) {
		best = -1;
		for (i = 0; i < s->n; i++)
			if (!done[i] && dist[i] != SIM_INF &&
			    (best < 0 || dist[i] < dist[best]))
				best = i;
		if (best < 0)
			return;
		done[best] = 1;
		for (j = 0; j < s->n; j++)
			if (s->up[best][j] &&
			    dist[best] + sim_w(s, j, best) < dist[j])
				dist[j] = dist[best] + sim_w(s, j, best);
	}
}

struct sim_sel {
	struct sel_info si[SIM_MAXD];
	const struct sim *s;
};

static void sim_sel_cb(void *arg, const struct route_info *ri)
{
	struct sim_sel *ss = arg;
	int d;

	for (d = 0; d < ss->s->nd; d++) {
		if (!addr_equal(ri->prefix, &ss->s->dest[d]))
			continue;
		assert_int_equal(ss->si[d].found, 0);
		ss->si[d].found = 1;
		ss->si[d].origin = *ri->origin;
		ss->si[d].metric = ri->metric;
		ss->si[d].hops = ri->hops;
		ss->si[d].nh = ri->nh;
		return;
	}
	fail_msg("route for an unknown prefix");
}

/* What j last advertised for d, what its peers hold: metric or SIM_INF. */
static uint64_t sim_adv(const struct sim *s, int j, int d)
{
	const struct rprefix *p = prefix_find(s->node[j].rt, &s->dest[d]);

	return p && p->adv.kind != NH_NONE ? p->adv.metric : SIM_INF;
}

/* The least and the most a node whose metric is m may have advertised:
 * it tells a change beyond max(hop cost, 1/8 of the advertised) (route.c
 * route_adv_due). */
static double sim_adv_lo(double m)
{
	double a = m * ROUTE_ADV_DIV / (ROUTE_ADV_DIV + 1);

	a = a < m - SIM_HOP_COST ? a : m - SIM_HOP_COST;
	return a > 0 ? a : 0;
}

static double sim_adv_hi(double m)
{
	double a = m * ROUTE_ADV_DIV / (ROUTE_ADV_DIV - 1);

	return a > m + SIM_HOP_COST ? a : m + SIM_HOP_COST;
}

/*
 * Bounds of a quiet node's metric (Bellman-Ford): a hop adds its link to
 * what the next hop advertised, which is within the threshold of that
 * one's metric, and keeps a route up to 8/7 of the best offer it holds
 * (route_better() in route.c).
 */
static void sim_bounds(const struct sim *s, int d, double *lo, double *hi)
{
	double v, w;
	int i, j, k;

	for (i = 0; i < s->n; i++)
		lo[i] = hi[i] = s->owner[d][i] ? 0 : 1e300;
	for (k = 0; k < s->n; k++) {
		for (i = 0; i < s->n; i++) {
			for (j = 0; j < s->n; j++) {
				if (!s->up[i][j])
					continue;
				w = (double)sim_w(s, i, j);
				v = (w + sim_adv_hi(hi[j])) * 8 / 7 + 1;
				hi[i] = v < hi[i] ? v : hi[i];
				v = w + sim_adv_lo(lo[j]);
				lo[i] = v < lo[i] ? v : lo[i];
			}
		}
	}
}

/*
 * Quiet network: every reachable node has a route, whose metric is its
 * next hop's advertised one plus the link, never worse than a neighbour's
 * offer by the hysteresis margin (1/8), so within the compounded margins
 * (hysteresis, re-advertisement threshold) of the Dijkstra optimum; nodes
 * that cannot reach the destination have no route for it.
 */
static void sim_check_quiet(struct sim *s)
{
	static struct sim_sel sel[SIM_MAXN];
	uint64_t dist[SIM_MAXN], m, alt;
	double lo[SIM_MAXN], hi[SIM_MAXN];
	int d, i, j;

	for (i = 0; i < s->n; i++) {
		memset(&sel[i], 0, sizeof(sel[i]));
		sel[i].s = s;
		route_foreach(s->node[i].rt, sim_sel_cb, &sel[i]);
	}
	for (d = 0; d < s->nd; d++) {
		sim_dijkstra(s, d, dist);
		sim_bounds(s, d, lo, hi);
		for (i = 0; i < s->n; i++) {
			struct sel_info *x = &sel[i].si[d];

			if (dist[i] == SIM_INF) {
				if (x->found)
					sim_fail(s, "node %d keeps unreachable "
						 "dest %d", i, d);
				continue;
			}
			if (!x->found)
				sim_fail(s, "node %d has no route to dest %d "
					 "(distance %llu)", i, d,
					 (unsigned long long)dist[i]);
			if (s->forger >= 0 && !s->owner[d][s->forger] &&
			    x->origin.b[0] == s->forger + 1)
				sim_fail(s, "node %d routes dest %d to the "
					 "forger %d", i, d, s->forger);
			if (s->owner[d][i]) {
				if (x->nh.kind != NH_LOCAL || x->metric != 0)
					sim_fail(s, "owner %d not local", i);
				continue;
			}
			j = (int)x->nh.peer - 1;
			if (x->metric != sim_w(s, i, j) + sim_adv(s, j, d))
				sim_fail(s, "node %d dest %d metric %u is not "
					 "what its next hop %d advertised plus "
					 "the link", i, d, x->metric, j);
			m = x->metric;
			if ((double)m < lo[i])
				sim_fail(s, "node %d dest %d metric %llu, "
					 "under the bound %.0f", i, d,
					 (unsigned long long)m, lo[i]);
			for (j = 0; j < s->n; j++) {
				if (!s->up[i][j] || !sel[j].si[d].found ||
				    (sel[j].si[d].nh.kind == NH_PEER &&
				     sel[j].si[d].nh.peer == (uint32_t)i + 1))
					continue;
				alt = sim_w(s, i, j) + sim_adv(s, j, d);
				if (alt < m - m / 8)
					sim_fail(s, "node %d dest %d keeps "
						 "metric %llu, neighbour %d "
						 "offers %llu", i, d,
						 (unsigned long long)m, j,
						 (unsigned long long)alt);
			}
			if ((double)m > hi[i])
				sim_fail(s, "node %d dest %d metric %llu, "
					 "optimum %llu", i, d,
					 (unsigned long long)m,
					 (unsigned long long)dist[i]);
			if (m == dist[i])
				s->exact++;
			else
				s->inexact++;
		}
	}
}

/*
 * Topologies.
 *
 *  line of 6:    0 - 1 - 2 - 3 - 4 - 5
 *
 *  ring of 8:    0 - 1 - 2 - 3
 *                |           |
 *                7 - 6 - 5 - 4
 *
 *  full mesh of 5: every pair of 0..4 linked
 *
 *  two rings joined by node 0:
 *                1 - 2       5 - 6
 *                |    \     /    |
 *                4 --- 0 ---     |
 *                      |  \      |
 *                      3   8 - 7
 *    ring A: 0-1-2-... i.e. 0 1 2 3 4 0;  ring B: 0 5 6 7 8 0
 *
 *  random: a random spanning tree over 5..12 nodes plus random chords.
 */
static void sim_topology(struct sim *s, int kind)
{
	int i, j, k;

	switch (kind) {
	case 0:
		s->n = 6;
		for (i = 0; i + 1 < 6; i++)
			sim_edge(s, i, i + 1);
		break;
	case 1:
		s->n = 8;
		for (i = 0; i < 8; i++)
			sim_edge(s, i, (i + 1) % 8);
		break;
	case 2:
		s->n = 5;
		for (i = 0; i < 5; i++)
			for (j = i + 1; j < 5; j++)
				sim_edge(s, i, j);
		break;
	case 3:
		s->n = 9;
		for (i = 0; i < 4; i++)
			sim_edge(s, i, i + 1);
		sim_edge(s, 4, 0);
		sim_edge(s, 0, 5);
		for (i = 5; i < 8; i++)
			sim_edge(s, i, i + 1);
		sim_edge(s, 8, 0);
		break;
	default:
		s->n = 5 + (int)sim_rand(s, 8);
		for (i = 1; i < s->n; i++)
			sim_edge(s, i, (int)sim_rand(s, (uint32_t)i));
		k = (int)sim_rand(s, (uint32_t)s->n * 2);
		while (k-- > 0)
			sim_edge(s, (int)sim_rand(s, (uint32_t)s->n),
				 (int)sim_rand(s, (uint32_t)s->n));
		break;
	}
}

/* Destinations: MACs in instance 1, non-overlapping IPv4-like prefixes
 * in instance 2, the empty "everything" address in instance 3. */
static void sim_dests(struct sim *s)
{
	int d;

	s->nd = SIM_MAXD;
	for (d = 0; d < s->nd; d++) {
		memset(&s->dest[d], 0, sizeof(s->dest[d]));
		if (d < 8) {
			s->dest[d] = mac(1, (uint8_t)(d * 17));
		} else if (d < SIM_MAXD - 1) {
			s->dest[d].inst = 2;
			s->dest[d].len = 4;
			s->dest[d].plen = (uint16_t)(16 + (d - 8) * 4);
			s->dest[d].b[0] = 10;
			s->dest[d].b[1] = (uint8_t)d;
		} else {
			s->dest[d].inst = 3;
		}
	}
}

static int sim_random_edge(struct sim *s, int want_up, int *pi, int *pj)
{
	int i, j, tries;

	for (tries = 0; tries < 200; tries++) {
		i = (int)sim_rand(s, (uint32_t)s->n);
		j = (int)sim_rand(s, (uint32_t)s->n);
		if (s->edge[i][j] && s->up[i][j] == want_up) {
			*pi = i;
			*pj = j;
			return 1;
		}
	}
	return 0;
}

/*
 * The forger sends a neighbour another origin's route to a destination,
 * with a random seqno and metric 0, signed with garbage or with its own
 * key; or asks the owner for a seqno far ahead.
 */
static void sim_forge(struct sim *s)
{
	struct route_update u;
	struct route_seqreq r;
	uint8_t buf[SIM_CHUNK];
	size_t len, used;
	int f = s->forger, j, d, o, k;

	if (f < 0)
		return;
	j = (int)sim_rand(s, (uint32_t)s->n);
	if (j == f || !s->up[f][j])
		return;
	d = (int)sim_rand(s, (uint32_t)s->nd);
	o = (int)sim_rand(s, (uint32_t)s->n);
	if (o == f || o == j)	/* j takes its own as a withdrawal */
		return;
	memset(&u, 0, sizeof(u));
	u.prefix = s->dest[d];
	u.origin = nid((uint8_t)(o + 1));
	u.seqno = (uint16_t)sim_rand(s, 65536);
	if (sim_rand(s, 3) == 0) {
		memset(&r, 0, sizeof(r));
		r.prefix = u.prefix;
		r.origin = u.origin;
		r.seqno = (uint16_t)(u.seqno + 30000);
		r.hop_count = 64;
		len = route_seqreq_encode(&r, buf, sizeof(buf));
		fifo_push(&s->q[f][j], 1, buf, len);
		s->forged++;
		return;
	}
	u.siglen = SIM_SIG;
	if (sim_rand(s, 2))
		sim_sig(s, f, &u, u.sig);	/* its own key, not o's */
	else
		for (k = 0; k < SIM_SIG; k++)
			u.sig[k] = (uint8_t)sim_rand(s, 256);
	len = route_encode(&u, 1, buf, sizeof(buf), &used);
	fifo_push(&s->q[f][j], 0, buf, len);
	s->q[f][j].tail->forged = 1;
	s->forged++;
}

static void sim_event(struct sim *s)
{
	int i, j, d;
	uint32_t c;

	if (sim_rand(s, 2))
		sim_forge(s);
	switch (sim_rand(s, 9)) {
	case 0:
	case 1:
		if (sim_random_edge(s, 1, &i, &j))
			sim_link_down(s, i, j);
		break;
	case 2:
	case 3:
		if (sim_random_edge(s, 0, &i, &j))
			sim_link_up(s, i, j);
		break;
	case 4:		/* a link's cost: anew, or within 1/8 of it */
		if (!sim_random_edge(s, 1, &i, &j))
			break;
		c = s->cost[i][j];
		c = sim_rand(s, 2) ? 1 + sim_rand(s, 200) :
				     c - c / 8 + sim_rand(s, c / 4 + 1);
		sim_set_cost(s, i, j, c);
		break;
	case 5:		/* node down: all its links */
		i = (int)sim_rand(s, (uint32_t)s->n);
		for (j = 0; j < s->n; j++)
			sim_link_down(s, i, j);
		break;
	case 6:		/* node (re)start: fresh table, links up */
		i = (int)sim_rand(s, (uint32_t)s->n);
		for (j = 0; j < s->n; j++)
			sim_link_down(s, i, j);
		route_free(s->node[i].rt);
		sim_node_new(s, i);
		sim_node_gates(s, i);
		for (j = 0; j < s->n; j++)
			if (s->edge[i][j])
				sim_link_up(s, i, j);
		break;
	default:	/* a gate announces or withdraws */
		i = (int)sim_rand(s, (uint32_t)s->n);
		d = (int)sim_rand(s, (uint32_t)s->nd);
		s->owner[d][i] ^= (uint8_t)(1 + sim_rand(s, 2));
		sim_node_gates(s, i);
		break;
	}
}

static void sim_seed(unsigned seed, unsigned long *stats, int mp)
{
	struct sim *s = calloc(1, sizeof(*s));
	int i, j, ev, d;

	assert_non_null(s);
	s->seed = seed;
	s->mp = mp;
	s->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed * 0x100000001b3ull);
	s->now = SIM_T0;
	sim_rand(s, 2);
	sim_topology(s, (int)(seed % 5));
	for (i = 0; i < SIM_MAXN; i++)
		for (j = 0; j < SIPHASH_KEY_LEN; j++)
			s->secret[i][j] = (uint8_t)sim_rand(s, 256);
	s->forger = seed % 3 == 0 ? s->n - 1 : -1;
	sim_dests(s);
	for (i = 0; i < s->n; i++)
		sim_node_new(s, i);
	for (d = 0; d < s->nd; d++) {
		i = (int)sim_rand(s, (uint32_t)s->n);
		if (sim_rand(s, 3) != 0 && i != s->forger)
			s->owner[d][i] = 1;
	}
	for (i = 0; i < s->n; i++)
		sim_node_gates(s, i);
	for (i = 0; i < s->n; i++)
		for (j = i + 1; j < s->n; j++)
			if (s->edge[i][j])
				sim_link_up(s, i, j);
	sim_run(s);
	sim_check_quiet(s);
	for (ev = 0; ev < 25; ev++) {
		sim_event(s);
		if (sim_rand(s, 3) == 0) {	/* events racing each other */
			sim_step(s);
			sim_event(s);
		}
		sim_check_loops(s);
		sim_run(s);
		sim_check_quiet(s);
	}
	stats[0] += s->delivered;
	stats[1] += s->requests;
	stats[2] += s->exact;
	stats[3] += s->inexact;
	stats[4] += s->forged;
	stats[5] += s->multi;
	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->n; j++)
			fifo_clear(&s->q[i][j]);
		route_free(s->node[i].rt);
	}
	free(s);
}

static void test_simulator(void **state)
{
	unsigned long stats[6] = { 0 };
	const char *one = getenv("CVROUTE_SEED");
	const char *cnt = getenv("CVROUTE_SEEDS");
	unsigned seed, nseeds = cnt ? (unsigned)atoi(cnt) : 200;

	(void)state;
	if (one != NULL) {
		sim_seed((unsigned)atoi(one), stats, 0);
	} else {
		for (seed = 1; seed <= nseeds; seed++)
			sim_seed(seed, stats, 0);
	}
	print_message("simulator: %lu deliveries, %lu seqno requests, "
		      "%lu routes optimal, %lu within hysteresis, %lu forged "
		      "messages refused\n", stats[0], stats[1], stats[2],
		      stats[3], stats[4]);
	assert_true(stats[4] > 0 || one != NULL);
}

/* The same random meshes and events with multipath on every node: after
 * every single delivery, the graph of every node's paths has no cycle.
 * A third of the seeds by default: each check walks every path (under
 * valgrind, that is minutes). */
static void test_simulator_multipath(void **state)
{
	unsigned long stats[6] = { 0 };
	const char *cnt = getenv("CVROUTE_SEEDS");
	unsigned seed, nseeds = cnt ? (unsigned)atoi(cnt) : 70;

	(void)state;
	for (seed = 1; seed <= nseeds; seed++)
		sim_seed(seed, stats, 1);
	print_message("simulator, multipath: %lu deliveries, %lu seqno "
		      "requests, %lu checks met 2 paths or more\n", stats[0],
		      stats[1], stats[5]);
	assert_true(stats[5] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feasibility),
		cmocka_unit_test(test_seqno_wrap),
		cmocka_unit_test(test_max_remote_routes),
		cmocka_unit_test(test_max_hops),
		cmocka_unit_test(test_own_origin_ignored),
		cmocka_unit_test(test_metric_overflow),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_multipath_set),
		cmocka_unit_test(test_multipath_turns),
		cmocka_unit_test(test_local_origin),
		cmocka_unit_test(test_seqreq_forward),
		cmocka_unit_test(test_batching),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_adv_jitter),
		cmocka_unit_test(test_adv_news),
		cmocka_unit_test_setup_teardown(test_change_learned,
						chg_setup, chg_teardown),
		cmocka_unit_test_setup_teardown(test_change_metric,
						chg_setup, chg_teardown),
		cmocka_unit_test_setup_teardown(test_change_retracted,
						chg_setup, chg_teardown),
		cmocka_unit_test_setup_teardown(test_change_not_readvertised,
						chg_setup, chg_teardown),
		cmocka_unit_test_setup_teardown(test_change_unregistered,
						chg_setup, chg_teardown),
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_malformed),
		cmocka_unit_test(test_seqreq_codec),
		cmocka_unit_test(test_signed_routes),
		cmocka_unit_test(test_seqno_chains),
		cmocka_unit_test(test_local_signing),
		cmocka_unit_test(test_origin_limit),
		cmocka_unit_test(test_seqreq_origin),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_req_stuck),
		cmocka_unit_test(test_simulator),
		cmocka_unit_test(test_simulator_multipath),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
