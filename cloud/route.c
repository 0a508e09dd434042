/*
 * Routing: a loop-free incremental distance vector in the style of Babel
 * (RFC 8966 2.4-2.5, 3.5-3.8). doc/PROTOCOL.md 2 is the same algorithm
 * in prose; read the two side by side. This file holds the table,
 * selection, limits and full tables; route_req.c the seqno requests,
 * route_local.c local gates' addresses, route_codec.c the wire codec.
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

#include "bytes.h"
#include "route_int.h"
#include "siphash.h"

/* ---- small helpers ---------------------------------------------------- */

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
int route_grow(void *arr, size_t *cap, size_t need, size_t sz)
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

/* Peers choose prefixes: the hash is keyed with a secret (conf.hash_key),
 * so nobody can aim many at one chain. */
static uint32_t route_hash(const struct route_table *rt, uint32_t inst,
			  uint8_t len, uint16_t plen, const uint8_t *b)
{
	uint8_t k[7 + ADDR_MAX];

	put32(k, inst);
	k[4] = len;
	put16(k + 5, plen);
	memcpy(k + 7, b, len);
	return (uint32_t)siphash24(rt->conf.hash_key, k, 7 + (size_t)len);
}

uint64_t route_now(const struct route_table *rt)
{
	return rt->ops.now_ms ? rt->ops.now_ms(rt->ops.ctx) : 0;
}

struct rprefix *prefix_find(const struct route_table *rt,
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
	for (i = 0; i < rt->npeers; i++)	/* buckets moved: from the start */
		rt->peers[i].cursor = 0;
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
	if (route_grow(&rt->cls, &rt->ccls, rt->ncls + 1, sizeof(*rt->cls)) < 0)
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
struct rprefix *prefix_get(struct route_table *rt,
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
	if (p->bump_due)
		rt->nbump--;
	if (p->stuck)
		rt->nstuck--;
	class_unref(rt, p->a.len, p->a.plen);
	rt->nprefix--;
	route_mp_free(p);
	free(p->routes);
	free(p);
}

void mark_dirty(struct route_table *rt, struct rprefix *p)
{
	if (p->dirty)
		return;
	p->dirty = 1;
	p->dnext = rt->dirty;
	rt->dirty = p;
	rt->ndirty++;
}

/* ---- peers, routes, sources -------------------------------------------- */

struct rpeer *peer_find(const struct route_table *rt, uint32_t id)
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

/* ---- routes per peer and origin (max_origin_routes) --------------------- */

static size_t po_bucket(const struct route_table *rt, uint32_t peer,
			const struct node_id *origin)
{
	uint8_t k[4 + NODE_ID_LEN];

	put32(k, peer);
	memcpy(k + 4, origin->b, NODE_ID_LEN);
	return siphash24(rt->conf.hash_key, k, sizeof(k)) &
	       (rt->npo_buckets - 1);
}

static struct rpo **po_find(struct route_table *rt, uint32_t peer,
			    const struct node_id *origin)
{
	struct rpo **pp;

	if (rt->npo_buckets == 0)
		return NULL;
	for (pp = &rt->po[po_bucket(rt, peer, origin)]; *pp;
	     pp = &(*pp)->next)
		if ((*pp)->peer == peer && id_eq(&(*pp)->origin, origin))
			return pp;
	return NULL;
}

static int po_grow(struct route_table *rt)
{
	size_t i, n = rt->npo_buckets ? rt->npo_buckets * 2 : 64, b;
	struct rpo **nb, *e, *next, **old = rt->po;
	size_t oldn = rt->npo_buckets;

	if (!(nb = calloc(n, sizeof(*nb))))
		return -1;
	rt->po = nb;
	rt->npo_buckets = n;
	for (i = 0; i < oldn; i++) {
		for (e = old[i]; e; e = next) {
			next = e->next;
			b = po_bucket(rt, e->peer, &e->origin);
			e->next = nb[b];
			nb[b] = e;
		}
	}
	free(old);
	return 0;
}

/* Count one more route of origin from peer: 0, or -1 past the limit. */
static int po_add(struct route_table *rt, uint32_t peer,
		  const struct node_id *origin)
{
	struct rpo **pp = po_find(rt, peer, origin), *e;
	size_t b;

	if (pp != NULL) {
		if (rt->conf.max_origin_routes &&
		    (*pp)->n >= rt->conf.max_origin_routes)
			return -1;
		(*pp)->n++;
		return 0;
	}
	if (rt->npo >= rt->npo_buckets && po_grow(rt) < 0)
		return -1;
	if (!(e = calloc(1, sizeof(*e))))
		return -1;
	e->peer = peer;
	e->origin = *origin;
	e->n = 1;
	b = po_bucket(rt, peer, origin);
	e->next = rt->po[b];
	rt->po[b] = e;
	rt->npo++;
	return 0;
}

static void po_sub(struct route_table *rt, uint32_t peer,
		   const struct node_id *origin)
{
	struct rpo **pp = po_find(rt, peer, origin), *e;

	if (pp == NULL || --(*pp)->n > 0)
		return;
	e = *pp;
	*pp = e->next;
	free(e);
	rt->npo--;
}

static void route_del(struct route_table *rt, struct rprefix *p,
		      struct rroute *r)
{
	struct rpeer *pe = peer_find(rt, r->peer);

	if (pe != NULL && pe->nroutes > 0)
		pe->nroutes--;
	po_sub(rt, r->peer, &r->origin);
	*r = p->routes[--p->nroutes];
	mark_dirty(rt, p);
}

/* RFC 8966 3.5.1: feasible if newer, or same seqno and strictly better. */
int route_feasible(const struct rprefix *p, const struct rroute *r)
{
	if (!p->fd_valid || seq_newer(r->seqno, p->fd_seqno))
		return 1;
	return r->seqno == p->fd_seqno && r->metric < p->fd_metric;
}

/* Our metric for a route: advertised + link cost + hop cost, at least +1. */
uint32_t route_metric(const struct route_table *rt,
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
int route_better(uint32_t m, uint32_t cur)
{
	return m < cur - cur / 8;
}

static void route_select(struct route_table *rt, struct rprefix *p)
{
	struct rroute *r, *best = NULL, *cur = NULL;
	uint32_t m, bm = ROUTE_INF, cm = ROUTE_INF;
	size_t i;

	if (p->nlocal > 0 && local_signed(rt, p) == 0) {
		p->sel.kind = NH_LOCAL;
		p->sel.peer = 0;
		p->sel.origin = rt->self;
		p->sel.seqno = p->lseq;
		p->sel.metric = 0;
		p->sel.hops = 0;
		p->sel.cbase = p->lcbase;
		memcpy(p->sel.chain, p->lchain, ROUTE_CHAIN_HASH);
		p->sel.siglen = p->lsiglen;
		memcpy(p->sel.sig, p->lsig, p->lsiglen);
		route_mp_free(p);
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
		route_mp_free(p);
		return;
	}
	p->sel.kind = NH_PEER;
	p->sel.peer = best->peer;
	p->sel.origin = best->origin;
	p->sel.seqno = best->seqno;
	p->sel.metric = bm;
	p->sel.hops = (uint8_t)(best->hops + 1);
	p->sel.cbase = best->cbase;
	memcpy(p->sel.chain, best->chain, ROUTE_CHAIN_HASH);
	p->sel.siglen = best->siglen;
	memcpy(p->sel.sig, best->sig, best->siglen);
}

void sel_update(const struct rprefix *p, const struct rsel *s,
		       struct route_update *u)
{
	u->prefix = p->a;
	u->origin = s->origin;
	u->seqno = s->seqno;
	u->metric = s->metric;
	u->hops = s->hops;
	u->cbase = s->cbase;
	memcpy(u->chain, s->chain, ROUTE_CHAIN_HASH);
	u->siglen = s->siglen;
	memcpy(u->sig, s->sig, s->siglen);
}

/* Does peer see s? Split horizon with poisoned reverse: not its own. */
static int sel_visible(const struct rsel *s, uint32_t peer)
{
	return s->kind != NH_NONE && !(s->kind == NH_PEER && s->peer == peer);
}

/*
 * Is p's selection news for our peers, beside what we last advertised
 * (p->adv, what each peer holds from us)? A new selection (another next
 * hop, local, none: a retraction), origin, seqno or hop count always is
 * (RFC 8966 3.7.2: another origin may be a loop forming). The metric alone
 * is when it moved by more than max(hop_cost, adv / ROUTE_ADV_DIV): a
 * jitter of one link's RTT no longer re-announces every route through it.
 *
 * Loop freedom holds. Babel's proof (RFC 8966 2.4-2.5) rests on one
 * invariant: our FD is at most any metric a peer holds from us (same
 * seqno), so along any chain of selections FDs strictly fall. FD moves
 * only with what goes out (fd_update, after adv; 3.7.3), never with sel.
 * A metric that grew unsaid: peers hold a lower one than our own, our FD
 * still at most that; they may pick us when another way is now a little
 * shorter, a matter of optimality, bounded by the threshold. A metric that
 * fell unsaid: FD stays higher, as we advertised; we only accept a little
 * more. Full tables and answers to requests send adv too (route_sync,
 * route_reply), never a lower sel, or a new peer would hold less than FD.
 * adv and sel differ in the metric only, so a route to anyone sends adv.
 */
int route_adv_due(const struct route_table *rt, const struct rprefix *p)
{
	const struct rsel *s = &p->sel, *a = &p->adv;
	uint32_t moved, slack = a->metric / ROUTE_ADV_DIV;

	if (s->kind != a->kind)
		return 1;
	if (s->kind == NH_NONE)
		return 0;
	if (s->peer != a->peer || !id_eq(&s->origin, &a->origin) ||
	    s->seqno != a->seqno || s->hops != a->hops)
		return 1;
	moved = s->metric > a->metric ? s->metric - a->metric :
					a->metric - s->metric;
	return moved > (slack > rt->conf.hop_cost ? slack : rt->conf.hop_cost);
}

/* The update peer must get when p->sel goes out in place of p->adv. */
static int prefix_msg(const struct rprefix *p, uint32_t peer,
		      struct route_update *u)
{
	int before = sel_visible(&p->adv, peer);
	int after = sel_visible(&p->sel, peer);

	if (!p->tell || (!before && !after))
		return 0;
	if (before && after && id_eq(&p->adv.origin, &p->sel.origin) &&
	    p->adv.seqno == p->sel.seqno && p->adv.metric == p->sel.metric &&
	    p->adv.hops == p->sel.hops)
		return 0;	/* another next hop, the same news */
	if (after) {
		sel_update(p, &p->sel, u);
	} else {
		sel_update(p, &p->adv, u);
		u->metric = ROUTE_INF;
		u->hops = 0;
		u->siglen = 0;	/* a retraction needs no signature */
	}
	return 1;
}

/* Advertising (s, m) lowers the feasibility distance (RFC 8966 3.7.3). */
static void fd_update(struct rprefix *p)
{
	const struct rsel *s = &p->adv;

	if (s->kind == NH_NONE)
		return;
	if (!p->fd_valid || seq_newer(s->seqno, p->fd_seqno) ||
	    (s->seqno == p->fd_seqno && s->metric < p->fd_metric)) {
		p->fd_valid = 1;
		p->fd_seqno = s->seqno;
		p->fd_metric = s->metric;
		p->fd_origin = s->origin;
		p->fd_cbase = s->cbase;
		memcpy(p->fd_chain, s->chain, ROUTE_CHAIN_HASH);
		p->fd_siglen = s->siglen;
		memcpy(p->fd_sig, s->sig, s->siglen);
	}
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

	batched = route_grow(&rt->batch, &rt->cbatch, rt->ndirty,
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

void route_flush(struct route_table *rt)
{
	struct rprefix *p, *next;

	for (p = rt->dirty; p; p = p->dnext) {
		route_select(rt, p);
		p->tell = (uint8_t)route_adv_due(rt, p);
	}
	flush_send(rt);
	flush_notify(rt);
	for (p = rt->dirty; p; p = next) {
		next = p->dnext;
		if (p->tell)
			p->adv = p->sel;
		p->tell = 0;
		fd_update(p);
		/* against the FD as it stands once sel is advertised */
		route_mp_select(rt, p);
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
	uint32_t half;

	rt = calloc(1, sizeof(*rt));
	if (rt == NULL)
		return NULL;
	rt->self = *self;
	rt->conf = *conf;
	rt->ops = *ops;
	/* one origin never takes more than half of what a peer may send */
	half = conf->max_remote_routes / 2 ? conf->max_remote_routes / 2 : 1;
	if (conf->max_remote_routes &&
	    (!conf->max_origin_routes || conf->max_origin_routes > half))
		rt->conf.max_origin_routes = half;
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
			route_mp_free(p);
			free(p->routes);
			free(p);
		}
	}
	for (i = 0; i < rt->npo_buckets; i++) {
		struct rpo *e, *enext;

		for (e = rt->po[i]; e; e = enext) {
			enext = e->next;
			free(e);
		}
	}
	for (i = 0; i < rt->ngates; i++)
		free(rt->gates[i].a);
	free(rt->flows);
	free(rt->po);
	free(rt->buckets);
	free(rt->cls);
	free(rt->peers);
	free(rt->gates);
	free(rt->batch);
	free(rt);
}

/*
 * A new link's full table, a chunk at a time: whole hash buckets from the
 * peer's cursor on. Updates sent meanwhile are sent to it as to anyone;
 * an entry sent twice is harmless, and when the buckets move (hash_grow)
 * the cursor starts again.
 */
int route_sync(struct route_table *rt, uint32_t peer, size_t want)
{
	struct rpeer *pe = peer_find(rt, peer);
	struct rprefix *p;
	size_t n = 0;

	if (pe == NULL || !pe->syncing)
		return 0;
	while (pe->cursor < rt->nbuckets && n < want) {
		for (p = rt->buckets[pe->cursor]; p; p = p->hnext) {
			if (!sel_visible(&p->adv, peer))
				continue;
			if (route_grow(&rt->batch, &rt->cbatch, n + 1,
				       sizeof(*rt->batch)) < 0)
				goto out;	/* this bucket again next time */
			sel_update(p, &p->adv, &rt->batch[n++]);
		}
		pe->cursor++;
	}
out:
	if (pe->cursor >= rt->nbuckets) {
		pe->syncing = pe->again;
		pe->again = 0;
		pe->cursor = 0;
	}
	send_batch(rt, peer, rt->batch, n);
	pe = peer_find(rt, peer);
	return pe != NULL && pe->syncing;
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
		if (route_grow(&rt->peers, &rt->cpeers, rt->npeers + 1,
			 sizeof(*rt->peers)) < 0)
			return;	/* unknown: its updates are refused */
		pe = &rt->peers[rt->npeers++];
		memset(pe, 0, sizeof(*pe));
		pe->id = peer;
		pe->cost = cost;
	}
	route_resync(rt, peer);
}

void route_resync(struct route_table *rt, uint32_t peer)
{
	struct rpeer *pe = peer_find(rt, peer);

	if (pe == NULL)
		return;
	if (pe->syncing && pe->cursor > 0) {
		pe->again = 1;	/* what the walk has passed needs another */
		return;
	}
	pe->syncing = 1;
	pe->cursor = 0;
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

/* Was this very signature checked already? A table holds only routes
 * whose signatures passed. */
static int sig_known(const struct rprefix *p, const struct route_update *u)
{
	const struct rroute *r;
	size_t i;

	for (i = 0; p != NULL && i < p->nroutes; i++) {
		r = &p->routes[i];
		if (r->seqno == u->seqno && r->siglen == u->siglen &&
		    id_eq(&r->origin, &u->origin) &&
		    memcmp(r->sig, u->sig, u->siglen) == 0)
			return 1;
	}
	return 0;
}

/* Does u's chain value hash to one checked already, (seqno, chain) of
 * the same origin and cbase? A seqno newer than that one by d takes d
 * hashes; an older one, the checked value hashed d times. */
static int chain_links(const struct route_table *rt,
		       const struct route_update *u, uint16_t seqno,
		       const uint8_t *chain)
{
	uint8_t v[ROUTE_CHAIN_HASH];
	uint16_t d = (uint16_t)(u->seqno - seqno);

	if (d == 0 || (d > ROUTE_CHAIN_LEN && (uint16_t)-d > ROUTE_CHAIN_LEN))
		return 0;	/* the same seqno: its signature decides */
	if (seq_newer(u->seqno, seqno))
		return chain_walk(rt, &u->prefix, &u->origin, u->cbase,
				  u->chain, d, v) == 0 &&
		       memcmp(v, chain, ROUTE_CHAIN_HASH) == 0;
	return chain_walk(rt, &u->prefix, &u->origin, u->cbase, chain,
			  (uint16_t)-d, v) == 0 &&
	       memcmp(v, u->chain, ROUTE_CHAIN_HASH) == 0;
}

/*
 * Is u a seqno of a chain we checked, a route of p or our feasibility
 * distance (which outlives the routes)? A seqno moved on request then
 * costs every node a hash or two, not a signature check: after a node of
 * 100 was killed, 9 000 checks of about 95 new seqnos took 1.7 s of the
 * 2 cores' time. The signature u carries is kept and relayed unchecked:
 * a relay could spoil it, as it could drop the route.
 */
static int chain_known(const struct route_table *rt, const struct rprefix *p,
		       const struct route_update *u)
{
	const struct rroute *r;
	size_t i;

	if (!rt->ops.hash || p == NULL)
		return 0;
	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		if (r->cbase == u->cbase && r->siglen > 0 &&
		    id_eq(&r->origin, &u->origin) &&
		    chain_links(rt, u, r->seqno, r->chain))
			return 1;
	}
	return p->fd_valid && p->fd_siglen > 0 && p->fd_cbase == u->cbase &&
	       id_eq(&p->fd_origin, &u->origin) &&
	       chain_links(rt, u, p->fd_seqno, p->fd_chain);
}

static int update_trusted(struct route_table *rt, const struct rprefix *p,
			  uint32_t peer, const struct route_update *u)
{
	if (u->siglen > ROUTE_SIG_MAX)
		return 0;
	if (rt->ops.hash &&
	    (uint16_t)(u->seqno - u->cbase) > ROUTE_CHAIN_LEN)
		return 0;
	return !rt->ops.verify || sig_known(p, u) || chain_known(rt, p, u) ||
	       rt->ops.verify(rt->ops.ctx, peer, u) == 0;
}

/* A new route of pe in p, within the limits of pe and of u's origin. */
static struct rroute *route_add(struct route_table *rt, struct rpeer *pe,
				struct rprefix *p,
				const struct route_update *u)
{
	struct rroute *r;

	if (rt->conf.max_remote_routes &&
	    pe->nroutes >= rt->conf.max_remote_routes)
		return NULL;
	if (route_grow(&p->routes, &p->croutes, p->nroutes + 1,
		       sizeof(*p->routes)) < 0 ||
	    po_add(rt, pe->id, &u->origin) < 0)
		return NULL;
	r = &p->routes[p->nroutes++];
	r->peer = pe->id;
	r->origin = u->origin;
	pe->nroutes++;
	return r;
}

/* Would a route of u's origin from pe, new or replacing r's, be over a
 * limit? Checked before the signature, which costs far more. */
static int over_limit(struct route_table *rt, const struct rpeer *pe,
		      const struct rroute *r, const struct route_update *u)
{
	struct rpo **pp;

	if (r != NULL && id_eq(&r->origin, &u->origin))
		return 0;
	if (r == NULL && rt->conf.max_remote_routes &&
	    pe->nroutes >= rt->conf.max_remote_routes)
		return 1;
	pp = po_find(rt, pe->id, &u->origin);
	return pp && rt->conf.max_origin_routes &&
	       (*pp)->n >= rt->conf.max_origin_routes;
}

/* Apply one update from pe; returns 1 if refused. */
static int route_recv_one(struct route_table *rt, struct rpeer *pe,
			  const struct route_update *u)
{
	struct rprefix *p;
	struct rroute *r;
	struct addr a = u->prefix;

	if (!addr_valid(&a))
		return 1;
	addr_mask(&a);
	p = prefix_find(rt, &a);
	r = p ? route_find(p, pe->id) : NULL;
	/* A retraction, our own routes echoed back and too long paths all
	 * just mean: this peer no longer offers a usable route. */
	if (u->metric == ROUTE_INF || id_eq(&u->origin, &rt->self) ||
	    (unsigned)u->hops + 1 > rt->conf.max_hops) {
		if (r != NULL)
			route_del(rt, p, r);
		return 0;
	}
	if (over_limit(rt, pe, r, u) || !update_trusted(rt, p, pe->id, u))
		return 1;	/* changes nothing: as if never sent */
	if (r != NULL && !id_eq(&r->origin, &u->origin)) {
		if (po_add(rt, pe->id, &u->origin) < 0) {
			route_del(rt, p, r);
			return 1;
		}
		po_sub(rt, pe->id, &r->origin);
	}
	if (r == NULL) {
		if (p == NULL && (p = prefix_get(rt, &a)) == NULL)
			return 1;
		mark_dirty(rt, p);	/* if unused, goes dead: no leak */
		if ((r = route_add(rt, pe, p, u)) == NULL)
			return 1;
	}
	r->origin = u->origin;
	r->seqno = u->seqno;
	r->metric = u->metric;
	r->hops = u->hops;
	r->cbase = u->cbase;
	memcpy(r->chain, u->chain, ROUTE_CHAIN_HASH);
	r->siglen = u->siglen;
	memcpy(r->sig, u->sig, u->siglen);
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

struct rprefix *route_match(const struct route_table *rt, uint32_t inst,
			    const uint8_t *dst, size_t dlen)
{
	const struct rclass *c;
	struct rprefix *p;
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
		if (p != NULL && p->sel.kind != NH_NONE)
			return p;
	}
	return NULL;
}

int route_lookup(const struct route_table *rt, uint32_t inst,
		 const uint8_t *dst, size_t dlen, struct route_nh *nh)
{
	const struct rprefix *p = route_match(rt, inst, dst, dlen);

	if (p == NULL)
		return -1;
	nh->kind = p->sel.kind;
	nh->peer = p->sel.peer;
	return 0;
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
	ri->npaths = p->mp ? p->mp->n : 0;
	if (p->mp) {
		ri->path_peer = p->mp->peer;
		ri->path_metric = p->mp->metric;
		ri->path_pkts = p->mp->pkts;
	}
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
