/*
 * Prefix subscriptions. A gate is owed, per subscribed instance, either a
 * full set (stale) or the changes since; both are computed from the route
 * table when sent, never stored per change, so a change that is undone in
 * the same turn costs one redundant entry and the memory held is one
 * address per changed prefix per turn, at most GATE_CHANGES_MAX.
 *
 * A whole batch for a gate (a full set, or one turn's changes) is
 * reserved in its queue at once, so a gate never sees half of one.
 */
#include <stdlib.h>
#include <string.h>

#include "gatesub.h"
#include "log.h"
#include "route.h"

#define GSUB_MSG_FIXED (GP_HDR + 1 + 2)	/* header, flags, count */

int gsubs_add(struct gsubs *s, uint32_t inst)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->inst[i] == inst) {
			s->stale[i] = 1;
			return 0;
		}
	}
	if (s->n == GATE_SUBS_MAX)
		return -1;
	s->inst[s->n] = inst;
	s->stale[s->n++] = 1;
	return 0;
}

static int gsubs_find(const struct gsubs *s, uint32_t inst)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->inst[i] == inst)
			return (int)i;
	return -1;
}

int gsubs_has(const struct gsubs *s, uint32_t inst)
{
	return gsubs_find(s, inst) >= 0;
}

static void gsubs_drop(struct gsubs *s, size_t i)
{
	s->n--;
	s->inst[i] = s->inst[s->n];
	s->stale[i] = s->stale[s->n];
}

/* ---- changes of one turn ------------------------------------------------ */

void gchanges_add(struct gchanges *ch, const struct addr *a)
{
	struct addr *v;
	size_t cap;

	if (ch->overflow)
		return;
	if (ch->n == ch->cap) {
		cap = ch->cap ? 2 * ch->cap : 64;
		if (cap > GATE_CHANGES_MAX ||
		    (v = realloc(ch->a, cap * sizeof(*v))) == NULL) {
			ch->overflow = 1;
			return;
		}
		ch->a = v;
		ch->cap = cap;
	}
	ch->a[ch->n++] = *a;
}

static int gchange_cmp(const void *x, const void *y)
{
	return route_prefix_cmp(x, y);
}

void gchanges_settle(struct gchanges *ch)
{
	size_t i, m = 0;

	if (ch->n < 2)
		return;
	qsort(ch->a, ch->n, sizeof(*ch->a), gchange_cmp);
	for (i = 0; i < ch->n; i++)
		if (m == 0 || route_prefix_cmp(&ch->a[m - 1], &ch->a[i]) != 0)
			ch->a[m++] = ch->a[i];
	ch->n = m;
}

void gchanges_clear(struct gchanges *ch)
{
	ch->n = 0;
	ch->overflow = 0;
	if (ch->cap > 1024)	/* a burst's memory is not kept */
		gchanges_free(ch);
}

void gchanges_free(struct gchanges *ch)
{
	free(ch->a);
	ch->a = NULL;
	ch->n = ch->cap = 0;
}

/* ---- PREFIX messages ---------------------------------------------------- */

/* Entries gathered GP_PREFIX_MAX at a time into chunk, encoded into
 * b[off..cap), which was reserved for them. */
struct gsub_w {
	uint8_t *b;
	size_t off, cap;
	struct gp_prefix *chunk;
	size_t n;
	uint8_t flags;		/* of the next message */
};

static void gsub_w_flush(struct gsub_w *w)
{
	if (w->n == 0)
		return;
	w->off += gp_prefix_encode(w->b + w->off, w->cap - w->off, w->flags,
				   w->chunk, w->n);
	w->flags = 0;
	w->n = 0;
}

static void gsub_w_add(struct gsub_w *w, const struct gp_prefix *e)
{
	w->chunk[w->n++] = *e;
	if (w->n == GP_PREFIX_MAX)
		gsub_w_flush(w);
}

/* Bytes of n entries of size bytes, in as few messages as they fit. */
static size_t gsub_need(size_t n, size_t bytes)
{
	return (n + GP_PREFIX_MAX - 1) / GP_PREFIX_MAX * GSUB_MSG_FIXED +
	       bytes;
}

static void gsub_entry(struct gp_prefix *e, const struct route_info *ri)
{
	e->up = 1;
	e->local = ri->nh.kind == NH_LOCAL;
	e->metric = ri->metric;
	e->addr = *ri->prefix;
}

/* ---- full sets ---------------------------------------------------------- */

struct gsub_full {
	uint32_t inst;
	size_t n, bytes;
	struct gsub_w *w;	/* NULL: only count */
};

static void gsub_full_cb(void *arg, const struct route_info *ri)
{
	struct gsub_full *f = arg;
	struct gp_prefix e;

	if (ri->prefix->inst != f->inst)
		return;
	if (f->w == NULL) {
		f->n++;
		f->bytes += GP_PREFIX_ENTRY + ri->prefix->len;
		return;
	}
	gsub_entry(&e, ri);
	gsub_w_add(f->w, &e);
}

/*
 * 0 sent, -1 no room now, -2 never fits. A full set names its instance by
 * its entries, so an instance without routes gets one entry: gone, the
 * instance's empty address.
 */
static int gsub_send_full(const struct route_table *rt, uint32_t inst,
			  const struct gsub_sink *k, size_t cap,
			  struct gp_prefix *chunk)
{
	struct gsub_full f = { .inst = inst };
	struct gsub_w w = { .chunk = chunk, .flags = GP_PF_FULL };
	struct gp_prefix none = { .up = 0, .addr = { .inst = inst } };
	size_t need;

	route_foreach(rt, gsub_full_cb, &f);
	need = gsub_need(f.n ? f.n : 1, f.n ? f.bytes : GP_PREFIX_ENTRY);
	if (need > cap)
		return -2;
	if ((w.b = k->room(k->arg, need)) == NULL)
		return -1;
	w.cap = need;
	f.w = &w;
	route_foreach(rt, gsub_full_cb, &f);
	if (f.n == 0)
		gsub_w_add(&w, &none);
	gsub_w_flush(&w);
	k->queued(k->arg, w.off);
	return 0;
}

/* ---- changes ------------------------------------------------------------ */

/* Is the change for this gate: an instance it follows and is not owed a
 * full set of (which would hold the change already)? */
static int gsub_wants(const struct gsubs *s, const struct addr *a)
{
	int i = gsubs_find(s, a->inst);

	return i >= 0 && !s->stale[i];
}

static void gsub_change_entry(const struct route_table *rt,
			      const struct addr *a, struct gp_prefix *e)
{
	struct route_info ri;

	if (route_get(rt, a, &ri) == 0) {
		gsub_entry(e, &ri);
		return;
	}
	memset(e, 0, sizeof(*e));	/* gone: up 0, local 0, metric 0 */
	e->addr = *a;
}

static void gsub_stale(struct gsubs *s, uint32_t inst)
{
	int i = gsubs_find(s, inst);

	if (i >= 0)
		s->stale[i] = 1;
}

/* The changes for this gate, all or none; none makes them stale. */
static void gsub_send_changes(struct gsubs *s, const struct route_table *rt,
			      const struct gchanges *ch,
			      const struct gsub_sink *k,
			      struct gp_prefix *chunk)
{
	struct gsub_w w = { .chunk = chunk };
	struct gp_prefix e;
	size_t i, n = 0, bytes = 0;

	for (i = 0; i < ch->n; i++) {
		if (gsub_wants(s, &ch->a[i])) {
			n++;
			bytes += GP_PREFIX_ENTRY + ch->a[i].len;
		}
	}
	if (n == 0)
		return;
	w.cap = gsub_need(n, bytes);
	if ((w.b = k->room(k->arg, w.cap)) == NULL) {
		for (i = 0; i < ch->n; i++)
			gsub_stale(s, ch->a[i].inst);
		return;
	}
	for (i = 0; i < ch->n; i++) {
		if (!gsub_wants(s, &ch->a[i]))
			continue;
		gsub_change_entry(rt, &ch->a[i], &e);
		gsub_w_add(&w, &e);
	}
	gsub_w_flush(&w);
	k->queued(k->arg, w.off);
}

void gsubs_send(struct gsubs *s, const struct route_table *rt,
		const struct gchanges *ch, const struct gsub_sink *k,
		int drained, size_t cap, struct gp_prefix *chunk,
		uint32_t gate, const char *name)
{
	size_t i = 0;
	int r;

	if (ch->overflow)
		memset(s->stale, 1, sizeof(s->stale));
	gsub_send_changes(s, rt, ch, k, chunk);
	while (drained && i < s->n) {
		r = s->stale[i] ? gsub_send_full(rt, s->inst[i], k, cap, chunk)
				: 0;
		if (r == -2) {
			log_warnx("gate %u (%s): instance %u has more prefixes "
				  "than its queue holds, subscription dropped",
				  (unsigned)gate, name, (unsigned)s->inst[i]);
			gsubs_drop(s, i);
			continue;
		}
		if (r == 0)
			s->stale[i] = 0;
		i++;
	}
}
