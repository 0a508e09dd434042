/*
 * Multipath: traffic to a prefix spread over every feasible route whose
 * metric is within multipath_ratio of the best one.
 *
 * Safe because of feasibility alone (RFC 8966 3.5.1): a route via a
 * neighbour is feasible only if the neighbour advertised a newer seqno or
 * a metric below our feasibility distance, and our FD is at most what we
 * advertise. Along any chain of next hops, each taken from a feasible
 * route, (seqno, metric) therefore strictly improves, so no chain comes
 * back to where it began, whichever feasible route each node picks. We
 * advertise only the selected route (route.c), as without multipath. The
 * set is taken after the FD was lowered to what we advertise (a route
 * feasible only against the FD before is not loop-free).
 *
 * A packet picks among the set by its flow hash, weighted by about
 * 1 / metric (mp_weight), so a flow keeps to one path while the set and
 * the weights hold. The set is computed
 * when the prefix is selected again (any route or link cost change).
 */
#include <stdlib.h>

#include "route_int.h"

/* Insertion into the set, kept sorted by metric, ROUTE_MP_MAX at most. */
static void mp_add(struct rmp *mp, uint32_t peer, uint32_t metric)
{
	size_t i = mp->n < ROUTE_MP_MAX ? mp->n : ROUTE_MP_MAX - 1u;

	if (mp->n == ROUTE_MP_MAX && metric >= mp->metric[i])
		return;
	while (i > 0 && mp->metric[i - 1] > metric) {
		mp->peer[i] = mp->peer[i - 1];
		mp->metric[i] = mp->metric[i - 1];
		i--;
	}
	mp->peer[i] = peer;
	mp->metric[i] = metric;
	if (mp->n < ROUTE_MP_MAX)
		mp->n++;
}

/* Did the set change (then its packet counts start again)? */
static int mp_same(const struct rmp *a, const struct rmp *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->peer[i] != b->peer[i])
			return 0;
	return 1;
}

/* Was peer a path of p's set? */
static int mp_had(const struct rprefix *p, uint32_t peer)
{
	size_t i;

	for (i = 0; p->mp != NULL && i < p->mp->n; i++)
		if (p->mp->peer[i] == peer)
			return 1;
	return 0;
}

static void mp_drop(struct rprefix *p)
{
	free(p->mp);
	p->mp = NULL;
}

/*
 * A route joins the set within multipath_ratio R of the best metric, and
 * stays in it up to R * R: a path that carries traffic measures a longer
 * RTT (queues fill) and must not be dropped for it, only to fill the
 * other path's queues instead and be taken back (which would make the
 * traffic swing from path to path at every ping).
 */
void route_mp_select(struct route_table *rt, struct rprefix *p)
{
	struct rmp set = { 0 };
	uint64_t join, keep;
	uint32_t best = ROUTE_INF, m, peer;
	size_t i;

	if (!rt->conf.mp_ratio_pct || p->sel.kind != NH_PEER)
		return mp_drop(p);
	for (i = 0; i < p->nroutes; i++) {
		m = route_metric(rt, &p->routes[i]);
		if (m != ROUTE_INF && route_feasible(p, &p->routes[i]) &&
		    m < best)
			best = m;
	}
	join = (uint64_t)best * rt->conf.mp_ratio_pct / 100;
	keep = join * rt->conf.mp_ratio_pct / 100;
	for (i = 0; i < p->nroutes; i++) {
		m = route_metric(rt, &p->routes[i]);
		peer = p->routes[i].peer;
		if (m != ROUTE_INF && route_feasible(p, &p->routes[i]) &&
		    (m <= join || (m <= keep && mp_had(p, peer))))
			mp_add(&set, peer, m);
	}
	if (set.n < 2)
		return mp_drop(p);
	if (p->mp != NULL && mp_same(p->mp, &set)) {
		memcpy(p->mp->metric, set.metric, sizeof(set.metric));
		return;
	}
	if (p->mp == NULL && (p->mp = malloc(sizeof(*p->mp))) == NULL)
		return;		/* single path: still correct */
	*p->mp = set;
}

void route_mp_free(struct rprefix *p)
{
	mp_drop(p);
}

/* A path's weight, about 1 / metric but in 4 steps relative to the best
 * (metric m0): RTT noise then moves no flow from path to path, only a
 * real change does. */
static unsigned mp_weight(uint32_t m, uint32_t m0)
{
	uint64_t x = (uint64_t)m * 4;

	return x <= (uint64_t)m0 * 5 ? 4		/* within 1.25 m0 */
	     : x <= (uint64_t)m0 * 7 ? 3		/* 1.75 */
	     : x <= (uint64_t)m0 * 12 ? 2		/* 3 */
	     : 1;
}

/* The set's member for flow: its share of the weights. */
static size_t mp_pick(const struct rmp *mp, uint32_t flow)
{
	unsigned w[ROUTE_MP_MAX], total = 0;
	uint64_t x;
	size_t i;

	for (i = 0; i < mp->n; i++)
		total += w[i] = mp_weight(mp->metric[i], mp->metric[0]);
	x = ((uint64_t)flow * total) >> 32;
	for (i = 0; i + 1 < mp->n && x >= w[i]; i++)
		x -= w[i];
	return i;
}

int route_lookup_flow(struct route_table *rt, uint32_t inst,
		      const uint8_t *dst, size_t dlen, uint32_t flow,
		      struct route_nh *nh)
{
	struct rprefix *p = route_match(rt, inst, dst, dlen);
	size_t i;

	if (p == NULL)
		return -1;
	nh->kind = p->sel.kind;
	nh->peer = p->sel.peer;
	if (p->mp == NULL)
		return 0;
	i = mp_pick(p->mp, flow);
	p->mp->pkts[i]++;
	nh->peer = p->mp->peer[i];
	return 0;
}
