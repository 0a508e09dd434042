/*
 * libcloudgate: the client side of the gate socket. One non-blocking
 * socket, one bounded output queue written in batches, one input buffer
 * read until EAGAIN and parsed a message at a time. Nothing is allocated
 * per packet: the announced set is the only thing that grows. The runtime
 * that drives it for a gate's event loop (cg_start, cg_run) is cgrun.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cg_int.h"
#include "mono.h"

_Static_assert(CG_PAYLOAD_MAX == GP_PAYLOAD_MAX, "payload limits differ");
_Static_assert(CG_ADDR_MAX == GP_ADDR_MAX, "address limits differ");
_Static_assert(CG_NODE_ID == GP_ID_LEN, "node ID sizes differ");

#define CG_OUTBUF (1024 * 1024)
/* After compaction less than one message is left, so one always fits. */
#define CG_INBUF (2 * GP_MSG_MAX)

static void cg_seterr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cg_seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* Write what is queued, in as few write() calls as the socket allows.
 * 0 all written, 1 some left, -1 the socket is dead. */
int cgi_write_out(struct cloudgate *g)
{
	ssize_t n;

	while (g->ohead < g->otail) {
		n = send(g->fd, g->out + g->ohead, g->otail - g->ohead,
			 MSG_NOSIGNAL);
		if (n > 0) {
			g->ohead += (size_t)n;
			g->last_tx = mono_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			g->blocked = 1;
			return 1;
		}
		g->broken = 1;
		return -1;
	}
	g->ohead = g->otail = 0;
	g->blocked = 0;
	return 0;
}

/* Room for need bytes at the tail of the output queue: compact, then
 * write if that is not enough. 0 or -1 (errno EAGAIN: queue full). */
static int cg_room(struct cloudgate *g, size_t need)
{
	if (CG_OUTBUF - g->otail >= need)
		return 0;
	if (cgi_write_out(g) < 0) {
		errno = EPIPE;
		return -1;
	}
	if (g->ohead > 0) {
		memmove(g->out, g->out + g->ohead, g->otail - g->ohead);
		g->otail -= g->ohead;
		g->ohead = 0;
	}
	if (CG_OUTBUF - g->otail >= need)
		return 0;
	errno = EAGAIN;
	return -1;
}

/* Send now unless the socket already pushed back (then cg_flush does). */
static int cg_kick(struct cloudgate *g)
{
	if (g->blocked)
		return 0;
	if (cgi_write_out(g) < 0) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

int cgi_queue_keepalive(struct cloudgate *g)
{
	if (cg_room(g, GP_HDR) < 0)
		return -1;
	g->otail += gp_keepalive_encode(g->out + g->otail, GP_HDR);
	return cg_kick(g);
}

static int cg_queue_announce(struct cloudgate *g)
{
	size_t need = GP_HDR + 2, i, n;

	for (i = 0; i < g->nann; i++)
		need += GP_ANNOUNCE_ENTRY + g->ann[i].len;
	if (cg_room(g, need) < 0)
		return -1;
	n = gp_announce_encode(g->out + g->otail, CG_OUTBUF - g->otail,
			       g->ann, g->nann);
	if (n == 0) {
		errno = EINVAL;
		return -1;
	}
	g->otail += n;
	return cg_kick(g);
}

/* Read until EAGAIN or the buffer is full. Bytes read, or -1 at EOF (once
 * nothing is left) or on error. Invalidates views into the old buffer. */
long cgi_fill(struct cloudgate *g)
{
	size_t got = 0;
	ssize_t n;

	if (g->ihead > 0) {
		memmove(g->in, g->in + g->ihead, g->itail - g->ihead);
		g->itail -= g->ihead;
		g->ihead = 0;
	}
	while (!g->eof && g->itail < CG_INBUF) {
		n = read(g->fd, g->in + g->itail, CG_INBUF - g->itail);
		if (n > 0) {
			g->itail += (size_t)n;
			got += (size_t)n;
		} else if (n == 0) {
			g->eof = 1;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			g->broken = 1;
			return -1;
		}
	}
	if (got > 0) {
		g->last_rx = mono_ms();
		return (long)got;
	}
	if (g->eof) {
		errno = ECONNRESET;
		return -1;
	}
	return 0;
}

static int cg_garbage(struct cloudgate *g)
{
	g->broken = 1;
	errno = EPROTO;
	return -1;
}

/* The next whole message in the input buffer: 1 and its type/payload,
 * 0 if none is complete, -1 if the stream is garbage. */
static int cg_next_msg(struct cloudgate *g, uint8_t *type,
		       const uint8_t **pl, size_t *plen)
{
	long n;

	n = gp_frame(g->in + g->ihead, g->itail - g->ihead, type, pl, plen);
	if (n < 0)
		return cg_garbage(g);
	if (n == 0)
		return 0;
	g->ihead += (size_t)n;
	return 1;
}

static void cg_addr_out(struct cg_addr *out, const struct addr *a)
{
	memset(out, 0, sizeof(*out));
	out->instance = a->inst;
	out->len = a->len;
	out->plen = a->plen;
	memcpy(out->bytes, a->b, a->len);
}

/* A PREFIX: each entry to the prefix handler, the first flagged full when
 * the message starts a whole set. A gate that never subscribed has no
 * buffer for it and ignores it. */
static int cg_on_prefix(struct cloudgate *g, const uint8_t *pl, size_t plen)
{
	struct cg_prefix p;
	uint8_t flags;
	size_t i, n;

	if (g->pfx == NULL)
		return 0;
	if (gp_prefix_decode(pl, plen, &flags, g->pfx, GP_PREFIX_MAX, &n) < 0)
		return -1;
	for (i = 0; i < n && g->h.prefix != NULL; i++) {
		cg_addr_out(&p.addr, &g->pfx[i].addr);
		p.up = g->pfx[i].up;
		p.local = g->pfx[i].local;
		p.metric = g->pfx[i].metric;
		g->h.prefix(g->harg, &p, i == 0 && (flags & GP_PF_FULL));
	}
	return 0;
}

static int cg_on_noroute_msg(struct cloudgate *g, const uint8_t *pl,
			     size_t plen)
{
	struct gp_noroute nr;
	struct cg_noroute ev;

	if (gp_noroute_decode(pl, plen, &nr) < 0)
		return -1;
	if (g->on_noroute == NULL)
		return 0;
	ev.instance = nr.inst;
	ev.dlen = nr.dlen;
	ev.dst = nr.dst;
	g->on_noroute(g->on_noroute_arg, &ev);
	return 0;
}

/* A LINK goes to the application's callback, a PREFIX to its handler; a
 * NODE (normally read by cg_open) replaces the daemon's ID. -1 if
 * malformed. */
static int cg_on_event(struct cloudgate *g, uint8_t type, const uint8_t *pl,
		       size_t plen)
{
	struct cg_link_event ev;
	struct gp_link l;

	if (type == GP_NODE)
		return gp_node_decode(pl, plen, g->node);
	if (type == GP_PREFIX)
		return cg_on_prefix(g, pl, plen);
	if (type == GP_NOROUTE)
		return cg_on_noroute_msg(g, pl, plen);
	if (gp_link_decode(pl, plen, &l) < 0)
		return -1;
	if (g->on_link == NULL)
		return 0;
	memcpy(ev.id, l.id, sizeof(ev.id));
	ev.up = l.up;
	ev.why = l.why;
	g->on_link(g->on_link_arg, &ev);
	return 0;
}

/* Parse buffered messages until a packet: 1, 0 (none buffered), -1. */
int cgi_next_packet(struct cloudgate *g, struct cg_packet *p)
{
	struct gp_packet gp;
	const uint8_t *pl;
	size_t plen;
	uint8_t type;
	int r;

	while ((r = cg_next_msg(g, &type, &pl, &plen)) == 1) {
		if (type == GP_KEEPALIVE) {
			if (cgi_queue_keepalive(g) < 0 && errno != EAGAIN)
				return -1;
			continue;
		}
		if (type == GP_LINK || type == GP_NODE || type == GP_PREFIX ||
		    type == GP_NOROUTE) {
			if (cg_on_event(g, type, pl, plen) < 0)
				return cg_garbage(g);
			continue;
		}
		if ((type != GP_PACKET && type != GP_OFFLOAD) ||
		    gp_packet_decode(pl, plen, &gp) < 0)
			return cg_garbage(g);
		p->flags = type == GP_OFFLOAD ? CG_PKT_OFFLOAD : 0;
		p->instance = gp.inst;
		p->dlen = gp.dlen;
		p->slen = gp.slen;
		p->dst = gp.dst;
		p->src = gp.src;
		p->data = gp.data;
		p->len = gp.len;
		return 1;
	}
	return r;
}

/* Blocking hello exchange on a fresh socket, within GP_HELLO_TIMEOUT_MS. */
static int cg_wait(struct cloudgate *g, uint64_t deadline, char *err,
		   size_t errsize)
{
	struct pollfd pfd = { .fd = g->fd, .events = POLLIN };
	uint64_t now = mono_ms();
	int r;

	if (g->ohead < g->otail)
		pfd.events |= POLLOUT;
	if (now >= deadline) {
		cg_seterr(err, errsize, "%s: no hello from the daemon",
			  g->path);
		errno = ETIMEDOUT;
		return -1;
	}
	r = poll(&pfd, 1, (int)(deadline - now));
	if (r < 0 && errno != EINTR) {
		cg_seterr(err, errsize, "%s: poll: %s", g->path,
			  strerror(errno));
		return -1;
	}
	if (r > 0 && (pfd.revents & POLLOUT) && cgi_write_out(g) < 0) {
		cg_seterr(err, errsize, "%s: write: %s", g->path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

static int cg_check_hello(struct cloudgate *g, const uint8_t *pl,
			  size_t plen, char *err, size_t errsize)
{
	uint16_t version = 0;
	int r;

	r = gp_hello_decode(pl, plen, &version, g->daemon);
	if (plen >= 2 && version != GP_VERSION) {
		cg_seterr(err, errsize, "%s: daemon speaks gate protocol "
			  "version %u, this gate speaks %u", g->path,
			  (unsigned)version, (unsigned)GP_VERSION);
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (r < 0) {
		cg_seterr(err, errsize, "%s: malformed hello from the daemon",
			  g->path);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* The next message before deadline: 1 (and its type and payload), 0 if
 * none came in time, -1 with err set. */
static int cg_await(struct cloudgate *g, uint64_t deadline, uint8_t *type,
		    const uint8_t **pl, size_t *plen, char *err,
		    size_t errsize)
{
	long got;
	int r;

	for (;;) {
		r = cg_next_msg(g, type, pl, plen);
		if (r < 0)
			cg_seterr(err, errsize, "%s: daemon sent garbage "
				  "during the hello", g->path);
		if (r != 0)
			return r;
		got = cgi_fill(g);
		if (got < 0) {
			cg_seterr(err, errsize, "%s: daemon closed the "
				  "connection during the hello", g->path);
			errno = ECONNRESET;
			return -1;
		}
		if (got > 0)
			continue;
		if (mono_ms() >= deadline)
			return 0;
		if (cg_wait(g, deadline, err, errsize) < 0)
			return -1;
	}
}

/* The daemon's NODE follows its HELLO. A daemon (or a test hub) without
 * NODE gets GP_NODE_WAIT_MS; another message is left for cg_recv. */
static int cg_take_node(struct cloudgate *g, char *err, size_t errsize)
{
	const uint8_t *pl;
	size_t plen;
	uint8_t type;
	int r;

	r = cg_await(g, mono_ms() + GP_NODE_WAIT_MS, &type, &pl, &plen,
		     err, errsize);
	if (r <= 0)
		return r;
	if (type != GP_NODE) {
		g->ihead -= GP_HDR + plen;
		return 0;
	}
	if (gp_node_decode(pl, plen, g->node) < 0) {
		cg_seterr(err, errsize, "%s: malformed node ID from the "
			  "daemon", g->path);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int cg_handshake(struct cloudgate *g, char *err, size_t errsize)
{
	uint64_t deadline = mono_ms() + GP_HELLO_TIMEOUT_MS;
	const uint8_t *pl;
	size_t plen;
	uint8_t type;
	int r;

	g->otail += gp_hello_encode(g->out, CG_OUTBUF, GP_VERSION, g->name);
	if (cgi_write_out(g) < 0) {
		cg_seterr(err, errsize, "%s: write: %s", g->path,
			  strerror(errno));
		return -1;
	}
	r = cg_await(g, deadline, &type, &pl, &plen, err, errsize);
	if (r == 0) {
		cg_seterr(err, errsize, "%s: no hello from the daemon",
			  g->path);
		errno = ETIMEDOUT;
		return -1;
	}
	if (r < 0 || type != GP_HELLO) {
		if (r > 0)
			cg_seterr(err, errsize, "%s: daemon sent garbage "
				  "instead of a hello", g->path);
		errno = r < 0 ? errno : EPROTO;
		return -1;
	}
	if (cg_check_hello(g, pl, plen, err, errsize) < 0)
		return -1;
	return cg_take_node(g, err, errsize);
}

static void cg_reset(struct cloudgate *g)
{
	g->ohead = g->otail = g->ihead = g->itail = 0;
	g->blocked = g->eof = g->broken = 0;
	g->last_rx = g->last_tx = mono_ms();
}

/* Take over a connected socket and exchange hellos. */
static int cg_attach(struct cloudgate *g, int fd, char *err, size_t errsize)
{
	int fl;

	g->fd = fd;
	cg_reset(g);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		cg_seterr(err, errsize, "%s: fcntl: %s", g->path,
			  strerror(errno));
		return -1;
	}
	g->more = 1;	/* the hello may have left a message buffered */
	return cg_handshake(g, err, errsize);
}

static int cg_connect(const char *path, char *err, size_t errsize)
{
	struct sockaddr_un sun;
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cg_seterr(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		cg_seterr(err, errsize, "cannot reach the daemon at %s: %s",
			  path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Connect and attach; on failure the socket is closed, errno kept. */
int cgi_dial(struct cloudgate *g, char *err, size_t errsize)
{
	int fd, e;

	fd = cg_connect(g->path, err, errsize);
	if (fd < 0)
		return -1;
	if (cg_attach(g, fd, err, errsize) < 0) {
		e = errno;
		close(fd);
		g->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

static struct cloudgate *cg_new(const char *path, const char *name,
				char *err, size_t errsize)
{
	struct cloudgate *g;

	if (name == NULL)
		name = "gate";
	if (strlen(path) >= CG_PATH_MAX || path[0] == '\0' ||
	    !gp_name_valid(name, strlen(name))) {
		cg_seterr(err, errsize, "%s: bad socket path or gate name "
			  "\"%s\"", path, name);
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		goto nomem;
	g->fd = -1;
	g->out = malloc(CG_OUTBUF);
	g->in = malloc(CG_INBUF);
	if (g->out == NULL || g->in == NULL)
		goto nomem;
	strcpy(g->path, path);
	strcpy(g->name, name);
	return g;
nomem:
	cg_close(g);
	cg_seterr(err, errsize, "out of memory");
	errno = ENOMEM;
	return NULL;
}

int cg_version(void)
{
	return CG_VERSION;
}

struct cloudgate *cg_open(const char *path, const char *name, char *err,
			  size_t errsize)
{
	struct cloudgate *g;
	int e;

	g = cg_new(path, name, err, errsize);
	if (g == NULL)
		return NULL;
	if (cgi_dial(g, err, errsize) < 0) {
		e = errno;
		cg_close(g);
		errno = e;
		return NULL;
	}
	return g;
}

void cg_close(struct cloudgate *g)
{
	if (g == NULL)
		return;
	if (g->fd >= 0)
		close(g->fd);
	free(g->ann);
	free(g->pfx);
	free(g->out);
	free(g->in);
	free(g);
}

int cg_fd(const struct cloudgate *g)
{
	return g->fd;
}

int cg_announce(struct cloudgate *g, const struct cg_addr *a, size_t n)
{
	struct addr *set = NULL;
	size_t i;

	if (n > GP_ANNOUNCE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (n > 0 && (set = calloc(n, sizeof(*set))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		set[i].inst = a[i].instance;
		set[i].len = a[i].len;
		set[i].plen = a[i].plen;
		if (!gp_addr_valid(&set[i])) {
			free(set);
			errno = EINVAL;
			return -1;
		}
		memcpy(set[i].b, a[i].bytes, a[i].len);
	}
	free(g->ann);
	g->ann = set;
	g->nann = n;
	g->announced = 1;
	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	return cg_queue_announce(g);
}

int cg_can_send(struct cloudgate *g, size_t len)
{
	if (g->broken || g->fd < 0)
		return 0;
	return cg_room(g, GP_HDR + 4 + GP_PACKET_FIXED + 2 * CG_ADDR_MAX +
			      len) == 0;
}

int cg_send(struct cloudgate *g, const struct cg_packet *p)
{
	return cg_send_flow(g, p, 0);
}

int cg_send_flow(struct cloudgate *g, const struct cg_packet *p,
		 uint32_t flow)
{
	struct gp_packet gp = {
		.inst = p->instance, .dlen = p->dlen, .slen = p->slen,
		.dst = p->dst, .src = p->src, .data = p->data, .len = p->len,
		.offload = !!(p->flags & CG_PKT_OFFLOAD),
		.has_flow = flow != 0, .flow = flow,
	};
	size_t need = GP_HDR + (flow ? 4 : 0) + GP_PACKET_FIXED + p->dlen +
		      p->slen + p->len;

	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	if (p->dlen > CG_ADDR_MAX || p->slen > CG_ADDR_MAX ||
	    p->len > CG_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (cg_room(g, need) < 0)
		return -1;
	g->otail += gp_packet_encode(g->out + g->otail, CG_OUTBUF - g->otail,
				     &gp);
	/* batch: one write per cg_flush, unless the queue fills up */
	return g->otail - g->ohead >= CG_OUTBUF / 4 ? cg_kick(g) : 0;
}

static int cg_queue_caps(struct cloudgate *g)
{
	if (cg_room(g, GP_HDR + 4) < 0)
		return -1;
	g->otail += gp_caps_encode(g->out + g->otail, GP_HDR + 4, g->caps);
	return cg_kick(g);
}

int cg_set_offload(struct cloudgate *g, int on)
{
	if (on)
		g->caps |= GP_CAP_OFFLOAD;
	else
		g->caps &= ~(uint32_t)GP_CAP_OFFLOAD;
	return cg_queue_caps(g);
}

int cg_flush(struct cloudgate *g)
{
	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	return cgi_write_out(g);
}

/* Keepalive duty on every call; returns ms until the next duty. */
static int cg_keepalive(struct cloudgate *g, uint64_t now)
{
	uint64_t due = g->last_tx + GP_KEEPALIVE_MS;

	if (now >= due && g->ohead == g->otail) {
		if (cgi_queue_keepalive(g) < 0 && errno != EAGAIN)
			return -1;
		due = now + GP_KEEPALIVE_MS;
	}
	return now >= due ? 1000 : (int)(due - now);
}

/* Nothing is buffered: wait for input (or room to write) up to wait_ms. */
static int cg_poll(struct cloudgate *g, int wait_ms)
{
	struct pollfd pfd = { .fd = g->fd, .events = POLLIN };

	if (g->ohead < g->otail)
		pfd.events |= POLLOUT;
	if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR)
		return -1;
	if ((pfd.revents & POLLOUT) && cgi_write_out(g) < 0) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

int cg_recv(struct cloudgate *g, struct cg_packet *p, int timeout_ms)
{
	uint64_t start = mono_ms(), now;
	long got;
	int r, ka, wait;

	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	for (;;) {
		r = cgi_next_packet(g, p);
		if (r != 0)
			return r;
		now = mono_ms();
		ka = cg_keepalive(g, now);
		if (ka < 0)
			return -1;
		got = cgi_fill(g);
		if (got < 0)
			return -1;
		if (got > 0)
			continue;
		if (now - g->last_rx >= GP_DEAD_MS) {
			g->broken = 1;
			errno = ETIMEDOUT;
			return -1;
		}
		if (timeout_ms == 0)
			return 0;
		wait = ka;
		if (timeout_ms > 0) {
			if (now - start >= (uint64_t)timeout_ms)
				return 0;
			if ((uint64_t)wait > timeout_ms - (now - start))
				wait = (int)(timeout_ms - (now - start));
		}
		if (cg_poll(g, wait) < 0)
			return -1;
	}
}

static int cg_queue_subscribe(struct cloudgate *g, uint32_t inst)
{
	if (cg_room(g, GP_HDR + 4) < 0)
		return -1;
	g->otail += gp_subscribe_encode(g->out + g->otail, GP_HDR + 4, inst);
	return cg_kick(g);
}

/* A new connection gets what the old one had been told. */
int cgi_resend(struct cloudgate *g)
{
	size_t i;

	if (g->announced && cg_queue_announce(g) < 0)
		return -1;
	if (g->caps && cg_queue_caps(g) < 0)
		return -1;
	for (i = 0; i < g->nsubs; i++)
		if (cg_queue_subscribe(g, g->subs[i]) < 0)
			return -1;
	return 0;
}

int cg_reconnect(struct cloudgate *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	if (cgi_dial(g, NULL, 0) < 0)
		return -1;
	return cgi_resend(g);
}

int cg_subscribe(struct cloudgate *g, uint32_t instance)
{
	size_t i;

	for (i = 0; i < g->nsubs && g->subs[i] != instance; i++)
		;
	if (i == CG_SUBSCRIBE_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if (g->pfx == NULL &&
	    (g->pfx = calloc(GP_PREFIX_MAX, sizeof(*g->pfx))) == NULL)
		return -1;
	if (i == g->nsubs)
		g->subs[g->nsubs++] = instance;
	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	return cg_queue_subscribe(g, instance);
}

const char *cg_node_name(const struct cloudgate *g)
{
	return g->daemon;
}

const uint8_t *cg_node_id(const struct cloudgate *g)
{
	return g->node;
}

void cg_on_link(struct cloudgate *g,
		void (*cb)(void *arg, const struct cg_link_event *ev),
		void *arg)
{
	g->on_link = cb;
	g->on_link_arg = arg;
}

int cg_on_noroute(struct cloudgate *g,
		  void (*cb)(void *arg, const struct cg_noroute *nr),
		  void *arg)
{
	g->on_noroute = cb;
	g->on_noroute_arg = arg;
	if (cb)
		g->caps |= GP_CAP_NOROUTE;
	else
		g->caps &= ~(uint32_t)GP_CAP_NOROUTE;
	return g->fd < 0 ? 0 : cg_queue_caps(g);
}

/* One sendmsg carries the whole SOCKET message and the descriptor on its
 * first byte; what a short write leaves goes through the queue. */
static int cg_send_socket(struct cloudgate *g, int fd, const uint8_t *msg,
			  size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(g->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n < 0) {
		g->broken = 1;
		errno = EPIPE;
		return -1;
	}
	g->last_tx = mono_ms();
	memcpy(g->out, msg + n, len - (size_t)n);	/* the queue is empty */
	g->ohead = 0;
	g->otail = len - (size_t)n;
	g->blocked = g->otail > 0;
	return 0;
}

int cg_hand_socket(struct cloudgate *g, int fd, const uint8_t id[CG_NODE_ID])
{
	uint8_t msg[GP_HDR + GP_ID_LEN];
	int r;

	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	r = cgi_write_out(g);
	if (r != 0) {
		errno = r > 0 ? EAGAIN : EPIPE;
		return -1;
	}
	return cg_send_socket(g, fd, msg,
			      gp_socket_encode(msg, sizeof(msg), id));
}

int cg_note(struct cloudgate *g, const uint8_t id[CG_NODE_ID],
	    const char *name, const char *text)
{
	size_t nlen = strlen(name), tlen = strlen(text);
	struct gp_note n;

	if (g->broken || g->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	if (!gp_name_valid(name, nlen) ||
	    !gp_text_valid(text, tlen, GP_TEXT_MAX)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(n.id, id, GP_ID_LEN);
	memcpy(n.name, name, nlen + 1);
	memcpy(n.text, text, tlen + 1);
	if (cg_room(g, GP_HDR + GP_ID_LEN + 2 + nlen + tlen) < 0)
		return -1;
	g->otail += gp_note_encode(g->out + g->otail, CG_OUTBUF - g->otail,
				   &n);
	return cg_kick(g);
}

/* Same forms as addr_parse_hex: "01:02:ff" (two digits a group, chosen
 * when there is a colon) or "0102ff". */
int cg_parse_hex(const char *s, uint8_t *out, size_t cap)
{
	struct addr a;

	if (addr_parse_hex(s, 0, &a) < 0 || a.len > cap)
		return -1;
	memcpy(out, a.b, a.len);
	return a.len;
}
