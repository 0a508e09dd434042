/*
 * The addresses local gates announce: each gate's set replaces its
 * previous one, and a prefix is ours while any gate announces it. We sign
 * what we originate, once per seqno; an address our certificate does not
 * grant is not announced (the signing op refuses it).
 */
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

int chain_walk(const struct route_table *rt, const struct addr *prefix,
	       const struct node_id *origin, uint16_t cbase,
	       const uint8_t *in, unsigned k, uint8_t *out)
{
	uint8_t buf[ROUTE_CHAIN_DATA_MAX];
	size_t n = route_chain_data(prefix, origin, cbase, buf);

	memcpy(out, in, ROUTE_CHAIN_HASH);
	while (k-- > 0) {
		memcpy(buf + n, out, ROUTE_CHAIN_HASH);
		if (rt->ops.hash(rt->ops.ctx, buf, n + ROUTE_CHAIN_HASH,
				 out) < 0)
			return -1;
	}
	return 0;
}

/*
 * Our chain of p at lseq, into u: a new one (cbase lseq) when lseq has
 * left the last. Its seed is H of a secret drawn at start, so a restart
 * starts other chains.
 */
static void local_chain(struct route_table *rt, struct rprefix *p,
			struct route_update *u)
{
	uint8_t seed[ROUTE_CHAIN_HASH];

	if (!rt->ops.hash)
		return;
	if (!p->lchained || seq_newer(p->lcbase, p->lseq) ||
	    (uint16_t)(p->lseq - p->lcbase) > ROUTE_CHAIN_LEN) {
		p->lchained = 1;
		p->lcbase = p->lseq;
	}
	u->cbase = p->lcbase;
	if (chain_walk(rt, &p->a, &rt->self, p->lcbase, rt->conf.chain_key,
		       1, seed) < 0 ||
	    chain_walk(rt, &p->a, &rt->self, p->lcbase, seed,
		       ROUTE_CHAIN_LEN - (uint16_t)(p->lseq - p->lcbase),
		       u->chain) < 0)
		memset(u->chain, 0, ROUTE_CHAIN_HASH);	/* links nothing */
}

int local_signed(struct route_table *rt, struct rprefix *p)
{
	struct route_update u;

	if (!rt->ops.sign)
		return 0;
	if (p->lsig_state != LSIG_NONE && p->lsig_seq == p->lseq)
		return p->lsig_state == LSIG_OK ? 0 : -1;
	memset(&u, 0, sizeof(u));
	u.prefix = p->a;
	u.origin = rt->self;
	u.seqno = p->lseq;
	local_chain(rt, p, &u);
	p->lsig_seq = p->lseq;
	p->lsig_state = LSIG_REFUSED;
	if (rt->ops.sign(rt->ops.ctx, &u) < 0 || u.siglen == 0 ||
	    u.siglen > ROUTE_SIG_MAX)
		return -1;
	p->lsig_state = LSIG_OK;
	memcpy(p->lchain, u.chain, ROUTE_CHAIN_HASH);
	p->lsiglen = u.siglen;
	memcpy(p->lsig, u.sig, u.siglen);
	return 0;
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
		if (route_grow(&rt->gates, &rt->cgates, rt->ngates + 1,
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

