/* The status file: a snapshot written atomically (temp file + rename). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cloud.h"
#include "conf.h"
#include "gate.h"
#include "link.h"
#include "log.h"
#include "route.h"
#include "status.h"

struct status {
	const char *path;
	ev_timer timer;
	int failed;		/* log a failure once, not every interval */
};

static void hex8(const uint8_t *b, char *out)
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

struct route_walk {
	struct cloud *c;
	FILE *f;
	unsigned n;
};

static void route_count(void *arg, const struct route_info *ri)
{
	(void)ri;
	((struct route_walk *)arg)->n++;
}

static void route_line(void *arg, const struct route_info *ri)
{
	struct route_walk *w = arg;
	char a[ADDR_STRLEN], o[17];

	hex8(ri->origin->b, o);
	fprintf(w->f, "route addr=%s via=%s metric=%u hops=%u seqno=%u "
		      "origin=%s\n",
		addr_fmt(ri->prefix, a, sizeof(a)),
		ri->nh.kind == NH_LOCAL ? "local"
		: ri->nh.kind == NH_PEER ? links_peer_name(w->c, ri->nh.peer)
					 : "-",
		ri->metric, ri->hops, ri->seqno, o);
	w->n++;
}

static int status_dump(struct cloud *c, FILE *f)
{
	struct route_walk w = { c, f, 0 };
	char id[2 * NODE_ID_LEN + 1];
	int i;

	for (i = 0; i < NODE_ID_LEN; i++)
		snprintf(id + 2 * i, 3, "%02x", c->self.b[i]);
	route_foreach(c->rt, route_count, &w);
	fprintf(f, "cloud name=%s id=%s uptime_s=%llu links=%u routes=%u\n",
		c->name, id,
		(unsigned long long)((now_ns() - c->start_ns) / 1000000000ull),
		links_count(c), w.n);
	links_status(c, f);
	route_foreach(c->rt, route_line, &w);
	gate_status(c, f);
	return ferror(f) ? -1 : 0;
}

void status_write(struct cloud *c)
{
	struct status *s = c->status;
	char tmp[4200];
	FILE *f;
	int bad;

	if (!s || !s->path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	f = fopen(tmp, "w");
	if (!f) {
		if (!s->failed++)
			log_warn("status-file: cannot write \"%s\"", tmp);
		return;
	}
	bad = status_dump(c, f);
	bad |= fclose(f);
	if (bad || rename(tmp, s->path) < 0) {
		if (!s->failed++)
			log_warn("status-file: cannot write \"%s\"", s->path);
		unlink(tmp);
		return;
	}
	s->failed = 0;
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	status_write(w->data);
}

int status_init(struct cloud *c)
{
	const struct conf_val *v = conf_last(c->conf, "status-file");
	uint64_t us = conf_us(c->conf, "status-interval");
	struct status *s;

	if (!v)
		return 0;
	if (!(s = calloc(1, sizeof(*s))))
		return -1;
	s->path = v->raw;
	if (us < 10000)
		us = 10000;
	ev_timer_init(&s->timer, status_cb, 0., us / 1e6);
	s->timer.data = c;
	ev_timer_start(c->loop, &s->timer);
	c->status = s;
	return 0;
}

void status_shutdown(struct cloud *c)
{
	if (!c->status)
		return;
	ev_timer_stop(c->loop, &c->status->timer);
	free(c->status);
	c->status = NULL;
}
