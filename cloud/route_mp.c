/*
 * Multipath: traffic to a prefix spread over every feasible route whose
 * metric was within multipath_ratio of the best one when it joined.
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
 * Flows are dealt to the set's paths in weighted turns, weights about
 * 1 / metric as it was when the path joined (mp_weight), and a flow keeps
 * its path while that path is in the set. The set is computed
 * when the prefix is selected again (any route or link cost change).
 */
#include <stdlib.h>

#include "route_int.h"

/* A path's weight when it joins, about 1 / metric in 4 steps relative
 * to the best (m0): 4 within 1.25 m0, 3 within 1.75, 2 within 3, else 1. */
static uint8_t mp_weight(uint32_t m, uint32_t m0)
{
	uint64_t x = (uint64_t)m * 4;

	return x <= (uint64_t)m0 * 5 ? 4
	     : x <= (uint64_t)m0 * 7 ? 3
	     : x <= (uint64_t)m0 * 12 ? 2
	     : 1;
}

static size_t mp_index(const struct rmp *mp, uint32_t peer)
{
	size_t i;

	for (i = 0; i < mp->n; i++)
		if (mp->peer[i] == peer)
			return i;
	return mp->n;
}

static void mp_put(struct rmp *mp, uint32_t peer, uint32_t metric,
		   uint8_t weight)
{
	if (mp->n == ROUTE_MP_MAX)
		return;
	mp->peer[mp->n] = peer;
	mp->metric[mp->n] = metric;
	mp->weight[mp->n] = weight;
	mp->pkts[mp->n] = 0;
	mp->credit[mp->n] = 0;
	mp->n++;
}

void route_mp_free(struct rprefix *p)
{
	free(p->mp);
	p->mp = NULL;
}

/* The paths of p that stay: still feasible, whatever their metric now
 * (a path that carries traffic measures a longer RTT: its queues fill;
 * dropping it for that would only fill the other's and swing back), with
 * the weight and packet count they had. */
static void mp_keep(struct route_table *rt, const struct rprefix *p,
		    struct rmp *set)
{
	const struct rroute *r;
	uint32_t m;
	size_t i, k;

	for (k = 0; p->mp != NULL && k < p->mp->n; k++) {
		for (i = 0; i < p->nroutes; i++) {
			r = &p->routes[i];
			m = route_metric(rt, r);
			if (r->peer != p->mp->peer[k] || m == ROUTE_INF ||
			    !route_feasible(p, r))
				continue;
			mp_put(set, r->peer, m, p->mp->weight[k]);
			set->pkts[set->n - 1] = p->mp->pkts[k];
			set->credit[set->n - 1] = p->mp->credit[k];
		}
	}
}

/* New paths: feasible routes within multipath_ratio of the best, best
 * first. */
static void mp_join(struct route_table *rt, const struct rprefix *p,
		    uint32_t best, struct rmp *set)
{
	uint64_t join = (uint64_t)best * rt->conf.mp_ratio_pct / 100;
	const struct rroute *r, *pick;
	uint32_t m, pm;
	size_t i;

	for (;;) {
		pick = NULL;
		pm = ROUTE_INF;
		for (i = 0; i < p->nroutes; i++) {
			r = &p->routes[i];
			m = route_metric(rt, r);
			if (m < pm && m <= join && mp_index(set, r->peer) == set->n &&
			    route_feasible(p, r)) {
				pick = r;
				pm = m;
			}
		}
		if (pick == NULL || set->n == ROUTE_MP_MAX)
			return;
		mp_put(set, pick->peer, pm, mp_weight(pm, best));
	}
}

/*
 * A route joins the set within multipath_ratio R of the best metric, with
 * a weight for its metric then; it stays, and keeps that weight, while it
 * is feasible. Weights fixed at joining keep flows where they are: one
 * taken from the metric of the moment would move flows away from the
 * path that carries them at every ping (its RTT grows with its load).
 */
void route_mp_select(struct route_table *rt, struct rprefix *p)
{
	struct rmp set = { 0 };
	uint32_t best = ROUTE_INF, m;
	size_t i;

	if (!rt->conf.mp_ratio_pct || p->sel.kind != NH_PEER)
		return route_mp_free(p);
	for (i = 0; i < p->nroutes; i++) {
		m = route_metric(rt, &p->routes[i]);
		if (m != ROUTE_INF && route_feasible(p, &p->routes[i]) &&
		    m < best)
			best = m;
	}
	mp_keep(rt, p, &set);
	mp_join(rt, p, best, &set);
	if (set.n < 2)
		return route_mp_free(p);
	if (p->mp == NULL && (p->mp = malloc(sizeof(*p->mp))) == NULL)
		return;		/* single path: still correct */
	*p->mp = set;
}

/* A new flow's path: smooth weighted round robin, so flows spread by
 * weight however their hashes fall (4 flows over 2 equal paths: 2 each). */
static size_t mp_turn(struct rmp *mp)
{
	int32_t total = 0;
	size_t i, pick = 0;

	for (i = 0; i < mp->n; i++) {
		mp->credit[i] += mp->weight[i];
		total += mp->weight[i];
		if (mp->credit[i] > mp->credit[pick])
			pick = i;
	}
	mp->credit[pick] -= total;
	return pick;
}

/*
 * The set's member for flow: the path it was given, while that path is in
 * the set; a new flow (or one whose slot a later flow took) takes the next
 * weighted turn. Without the table, by its hash alone.
 */
static size_t mp_pick(struct route_table *rt, struct rmp *mp, uint32_t flow)
{
	struct rflow *e;
	size_t i;

	if (rt->flows == NULL &&
	    (rt->flows = calloc(ROUTE_MP_FLOWS, sizeof(*rt->flows))) == NULL)
		return ((uint64_t)flow * mp->n) >> 32;
	flow += !flow;
	e = &rt->flows[flow & (ROUTE_MP_FLOWS - 1)];
	if (e->flow == flow && (i = mp_index(mp, e->peer)) < mp->n)
		return i;
	i = mp_turn(mp);
	e->flow = flow;
	e->peer = mp->peer[i];
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
	i = mp_pick(rt, p->mp, flow);
	p->mp->pkts[i]++;
	nh->peer = p->mp->peer[i];
	return 0;
}
