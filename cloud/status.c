/*
 * The node's state for operators: a snapshot written atomically (temp file
 * + rename) to the status file, and the same snapshot sent to whoever
 * connects to the control socket (cloudctl -s).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admit.h"
#include "bgwrite.h"
#include "cloud.h"
#include "conf.h"
#include "fwd.h"
#include "gate.h"
#include "limit.h"
#include "link.h"
#include "origin.h"
#include "log.h"
#include "mesh.h"
#include "reload.h"
#include "route.h"
#include "status.h"
#include "udp.h"
#include "usock.h"

/* The control socket never blocks the loop: each client's snapshot is
 * sent as it reads, and a client that reads nothing for CTL_STUCK is
 * dropped. At most CTL_CLIENTS at once (more are closed at accept), and a
 * snapshot over CTL_SNAP_MAX is not served: memory stays bounded. */
#define CTL_CLIENTS 8
#define CTL_STUCK 5.			/* seconds without progress */
#define CTL_SNAP_MAX (64u << 20)	/* bytes */
/* A client may first send one request line, "status", "routes" or
 * "reload"; one that says nothing for CTL_ASK (or shuts its side) gets
 * the snapshot. */
#define CTL_ASK 0.1			/* seconds */
#define CTL_REQ_MAX 64

struct ctl_client {
	struct ctl_client *next;
	struct status *s;
	struct cloud *c;
	ev_io io;
	ev_timer stuck;
	ev_timer ask;
	char req[CTL_REQ_MAX];
	size_t reqlen;
	char *buf;
	size_t len, off;
};

struct status {
	const char *path;	/* status file, or NULL */
	struct bgw *bgw;	/* writes it off the loop */
	ev_timer timer;
	int failed;		/* log a failure once, not every interval */
	const char *ctl_path;	/* control socket, or NULL */
	ev_io ctl;
	struct ev_loop *loop;
	struct ctl_client *clients;
	unsigned nclients;
	int routes;		/* status-verbose: route lines too */
	double every;		/* status-interval, s */
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

/* Multipath: each path's next hop and its share of the packets sent
 * since the set last changed ("paths=B:60%,C:40%"). */
static void route_paths(FILE *f, struct cloud *c, const struct route_info *ri)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < ri->npaths; i++)
		total += ri->path_pkts[i];
	for (i = 0; i < ri->npaths; i++)
		fprintf(f, "%s%s:%u%%", i ? "," : " paths=",
			links_peer_name(c, ri->path_peer[i]),
			total ? (unsigned)(ri->path_pkts[i] * 100 / total) : 0);
}

static void route_line(void *arg, const struct route_info *ri)
{
	struct route_walk *w = arg;
	char a[ADDR_STRLEN], o[17];

	hex8(ri->origin->b, o);
	fprintf(w->f, "route addr=%s via=%s metric=%u hops=%u seqno=%u "
		      "origin=%s origin_name=%s",
		addr_fmt(ri->prefix, a, sizeof(a)),
		ri->nh.kind == NH_LOCAL ? "local"
		: ri->nh.kind == NH_PEER ? links_peer_name(w->c, ri->nh.peer)
					 : "-",
		ri->metric, ri->hops, ri->seqno, o,
		origins_name(w->c->origins, ri->origin));
	route_paths(w->f, w->c, ri);
	fputc('\n', w->f);
	w->n++;
}

/* uplimit-* / downlimit-*: what applies and how often it held the link;
 * nothing when no limit is set. */
static void link_limits(FILE *f, const struct link *l)
{
	struct lim_info up, down;

	link_lim_info(l, &up, &down);
	if (!up.rate && !up.total && !down.rate && !down.total)
		return;
	fprintf(f, " up_limit=%llu up_total=%llu up_tokens=%llu "
		   "up_limited=%llu down_limit=%llu down_total=%llu "
		   "down_tokens=%llu down_limited=%llu down_dropped=%llu",
		(unsigned long long)up.rate, (unsigned long long)up.total,
		(unsigned long long)up.tokens, (unsigned long long)up.limited,
		(unsigned long long)down.rate, (unsigned long long)down.total,
		(unsigned long long)down.tokens, (unsigned long long)down.limited,
		(unsigned long long)down.dropped);
}

static void link_line(FILE *f, const struct link *l)
{
	struct link_info i;
	char id[17];

	link_info(l, &i);
	hex8(i.peer->id.b, id);
	fprintf(f, "link peer=%s id=%s addr=%s dir=%s state=%s transport=%s ",
		i.verified ? i.peer->name : "-", i.verified ? id : "-", i.addr,
		i.handed ? "handed" : i.peer->is_server ? "in" : "out", i.state,
		i.fig.name);
	if (i.fig.mtu)
		fprintf(f, "mtu=%zu ", i.fig.mtu);
	else
		fprintf(f, "mtu=- ");
	if (i.srtt_us)
		fprintf(f, "rtt_us=%llu", (unsigned long long)i.srtt_us);
	else
		fprintf(f, "rtt_us=-");
	fprintf(f, " bytes_in=%llu bytes_out=%llu pkts_in=%llu "
		   "pkts_out=%llu drops=%llu retransmits=%llu",
		(unsigned long long)i.bytes_in, (unsigned long long)i.bytes_out,
		(unsigned long long)i.pkts_in, (unsigned long long)i.pkts_out,
		(unsigned long long)i.drops,
		(unsigned long long)i.fig.retransmits);
	link_limits(f, l);
	fputc('\n', f);
}

static int status_dump(struct cloud *c, FILE *f)
{
	struct route_walk w = { c, f, 0 };
	char id[2 * NODE_ID_LEN + 1];
	struct link *l;
	int i;

	for (i = 0; i < NODE_ID_LEN; i++)
		snprintf(id + 2 * i, 3, "%02x", c->self.b[i]);
	route_foreach(c->rt, route_count, &w);
	fprintf(f, "cloud name=%s id=%s uptime_s=%llu links=%u routes=%u\n",
		c->name, id,
		(unsigned long long)((now_ns() - c->start_ns) / 1000000000ull),
		links_count(c), w.n);
	for (l = links_first(c); l; l = link_next(l))
		link_line(f, l);
	if (c->status->routes)
		route_foreach(c->rt, route_line, &w);
	gate_status(c, f);
	mesh_status(c, f);
	fwd_status(c->fwd, f);
	admit_status(c, f);
	origins_status(c->origins, f);
	udp_status(links_udp(c), f);
	return ferror(f) ? -1 : 0;
}

/* The "routes" request: the route lines alone, even with status-verbose
 * 0, without the mesh view and the rest (a big mesh's poller asks this
 * often). */
static int routes_dump(struct cloud *c, FILE *f)
{
	struct route_walk w = { c, f, 0 };

	route_foreach(c->rt, route_line, &w);
	return ferror(f) ? -1 : 0;
}

/* Inside a chroot the path is the jail's: a status file that cannot be
 * made there is warned about at start, not fatal (a chrooted daemon ran
 * without it before this check existed). */
int status_check(struct cloud *c)
{
	const struct conf_val *v = conf_last(c->conf, "status-file");
	const struct conf_val *jail = conf_last(c->conf, "chroot");
	struct status *s = c->status;
	char tmp[4200], where[512];
	int fd;

	if (!s || !s->path)
		return 0;
	if ((fd = bgw_tmp(s->path, tmp, sizeof(tmp))) >= 0) {
		close(fd);
		unlink(tmp);
		return 0;
	}
	conf_where(v, "status-file", where, sizeof(where));
	if (!jail) {
		log_error("%scannot create a file beside \"%s\"", where,
			  s->path);
		return -1;
	}
	s->failed = 1;		/* said here, not again at the first write */
	log_warn("%scannot create a file beside \"%s\" inside chroot "
		 "\"%s\"; no status file until it can", where, s->path,
		 jail->raw);
	return 0;
}

/* What the writer thread made of the last snapshot: said once a streak
 * of failures. */
static void status_written(struct status *s)
{
	int err;

	switch (bgw_result(s->bgw, &err)) {
	case BGW_OK:
		s->failed = 0;
		return;
	case BGW_NONE:
		return;
	case BGW_CREATE:
		errno = err;
		if (!s->failed++)
			log_warn("status-file: cannot create a file beside "
				 "\"%s\"", s->path);
		return;
	case BGW_WRITE:
		errno = err;
		if (!s->failed++)
			log_warn("status-file: cannot write \"%s\"", s->path);
		return;
	}
}

/* The snapshot is made here, in memory; the file is written by the
 * writer's thread (bgwrite.h), so the loop never waits for the disk. */
void status_write(struct cloud *c)
{
	struct status *s = c->status;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int bad;

	if (!s || !s->path)
		return;
	status_written(s);
	if (!(f = open_memstream(&buf, &len))) {
		if (!s->failed++)
			log_warn("status-file: \"%s\"", s->path);
		return;
	}
	bad = status_dump(c, f);
	if ((fclose(f) | bad) != 0) {
		if (!s->failed++)
			log_warnx("status-file: cannot make the snapshot for "
				  "\"%s\"", s->path);
		free(buf);
		return;
	}
	bgw_put(s->bgw, buf, len);
}

/* A snapshot is made in the loop, and its time grows with the table
 * (75 000 routes: 2 ms without their lines, more with them, and several
 * times that under ASan). When it is long, the next one waits
 * STATUS_SHARE times as long, so snapshots take at most 1/STATUS_SHARE
 * of the loop's time whatever the interval asked. */
#define STATUS_SHARE 20

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cloud *c = w->data;
	struct status *s = c->status;
	uint64_t t0 = now_ns();
	double took, next;

	(void)revents;
	status_write(c);
	took = (now_ns() - t0) / 1e9;
	next = took * STATUS_SHARE > s->every ? took * STATUS_SHARE : s->every;
	if ((next > s->every) != (w->repeat > s->every))
		log_debug("status-file: the snapshot took %.1f ms; the next "
			  "in %.0f ms", took * 1e3, next * 1e3);
	w->repeat = next;
	ev_timer_again(loop, w);
}

static void ctl_close(struct ctl_client *cl)
{
	struct status *s = cl->s;
	struct ctl_client **pp;

	for (pp = &s->clients; *pp != cl; pp = &(*pp)->next)
		;
	*pp = cl->next;
	s->nclients--;
	ev_io_stop(s->loop, &cl->io);
	ev_timer_stop(s->loop, &cl->stuck);
	ev_timer_stop(s->loop, &cl->ask);
	close(cl->io.fd);
	free(cl->buf);
	free(cl);
}

/* Send what the client's socket takes; 1 when it is all sent or the
 * client is gone, 0 while some is left. */
static int ctl_send(struct ctl_client *cl)
{
	ssize_t n;

	while (cl->off < cl->len) {
		n = send(cl->io.fd, cl->buf + cl->off, cl->len - cl->off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		cl->off += (size_t)n;
		ev_timer_again(cl->s->loop, &cl->stuck);
	}
	return 1;
}

static void ctl_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	if (ctl_send(w->data))
		ctl_close(w->data);
}

static void ctl_stuck_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_client *cl = w->data;

	(void)loop;
	(void)revents;
	log_info("control %s: a client read nothing for %.0f s, dropped "
		 "(%zu of %zu bytes sent)", cl->s->ctl_path, CTL_STUCK,
		 cl->off, cl->len);
	ctl_close(cl);
}

/* The answer to req ("status", "routes" or "reload"; NULL: none came),
 * sent as the client reads it; then close. */
static void ctl_answer(struct ctl_client *cl, const char *req)
{
	struct status *s = cl->s;
	FILE *f;

	ev_io_stop(s->loop, &cl->io);
	ev_timer_stop(s->loop, &cl->ask);
	if (!(f = open_memstream(&cl->buf, &cl->len))) {
		log_warn("control %s", s->ctl_path);
		ctl_close(cl);
		return;
	}
	if (!req || !*req || !strcmp(req, "status"))
		status_dump(cl->c, f);
	else if (!strcmp(req, "routes"))
		routes_dump(cl->c, f);
	else if (!strcmp(req, "reload"))
		reload_run(cl->c, f, "cloudctl reload");
	else
		fprintf(f, "error text=\"unknown request (status, routes, "
			   "reload)\"\n");
	if (fclose(f) != 0 || cl->len > CTL_SNAP_MAX) {
		log_warnx("control %s: answer of %zu bytes not sent",
			  s->ctl_path, cl->len);
		ctl_close(cl);
		return;
	}
	if (ctl_send(cl)) {
		ctl_close(cl);
		return;
	}
	ev_io_init(&cl->io, ctl_write_cb, cl->io.fd, EV_WRITE);
	ev_io_start(s->loop, &cl->io);
	ev_timer_again(s->loop, &cl->stuck);
}

static void ctl_ask_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	ctl_answer(w->data, NULL);
}

/* The request line, read as it comes; its end (or the client's) answers. */
static void ctl_req_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *cl = w->data;
	ssize_t n;
	char *nl;

	(void)loop;
	(void)revents;
	n = recv(w->fd, cl->req + cl->reqlen, sizeof(cl->req) - 1 - cl->reqlen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		ctl_close(cl);
		return;
	}
	cl->reqlen += (size_t)n;
	cl->req[cl->reqlen] = '\0';
	nl = strpbrk(cl->req, "\r\n");
	if (n > 0 && !nl && cl->reqlen < sizeof(cl->req) - 1)
		return;
	if (nl)
		*nl = '\0';
	ctl_answer(cl, cl->reqlen ? cl->req : NULL);
}

/* One answer per connection, then close. */
static void ctl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cloud *c = w->data;
	struct status *s = c->status;
	struct ctl_client *cl;
	int fd;

	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->nclients >= CTL_CLIENTS) {
		log_warnx("control %s: %d clients already, closing a new one",
			  s->ctl_path, CTL_CLIENTS);
		close(fd);
		return;
	}
	if (!(cl = calloc(1, sizeof(*cl)))) {
		log_warn("control %s", s->ctl_path);
		close(fd);
		return;
	}
	cl->s = s;
	cl->c = c;
	cl->next = s->clients;
	s->clients = cl;
	s->nclients++;
	ev_io_init(&cl->io, ctl_req_cb, fd, EV_READ);
	cl->io.data = cl;
	ev_init(&cl->stuck, ctl_stuck_cb);
	cl->stuck.repeat = CTL_STUCK;
	cl->stuck.data = cl;
	ev_timer_init(&cl->ask, ctl_ask_cb, CTL_ASK, 0.);
	cl->ask.data = cl;
	ev_io_start(loop, &cl->io);
	ev_timer_start(loop, &cl->ask);
}

static int ctl_open(struct cloud *c, struct status *s,
		    const struct conf_val *v)
{
	char where[512];
	int fd;

	conf_where(v, "control", where, sizeof(where));
	if (!v->v.addr.is_unix)
		return log_errorx("%snot a UNIX socket path", where), -1;
	fd = usock_listen(where, v->v.addr.path, 0600, (uid_t)-1, (gid_t)-1,
			  8);
	if (fd < 0)
		return -1;
	s->ctl_path = v->v.addr.path;
	s->loop = c->loop;
	ev_io_init(&s->ctl, ctl_cb, fd, EV_READ);
	s->ctl.data = c;
	ev_io_start(c->loop, &s->ctl);
	return 0;
}

int status_init(struct cloud *c)
{
	const struct conf_val *v = conf_last(c->conf, "status-file");
	const struct conf_val *ctl = conf_last(c->conf, "control");
	uint64_t us = conf_us(c->conf, "status-interval");
	struct status *s;

	if (!v && !ctl)
		return 0;
	if (!(s = calloc(1, sizeof(*s))))
		return -1;
	c->status = s;
	s->routes = conf_int(c->conf, "status-verbose") != 0;
	if (ctl && ctl_open(c, s, ctl) < 0)
		return -1;
	if (!v)
		return 0;
	s->path = v->raw;
	if (!(s->bgw = bgw_new(s->path)))
		return -1;
	if (us < 10000)
		us = 10000;
	s->every = us / 1e6;
	ev_timer_init(&s->timer, status_cb, 0., s->every);
	s->timer.data = c;
	ev_timer_start(c->loop, &s->timer);
	return 0;
}

void status_shutdown(struct cloud *c)
{
	struct status *s = c->status;

	if (!s)
		return;
	ev_timer_stop(c->loop, &s->timer);
	bgw_free(s->bgw);
	while (s->clients)
		ctl_close(s->clients);
	if (s->ctl_path) {
		ev_io_stop(c->loop, &s->ctl);
		close(s->ctl.fd);
		unlink(s->ctl_path);
	}
	free(s);
	c->status = NULL;
}
