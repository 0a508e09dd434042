/*
 * Gates' notes on remote nodes, and how each node is reached now: over an
 * up link to its ID (direct), through a route it originates (relayed, via
 * that route's next hop), or not at all.
 */
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "esc.h"
#include "gatenote.h"
#include "link.h"
#include "route.h"

static struct gnote *gnotes_find(const struct gnotes *ns, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (!memcmp(ns->v[i].id, id, GP_ID_LEN))
			return &ns->v[i];
	return NULL;
}

static struct gnote *gnotes_add(struct gnotes *ns)
{
	struct gnote *v;
	size_t cap;

	if (ns->n == ns->cap) {
		cap = ns->cap ? 2 * ns->cap : 8;
		if (!(v = realloc(ns->v, cap * sizeof(*v))))
			return NULL;
		ns->v = v;
		ns->cap = cap;
	}
	return &ns->v[ns->n++];
}

int gnotes_set(struct gnotes *ns, const struct gp_note *n)
{
	struct gnote *g = gnotes_find(ns, n->id);

	if (!n->text[0]) {
		if (g)
			*g = ns->v[--ns->n];	/* the last takes its place */
		return 0;
	}
	if (!g && ns->n >= GATE_NOTES_MAX)
		return 1;
	if (!g && !(g = gnotes_add(ns)))
		return -1;
	memcpy(g->id, n->id, GP_ID_LEN);
	esc_name(n->name, g->name, sizeof(g->name));	/* a peer's choice */
	memcpy(g->text, n->text, sizeof(g->text));
	return 0;
}

void gnotes_free(struct gnotes *ns)
{
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

struct reach_walk {
	struct cloud *c;
	const uint8_t *id;
	uint32_t metric;
	const char *via;
};

/* The cheapest route the node originates, through a peer. */
static void reach_route(void *arg, const struct route_info *ri)
{
	struct reach_walk *w = arg;

	if (ri->nh.kind != NH_PEER ||
	    memcmp(ri->origin->b, w->id, NODE_ID_LEN) ||
	    (w->via && ri->metric >= w->metric))
		return;
	w->metric = ri->metric;
	w->via = links_peer_name(w->c, ri->nh.peer);
}

static const char *gnote_reach(struct cloud *c, const uint8_t *id,
			       const char **via)
{
	struct reach_walk w = { c, id, 0, NULL };
	struct link_info i;
	struct link *l;

	for (l = links_first(c); l; l = link_next(l)) {
		link_info(l, &i);
		if (i.up && !i.doomed &&
		    !memcmp(i.peer->id.b, id, NODE_ID_LEN)) {
			*via = i.peer->name;
			return "direct";
		}
	}
	route_foreach(c->rt, reach_route, &w);
	*via = w.via ? w.via : "-";
	return w.via ? "relayed" : "none";
}

/* The text in double quotes; a quote or backslash in it is escaped. */
static void gnote_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void gnotes_status(struct cloud *c, const struct gnotes *ns, FILE *f)
{
	const struct gnote *g;
	const char *reach, *via;
	size_t i;
	int k;

	for (i = 0; i < ns->n; i++) {
		g = &ns->v[i];
		reach = gnote_reach(c, g->id, &via);
		fprintf(f, "node name=%s id=", g->name[0] ? g->name : "-");
		for (k = 0; k < 8; k++)
			fprintf(f, "%02x", g->id[k]);
		fprintf(f, " reach=%s via=%s note=", reach, via);
		gnote_quoted(f, g->text);
		fputc('\n', f);
	}
}
