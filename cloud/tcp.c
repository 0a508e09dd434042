/*
 * The TCP transport: one TCP connection with one TLS 1.3 session per link.
 * Control and data frames share the byte stream, control first, and never
 * interleave inside a frame; everything queued in one loop turn goes out
 * in as few 16 KB records as fit.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "bytes.h"
#include "cloud.h"
#include "limit.h"
#include "link.h"
#include "log.h"
#include "net.h"
#include "tcp.h"
#include "tls_sess.h"
#include "wire.h"

#define TLS_CHUNK 16384			/* one TLS record */
#define TCP_READ_BUDGET 8		/* records read per wakeup at most */
#define IN_CAP (FRAME_HDR + FRAME_MAX + 2 * TLS_CHUNK)
#define TCP_RCVBUF_AUTO (4 * 1024 * 1024)	/* downlimit (B/s) from which
						 * buffers autotune */

struct tcp {
	struct link *l;
	struct ev_loop *loop;
	int fd;
	ev_io io;
	ev_idle more;			/* records GnuTLS holds, unread */
	gnutls_session_t s;
	struct tls_peer tp;
	int secured;
	struct queue in;
	struct queue *pend_q;		/* handed to GnuTLS, got EAGAIN */
	size_t pend;
	struct queue *cur_q;		/* queue whose frame is half sent */
	size_t cur_left;
	int rekey;			/* a KeyUpdate is due */
	int rx_held;			/* reading paused: downlimit-* */
};

static void tcp_want(struct tcp *t, int events)
{
	if (t->rx_held)
		events &= ~EV_READ;
	if (ev_is_active(&t->io) &&
	    (t->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(t->loop, &t->io);
	if (!events)
		return;
	ev_io_set(&t->io, t->fd, events);
	ev_io_start(t->loop, &t->io);
}

/* After sending r bytes from q, track whether a frame is half sent, so
 * control and data frames never interleave inside one frame. */
static void tcp_advance(struct tcp *t, struct queue *q, size_t r)
{
	while (r > 0) {
		size_t take;

		if (t->cur_left == 0)
			t->cur_left = FRAME_HDR + get24(q->buf + q->head + 1);
		take = r < t->cur_left ? r : t->cur_left;
		queue_consume(q, take);
		t->cur_left -= take;
		r -= take;
	}
	t->cur_q = t->cur_left ? q : NULL;
}

static struct queue *tcp_pick(struct tcp *t)
{
	struct link_io *io = link_io(t->l);

	if (t->cur_q)
		return t->cur_q;
	if (queue_len(&io->ctrl))
		return &io->ctrl;
	if (queue_len(&io->data))
		return &io->data;
	return NULL;
}

/* One record: 1 sent, 0 nothing to send, -1 would block or failed. */
static int tcp_send_one(struct tcp *t)
{
	struct queue *q;
	ssize_t r;

	if (t->pend) {
		q = t->pend_q;
		r = gnutls_record_send(t->s, NULL, 0);
	} else {
		size_t n;

		if (!(q = tcp_pick(t)))
			return 0;
		n = queue_len(q) < TLS_CHUNK ? queue_len(q) : TLS_CHUNK;
		/* uplimit-*: held, only a frame begun is finished (control
		 * cannot pass it) */
		if (q == &link_io(t->l)->data && !link_up_may(t->l)) {
			if (t->cur_q != q)
				return 0;
			n = t->cur_left < n ? t->cur_left : n;
		}
		r = gnutls_record_send(t->s, q->buf + q->head, n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			t->pend = n;
			t->pend_q = q;
		}
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		tcp_want(t, EV_READ | EV_WRITE);
		return -1;
	}
	if (r < 0) {
		link_fail(t->l, gnutls_strerror((int)r));
		return -1;
	}
	t->pend = 0;
	link_io(t->l)->bytes_out += (uint64_t)r;
	if (q == &link_io(t->l)->data)
		link_up_used(t->l, (size_t)r);
	tcp_advance(t, q, (size_t)r);
	return 1;
}

/* TLS 1.3 KeyUpdate of our sending keys (each side renews its own on its
 * timer: asking the peer to answer makes GnuTLS send from inside a read,
 * which under load broke links, "illegal parameter"); never in the middle
 * of a record GnuTLS holds: 1 done, 0 would block, -1 failed */
static int tcp_key_update(struct tcp *t)
{
	int r;

	if (!t->rekey || t->pend)
		return 1;
	r = gnutls_session_key_update(t->s, 0);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		tcp_want(t, EV_READ | EV_WRITE);
		return 0;
	}
	t->rekey = 0;
	if (r < 0) {
		link_fail(t->l, gnutls_strerror(r));
		return -1;
	}
	log_debug("link %s: keys updated", link_io(t->l)->addr);
	return 1;
}

/* downlimit-*: not reading makes the peer's TCP slow down. */
static void tcp_rx_hold(struct tcp *t)
{
	t->rx_held = 1;
	ev_idle_stop(t->loop, &t->more);
	tcp_want(t, ev_is_active(&t->io) ? t->io.events & EV_WRITE : 0);
}

/* From the flush the limiter's timer asks for. */
static void tcp_rx_resume(struct tcp *t)
{
	if (!t->rx_held || !link_down_may(t->l))
		return;
	t->rx_held = 0;
	tcp_want(t, EV_READ | (ev_is_active(&t->io) ? t->io.events & EV_WRITE
						     : 0));
	if (gnutls_record_check_pending(t->s) > 0)
		ev_idle_start(t->loop, &t->more);
}

static void tcp_flush(struct link *l)
{
	struct tcp *t = link_io(l)->x;
	int r;

	tcp_rx_resume(t);
	if (!t->secured || tcp_key_update(t) <= 0)
		return;
	while ((r = tcp_send_one(t)) > 0)
		;
	if (r == 0)
		tcp_want(t, EV_READ);
}

/* The peer ended the session before its first record: in TLS 1.3 that is
 * how a client hears that the server refused its certificate. */
static void tcp_early_close(struct tcp *t, int r)
{
	tls_log_closed(link_io(t->l)->addr, r, t->s);
	link_hs_fail(t->l, tls_hs_why(r, NULL),
		     r == GNUTLS_E_FATAL_ALERT_RECEIVED
			     ? "refused by peer"
			     : "closed by peer right after the handshake");
}

/* At most TCP_READ_BUDGET records per wakeup: a peer that never pauses
 * (a big table whose signatures we check) must not keep the loop from
 * our own output, pongs included, and other links. */
static void tcp_read(struct tcp *t)
{
	struct link_io *io = link_io(t->l);
	int budget = TCP_READ_BUDGET;

	while (!link_doomed(t->l) && budget-- > 0) {
		uint8_t *p = queue_reserve(&t->in, TLS_CHUNK);
		ssize_t r;

		if (!p)
			return link_fail(t->l, "input overflow");
		if (!link_down_may(t->l))
			return tcp_rx_hold(t);
		r = gnutls_record_recv(t->s, p, TLS_CHUNK);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r <= 0 && io->bytes_in == 0)
			return tcp_early_close(t, (int)r);
		if (r == 0)
			return link_fail(t->l, "connection closed");
		if (r < 0)
			return link_fail(t->l, gnutls_strerror((int)r));
		queue_commit(&t->in, (size_t)r);
		io->bytes_in += (uint64_t)r;
		link_down_used(t->l, (size_t)r);
		link_heard(t->l);
		if (link_rx_stream(t->l, &t->in) < 0)
			return;
	}
	/* out of budget: the socket wakes us again, but records GnuTLS
	 * already holds would not; an idle watcher reads them once nothing
	 * else is due */
	if (!link_doomed(t->l) && gnutls_record_check_pending(t->s) > 0)
		ev_idle_start(t->loop, &t->more);
}

static void tcp_more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct tcp *t = w->data;

	(void)revents;
	ev_idle_stop(loop, w);
	if (!link_doomed(t->l))
		tcp_read(t);
}

static void tcp_handshake(struct tcp *t)
{
	int r = gnutls_handshake(t->s);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	    (r < 0 && !gnutls_error_is_fatal(r))) {
		tcp_want(t, gnutls_record_get_direction(t->s) ? EV_WRITE
							      : EV_READ);
		return;
	}
	if (r < 0 || !t->tp.verified) {
		if (link_log_early(t->l))
			tls_log_failure(link_io(t->l)->addr, r, t->s, &t->tp);
		tls_refuse(t->s, r, &t->tp);
		link_hs_fail(t->l, tls_hs_why(r, &t->tp), "handshake failed");
		return;
	}
	t->secured = 1;
	tls_peer_export(&t->tp, &link_io(t->l)->peer);
	link_secured(t->l);
	tcp_want(t, EV_READ | EV_WRITE);
}

static void tcp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tcp *t = w->data;

	(void)loop;
	if (link_doomed(t->l))
		return;
	if (!t->secured) {
		tcp_handshake(t);
		if (!t->secured || link_doomed(t->l))
			return;
		revents |= EV_READ;	/* GnuTLS may hold the peer's hello */
	}
	if (revents & EV_READ)
		tcp_read(t);
	if (!link_doomed(t->l) && (revents & EV_WRITE))
		tcp_flush(t->l);
}

static void tcp_bye(struct link *l)
{
	struct tcp *t = link_io(l)->x;

	gnutls_bye(t->s, GNUTLS_SHUT_WR);
}

static void tcp_free(struct link *l)
{
	struct tcp *t = link_io(l)->x;

	ev_io_stop(t->loop, &t->io);
	ev_idle_stop(t->loop, &t->more);
	tls_deinit(t->s);
	close(t->fd);
	queue_free(&t->in);
	free(t);
}

static const char *tcp_recheck(struct link *l)
{
	struct tcp *t = link_io(l)->x;

	return tls_recheck(t->s, &t->tp);
}

static void tcp_rekey(struct link *l)
{
	struct tcp *t = link_io(l)->x;

	if (gnutls_protocol_get_version(t->s) != GNUTLS_TLS1_3)
		return;
	t->rekey = 1;		/* done by the next flush */
	link_mark(l);
}

static size_t tcp_data_max(const struct link *l)
{
	(void)l;
	return 0;
}

static void tcp_figures(const struct link *l, struct xport_fig *f)
{
	(void)l;
	f->name = "tcp";
}

static const struct xport_ops tcp_ops = {
	.name = "tcp",
	.flush = tcp_flush,
	.bye = tcp_bye,
	.free = tcp_free,
	.recheck = tcp_recheck,
	.rekey = tcp_rekey,
	.data_max = tcp_data_max,
	.figures = tcp_figures,
};

/* A download limited to a low rate: a small receive buffer, so what the
 * peer has sent but we have not read yet (its pings behind it) waits no
 * more than about a quarter second. Faster limits keep autotuning. */
static void tcp_rcvbuf(struct tcp *t)
{
	uint64_t rate = link_down_rate(t->l);
	int n;

	if (!rate || rate >= TCP_RCVBUF_AUTO)
		return;
	n = rate / 4 > 65536 ? (int)(rate / 4) : 65536;
	if (setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n)) < 0)
		log_warn("link %s: SO_RCVBUF", link_io(t->l)->addr);
}

static struct link *tcp_link(struct cloud *c, int fd, const char *addr,
			     int is_server)
{
	struct tcp *t = calloc(1, sizeof(*t));
	struct link *l;

	if (!t || queue_init(&t->in, IN_CAP) < 0)
		goto fail;
	t->tp.is_server = is_server;
	if (tls_session(links_tls(c), 0, &t->tp, &t->s) < 0)
		goto fail;
	if (!(l = link_new(c, addr, is_server))) {
		tls_deinit(t->s);
		goto fail;
	}
	gnutls_transport_set_int(t->s, fd);
	t->l = l;
	t->loop = c->loop;
	t->fd = fd;
	ev_io_init(&t->io, tcp_io_cb, fd, EV_READ | EV_WRITE);
	t->io.data = t;
	ev_idle_init(&t->more, tcp_more_cb);
	t->more.data = t;
	ev_io_start(c->loop, &t->io);
	link_attach(l, &tcp_ops, t);
	tcp_rcvbuf(t);
	return l;
fail:
	if (t)
		queue_free(&t->in);
	free(t);
	log_warnx("link %s: out of memory", addr);
	close(fd);
	return NULL;
}

void tcp_accepted(struct cloud *c, int fd, const struct sockaddr *sa,
		  const char *addr)
{
	if (admit_inbound(c, sa, addr) < 0) {
		close(fd);
		return;
	}
	tcp_link(c, fd, addr, 1);
}

void tcp_connected(struct cloud *c, struct connector *cn, int fd,
		   const char *addr)
{
	struct link *l = tcp_link(c, fd, addr, 0);

	if (!l) {
		net_link_down(cn, 0);
		return;
	}
	link_set_connector(l, cn);
}
