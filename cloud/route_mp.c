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
 * A packet picks among the set by its flow hash, weighted by 1 / metric,
 * so a flow keeps to one path while the set holds. The set is computed
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

static void mp_drop(struct rprefix *p)
{
	free(p->mp);
	p->mp = NULL;
}

void route_mp_select(struct route_table *rt, struct rprefix *p)
{
	struct rmp set = { 0 };
	uint64_t limit;
	uint32_t best = ROUTE_INF, m;
	size_t i;

	if (!rt->conf.mp_ratio_pct || p->sel.kind != NH_PEER)
		return mp_drop(p);
	for (i = 0; i < p->nroutes; i++) {
		m = route_metric(rt, &p->routes[i]);
		if (m != ROUTE_INF && route_feasible(p, &p->routes[i]) &&
		    m < best)
			best = m;
	}
	limit = (uint64_t)best * rt->conf.mp_ratio_pct / 100;
	for (i = 0; i < p->nroutes; i++) {
		m = route_metric(rt, &p->routes[i]);
		if (m != ROUTE_INF && m <= limit &&
		    route_feasible(p, &p->routes[i]))
			mp_add(&set, p->routes[i].peer, m);
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

/* The set's member for flow: weights 1 / metric, in 16-bit fixed point
 * relative to the best (which weighs 65536). */
static size_t mp_pick(const struct rmp *mp, uint32_t flow)
{
	uint64_t w[ROUTE_MP_MAX], total = 0, x;
	size_t i;

	for (i = 0; i < mp->n; i++) {
		w[i] = ((uint64_t)mp->metric[0] << 16) /
		       (mp->metric[i] ? mp->metric[i] : 1);
		total += w[i] ? w[i] : 1;
	}
	x = ((uint64_t)flow * total) >> 32;
	for (i = 0; i + 1 < mp->n; i++) {
		uint64_t wi = w[i] ? w[i] : 1;

		if (x < wi)
			break;
		x -= wi;
	}
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
