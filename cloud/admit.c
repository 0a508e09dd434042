/*
 * Admission. At max_connections the oldest connection that has not
 * authenticated yet makes room: idle or half-open sockets can delay a
 * real peer, never lock it out.
 */
#include <stdlib.h>

#include "admit.h"
#include "cloud.h"
#include "conf.h"
#include "link.h"
#include "log.h"
#include "xport.h"

struct admit {
	unsigned max_conn;
};

int admit_init(struct cloud *c)
{
	if (!(c->admit = calloc(1, sizeof(*c->admit))))
		return -1;
	c->admit->max_conn = (unsigned)conf_int(c->conf, "max_connections");
	return 0;
}

void admit_free(struct cloud *c)
{
	free(c->admit);
	c->admit = NULL;
}

static struct link *oldest_unverified(struct cloud *c)
{
	struct link *l, *old = NULL;
	struct link_info i, oi = { 0 };

	for (l = links_first(c); l; l = link_next(l)) {
		link_info(l, &i);
		if (i.up || i.doomed || (old && i.t_start >= oi.t_start))
			continue;
		old = l;
		oi = i;
	}
	return old;
}

static unsigned live_links(struct cloud *c)
{
	struct link *l;
	unsigned n = 0;

	for (l = links_first(c); l; l = link_next(l))
		n += !link_doomed(l);
	return n;
}

/* The evicted link is doomed, not freed: a caller up the stack may still
 * hold it. It closes before the loop sleeps. */
int admit_link(struct cloud *c, const char *addr)
{
	struct link *old;

	if (live_links(c) < c->admit->max_conn)
		return 0;
	if (!(old = oldest_unverified(c))) {
		log_warnx("link %s: refused: max_connections (%u) reached",
			  addr, c->admit->max_conn);
		return -1;
	}
	link_fail(old, "evicted: connection limit reached");
	return 0;
}
