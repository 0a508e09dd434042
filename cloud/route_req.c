/*
 * Seqno requests (RFC 8966 3.8): asking an origin for a newer seqno when
 * only infeasible routes are left, forwarding others' requests toward the
 * origin, and answering them as the origin. A request cannot be used to
 * flood the mesh: each requester gets ROUTE_REQ_BURST requests per prefix
 * in each ROUTE_REQ_WINDOW_MS, and an origin moves a prefix's seqno at most
 * once per ROUTE_BUMP_MS: by one, whatever seqno was asked for, unless the
 * request proves that seqno - 1 was announced (a signature of it, which
 * every requester holds for its feasibility distance): then to it. So a
 * restarted origin catches up with its old seqno in one step, and a forged
 * request moves nothing further than a signed announcement did.
 */
#include "route_int.h"

static struct rreq *req_find(struct route_table *rt, const struct addr *a,
			     const struct node_id *origin, uint16_t seqno)
{
	struct rreq *q;
	size_t i;

	for (i = 0; i < ROUTE_REQ_CACHE; i++) {
		q = &rt->reqs[i];
		if (q->used && q->seqno == seqno && id_eq(&q->origin, origin) &&
		    addr_equal(&q->a, a))
			return q;
	}
	return NULL;
}

static struct rreq *req_new(struct route_table *rt, const struct addr *a,
			    const struct node_id *origin, uint16_t seqno,
			    uint8_t hop_count, uint32_t from)
{
	struct rreq *q = &rt->reqs[rt->reqpos++ % ROUTE_REQ_CACHE];

	q->a = *a;
	q->origin = *origin;
	q->seqno = seqno;
	q->hop_count = hop_count;
	q->used = 1;
	q->from = from;
	q->target = 0;
	q->tries = 0;
	q->psiglen = 0;
	return q;
}

static void req_proof(struct rreq *q, const struct node_id *porigin,
		      uint16_t pcbase, const uint8_t *pchain,
		      uint8_t psiglen, const uint8_t *psig)
{
	if (psiglen == 0 || psiglen > ROUTE_SIG_MAX)
		return;
	q->porigin = *porigin;
	q->pcbase = pcbase;
	memcpy(q->pchain, pchain, ROUTE_CHAIN_HASH);
	q->psiglen = psiglen;
	memcpy(q->psig, psig, psiglen);
}

/* Our selection has the requested seqno: the request is answered. */
static int req_answered(const struct rprefix *p, const struct rreq *q)
{
	return p->sel.kind == NH_PEER && id_eq(&p->sel.origin, &q->origin) &&
	       !seq_newer(q->seqno, p->sel.seqno);
}

/*
 * Where a request goes: a forwarded one toward its origin along our
 * selection if that leads there; ours, and any other, along our best route
 * from that origin, feasible or not: the route we want to become feasible,
 * whose peer can still reach the origin when the selection's link has gone
 * silent. Never back to where it came from.
 */
static uint32_t req_target(const struct route_table *rt,
			   const struct rprefix *p, const struct rreq *q)
{
	const struct rroute *r, *best = NULL;
	uint32_t m, bm = ROUTE_INF;
	size_t i;

	if (q->from != 0 && p->sel.kind == NH_PEER &&
	    p->sel.peer != q->from && id_eq(&p->sel.origin, &q->origin))
		return p->sel.peer;
	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		if (r->peer == q->from || !id_eq(&r->origin, &q->origin))
			continue;
		m = route_metric(rt, r);
		if (best == NULL || m < bm) {
			best = r;
			bm = m;
		}
	}
	return best ? best->peer : 0;
}

static void req_send(struct route_table *rt, struct rreq *q)
{
	struct route_seqreq r;

	q->sent_ms = route_now(rt);
	q->tries++;
	r.prefix = q->a;
	r.origin = q->origin;
	r.seqno = q->seqno;
	r.hop_count = q->hop_count;
	r.porigin = q->porigin;
	r.pcbase = q->pcbase;
	memcpy(r.pchain, q->pchain, ROUTE_CHAIN_HASH);
	r.psiglen = q->psiglen;
	memcpy(r.psig, q->psig, q->psiglen);
	rt->ops.send_seqreq(rt->ops.ctx, q->target, &r);
}

/* p changed: drop answered requests, follow the route with the others. */
void req_refresh(struct route_table *rt, const struct rprefix *p)
{
	struct rreq *q;
	uint32_t t;
	size_t i;

	for (i = 0; i < ROUTE_REQ_CACHE; i++) {
		q = &rt->reqs[i];
		if (!q->used || !addr_equal(&q->a, &p->a))
			continue;
		if (req_answered(p, q)) {
			q->used = 0;
			continue;
		}
		t = req_target(rt, p, q);
		if (t != q->target) {
			q->target = t;
			if (t != 0)
				req_send(rt, q);
		}
	}
}

static void set_stuck(struct route_table *rt, struct rprefix *p, int stuck)
{
	if (p->stuck == stuck)
		return;
	p->stuck = (uint8_t)stuck;
	if (stuck)
		rt->nstuck++;
	else
		rt->nstuck--;
}

/* An outstanding request given up on: ours after its tries, or one we
 * forwarded, ROUTE_REQ_STUCK_MS after it last went. */
static int req_lapsed(const struct route_table *rt, const struct rreq *q)
{
	return route_now(rt) - q->sent_ms >= ROUTE_REQ_STUCK_MS &&
	       (q->from != 0 || q->tries >= ROUTE_REQ_TRIES);
}

/*
 * Left with only infeasible routes, or with an infeasible one much better
 * than the selection: ask the origin for a seqno newer than our feasibility
 * distance (RFC 8966 3.8.2), through the best infeasible route's peer when
 * we have no selection, else along the selection. The prefix is stuck
 * until then: route_tick asks again while it is, whatever became of the
 * request (the cache holds 256; a storm of others' may push ours out).
 */
/*
 * With a selection, a better route that is infeasible only for its older
 * seqno waits ROUTE_OLD_WAIT_MS before we ask: the newer seqno is most
 * likely on its way to that peer along the origin's tree. Asking at once
 * moved the origin past it again, which made more routes old: at 100
 * nodes starting at once, 360 seqno bumps (each a signature every node
 * checks) and 12 s to converge; 12 bumps and 5 s without such requests.
 * 1 while it waits (route_tick looks again).
 */
static int old_wait(struct route_table *rt, struct rprefix *p,
		    const struct rroute *best)
{
	uint32_t now = (uint32_t)route_now(rt) | 1;

	if (p->sel.kind != NH_PEER || !seq_newer(p->fd_seqno, best->seqno)) {
		p->old_ms = 0;
		return 0;
	}
	if (!p->old_ms) {
		p->old_ms = now;
		if (rt->ops.arm)
			rt->ops.arm(rt->ops.ctx, ROUTE_OLD_WAIT_MS);
		return 1;
	}
	return now - p->old_ms < ROUTE_OLD_WAIT_MS;
}

void prefix_request(struct route_table *rt, struct rprefix *p)
{
	struct rroute *r, *best = NULL;
	struct rreq *q;
	uint32_t m, bm = ROUTE_INF;
	uint16_t seqno;
	size_t i;

	for (i = 0; p->sel.kind != NH_LOCAL && i < p->nroutes; i++) {
		r = &p->routes[i];
		m = route_metric(rt, r);
		if (m == ROUTE_INF || route_feasible(p, r) || m >= bm)
			continue;
		best = r;
		bm = m;
	}
	set_stuck(rt, p, best != NULL && (p->sel.kind != NH_PEER ||
					  route_better(bm, p->sel.metric)));
	if (!p->stuck)
		p->old_ms = 0;
	if (!p->stuck || old_wait(rt, p, best))
		return;
	seqno = (uint16_t)(p->fd_seqno + 1);	/* FD valid: infeasible */
	q = req_find(rt, &p->a, &best->origin, seqno);
	if (q != NULL && q->target != 0 && !req_lapsed(rt, q))
		return;	/* outstanding: req_refresh follows it */
	if (q == NULL)	/* else a forwarded one stuck here: ours now */
		q = req_new(rt, &p->a, &best->origin, seqno, ROUTE_REQ_HOPS, 0);
	if (q->psiglen == 0)
		req_proof(q, &p->fd_origin, p->fd_cbase, p->fd_chain,
			  p->fd_siglen, p->fd_sig);
	q->from = 0;
	q->tries = 0;
	q->target = req_target(rt, p, q);
	req_send(rt, q);
	if (rt->ops.arm)
		rt->ops.arm(rt->ops.ctx, ROUTE_REQ_RETRY_MS);
}

/* Stuck prefixes whose requests lapsed or were pushed out: again. The
 * time to the next look, 0 if none is stuck. */
static uint64_t req_stuck(struct route_table *rt)
{
	uint64_t wait = ROUTE_REQ_STUCK_MS;
	struct rprefix *p;
	size_t i;

	for (i = 0; i < rt->nbuckets && rt->nstuck > 0; i++)
		for (p = rt->buckets[i]; p; p = p->hnext) {
			if (!p->stuck)
				continue;
			prefix_request(rt, p);
			if (p->old_ms)
				wait = ROUTE_OLD_WAIT_MS;
		}
	return rt->nstuck > 0 ? wait : 0;
}

static void route_reply(struct route_table *rt, uint32_t peer,
			const struct rprefix *p)
{
	struct route_update u;

	sel_update(p, &p->adv, &u);	/* what the others hold */
	rt->ops.send_updates(rt->ops.ctx, peer, &u, 1);
}

/* ROUTE_REQ_BURST new requests per prefix and requester in each window
 * (copies of one we hold cost nothing); the window follows the last
 * requester (a second one starts it afresh). */
static int req_allowed(struct route_table *rt, struct rprefix *p,
		       uint32_t peer)
{
	uint64_t now = route_now(rt);

	if (p->rq_peer != peer || now - p->rq_start >= ROUTE_REQ_WINDOW_MS) {
		p->rq_peer = peer;
		p->rq_start = now;
		p->rq_n = 0;
	}
	return p->rq_n++ < ROUTE_REQ_BURST;
}

/* Requests of one peer held in the cache: it may not crowd out others. */
static unsigned req_held(const struct route_table *rt, uint32_t peer)
{
	unsigned i, n = 0;

	for (i = 0; i < ROUTE_REQ_CACHE; i++)
		n += rt->reqs[i].used && rt->reqs[i].from == peer;
	return n;
}

/*
 * Take over a request we cannot answer: forward it toward the origin. A copy
 * of one we hold is dropped, unless ours is stuck (no next hop) or went to
 * the very peer now asking us: then we follow it again from this sender.
 */
static void route_forward(struct route_table *rt, uint32_t from,
			  struct rprefix *p, const struct route_seqreq *r)
{
	struct rreq *q;

	/* a copy of one we sent lately is a duplicate; later, a retry */
	q = req_find(rt, &r->prefix, &r->origin, r->seqno);
	if (q != NULL && q->target != 0 && q->target != from &&
	    route_now(rt) - q->sent_ms < ROUTE_REQ_RETRY_MS)
		return;
	if (q == NULL) {
		if (r->hop_count <= 1 || !req_allowed(rt, p, from) ||
		    req_held(rt, from) >= ROUTE_REQ_PEER_MAX)
			return;
		q = req_new(rt, &r->prefix, &r->origin, r->seqno,
			    (uint8_t)(r->hop_count - 1), from);
	}
	if (q->psiglen == 0)
		req_proof(q, &r->porigin, r->pcbase, r->pchain, r->psiglen,
			  r->psig);
	q->from = from;
	q->target = req_target(rt, p, q);
	if (q->target != 0)
		req_send(rt, q);
}

/* Does r prove that seqno - 1 of its prefix was announced? */
static int proof_ok(struct route_table *rt, uint32_t peer,
		    const struct route_seqreq *r)
{
	struct route_update u;

	if (r->psiglen == 0)
		return 0;
	if (!rt->ops.verify)
		return 1;
	memset(&u, 0, sizeof(u));
	u.prefix = r->prefix;
	u.origin = r->porigin;
	u.seqno = (uint16_t)(r->seqno - 1);
	u.cbase = r->pcbase;
	memcpy(u.chain, r->pchain, ROUTE_CHAIN_HASH);
	u.siglen = r->psiglen;
	memcpy(u.sig, r->psig, r->psiglen);
	return rt->ops.verify(rt->ops.ctx, peer, &u) == 0;
}

/* Our seqno of p becomes to (at least one more), now or, if we moved it
 * lately, once ROUTE_BUMP_MS have passed since (route_tick). */
static void origin_bump(struct route_table *rt, struct rprefix *p,
			uint16_t to)
{
	uint64_t now = route_now(rt);

	if (!p->bump_due || seq_newer(to, p->bump_to))
		p->bump_to = to;
	if (p->bump_ms == 0 || now - p->bump_ms >= ROUTE_BUMP_MS) {
		p->lseq = seq_newer(p->bump_to, p->lseq) ? p->bump_to :
			  (uint16_t)(p->lseq + 1);
		p->bump_ms = now;
		if (p->bump_due) {
			p->bump_due = 0;
			rt->nbump--;
		}
		mark_dirty(rt, p);
		return;
	}
	if (p->bump_due)
		return;
	p->bump_due = 1;
	rt->nbump++;
	if (rt->ops.arm)
		rt->ops.arm(rt->ops.ctx, p->bump_ms + ROUTE_BUMP_MS - now);
}

/* Ours, unanswered a while: again (a relay may have dropped it, or it
 * met a transient state). The time to the next retry due, 0 if none. */
static uint64_t req_retry(struct route_table *rt, uint64_t now)
{
	uint64_t wait = 0, left;
	struct rprefix *p;
	struct rreq *q;
	size_t i;

	for (i = 0; i < ROUTE_REQ_CACHE; i++) {
		q = &rt->reqs[i];
		if (!q->used || q->from != 0 || q->tries >= ROUTE_REQ_TRIES)
			continue;
		p = prefix_find(rt, &q->a);
		if (p == NULL || req_answered(p, q)) {
			q->used = 0;
			continue;
		}
		if (now - q->sent_ms >= ROUTE_REQ_RETRY_MS) {
			q->target = req_target(rt, p, q);
			if (q->target == 0)
				continue;
			req_send(rt, q);
		}
		left = q->sent_ms + ROUTE_REQ_RETRY_MS - now;
		if (!wait || left < wait)
			wait = left;
	}
	return wait;
}

void route_tick(struct route_table *rt)
{
	uint64_t now = route_now(rt), wait = req_stuck(rt), w;
	struct rprefix *p;
	size_t i;

	w = req_retry(rt, now);
	wait = !wait || (w && w < wait) ? w : wait;

	for (i = 0; i < rt->nbuckets && rt->nbump > 0; i++) {
		for (p = rt->buckets[i]; p; p = p->hnext) {
			if (!p->bump_due)
				continue;
			if (now - p->bump_ms < ROUTE_BUMP_MS) {
				w = p->bump_ms + ROUTE_BUMP_MS - now;
				wait = !wait || w < wait ? w : wait;
				continue;
			}
			if (p->nlocal > 0) {
				origin_bump(rt, p, p->bump_to);
			} else {
				p->bump_due = 0;
				rt->nbump--;
			}
		}
	}
	route_flush(rt);
	if (wait && rt->ops.arm)
		rt->ops.arm(rt->ops.ctx, wait);
}

void route_recv_seqreq(struct route_table *rt, uint32_t peer,
		       const struct route_seqreq *r)
{
	struct route_seqreq q = *r;
	struct rprefix *p;

	if (peer_find(rt, peer) == NULL || !addr_valid(&q.prefix))
		return;
	addr_mask(&q.prefix);
	p = prefix_find(rt, &q.prefix);
	if (p == NULL)
		return;
	if (p->sel.kind == NH_LOCAL) {
		if (seq_newer(q.seqno, p->lseq)) {
			uint16_t to = (uint16_t)(p->lseq + 1);

			if (seq_newer(q.seqno, to) && proof_ok(rt, peer, &q))
				to = q.seqno;
			origin_bump(rt, p, to);
			route_flush(rt);
		} else
			route_reply(rt, peer, p);
		return;
	}
	if (p->sel.kind == NH_PEER && p->sel.peer != peer &&
	    id_eq(&p->sel.origin, &q.origin) &&
	    !seq_newer(q.seqno, p->sel.seqno)) {
		if (req_allowed(rt, p, peer))
			route_reply(rt, peer, p);
		return;
	}
	route_forward(rt, peer, p, &q);
}
