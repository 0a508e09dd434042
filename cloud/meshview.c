/*
 * The mesh for operators (doc/cloudctl.8): a node line for every node this
 * node knows of (by its record, a route it originates, a link to it, or a
 * gate's note on it) saying how it is reached, and, when through a relay,
 * why not directly; then an edge line for every link of the mesh. Our own
 * links come from the links themselves; the others from the records, and
 * a link two records disagree on is shown only if both list it (one end
 * has dropped it, or not told us yet).
 */
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "esc.h"
#include "gate.h"
#include "gatenote.h"
#include "link.h"
#include "mesh.h"
#include "nodes.h"
#include "origin.h"
#include "route.h"

#define NAME_ESC_MAX (4 * NODE_NAME_MAX + 1)
#define WHY_MAX 160

struct mnode {
	struct node_id id;
	const char *name;
	char esc[NAME_ESC_MAX];		/* a name from a record, escaped */
	uint32_t rpeer;			/* its best route's next hop, or 0 */
	uint32_t metric;
	uint8_t hops;
	int rdirect;			/* that next hop is the node itself */
	uint32_t dpeer, dcost;		/* its cheapest up link, or 0 */
	const char *lname;		/* that link's (or a pending one's) */
	int pending;			/* a link to it is verified, not up */
	const char *note, *note_name;	/* a gate's note on it */
};

struct medge {
	struct node_id a, b;		/* a < b, or a is us */
	uint8_t t;
	uint32_t rtt;
	uint8_t by_a, by_b;		/* which ends' records list it */
	unsigned next_hop;		/* our routes through it */
};

struct mview {
	struct cloud *c;
	const struct nodes *nodes;
	struct mnode *v;
	size_t n, cap;
	struct medge *e;
	size_t ne, ecap;
};

static char *hex8(const uint8_t *b, char out[17])
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return out;
}

static int id_cmp(const void *x, const void *y)
{
	return memcmp(x, y, NODE_ID_LEN);
}

static int same(const struct node_id *a, const struct node_id *b)
{
	return !memcmp(a->b, b->b, NODE_ID_LEN);
}

/* ---- the set of nodes ------------------------------------------------------ */

static void add(struct mview *mv, const struct node_id *id)
{
	struct mnode *t;
	size_t cap;

	if (mv->n == mv->cap) {
		cap = mv->cap ? 2 * mv->cap : 64;
		if (!(t = realloc(mv->v, cap * sizeof(*t))))
			return;		/* the snapshot lacks it */
		mv->v = t;
		mv->cap = cap;
	}
	memset(&mv->v[mv->n], 0, sizeof(mv->v[0]));
	mv->v[mv->n++].id = *id;
}

static struct mnode *get(const struct mview *mv, const struct node_id *id)
{
	return mv->n ? bsearch(id, mv->v, mv->n, sizeof(*mv->v), id_cmp)
		     : NULL;
}

static void add_rec(void *arg, const struct node_view *v)
{
	size_t i;

	add(arg, v->origin);
	for (i = 0; i < v->nlinks; i++)
		add(arg, &v->links[i].peer);
}

static void add_route(void *arg, const struct route_info *ri)
{
	add(arg, ri->origin);
}

static void add_note(void *arg, const struct gnote *g)
{
	struct node_id id;

	memcpy(id.b, g->id, NODE_ID_LEN);
	add(arg, &id);
}

/* Every ID once, sorted. */
static void collect(struct mview *mv)
{
	struct link_info i;
	struct link *l;
	size_t r, w;

	add(mv, &mv->c->self);
	if (mv->nodes)
		nodes_foreach(mv->nodes, add_rec, mv);
	route_foreach(mv->c->rt, add_route, mv);
	for (l = links_first(mv->c); l; l = link_next(l)) {
		link_info(l, &i);
		if (i.verified)
			add(mv, &i.peer->id);
	}
	gate_notes(mv->c, add_note, mv);
	if (mv->n)
		qsort(mv->v, mv->n, sizeof(*mv->v), id_cmp);
	for (r = w = 0; r < mv->n; r++)
		if (!w || !same(&mv->v[w - 1].id, &mv->v[r].id))
			mv->v[w++] = mv->v[r];
	mv->n = w;
}

/* ---- how each is reached ------------------------------------------------- */

/* The cheapest route a node originates, through a peer. */
static void fill_route(void *arg, const struct route_info *ri)
{
	struct mview *mv = arg;
	struct mnode *nd = get(mv, ri->origin);
	struct link_info i;
	struct link *l;

	if (!nd || ri->nh.kind != NH_PEER ||
	    (nd->rpeer && ri->metric >= nd->metric))
		return;
	nd->rpeer = ri->nh.peer;
	nd->metric = ri->metric;
	nd->hops = ri->hops;
	nd->rdirect = 0;
	if ((l = links_by_peer(mv->c, ri->nh.peer))) {
		link_info(l, &i);
		nd->rdirect = same(&i.peer->id, &nd->id);
	}
}

static void fill_links(struct mview *mv)
{
	struct link_info i;
	struct mnode *nd;
	struct link *l;

	for (l = links_first(mv->c); l; l = link_next(l)) {
		link_info(l, &i);
		if (!i.verified || !(nd = get(mv, &i.peer->id)))
			continue;
		nd->lname = i.peer->name;
		if (!i.up || i.doomed) {
			nd->pending |= !i.doomed;
		} else if (!nd->dpeer || i.cost < nd->dcost) {
			nd->dpeer = link_peer(l);
			nd->dcost = i.cost;
		}
	}
}

static void fill_note(void *arg, const struct gnote *g)
{
	struct node_id id;
	struct mnode *nd;

	memcpy(id.b, g->id, NODE_ID_LEN);
	if ((nd = get(arg, &id)) && !nd->note) {
		nd->note = g->text;
		nd->note_name = g->name;
	}
}

/* A name: its certificate's, a link's, its record's, a gate's. */
static void fill_name(struct mview *mv, struct mnode *nd)
{
	struct node_view v;

	nd->name = origins_name(mv->c->origins, &nd->id);
	if (same(&nd->id, &mv->c->self))
		nd->name = mv->c->name;
	else if (strcmp(nd->name, "-"))
		return;
	else if (nd->lname)
		nd->name = nd->lname;
	else if (mv->nodes && !nodes_get(mv->nodes, &nd->id, &v))
		nd->name = esc_name(v.name, nd->esc, sizeof(nd->esc));
	else if (nd->note_name && nd->note_name[0])
		nd->name = nd->note_name;
}

static void fill(struct mview *mv)
{
	size_t i;

	route_foreach(mv->c->rt, fill_route, mv);
	fill_links(mv);
	gate_notes(mv->c, fill_note, mv);
	for (i = 0; i < mv->n; i++)
		fill_name(mv, &mv->v[i]);
}

/* Why nd, which routing reaches through another node, is not reached
 * over a link of its own. */
static void why_relayed(const struct mview *mv, const struct mnode *nd,
			char *buf, size_t cap)
{
	const char *via = links_peer_name(mv->c, nd->rpeer), *w;
	uint32_t x = nd->dcost + mv->c->hop_cost, y = nd->metric;
	uint64_t at;

	if (nd->dpeer && x >= y)
		snprintf(buf, cap, "direct link slower: metric %u direct, "
			 "%u via %s", x, y, via);
	else if (nd->dpeer && x >= y - y / 8)
		snprintf(buf, cap, "direct link not better by 1/8 (hysteresis)"
			 ": metric %u direct, %u via %s", x, y, via);
	else if (nd->dpeer)
		snprintf(buf, cap, "direct route not feasible yet: metric %u "
			 "direct, %u via %s", x, y, via);
	else if (nd->pending)
		snprintf(buf, cap, "direct link coming up");
	else if ((at = mesh_last_down(mv->c, &nd->id, &w)))
		snprintf(buf, cap, "direct link down %llu s ago: %s",
			 (unsigned long long)((now_ns() - at) / 1000000000ull),
			 w);
	else
		snprintf(buf, cap, "no direct link: none configured, or none "
			 "came up");
}

/* ---- node lines ------------------------------------------------------------ */

/* The text in double quotes; a quote or backslash in it is escaped. */
static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* reach, via, hops, metric and why of nd. */
static void reach(FILE *f, const struct mview *mv, const struct mnode *nd)
{
	char why[WHY_MAX];

	if (same(&nd->id, &mv->c->self)) {
		fprintf(f, "reach=self via=- hops=0 metric=0");
	} else if (nd->rpeer) {
		fprintf(f, "reach=%s via=%s hops=%u metric=%u",
			nd->rdirect ? "direct" : "relayed",
			links_peer_name(mv->c, nd->rpeer), nd->hops,
			nd->metric);
	} else if (nd->dpeer) {
		fprintf(f, "reach=direct via=%s hops=1 metric=%u",
			links_peer_name(mv->c, nd->dpeer),
			nd->dcost + mv->c->hop_cost);
	} else {
		fprintf(f, "reach=none via=- hops=- metric=- why=");
		quoted(f, "no route to any address it announces");
		return;
	}
	if (!nd->rpeer || nd->rdirect) {
		fprintf(f, " why=-");
		return;
	}
	why_relayed(mv, nd, why, sizeof(why));
	fprintf(f, " why=");
	quoted(f, why);
}

static void node_line(FILE *f, const struct mview *mv, const struct mnode *nd)
{
	char id[17], ver[4 * NODE_VERSION_MAX + 1];
	struct node_view v;
	int rec = mv->nodes && !nodes_get(mv->nodes, &nd->id, &v);

	fprintf(f, "node name=%s id=%s ", nd->name, hex8(nd->id.b, id));
	reach(f, mv, nd);
	if (rec)
		fprintf(f, " version=%s links=%zu age_s=%llu",
			v.version[0] ? esc_name(v.version, ver, sizeof(ver))
				     : "-",
			v.nlinks, (unsigned long long)(v.age_ms / 1000));
	else
		fprintf(f, " version=- links=- age_s=-");
	if (nd->note) {
		fprintf(f, " note=");
		quoted(f, nd->note);
	}
	fputc('\n', f);
}

/* ---- edge lines ----------------------------------------------------------- */

static struct medge *edge_add(struct mview *mv)
{
	struct medge *t;
	size_t cap;

	if (mv->ne == mv->ecap) {
		cap = mv->ecap ? 2 * mv->ecap : 64;
		if (!(t = realloc(mv->e, cap * sizeof(*t))))
			return NULL;
		mv->e = t;
		mv->ecap = cap;
	}
	memset(&mv->e[mv->ne], 0, sizeof(mv->e[0]));
	return &mv->e[mv->ne++];
}

/* A link a record lists, between two other nodes than us. */
static void edge_rec(void *arg, const struct node_view *v)
{
	struct mview *mv = arg;
	const struct node_link *nl;
	struct medge *e;
	size_t i;
	int lo;

	for (i = 0; i < v->nlinks && !v->self; i++) {
		nl = &v->links[i];
		if (same(&nl->peer, &mv->c->self) || same(&nl->peer, v->origin) ||
		    !(e = edge_add(mv)))
			continue;
		lo = memcmp(v->origin->b, nl->peer.b, NODE_ID_LEN) < 0;
		e->a = lo ? *v->origin : nl->peer;
		e->b = lo ? nl->peer : *v->origin;
		e->t = nl->transport;
		e->rtt = nl->rtt_us;
		e->by_a = lo;
		e->by_b = !lo;
	}
}

static int edge_cmp(const void *x, const void *y)
{
	const struct medge *a = x, *b = y;
	int c = memcmp(a->a.b, b->a.b, NODE_ID_LEN);

	if (!c)
		c = memcmp(a->b.b, b->b.b, NODE_ID_LEN);
	return c ? c : (int)a->t - (int)b->t;
}

/* Parallel reports of one (a, b, transport) as one edge. */
static void edge_merge(struct mview *mv)
{
	size_t r, w;

	if (mv->ne == 0)
		return;		/* mv->e may be NULL: qsort wants an array */
	qsort(mv->e, mv->ne, sizeof(*mv->e), edge_cmp);
	for (r = w = 0; r < mv->ne; r++) {
		struct medge *p = w ? &mv->e[w - 1] : NULL, *e = &mv->e[r];

		if (!p || edge_cmp(p, e)) {
			mv->e[w++] = *e;
			continue;
		}
		p->by_a |= e->by_a;
		p->by_b |= e->by_b;
		p->next_hop += e->next_hop;
		if (e->rtt < p->rtt)
			p->rtt = e->rtt;
	}
	mv->ne = w;
}

/* Our own links, up, as edges from us. */
static void edge_self(struct mview *mv)
{
	struct link_info i;
	struct node_link nl;
	struct medge *e;
	struct link *l;
	size_t k;

	for (l = links_first(mv->c); l; l = link_next(l)) {
		link_info(l, &i);
		if (!i.up || i.doomed || !(e = edge_add(mv)))
			continue;
		mesh_link_of(&i, &nl);
		e->a = mv->c->self;
		e->b = nl.peer;
		e->t = nl.transport;
		e->rtt = nl.rtt_us;
		e->by_a = e->by_b = 1;
		for (k = 0; k < mv->n; k++)
			e->next_hop += mv->v[k].rpeer == link_peer(l);
	}
}

/* A link one end lists: shown if the other lists it too, or has told
 * us nothing at all (an older daemon, or a record not come yet). Ours
 * count as listed by both. */
static int edge_shown(const struct mview *mv, const struct medge *e)
{
	struct node_view v;

	if (e->by_a && e->by_b)
		return 1;
	return nodes_get(mv->nodes, e->by_a ? &e->b : &e->a, &v) < 0;
}

static void edge_line(FILE *f, const struct mview *mv, const struct medge *e)
{
	static const char *const xp[] = { "other", "tcp", "udp" };
	const struct mnode *a = get(mv, &e->a), *b = get(mv, &e->b);
	char ia[17], ib[17];

	fprintf(f, "edge from=%s from_id=%s to=%s to_id=%s transport=%s ",
		a ? a->name : "-", hex8(e->a.b, ia), b ? b->name : "-",
		hex8(e->b.b, ib), xp[e->t <= NODE_XP_UDP ? e->t : 0]);
	if (e->rtt == NODE_RTT_NONE)
		fprintf(f, "rtt_us=-");
	else
		fprintf(f, "rtt_us=%u", e->rtt);
	fprintf(f, " next_hop=%u\n", e->next_hop);
}

static void edges(FILE *f, struct mview *mv)
{
	size_t i;

	edge_self(mv);
	if (mv->nodes)
		nodes_foreach(mv->nodes, edge_rec, mv);
	edge_merge(mv);	/* ours stay apart: records' edges never have us */
	for (i = 0; i < mv->ne; i++)
		if (edge_shown(mv, &mv->e[i]))
			edge_line(f, mv, &mv->e[i]);
}

static int name_cmp(const void *x, const void *y)
{
	const struct mnode *const *a = x, *const *b = y;
	int c = strcmp((*a)->name, (*b)->name);

	return c ? c : id_cmp((*a)->id.b, (*b)->id.b);
}

/* Node lines by name; then the edges. */
void mesh_status(struct cloud *c, FILE *f)
{
	struct mview mv = { .c = c, .nodes = mesh_nodes(c) };
	struct mnode **by_name;
	size_t i;

	collect(&mv);
	fill(&mv);
	if ((by_name = calloc(mv.n ? mv.n : 1, sizeof(*by_name)))) {
		for (i = 0; i < mv.n; i++)
			by_name[i] = &mv.v[i];
		qsort(by_name, mv.n, sizeof(*by_name), name_cmp);
		for (i = 0; i < mv.n; i++)
			node_line(f, &mv, by_name[i]);
		free(by_name);
	}
	edges(f, &mv);
	free(mv.v);
	free(mv.e);
}
