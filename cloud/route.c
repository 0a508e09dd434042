/*
 * Routing: a loop-free incremental distance vector in the style of Babel
 * (RFC 8966 2.4-2.5, 3.5-3.8). doc/proto-route.md is the same algorithm
 * in prose; read the two side by side.
 *
 * State per prefix: one route per peer (the peer's latest update), the
 * feasibility distance (per prefix: seqnos are shared by all origins of a
 * prefix, see the doc for why), how many local gates announce it, and the
 * selection. Every entry point marks the prefixes it touched dirty;
 * route_flush() reselects them, sends each peer one batch of what changed
 * in its view, updates the feasibility distances and asks for new seqnos
 * where only infeasible (or much better infeasible) routes are left.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "bytes.h"
#include "route.h"

#define ROUTE_ENTRY_FIXED (1 + 4 + 1 + 2 + NODE_ID_LEN + 2 + 4 + 1)
#define ROUTE_SEQREQ_FIXED (4 + 1 + 2 + NODE_ID_LEN + 2 + 1)
#define ROUTE_REQ_HOPS 64	/* hop count of a seqno request we start */
#define ROUTE_REQ_CACHE 256	/* outstanding requests remembered */
#define ROUTE_DEAD_MAX 4096	/* prefixes kept only for their FDs */

struct rroute {			/* the latest update of one peer */
	uint32_t peer;
	struct node_id origin;
	uint16_t seqno;
	uint32_t metric;	/* as advertised by the peer */
	uint8_t hops;		/* as advertised by the peer */
};

struct rsel {			/* what we select and advertise */
	enum nh_kind kind;	/* NH_NONE: nothing */
	uint32_t peer;
	struct node_id origin;
	uint16_t seqno;
	uint32_t metric;
	uint8_t hops;
};

struct rprefix {
	struct addr a;			/* masked */
	struct rprefix *hnext;		/* hash chain */
	struct rprefix *dnext;		/* dirty list */
	TAILQ_ENTRY(rprefix) dlink;	/* dead list */
	struct rroute *routes;
	size_t nroutes, croutes;
	unsigned nlocal;		/* gates announcing it */
	uint16_t lseq;			/* our seqno as its origin */
	uint16_t fd_seqno;		/* feasibility distance */
	uint32_t fd_metric;
	uint8_t fd_valid, dirty, dead;
	struct rsel sel, old;
};

struct rclass {			/* a (len, plen) present in the table */
	uint8_t len;
	uint16_t plen;
	uint32_t refs;
};

struct rpeer {
	uint32_t id;
	uint32_t cost;
	uint32_t nroutes;
};

struct rgate {
	uint32_t id;
	struct addr *a;		/* sorted, masked, unique */
	size_t n;
};

/*
 * An outstanding seqno request, ours (from 0) or forwarded. It dedups
 * copies of itself, and carries the duty to follow the route toward the
 * origin: whenever that route changes, the request goes to the new next hop,
 * so a request lost in a transient state is not lost for good. It ends when
 * our selection has the seqno, or when the ring wraps.
 */
struct rreq {
	struct addr a;
	struct node_id origin;
	uint16_t seqno;
	uint8_t hop_count;	/* as we send it */
	uint8_t used;
	uint32_t from;		/* peer it came from, 0: ours */
	uint32_t target;	/* peer we sent it to, 0: none */
};

struct route_table {
	struct node_id self;
	struct route_conf conf;
	struct route_ops ops;
	uint32_t hseed;
	struct rprefix **buckets;
	size_t nbuckets, nprefix;
	struct rclass *cls;
	size_t ncls, ccls;
	struct rpeer *peers;
	size_t npeers, cpeers;
	struct rgate *gates;
	size_t ngates, cgates;
	struct rprefix *dirty;
	size_t ndirty;
	TAILQ_HEAD(, rprefix) dead;
	size_t ndead;
	struct route_update *batch;
	size_t cbatch;
	struct rreq reqs[ROUTE_REQ_CACHE];
	unsigned reqpos;
	route_change_fn *on_change;
	void *change_arg;
};

/* ---- small helpers ---------------------------------------------------- */

/* Babel's modular comparison: is a newer than b (mod 2^16)? */
static int seq_newer(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) > 0;
}

static int id_eq(const struct node_id *a, const struct node_id *b)
{
	return memcmp(a->b, b->b, NODE_ID_LEN) == 0;
}

static int addr_valid(const struct addr *a)
{
	return a->len <= ADDR_MAX && a->plen <= a->len * 8;
}

int route_prefix_cmp(const struct addr *x, const struct addr *y)
{
	if (x->inst != y->inst)
		return x->inst < y->inst ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return memcmp(x->b, y->b, ADDR_MAX);
}

/* Grow *arr (of *cap elements of size sz) to hold need elements. */
static int grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	void **p = arr;
	size_t ncap = *cap ? *cap : 4;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*p, ncap * sz);
	if (n == NULL)
		return -1;
	*p = n;
	*cap = ncap;
	return 0;
}

/* ---- prefix hash and (len, plen) classes -------------------------------- */

static uint32_t route_hash(const struct route_table *rt, uint32_t inst,
			  uint8_t len, uint16_t plen, const uint8_t *b)
{
	uint32_t h = 2166136261u ^ rt->hseed;
	uint8_t hdr[7];
	size_t i;

	put32(hdr, inst);
	hdr[4] = len;
	put16(hdr + 5, plen);
	for (i = 0; i < sizeof(hdr); i++)
		h = (h ^ hdr[i]) * 16777619u;
	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h ^ h >> 15;
}

static struct rprefix *prefix_find(const struct route_table *rt,
				   const struct addr *a)
{
	struct rprefix *p;
	uint32_t h;

	if (rt->nbuckets == 0)
		return NULL;
	h = route_hash(rt, a->inst, a->len, a->plen, a->b);
	for (p = rt->buckets[h & (rt->nbuckets - 1)]; p; p = p->hnext)
		if (addr_equal(&p->a, a))
			return p;
	return NULL;
}

static int hash_grow(struct route_table *rt)
{
	size_t i, n = rt->nbuckets ? rt->nbuckets * 2 : 64;
	struct rprefix **nb, *p, *next;
	uint32_t h;

	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return -1;
	for (i = 0; i < rt->nbuckets; i++) {
		for (p = rt->buckets[i]; p; p = next) {
			next = p->hnext;
			h = route_hash(rt, p->a.inst, p->a.len, p->a.plen,
				       p->a.b);
			p->hnext = nb[h & (n - 1)];
			nb[h & (n - 1)] = p;
		}
	}
	free(rt->buckets);
	rt->buckets = nb;
	rt->nbuckets = n;
	return 0;
}

/* Classes sorted by plen descending (then len), so lookups go longest first. */
static int class_ref(struct route_table *rt, uint8_t len, uint16_t plen)
{
	size_t i;

	for (i = 0; i < rt->ncls; i++) {
		if (rt->cls[i].len == len && rt->cls[i].plen == plen) {
			rt->cls[i].refs++;
			return 0;
		}
		if (rt->cls[i].plen < plen ||
		    (rt->cls[i].plen == plen && rt->cls[i].len > len))
			break;
	}
	if (grow(&rt->cls, &rt->ccls, rt->ncls + 1, sizeof(*rt->cls)) < 0)
		return -1;
	memmove(&rt->cls[i + 1], &rt->cls[i],
		(rt->ncls - i) * sizeof(*rt->cls));
	rt->cls[i].len = len;
	rt->cls[i].plen = plen;
	rt->cls[i].refs = 1;
	rt->ncls++;
	return 0;
}

static void class_unref(struct route_table *rt, uint8_t len, uint16_t plen)
{
	size_t i;

	for (i = 0; i < rt->ncls; i++) {
		if (rt->cls[i].len != len || rt->cls[i].plen != plen)
			continue;
		if (--rt->cls[i].refs == 0) {
			memmove(&rt->cls[i], &rt->cls[i + 1],
				(rt->ncls - i - 1) * sizeof(*rt->cls));
			rt->ncls--;
		}
		return;
	}
}

/* Find or create the entry of a masked, valid prefix. */
static struct rprefix *prefix_get(struct route_table *rt,
				  const struct addr *a)
{
	struct rprefix *p;
	uint32_t h;

	p = prefix_find(rt, a);
	if (p != NULL)
		return p;
	if (rt->nprefix >= rt->nbuckets && hash_grow(rt) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	if (class_ref(rt, a->len, a->plen) < 0) {
		free(p);
		return NULL;
	}
	p->a = *a;
	h = route_hash(rt, a->inst, a->len, a->plen, a->b);
	p->hnext = rt->buckets[h & (rt->nbuckets - 1)];
	rt->buckets[h & (rt->nbuckets - 1)] = p;
	rt->nprefix++;
	return p;
}

/* Unlink from the hash and free; p must not be on the dirty list. */
static void prefix_free(struct route_table *rt, struct rprefix *p)
{
	struct rprefix **pp;
	uint32_t h;

	h = route_hash(rt, p->a.inst, p->a.len, p->a.plen, p->a.b);
	for (pp = &rt->buckets[h & (rt->nbuckets - 1)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	if (p->dead) {
		TAILQ_REMOVE(&rt->dead, p, dlink);
		rt->ndead--;
	}
	class_unref(rt, p->a.len, p->a.plen);
	rt->nprefix--;
	free(p->routes);
	free(p);
}

static void mark_dirty(struct route_table *rt, struct rprefix *p)
{
	if (p->dirty)
		return;
	p->dirty = 1;
	p->dnext = rt->dirty;
	rt->dirty = p;
	rt->ndirty++;
}

/* ---- peers, routes, sources -------------------------------------------- */

static struct rpeer *peer_find(const struct route_table *rt, uint32_t id)
{
	size_t i;

	for (i = 0; i < rt->npeers; i++)
		if (rt->peers[i].id == id)
			return &rt->peers[i];
	return NULL;
}

static struct rroute *route_find(const struct rprefix *p, uint32_t peer)
{
	size_t i;

	for (i = 0; i < p->nroutes; i++)
		if (p->routes[i].peer == peer)
			return &p->routes[i];
	return NULL;
}

static void route_del(struct route_table *rt, struct rprefix *p,
		      struct rroute *r)
{
	struct rpeer *pe = peer_find(rt, r->peer);

	if (pe != NULL && pe->nroutes > 0)
		pe->nroutes--;
	*r = p->routes[--p->nroutes];
	mark_dirty(rt, p);
}

/* RFC 8966 3.5.1: feasible if newer, or same seqno and strictly better. */
static int route_feasible(const struct rprefix *p, const struct rroute *r)
{
	if (!p->fd_valid || seq_newer(r->seqno, p->fd_seqno))
		return 1;
	return r->seqno == p->fd_seqno && r->metric < p->fd_metric;
}

/* Our metric for a route: advertised + link cost + hop cost, at least +1. */
static uint32_t route_metric(const struct route_table *rt,
			     const struct rroute *r)
{
	const struct rpeer *pe = peer_find(rt, r->peer);
	uint64_t add, m;

	if (pe == NULL)
		return ROUTE_INF;
	add = (uint64_t)pe->cost + rt->conf.hop_cost;
	m = (uint64_t)r->metric + (add ? add : 1);
	return m >= ROUTE_INF ? ROUTE_INF : (uint32_t)m;
}

/* ---- selection and flushing --------------------------------------------- */

/* Keep the current route unless another is better by more than 1/8. */
static int route_better(uint32_t m, uint32_t cur)
{
	return m < cur - cur / 8;
}

static void route_select(struct route_table *rt, struct rprefix *p)
{
	struct rroute *r, *best = NULL, *cur = NULL;
	uint32_t m, bm = ROUTE_INF, cm = ROUTE_INF;
	size_t i;

	if (p->nlocal > 0) {
		p->sel.kind = NH_LOCAL;
		p->sel.peer = 0;
		p->sel.origin = rt->self;
		p->sel.seqno = p->lseq;
		p->sel.metric = 0;
		p->sel.hops = 0;
		return;
	}
	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		m = route_metric(rt, r);
		if (m == ROUTE_INF || !route_feasible(p, r))
			continue;
		if (p->sel.kind == NH_PEER && r->peer == p->sel.peer) {
			cur = r;
			cm = m;
		}
		if (best == NULL || m < bm) {
			best = r;
			bm = m;
		}
	}
	if (cur != NULL && !route_better(bm, cm)) {
		best = cur;
		bm = cm;
	}
	if (best == NULL) {
		p->sel.kind = NH_NONE;
		return;
	}
	p->sel.kind = NH_PEER;
	p->sel.peer = best->peer;
	p->sel.origin = best->origin;
	p->sel.seqno = best->seqno;
	p->sel.metric = bm;
	p->sel.hops = (uint8_t)(best->hops + 1);
}

static void sel_update(const struct rprefix *p, const struct rsel *s,
		       struct route_update *u)
{
	u->prefix = p->a;
	u->origin = s->origin;
	u->seqno = s->seqno;
	u->metric = s->metric;
	u->hops = s->hops;
}

/* Does peer see s? Split horizon with poisoned reverse: not its own. */
static int sel_visible(const struct rsel *s, uint32_t peer)
{
	return s->kind != NH_NONE && !(s->kind == NH_PEER && s->peer == peer);
}

/* The update peer must get after p changed from p->old to p->sel, if any. */
static int prefix_msg(const struct rprefix *p, uint32_t peer,
		      struct route_update *u)
{
	int before = sel_visible(&p->old, peer);
	int after = sel_visible(&p->sel, peer);

	if (!before && !after)
		return 0;
	if (before && after && id_eq(&p->old.origin, &p->sel.origin) &&
	    p->old.seqno == p->sel.seqno && p->old.metric == p->sel.metric &&
	    p->old.hops == p->sel.hops)
		return 0;
	if (after) {
		sel_update(p, &p->sel, u);
	} else {
		sel_update(p, &p->old, u);
		u->metric = ROUTE_INF;
		u->hops = 0;
	}
	return 1;
}

/* Advertising (s, m) lowers the feasibility distance (RFC 8966 3.7.3). */
static void fd_update(struct rprefix *p)
{
	const struct rsel *s = &p->sel;

	if (s->kind == NH_NONE)
		return;
	if (!p->fd_valid || seq_newer(s->seqno, p->fd_seqno) ||
	    (s->seqno == p->fd_seqno && s->metric < p->fd_metric)) {
		p->fd_valid = 1;
		p->fd_seqno = s->seqno;
		p->fd_metric = s->metric;
	}
}

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
	return q;
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

static void req_send(struct route_table *rt, const struct rreq *q)
{
	struct route_seqreq r;

	r.prefix = q->a;
	r.origin = q->origin;
	r.seqno = q->seqno;
	r.hop_count = q->hop_count;
	rt->ops.send_seqreq(rt->ops.ctx, q->target, &r);
}

/* p changed: drop answered requests, follow the route with the others. */
static void req_refresh(struct route_table *rt, const struct rprefix *p)
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

/*
 * Left with only infeasible routes, or with an infeasible one much better
 * than the selection: ask the origin for a seqno newer than our feasibility
 * distance (RFC 8966 3.8.2), through the best infeasible route's peer when
 * we have no selection, else along the selection.
 */
static void prefix_request(struct route_table *rt, struct rprefix *p)
{
	struct rroute *r, *best = NULL;
	struct rreq *q;
	uint32_t m, bm = ROUTE_INF;
	uint16_t seqno;
	size_t i;

	if (p->sel.kind == NH_LOCAL)
		return;
	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		m = route_metric(rt, r);
		if (m == ROUTE_INF || route_feasible(p, r) || m >= bm)
			continue;
		best = r;
		bm = m;
	}
	if (best == NULL)
		return;
	if (p->sel.kind == NH_PEER && !route_better(bm, p->sel.metric))
		return;
	seqno = (uint16_t)(p->fd_seqno + 1);	/* FD valid: infeasible */
	q = req_find(rt, &p->a, &best->origin, seqno);
	if (q != NULL && q->target != 0)
		return;	/* outstanding: req_refresh follows it */
	if (q == NULL)	/* else a forwarded one stuck here: ours now */
		q = req_new(rt, &p->a, &best->origin, seqno, ROUTE_REQ_HOPS, 0);
	q->from = 0;
	q->target = req_target(rt, p, q);
	req_send(rt, q);
}

static void send_batch(struct route_table *rt, uint32_t peer,
		       const struct route_update *u, size_t n)
{
	if (n > 0)
		rt->ops.send_updates(rt->ops.ctx, peer, u, n);
}

/* Phase 2 of a flush: one send_updates call per peer whose view changed. */
static void flush_send(struct route_table *rt)
{
	struct route_update one;
	struct rprefix *p;
	size_t i, n;
	int batched;

	batched = grow(&rt->batch, &rt->cbatch, rt->ndirty,
		       sizeof(*rt->batch)) == 0;
	for (i = 0; i < rt->npeers; i++) {
		n = 0;
		for (p = rt->dirty; p; p = p->dnext) {
			if (!prefix_msg(p, rt->peers[i].id, &one))
				continue;
			if (batched)
				rt->batch[n++] = one;
			else	/* no memory: still correct, chattier */
				send_batch(rt, rt->peers[i].id, &one, 1);
		}
		if (batched)
			send_batch(rt, rt->peers[i].id, rt->batch, n);
	}
}

/* Tell the listener what a peer that holds no route of its own (handle 0)
 * would be told: what routing re-advertises, split horizon aside. */
static void flush_notify(struct route_table *rt)
{
	struct route_update one;
	struct rprefix *p;

	if (rt->on_change == NULL)
		return;
	for (p = rt->dirty; p; p = p->dnext)
		if (prefix_msg(p, 0, &one))
			rt->on_change(rt->change_arg, &p->a);
}

static int prefix_unused(const struct rprefix *p)
{
	return p->nroutes == 0 && p->nlocal == 0 && p->sel.kind == NH_NONE;
}

static void route_flush(struct route_table *rt)
{
	struct rprefix *p, *next;

	for (p = rt->dirty; p; p = p->dnext) {
		p->old = p->sel;
		route_select(rt, p);
	}
	flush_send(rt);
	flush_notify(rt);
	for (p = rt->dirty; p; p = next) {
		next = p->dnext;
		fd_update(p);
		req_refresh(rt, p);
		prefix_request(rt, p);
		p->dirty = 0;
		p->dnext = NULL;
		/* An unused prefix stays a while for its FDs and our seqno. */
		if (prefix_unused(p) && !p->dead) {
			p->dead = 1;
			TAILQ_INSERT_TAIL(&rt->dead, p, dlink);
			rt->ndead++;
		} else if (!prefix_unused(p) && p->dead) {
			p->dead = 0;
			TAILQ_REMOVE(&rt->dead, p, dlink);
			rt->ndead--;
		}
	}
	rt->dirty = NULL;
	rt->ndirty = 0;
	while (rt->ndead > ROUTE_DEAD_MAX)
		prefix_free(rt, TAILQ_FIRST(&rt->dead));
}

/* ---- public entry points ------------------------------------------------ */

struct route_table *route_new(const struct node_id *self,
			      const struct route_conf *conf,
			      const struct route_ops *ops)
{
	struct route_table *rt;

	rt = calloc(1, sizeof(*rt));
	if (rt == NULL)
		return NULL;
	rt->self = *self;
	rt->conf = *conf;
	rt->ops = *ops;
	rt->hseed = get32(self->b) ^ get32(self->b + 28);
	TAILQ_INIT(&rt->dead);
	return rt;
}

void route_free(struct route_table *rt)
{
	struct rprefix *p, *next;
	size_t i;

	if (rt == NULL)
		return;
	for (i = 0; i < rt->nbuckets; i++) {
		for (p = rt->buckets[i]; p; p = next) {
			next = p->hnext;
			free(p->routes);
			free(p);
		}
	}
	for (i = 0; i < rt->ngates; i++)
		free(rt->gates[i].a);
	free(rt->buckets);
	free(rt->cls);
	free(rt->peers);
	free(rt->gates);
	free(rt->batch);
	free(rt);
}

/* The whole table to one peer (a new link). */
static void route_send_all(struct route_table *rt, uint32_t peer)
{
	struct route_update one;
	struct rprefix *p;
	size_t i, n = 0;
	int batched;

	batched = grow(&rt->batch, &rt->cbatch, rt->nprefix,
		       sizeof(*rt->batch)) == 0;
	for (i = 0; i < rt->nbuckets; i++) {
		for (p = rt->buckets[i]; p; p = p->hnext) {
			if (!sel_visible(&p->sel, peer))
				continue;
			sel_update(p, &p->sel, &one);
			if (batched)
				rt->batch[n++] = one;
			else
				send_batch(rt, peer, &one, 1);
		}
	}
	if (batched)
		send_batch(rt, peer, rt->batch, n);
}

static void peer_touch(struct route_table *rt, uint32_t peer)
{
	struct rprefix *p;
	size_t i;

	for (i = 0; i < rt->nbuckets; i++)
		for (p = rt->buckets[i]; p; p = p->hnext)
			if (route_find(p, peer) != NULL)
				mark_dirty(rt, p);
}

void route_peer_up(struct route_table *rt, uint32_t peer, uint32_t cost)
{
	struct rpeer *pe = peer_find(rt, peer);

	if (pe != NULL) {
		route_peer_cost(rt, peer, cost);
	} else {
		if (grow(&rt->peers, &rt->cpeers, rt->npeers + 1,
			 sizeof(*rt->peers)) < 0)
			return;	/* unknown: its updates are refused */
		pe = &rt->peers[rt->npeers++];
		pe->id = peer;
		pe->cost = cost;
		pe->nroutes = 0;
	}
	route_send_all(rt, peer);
}

void route_peer_down(struct route_table *rt, uint32_t peer)
{
	struct rprefix *p;
	struct rroute *r;
	size_t i;

	for (i = 0; i < rt->npeers; i++) {
		if (rt->peers[i].id == peer) {
			rt->peers[i] = rt->peers[--rt->npeers];
			break;
		}
	}
	for (i = 0; i < rt->nbuckets; i++) {
		for (p = rt->buckets[i]; p; p = p->hnext) {
			r = route_find(p, peer);
			if (r != NULL)
				route_del(rt, p, r);
		}
	}
	route_flush(rt);
}

void route_peer_cost(struct route_table *rt, uint32_t peer, uint32_t cost)
{
	struct rpeer *pe = peer_find(rt, peer);

	if (pe == NULL || pe->cost == cost)
		return;
	pe->cost = cost;
	peer_touch(rt, peer);
	route_flush(rt);
}

/* Apply one update from pe; returns 1 if refused. */
static int route_recv_one(struct route_table *rt, struct rpeer *pe,
			  const struct route_update *u)
{
	struct rprefix *p;
	struct rroute *r;
	struct addr a = u->prefix;
	int withdraw;

	if (!addr_valid(&a))
		return 1;
	addr_mask(&a);
	/* A retraction, our own routes echoed back, and too long paths all
	 * just mean: this peer no longer offers a usable route. */
	withdraw = u->metric == ROUTE_INF || id_eq(&u->origin, &rt->self) ||
		   (unsigned)u->hops + 1 > rt->conf.max_hops;
	p = prefix_find(rt, &a);
	r = p ? route_find(p, pe->id) : NULL;
	if (withdraw) {
		if (r != NULL)
			route_del(rt, p, r);
		return 0;
	}
	if (r == NULL) {
		if (rt->conf.max_remote_routes &&
		    pe->nroutes >= rt->conf.max_remote_routes)
			return 1;
		if (p == NULL)
			p = prefix_get(rt, &a);
		if (p == NULL)
			return 1;
		mark_dirty(rt, p);	/* if unused, goes dead: no leak */
		if (grow(&p->routes, &p->croutes, p->nroutes + 1,
			 sizeof(*p->routes)) < 0)
			return 1;
		r = &p->routes[p->nroutes++];
		r->peer = pe->id;
		pe->nroutes++;
	}
	r->origin = u->origin;
	r->seqno = u->seqno;
	r->metric = u->metric;
	r->hops = u->hops;
	/* Another origin of a prefix we originate too: keep pace with its
	 * seqno, so that routes to either compare by metric. */
	if (p->nlocal > 0 && seq_newer(r->seqno, p->lseq))
		p->lseq = r->seqno;
	mark_dirty(rt, p);
	return 0;
}

int route_recv(struct route_table *rt, uint32_t peer,
	       const struct route_update *u, size_t n)
{
	struct rpeer *pe = peer_find(rt, peer);
	size_t i;
	int refused = 0;

	if (pe == NULL)
		return (int)n;
	for (i = 0; i < n; i++)
		refused += route_recv_one(rt, pe, &u[i]);
	route_flush(rt);
	return refused;
}

static void route_reply(struct route_table *rt, uint32_t peer,
			const struct rprefix *p)
{
	struct route_update u;

	sel_update(p, &p->sel, &u);
	rt->ops.send_updates(rt->ops.ctx, peer, &u, 1);
}

/*
 * Take over a request we cannot answer: forward it toward the origin. A copy
 * of one we hold is dropped, unless ours is stuck (no next hop) or went to
 * the very peer now asking us: then we follow it again from this sender.
 */
static void route_forward(struct route_table *rt, uint32_t from,
			  const struct rprefix *p,
			  const struct route_seqreq *r)
{
	struct rreq *q;

	q = req_find(rt, &r->prefix, &r->origin, r->seqno);
	if (q != NULL && q->target != 0 && q->target != from)
		return;
	if (q == NULL) {
		if (r->hop_count <= 1)
			return;
		q = req_new(rt, &r->prefix, &r->origin, r->seqno,
			    (uint8_t)(r->hop_count - 1), from);
	}
	q->from = from;
	q->target = req_target(rt, p, q);
	if (q->target != 0)
		req_send(rt, q);
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
	if (p->nlocal > 0) {
		if (seq_newer(q.seqno, p->lseq)) {
			p->lseq = q.seqno;
			mark_dirty(rt, p);
			route_flush(rt);
		} else {
			route_reply(rt, peer, p);
		}
		return;
	}
	if (p->sel.kind == NH_PEER && p->sel.peer != peer &&
	    id_eq(&p->sel.origin, &q.origin) &&
	    !seq_newer(q.seqno, p->sel.seqno)) {
		route_reply(rt, peer, p);
		return;
	}
	route_forward(rt, peer, p, &q);
}

/* A fresh announcement is newer than anything we advertised before. */
static void local_seqno(struct rprefix *p)
{
	if (p->fd_valid && seq_newer(p->fd_seqno, p->lseq))
		p->lseq = p->fd_seqno;
	p->lseq++;
}

static int addr_sort_cmp(const void *x, const void *y)
{
	return route_prefix_cmp(x, y);
}

static struct rgate *gate_find(const struct route_table *rt, uint32_t id)
{
	size_t i;

	for (i = 0; i < rt->ngates; i++)
		if (rt->gates[i].id == id)
			return &rt->gates[i];
	return NULL;
}

static int addr_in(const struct addr *set, size_t n, const struct addr *a)
{
	return n > 0 && bsearch(a, set, n, sizeof(*set), addr_sort_cmp);
}

/* Apply delta (+1/-1) to the local count of every address of set not in
 * other; prefixes are created beforehand so this cannot fail. */
static void gate_apply(struct route_table *rt, const struct addr *set,
		       size_t n, const struct addr *other, size_t on,
		       int delta)
{
	struct rprefix *p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (addr_in(other, on, &set[i]))
			continue;
		p = prefix_find(rt, &set[i]);
		if (p == NULL)
			continue;
		if (delta > 0 && p->nlocal++ == 0)
			local_seqno(p);
		else if (delta < 0 && p->nlocal > 0)
			p->nlocal--;
		mark_dirty(rt, p);
	}
}

int route_local_set(struct route_table *rt, uint32_t gate,
		    const struct addr *a, size_t n)
{
	struct addr *set = NULL;
	struct rgate *g = gate_find(rt, gate);
	struct rprefix *p;
	size_t i, m = 0;

	if (n > 0) {
		set = calloc(n, sizeof(*set));
		if (set == NULL)
			return -1;
	}
	for (i = 0; i < n; i++) {
		if (!addr_valid(&a[i]))
			goto fail;
		set[i] = a[i];
		addr_mask(&set[i]);
	}
	if (n > 0)
		qsort(set, n, sizeof(*set), addr_sort_cmp);
	for (i = 0; i < n; i++)
		if (m == 0 || route_prefix_cmp(&set[m - 1], &set[i]) != 0)
			set[m++] = set[i];
	for (i = 0; i < m; i++) {
		p = prefix_get(rt, &set[i]);
		if (p == NULL)
			goto fail;
		mark_dirty(rt, p);	/* a new entry goes dead if unused */
	}
	if (g == NULL && m > 0) {
		if (grow(&rt->gates, &rt->cgates, rt->ngates + 1,
			 sizeof(*rt->gates)) < 0)
			goto fail;
		g = &rt->gates[rt->ngates++];
		g->id = gate;
		g->a = NULL;
		g->n = 0;
	}
	if (g != NULL) {
		gate_apply(rt, g->a, g->n, set, m, -1);
		gate_apply(rt, set, m, g->a, g->n, +1);
		free(g->a);
		g->a = set;
		g->n = m;
		if (m == 0) {
			free(set);
			*g = rt->gates[--rt->ngates];
		}
	} else {
		free(set);
	}
	route_flush(rt);
	return 0;
fail:
	free(set);
	route_flush(rt);
	return -1;
}

int route_lookup(const struct route_table *rt, uint32_t inst,
		 const uint8_t *dst, size_t dlen, struct route_nh *nh)
{
	const struct rclass *c;
	const struct rprefix *p;
	struct addr k;
	size_t i;

	k.inst = inst;
	for (i = 0; i < rt->ncls; i++) {
		c = &rt->cls[i];
		if (c->plen != 0 && c->len != dlen)
			continue;
		k.len = c->len;
		k.plen = c->plen;
		memset(k.b, 0, sizeof(k.b));
		if (c->plen != 0 && c->len > 0)
			memcpy(k.b, dst, c->len);
		addr_mask(&k);
		p = prefix_find(rt, &k);
		if (p == NULL || p->sel.kind == NH_NONE)
			continue;
		nh->kind = p->sel.kind;
		nh->peer = p->sel.peer;
		return 0;
	}
	return -1;
}

static void prefix_info(const struct rprefix *p, struct route_info *ri)
{
	ri->prefix = &p->a;
	ri->origin = &p->sel.origin;
	ri->nh.kind = p->sel.kind;
	ri->nh.peer = p->sel.peer;
	ri->metric = p->sel.metric;
	ri->hops = p->sel.hops;
	ri->seqno = p->sel.seqno;
}

int route_get(const struct route_table *rt, const struct addr *prefix,
	      struct route_info *ri)
{
	const struct rprefix *p = prefix_find(rt, prefix);

	if (p == NULL || p->sel.kind == NH_NONE)
		return -1;
	prefix_info(p, ri);
	return 0;
}

void route_on_change(struct route_table *rt, route_change_fn *fn,
		     void *arg)
{
	rt->on_change = fn;
	rt->change_arg = arg;
}

void route_foreach(const struct route_table *rt,
		   void (*fn)(void *arg, const struct route_info *ri),
		   void *arg)
{
	struct route_info ri;
	const struct rprefix *p;
	size_t i;

	for (i = 0; i < rt->nbuckets; i++) {
		for (p = rt->buckets[i]; p; p = p->hnext) {
			if (p->sel.kind == NH_NONE)
				continue;
			prefix_info(p, &ri);
			fn(arg, &ri);
		}
	}
}

/* ---- wire codec (doc/proto-route.md) ------------------------------------ */

/* inst, len, plen, bytes of a; returns bytes written. */
static size_t put_addr(uint8_t *b, const struct addr *a)
{
	uint8_t len = a->len > ADDR_MAX ? ADDR_MAX : a->len;
	uint16_t plen = a->plen > len * 8 ? (uint16_t)(len * 8) : a->plen;

	put32(b, a->inst);
	b[4] = len;
	put16(b + 5, plen);
	memcpy(b + 7, a->b, len);
	return 7 + (size_t)len;
}

/* Reads an address at b (avail bytes); returns bytes read or 0. */
static size_t get_addr(const uint8_t *b, size_t avail, struct addr *a)
{
	if (avail < 7)
		return 0;
	memset(a, 0, sizeof(*a));
	a->inst = get32(b);
	a->len = b[4];
	a->plen = get16(b + 5);
	if (a->len > ADDR_MAX || a->plen > a->len * 8 ||
	    avail - 7 < a->len)
		return 0;
	memcpy(a->b, b + 7, a->len);
	return 7 + (size_t)a->len;
}

size_t route_encode(const struct route_update *u, size_t n, uint8_t *buf,
		    size_t cap, size_t *used)
{
	size_t i, off = 0, need;
	uint8_t *b;

	for (i = 0; i < n; i++) {
		need = u[i].prefix.len > ADDR_MAX ? ADDR_MAX : u[i].prefix.len;
		need += ROUTE_ENTRY_FIXED;
		if (cap - off < need)
			break;
		b = buf + off;
		b[0] = 0;	/* flags */
		b += 1 + put_addr(b + 1, &u[i].prefix);
		memcpy(b, u[i].origin.b, NODE_ID_LEN);
		b += NODE_ID_LEN;
		put16(b, u[i].seqno);
		put32(b + 2, u[i].metric);
		b[6] = u[i].hops;
		off += need;
	}
	*used = i;
	return off;
}

int route_decode(const uint8_t *buf, size_t len, struct route_update *out,
		 size_t max, size_t *n)
{
	size_t off = 0, k = 0, a;
	const uint8_t *b;

	while (off < len) {
		b = buf + off;
		if (k >= max || len - off < ROUTE_ENTRY_FIXED || b[0] != 0)
			return -1;
		a = get_addr(b + 1, len - off - 1, &out[k].prefix);
		if (a == 0 ||
		    len - off < ROUTE_ENTRY_FIXED + (size_t)out[k].prefix.len)
			return -1;
		b += 1 + a;
		memcpy(out[k].origin.b, b, NODE_ID_LEN);
		b += NODE_ID_LEN;
		out[k].seqno = get16(b);
		out[k].metric = get32(b + 2);
		out[k].hops = b[6];
		off += ROUTE_ENTRY_FIXED + (size_t)out[k].prefix.len;
		k++;
	}
	*n = k;
	return 0;
}

size_t route_seqreq_encode(const struct route_seqreq *r, uint8_t *buf,
			   size_t cap)
{
	size_t len = r->prefix.len > ADDR_MAX ? ADDR_MAX : r->prefix.len;
	uint8_t *b;

	if (cap < ROUTE_SEQREQ_FIXED + len)
		return 0;
	b = buf + put_addr(buf, &r->prefix);
	memcpy(b, r->origin.b, NODE_ID_LEN);
	b += NODE_ID_LEN;
	put16(b, r->seqno);
	b[2] = r->hop_count;
	return ROUTE_SEQREQ_FIXED + len;
}

int route_seqreq_decode(const uint8_t *buf, size_t len,
			struct route_seqreq *r)
{
	size_t a;
	const uint8_t *b;

	a = get_addr(buf, len, &r->prefix);
	if (a == 0 || len != ROUTE_SEQREQ_FIXED + (size_t)r->prefix.len)
		return -1;
	b = buf + a;
	memcpy(r->origin.b, b, NODE_ID_LEN);
	b += NODE_ID_LEN;
	r->seqno = get16(b);
	r->hop_count = b[2];
	return 0;
}
