/*
 * Peer links. A link is one TCP connection with one TLS session. It is
 * closed only from the loop's prepare callback (link_fail marks it), so no
 * callback ever runs on a freed link.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytes.h"
#include "cloud.h"
#include "conf.h"
#include "fwd.h"
#include "link.h"
#include "log.h"
#include "net.h"
#include "queue.h"
#include "route.h"
#include "tls.h"
#include "wire.h"

#define TLS_CHUNK 16384			/* one TLS record */
#define IN_CAP (FRAME_HDR + FRAME_MAX + 2 * TLS_CHUNK)
#define CTRL_CAP (8 * 1024 * 1024)	/* routes are never dropped; a full
					 * table of ~150k routes fits, and
					 * only touched pages cost memory */
#define DATA_CAP (768 * 1024)		/* data is dropped past this */
#define RED_MIN (DATA_CAP / 2)		/* random early drop from here */
#define ROUTES_PER_FRAME (FRAME_MAX / 47)	/* smallest entry: 47 bytes */

/* A link exists once TCP is connected (net.c does the connecting). */
enum link_state { LS_HANDSHAKE, LS_HELLO, LS_UP };

static const char *state_name[] = { "handshake", "hello", "up" };

struct link {
	struct link *next, *dirty_next;
	struct links *ls;
	struct connector *conn;		/* outbound: retried when we die */
	uint32_t id;
	int fd;
	enum link_state st;
	int dirty;
	const char *doomed;		/* why it must close, or NULL */
	gnutls_session_t tls;
	struct tls_peer peer;
	ev_io io;
	ev_timer timer;
	struct queue in, ctrl, data;
	struct queue *pend_q;		/* handed to GnuTLS, got EAGAIN */
	size_t pend;
	struct queue *cur_q;		/* queue whose frame is half sent */
	size_t cur_left;
	char addr[NET_ADDRSTRLEN];
	uint64_t t_start, last_rx, srtt_us;
	uint64_t ping_sent;		/* the ping in flight, 0 if none */
	int late;			/* srtt raised by an unanswered ping */
	uint64_t bytes_in, bytes_out, pkts_in, pkts_out, drops;
};

struct links {
	struct cloud *c;
	struct tls *tls;
	struct net *net;
	struct link *list, *dirty;
	struct link **by_id;		/* peer id - 1 -> link */
	uint32_t nids;
	unsigned count;
	unsigned max_conn;
	uint64_t keepalive_us, timeout_us;
	ev_prepare flusher;
	struct route_update *scratch;	/* decoded routes of one frame */
	uint64_t rng;
};

static void link_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void link_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: for early drops and jitter only, never for identities. */
static uint32_t links_rand(struct links *ls)
{
	ls->rng ^= ls->rng >> 12;
	ls->rng ^= ls->rng << 25;
	ls->rng ^= ls->rng >> 27;
	return (uint32_t)((ls->rng * 2685821657736338717ull) >> 32);
}

static void link_mark(struct link *l)
{
	if (l->dirty)
		return;
	l->dirty = 1;
	l->dirty_next = l->ls->dirty;
	l->ls->dirty = l;
}

static void link_fail(struct link *l, const char *why)
{
	if (!l->doomed)
		l->doomed = why;
	link_mark(l);
}

static void link_want(struct link *l, int events)
{
	struct ev_loop *loop = l->ls->c->loop;

	if (ev_is_active(&l->io) && (l->io.events & (EV_READ | EV_WRITE)) ==
					    events)
		return;
	ev_io_stop(loop, &l->io);
	ev_io_set(&l->io, l->fd, events);
	ev_io_start(loop, &l->io);
}

static uint32_t link_cost(const struct link *l)
{
	/* metric units of 10 us; a link never costs less than 1 */
	uint64_t cost = l->srtt_us ? l->srtt_us / 10 : HOP_COST;

	return cost ? (uint32_t)(cost > 1000000 ? 1000000 : cost) : 1;
}

/* ---- id table ---------------------------------------------------------- */

static int link_take_id(struct links *ls, struct link *l)
{
	uint32_t i, n;
	struct link **t;

	for (i = 0; i < ls->nids; i++)
		if (!ls->by_id[i])
			goto found;
	n = ls->nids ? ls->nids * 2 : 16;
	t = realloc(ls->by_id, n * sizeof(*t));
	if (!t)
		return -1;
	memset(t + ls->nids, 0, (n - ls->nids) * sizeof(*t));
	ls->by_id = t;
	i = ls->nids;
	ls->nids = n;
found:
	ls->by_id[i] = l;
	l->id = i + 1;
	return 0;
}

struct link *links_by_peer(struct cloud *c, uint32_t peer)
{
	struct links *ls = c->links;

	if (peer == 0 || peer > ls->nids)
		return NULL;
	return ls->by_id[peer - 1];
}

uint32_t link_peer(const struct link *l)
{
	return l->id;
}

const char *links_peer_name(struct cloud *c, uint32_t peer)
{
	struct link *l = links_by_peer(c, peer);

	return l ? l->peer.name : "?";
}

unsigned links_count(struct cloud *c)
{
	return c->links->count;
}

/* ---- life and death ------------------------------------------------------ */

static struct link *link_new(struct links *ls, int fd, const char *addr,
			     int is_server)
{
	struct link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->ls = ls;
	l->fd = fd;
	l->peer.is_server = is_server;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->t_start = l->last_rx = now_ns();
	if (queue_init(&l->in, IN_CAP) || queue_init(&l->ctrl, CTRL_CAP) ||
	    queue_init(&l->data, DATA_CAP) || link_take_id(ls, l) ||
	    tls_session(ls->tls, fd, &l->peer, &l->tls)) {
		if (l->id)
			ls->by_id[l->id - 1] = NULL;
		queue_free(&l->in);
		queue_free(&l->ctrl);
		queue_free(&l->data);
		free(l);
		return NULL;
	}
	l->st = LS_HANDSHAKE;
	ev_io_init(&l->io, link_io_cb, fd, EV_READ | EV_WRITE);
	l->io.data = l;
	ev_timer_init(&l->timer, link_timer_cb, HANDSHAKE_TIMEOUT_US / 1e6,
		      ls->keepalive_us / 1e6);
	l->timer.data = l;
	ev_io_start(ls->c->loop, &l->io);
	ev_timer_start(ls->c->loop, &l->timer);
	l->next = ls->list;
	ls->list = l;
	ls->count++;
	return l;
}

static void link_unlist(struct link *l)
{
	struct links *ls = l->ls;
	struct link **pp;

	for (pp = &ls->list; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	for (pp = &ls->dirty; *pp; pp = &(*pp)->dirty_next)
		if (*pp == l) {
			*pp = l->dirty_next;
			break;
		}
	ls->by_id[l->id - 1] = NULL;
	ls->count--;
}

static void link_free(struct link *l, const char *why)
{
	struct links *ls = l->ls;
	int was_up = l->st == LS_UP;

	if (was_up)
		log_info("link %s (%s) down: %s", l->peer.name, l->addr, why);
	else
		log_info("link %s: closed: %s", l->addr, why);
	ev_io_stop(ls->c->loop, &l->io);
	ev_timer_stop(ls->c->loop, &l->timer);
	link_unlist(l);
	/* only now: the route module may call back with updates */
	if (was_up)
		route_peer_down(ls->c->rt, l->id);
	gnutls_deinit(l->tls);
	close(l->fd);
	if (l->conn)
		net_link_down(l->conn, was_up);
	queue_free(&l->in);
	queue_free(&l->ctrl);
	queue_free(&l->data);
	free(l);
}

/* ---- output ------------------------------------------------------------- */

/* Append one control frame; a full control queue dooms the link. */
static uint8_t *ctrl_frame(struct link *l, uint8_t type, size_t plen)
{
	uint8_t *p = queue_reserve(&l->ctrl, FRAME_HDR + plen);

	if (!p) {
		link_fail(l, "control queue overflow (peer too slow)");
		return NULL;
	}
	wire_put_hdr(p, type, plen);
	link_mark(l);
	return p + FRAME_HDR;
}

static void ctrl_commit(struct link *l, size_t plen)
{
	queue_commit(&l->ctrl, FRAME_HDR + plen);
}

static void send_ping(struct link *l, uint8_t type, uint64_t stamp)
{
	uint8_t *p = ctrl_frame(l, type, 8);

	if (!p)
		return;
	put64(p, stamp);
	ctrl_commit(l, 8);
}

static void send_hello(struct link *l)
{
	struct cloud *c = l->ls->c;
	struct wire_hello h = { .version = PROTO_VERSION, .caps = 0 };
	uint8_t *p = ctrl_frame(l, FR_HELLO, WIRE_HELLO_MAX);
	size_t n;

	if (!p)
		return;
	h.id = c->self;
	snprintf(h.name, sizeof(h.name), "%s", c->name);
	n = wire_hello_encode(&h, p, WIRE_HELLO_MAX);
	wire_put_hdr(p - FRAME_HDR, FR_HELLO, n);
	ctrl_commit(l, n);
}

/* After sending r bytes from q, track whether a frame is half sent, so
 * control and data frames never interleave inside one frame. */
static void link_advance(struct link *l, struct queue *q, size_t r)
{
	while (r > 0) {
		size_t take;

		if (l->cur_left == 0)
			l->cur_left = FRAME_HDR + get24(q->buf + q->head + 1);
		take = r < l->cur_left ? r : l->cur_left;
		queue_consume(q, take);
		l->cur_left -= take;
		r -= take;
	}
	l->cur_q = l->cur_left ? q : NULL;
}

static struct queue *link_pick(struct link *l)
{
	if (l->cur_q)
		return l->cur_q;
	if (queue_len(&l->ctrl))
		return &l->ctrl;
	if (queue_len(&l->data))
		return &l->data;
	return NULL;
}

static void link_flush(struct link *l)
{
	struct queue *q;
	ssize_t r;

	if (l->st == LS_HANDSHAKE)
		return;
	for (;;) {
		if (l->pend) {
			q = l->pend_q;
			r = gnutls_record_send(l->tls, NULL, 0);
		} else {
			size_t n;

			if (!(q = link_pick(l)))
				break;
			n = queue_len(q) < TLS_CHUNK ? queue_len(q) : TLS_CHUNK;
			r = gnutls_record_send(l->tls, q->buf + q->head, n);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
				l->pend = n;
				l->pend_q = q;
			}
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			link_want(l, EV_READ | EV_WRITE);
			return;
		}
		if (r < 0) {
			link_fail(l, gnutls_strerror((int)r));
			return;
		}
		l->pend = 0;
		l->bytes_out += (uint64_t)r;
		link_advance(l, q, (size_t)r);
	}
	link_want(l, EV_READ);
}

int link_send_data(struct link *l, const struct pkt *p)
{
	struct links *ls = l->ls;
	size_t qlen = queue_len(&l->data);
	uint8_t *b;
	size_t h;

	if (l->st != LS_UP)
		goto drop;
	if (qlen > RED_MIN &&
	    links_rand(ls) % (DATA_CAP - RED_MIN) < qlen - RED_MIN)
		goto drop;
	b = queue_reserve(&l->data, WIRE_DATA_HDR_MAX + p->len);
	if (!b)
		goto drop;
	h = wire_data_hdr(p, b);
	memcpy(b + h, p->data, p->len);
	queue_commit(&l->data, h + p->len);
	l->pkts_out++;
	link_mark(l);
	return 0;
drop:
	l->drops++;
	return -1;
}

void links_broadcast(struct cloud *c, const struct link *except,
		     const struct pkt *p)
{
	struct link *l;

	for (l = c->links->list; l; l = l->next)
		if (l != except && l->st == LS_UP)
			link_send_data(l, p);
}

/* ---- input -------------------------------------------------------------- */

static int frame_hello(struct link *l, const uint8_t *p, size_t len)
{
	struct cloud *c = l->ls->c;
	struct wire_hello h;

	if (l->st != LS_HELLO || wire_hello_decode(p, len, &h) < 0)
		return link_fail(l, "malformed hello"), -1;
	if (h.version != PROTO_VERSION) {
		log_warnx("link %s: peer speaks protocol version %u, we speak %u",
			  l->addr, h.version, PROTO_VERSION);
		return link_fail(l, "protocol version mismatch"), -1;
	}
	if (memcmp(h.id.b, l->peer.id.b, NODE_ID_LEN))
		return link_fail(l, "hello id does not match certificate"), -1;
	if (!memcmp(h.id.b, c->self.b, NODE_ID_LEN))
		return link_fail(l, "connected to itself"), -1;
	l->st = LS_UP;
	log_info("link %s (%s) up", l->peer.name, l->addr);
	ev_timer_stop(c->loop, &l->timer);
	ev_timer_set(&l->timer, l->ls->keepalive_us / 1e6,
		     l->ls->keepalive_us / 1e6);
	ev_timer_start(c->loop, &l->timer);
	l->ping_sent = now_ns();
	send_ping(l, FR_PING, l->ping_sent);
	route_peer_up(c->rt, l->id, link_cost(l));
	return 0;
}

static void frame_pong(struct link *l, const uint8_t *p, size_t len)
{
	uint64_t sent, rtt;

	if (len != 8)
		return;
	sent = get64(p);
	if (sent != l->ping_sent || !sent)
		return;
	rtt = (now_ns() - sent) / 1000;
	/* a guess raised by lateness gives way to the first real sample */
	l->srtt_us = l->srtt_us && !l->late ? (7 * l->srtt_us + rtt) / 8 : rtt;
	l->late = 0;
	l->ping_sent = 0;
	route_peer_cost(l->ls->c->rt, l->id, link_cost(l));
}

static int frame_route(struct link *l, const uint8_t *p, size_t len)
{
	struct links *ls = l->ls;
	size_t n;
	int refused;

	if (route_decode(p, len, ls->scratch, ROUTES_PER_FRAME, &n) < 0)
		return link_fail(l, "malformed route update"), -1;
	refused = route_recv(ls->c->rt, l->id, ls->scratch, n);
	if (refused > 0)
		log_warnx("link %s: refused %d routes (max_remote_routes)",
			  l->peer.name, refused);
	return 0;
}

static int frame_seqreq(struct link *l, const uint8_t *p, size_t len)
{
	struct route_seqreq r;

	if (route_seqreq_decode(p, len, &r) < 0)
		return link_fail(l, "malformed seqno request"), -1;
	route_recv_seqreq(l->ls->c->rt, l->id, &r);
	return 0;
}

static int frame_data(struct link *l, const uint8_t *p, size_t len)
{
	struct pkt pk;

	if (wire_data_decode(p, len, &pk) < 0)
		return link_fail(l, "malformed data frame"), -1;
	l->pkts_in++;
	fwd_from_link(l->ls->c, l, &pk);
	return 0;
}

static int link_frame(struct link *l, uint8_t type, const uint8_t *p,
		      size_t len)
{
	if (type != FR_HELLO && l->st != LS_UP)
		return link_fail(l, "frame before hello"), -1;
	switch (type) {
	case FR_HELLO:
		return frame_hello(l, p, len);
	case FR_PING:
		if (len == 8)
			send_ping(l, FR_PONG, get64(p));
		return 0;
	case FR_PONG:
		frame_pong(l, p, len);
		return 0;
	case FR_ROUTE:
		return frame_route(l, p, len);
	case FR_SEQREQ:
		return frame_seqreq(l, p, len);
	case FR_DATA:
		return frame_data(l, p, len);
	case FR_BYE:
		return link_fail(l, "closed by peer"), -1;
	}
	return link_fail(l, "unknown frame type"), -1;
}

/* Hand every whole frame in the input queue to link_frame. */
static int link_parse(struct link *l)
{
	for (;;) {
		const uint8_t *p = l->in.buf + l->in.head;
		size_t len = queue_len(&l->in), plen;
		uint8_t type;
		int r = wire_frame(p, len, FRAME_MAX, &type, &plen);

		if (r < 0)
			return link_fail(l, "frame too large"), -1;
		if (r == 0 || len < FRAME_HDR + plen)
			return 0;
		if (link_frame(l, type, p + FRAME_HDR, plen) < 0)
			return -1;
		queue_consume(&l->in, FRAME_HDR + plen);
	}
}

static void link_read(struct link *l)
{
	while (!l->doomed) {
		uint8_t *p = queue_reserve(&l->in, TLS_CHUNK);
		ssize_t r;

		if (!p)
			return link_fail(l, "input overflow");
		r = gnutls_record_recv(l->tls, p, TLS_CHUNK);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r == 0)
			return link_fail(l, "connection closed");
		if (r < 0)
			return link_fail(l, gnutls_strerror((int)r));
		queue_commit(&l->in, (size_t)r);
		l->bytes_in += (uint64_t)r;
		l->last_rx = now_ns();
		if (link_parse(l) < 0)
			return;
	}
}

static void link_handshake(struct link *l)
{
	int r = gnutls_handshake(l->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	    (r < 0 && !gnutls_error_is_fatal(r))) {
		link_want(l, gnutls_record_get_direction(l->tls) ? EV_WRITE
								  : EV_READ);
		return;
	}
	if (r < 0 || !l->peer.verified) {
		if (l->peer.why[0] || r == GNUTLS_E_NO_CERTIFICATE_FOUND ||
		    r == GNUTLS_E_CERTIFICATE_REQUIRED)
			log_warnx("link %s: refused: %s", l->addr,
				  tls_errstr(r, &l->peer));
		else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			log_warnx("link %s: refused by peer: %s", l->addr,
				  gnutls_alert_get_name(gnutls_alert_get(l->tls)));
		else
			log_warnx("link %s: handshake failed: %s", l->addr,
				  gnutls_strerror(r));
		link_fail(l, "handshake failed");
		return;
	}
	l->st = LS_HELLO;
	l->last_rx = now_ns();
	log_debug("link %s: TLS up with %s", l->addr, l->peer.name);
	send_hello(l);
	link_want(l, EV_READ | EV_WRITE);
}

static void link_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct link *l = w->data;

	(void)loop;
	if (l->doomed)
		return;
	if (l->st == LS_HANDSHAKE) {
		link_handshake(l);
		if (l->st == LS_HANDSHAKE || l->doomed)
			return;
		revents |= EV_READ;	/* GnuTLS may hold the peer's hello */
	}
	if (revents & EV_READ)
		link_read(l);
	if (!l->doomed && (revents & EV_WRITE))
		link_flush(l);
}

static void link_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct link *l = w->data;
	uint64_t now = now_ns();

	(void)loop;
	(void)revents;
	if (l->st != LS_UP) {
		link_fail(l, "handshake timed out");
		return;
	}
	if (now - l->last_rx > l->ls->timeout_us * 1000) {
		link_fail(l, "timed out (no data from peer)");
		return;
	}
	if (l->ping_sent) {
		/* still unanswered: the link is at least this slow, so routes
		 * move away from a silent link long before conn_timeout */
		uint64_t waited = (now - l->ping_sent) / 1000;

		if (waited > l->srtt_us) {
			l->srtt_us = waited;
			l->late = 1;
			route_peer_cost(l->ls->c->rt, l->id, link_cost(l));
		}
		return;
	}
	l->ping_sent = now;
	send_ping(l, FR_PING, now);
}

/* Before the loop sleeps: close doomed links, flush the rest. Batching
 * every packet of one loop iteration into as few TLS records as fit. */
static void links_prepare_cb(struct ev_loop *loop, ev_prepare *w, int rev)
{
	struct links *ls = w->data;
	struct link *l;

	(void)loop;
	(void)rev;
	while ((l = ls->dirty)) {
		ls->dirty = l->dirty_next;
		l->dirty = 0;
		if (!l->doomed)
			link_flush(l);
		if (l->doomed)
			link_free(l, l->doomed);
	}
}

/* ---- routes onto links ---------------------------------------------------- */

static void ops_send_updates(void *ctx, uint32_t peer,
			     const struct route_update *u, size_t n)
{
	struct link *l = links_by_peer(ctx, peer);

	while (l && l->st == LS_UP && !l->doomed && n > 0) {
		uint8_t *p = ctrl_frame(l, FR_ROUTE, TLS_CHUNK);
		size_t used = 0, len;

		if (!p)
			return;
		len = route_encode(u, n, p, TLS_CHUNK, &used);
		if (used == 0) {
			link_fail(l, "route entry does not fit a frame");
			return;
		}
		wire_put_hdr(p - FRAME_HDR, FR_ROUTE, len);
		ctrl_commit(l, len);
		u += used;
		n -= used;
	}
}

static void ops_send_seqreq(void *ctx, uint32_t peer,
			    const struct route_seqreq *r)
{
	struct link *l = links_by_peer(ctx, peer);
	uint8_t *p;
	size_t len;

	if (!l || l->st != LS_UP || l->doomed)
		return;
	if (!(p = ctrl_frame(l, FR_SEQREQ, 256)))
		return;
	len = route_seqreq_encode(r, p, 256);
	wire_put_hdr(p - FRAME_HDR, FR_SEQREQ, len);
	ctrl_commit(l, len);
}

void links_route_ops(struct cloud *c, struct route_ops *ops)
{
	ops->ctx = c;
	ops->send_updates = ops_send_updates;
	ops->send_seqreq = ops_send_seqreq;
}

/* ---- sockets handed over by net.c ---------------------------------------- */

/* At the limit, the oldest connection that has not authenticated yet
 * makes room: idle or half-open sockets can delay a real peer, never
 * lock it out. */
static int links_make_room(struct links *ls)
{
	struct link *l, *old = NULL;

	if (ls->count < ls->max_conn)
		return 0;
	for (l = ls->list; l; l = l->next)
		if (l->st != LS_UP && !l->doomed &&
		    (!old || l->t_start < old->t_start))
			old = l;
	if (!old)
		return -1;
	link_free(old, "evicted: connection limit reached");
	return 0;
}

static void on_accepted(struct cloud *c, int fd, const char *addr)
{
	struct links *ls = c->links;

	if (links_make_room(ls) < 0) {
		log_warnx("link %s: refused: max_connections (%u) reached",
			  addr, ls->max_conn);
		close(fd);
		return;
	}
	if (!link_new(ls, fd, addr, 1)) {
		log_warnx("link %s: out of memory", addr);
		close(fd);
	}
}

static void on_connected(struct cloud *c, struct connector *cn, int fd,
			 const char *addr)
{
	struct link *l = link_new(c->links, fd, addr, 0);

	if (!l) {
		log_warnx("link %s: out of memory", addr);
		close(fd);
		net_link_down(cn, 0);
		return;
	}
	l->conn = cn;
}

/* ---- setup, teardown, status ---------------------------------------------- */

int links_init(struct cloud *c)
{
	static const struct net_ops nops = { on_accepted, on_connected };
	struct links *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -1;
	c->links = ls;
	ls->c = c;
	ls->max_conn = (unsigned)conf_int(c->conf, "max_connections");
	ls->keepalive_us = conf_us(c->conf, "conn_keepalive");
	ls->timeout_us = conf_us(c->conf, "conn_timeout");
	if (ls->keepalive_us < 10000)
		ls->keepalive_us = 10000;
	if (getrandom(&ls->rng, sizeof(ls->rng), 0) != sizeof(ls->rng) ||
	    !ls->rng)
		ls->rng = now_ns() | 1;
	ls->scratch = calloc(ROUTES_PER_FRAME, sizeof(*ls->scratch));
	if (!ls->scratch || !(ls->tls = tls_new(c->conf)))
		return -1;
	c->self = *tls_self_id(ls->tls);
	snprintf(c->name, sizeof(c->name), "%s", tls_self_name(ls->tls));
	ev_prepare_init(&ls->flusher, links_prepare_cb);
	ls->flusher.data = ls;
	ev_prepare_start(c->loop, &ls->flusher);
	if (!(ls->net = net_new(c, &nops)))
		return -1;
	return 0;
}

int links_reload(struct cloud *c)
{
	struct links *ls = c->links;
	struct link *l;
	const char *bad;
	int closed = 0;

	if (tls_reload(ls->tls, c->conf) < 0)
		return -1;
	for (l = ls->list; l; l = l->next) {
		if (l->st < LS_HELLO || l->doomed)
			continue;
		if ((bad = tls_recheck(l->tls, &l->peer))) {
			log_warnx("link %s (%s): refused after reload: %s",
				  l->peer.name, l->addr, bad);
			link_fail(l, "certificate no longer accepted");
			closed++;
		}
	}
	return closed;
}

void links_shutdown(struct cloud *c)
{
	struct links *ls = c->links;
	struct link *l;

	if (!ls)
		return;
	for (l = ls->list; l; l = l->next) {
		if (l->st == LS_UP && !l->doomed) {
			/* best effort: one try, we do not wait for slow peers */
			if (ctrl_frame(l, FR_BYE, 0))
				ctrl_commit(l, 0);
			link_flush(l);
			gnutls_bye(l->tls, GNUTLS_SHUT_WR);
		}
		l->conn = NULL;
	}
	while (ls->list)
		link_free(ls->list, "shutting down");
	net_free(ls->net);
	ev_prepare_stop(c->loop, &ls->flusher);
	tls_free(ls->tls);
	free(ls->scratch);
	free(ls->by_id);
	free(ls);
	c->links = NULL;
}

void links_status(struct cloud *c, FILE *f)
{
	struct link *l;
	char id[17];
	int i;

	for (l = c->links->list; l; l = l->next) {
		for (i = 0; i < 8; i++)
			snprintf(id + 2 * i, 3, "%02x", l->peer.id.b[i]);
		fprintf(f, "link peer=%s id=%s addr=%s dir=%s state=%s ",
			l->st >= LS_HELLO ? l->peer.name : "-",
			l->st >= LS_HELLO ? id : "-", l->addr,
			l->peer.is_server ? "in" : "out", state_name[l->st]);
		if (l->srtt_us)
			fprintf(f, "rtt_us=%llu", (unsigned long long)l->srtt_us);
		else
			fprintf(f, "rtt_us=-");
		fprintf(f, " bytes_in=%llu bytes_out=%llu pkts_in=%llu "
			   "pkts_out=%llu drops=%llu\n",
			(unsigned long long)l->bytes_in,
			(unsigned long long)l->bytes_out,
			(unsigned long long)l->pkts_in,
			(unsigned long long)l->pkts_out,
			(unsigned long long)l->drops);
	}
}
