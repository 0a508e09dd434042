/*
 * Prefix subscriptions (gate protocol SUBSCRIBE, PREFIX): the instances a
 * gate follows, the route changes collected during one loop turn, and the
 * PREFIX messages that carry a full set or the changes to a gate.
 */
#ifndef CV_GATESUB_H
#define CV_GATESUB_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "gateproto.h"

#define GATE_SUBS_MAX 16	/* instances one gate may subscribe to */
/* Changes held in one loop turn (24 bytes each); past that, every
 * subscription gets a full set instead. */
#define GATE_CHANGES_MAX 16384

struct route_table;

struct gsubs {			/* one gate's subscriptions */
	uint32_t inst[GATE_SUBS_MAX];
	uint8_t stale[GATE_SUBS_MAX];	/* the gate is owed a full set */
	size_t n;
};

struct gchanges {		/* prefixes changed in this loop turn */
	struct addr *a;
	size_t n, cap;
	int overflow;		/* some were not kept */
};

/* Where a gate's PREFIX messages go: room for need contiguous bytes, or
 * NULL when its queue cannot take them; then n of them are committed. */
struct gsub_sink {
	void *arg;
	uint8_t *(*room)(void *arg, size_t need);
	void (*queued)(void *arg, size_t n);
};

/* Subscribe (again: its full set is sent again). -1 past GATE_SUBS_MAX. */
int gsubs_add(struct gsubs *s, uint32_t inst);
int gsubs_has(const struct gsubs *s, uint32_t inst);

void gchanges_add(struct gchanges *ch, const struct addr *a);
/* Sort and drop repeats; an overflow makes every subscription stale. */
void gchanges_settle(struct gchanges *ch);
void gchanges_clear(struct gchanges *ch);
void gchanges_free(struct gchanges *ch);

/*
 * Queue what the gate is owed: the settled changes of the instances it is
 * not owed a full set of, then, when drained (its socket took everything
 * so far: a gate too slow to read does not cost a walk of the table every
 * turn), the full set of each stale instance. What its queue cannot take
 * leaves the instance stale. An instance whose full set could never fit
 * cap bytes is dropped (logged with the gate's ID and name). chunk holds
 * GP_PREFIX_MAX entries.
 */
void gsubs_send(struct gsubs *s, const struct route_table *rt,
		const struct gchanges *ch, const struct gsub_sink *k,
		int drained, size_t cap, struct gp_prefix *chunk,
		uint32_t gate, const char *name);

#endif
