/*
 * Gates' notes on remote nodes. How each node is reached is the mesh's
 * business (meshview.c), which prints the notes in its node lines.
 */
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "gatenote.h"

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
