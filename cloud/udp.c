/*
 * The UDP transport: DTLS 1.2 over UDP, one session per link (sockets and
 * strangers are udpsock.c's, rekeying udp_rekey.c's). Each datagram's
 * plaintext starts with a type byte (proto.h): a data frame, a segment of
 * the reliable control channel (rel.c), a fragment (frag.c), a path MTU
 * probe (pmtu.c). Datagrams go out and come in in batches (uio.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytes.h"
#include "cloud.h"
#include "dgq.h"
#include "frag.h"
#include "limit.h"
#include "link.h"
#include "log.h"
#include "net.h"
#include "pmtu.h"
#include "rel.h"
#include "tls_sess.h"
#include "udp.h"
#include "udp_int.h"
#include "uio.h"
#include "wire.h"

#define IN_CAP (FRAME_HDR + FRAME_MAX + REL_WINDOW * REL_SEG_MAX)
#define DOWN_SMALL 256		/* datagrams a downlimit never holds: acks,
				 * pings, probes */
#define DOWN_QUEUE_DIV 20	/* a download waits 1/20 s of its rate */
#define DOWN_QUEUE_MIN (64 * 1024)	/* but this much at least */

/* ---- output batch --------------------------------------------------------- */

static void too_big(void *tag, size_t len)
{
	struct ulink *ul = tag;

	if (ul)
		pmtu_too_big(&ul->pm, len, now_ns());
}

void ul_out_flush(struct udp *u)
{
	uio_flush(u->io, too_big);
}

/* ---- GnuTLS transport ------------------------------------------------------ */

static ssize_t ul_push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct ulink *ul = p;

	uio_send(ul->ep->u->io, ul->ep->fd, &ul->sa, ul->salen, buf, n, ul);
	link_io(ul->l)->bytes_out += n;
	return (ssize_t)n;
}

static ssize_t ul_pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct ulink *ul = p;

	if (!ul->rx) {
		errno = EAGAIN;		/* read by GnuTLS, whichever session */
		return -1;
	}
	if (n > ul->rxlen)
		n = ul->rxlen;
	memcpy(buf, ul->rx, n);
	ul->rx = NULL;
	return (ssize_t)n;
}

static int ul_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	(void)ms;
	return ((struct ulink *)p)->rx ? 1 : 0;
}


/* ---- plaintext out ---------------------------------------------------------- */

static size_t ul_plain_max(const struct ulink *ul)
{
	return ul->pm.cur > ul->overhead + 64 ? ul->pm.cur - ul->overhead
					       : 64;
}

void ul_send(struct ulink *ul, const uint8_t *p, size_t n)
{
	ssize_t r = gnutls_record_send(ul->s, p, n);

	if (r < 0 && gnutls_error_is_fatal((int)r))
		link_fail(ul->l, gnutls_strerror((int)r));
}

static void ul_send_frag(struct ulink *ul, const uint8_t *msg, size_t len)
{
	uint8_t *b = ul->ep->u->fpt;	/* msg may be in pt */
	size_t room = ul_plain_max(ul) - 1;
	size_t cnt = frag_count(len, room), i;

	if (!cnt)
		return;
	ul->frag_id++;
	for (i = 0; i < cnt; i++) {
		b[0] = DG_FRAG;
		ul_send(ul, b, 1 + frag_put(b + 1, ul->frag_id, (unsigned)i,
					    (unsigned)cnt, msg, len));
	}
}

/* The data frame at the head of the queue as one datagram: its type byte
 * goes over the last byte of the length, which the datagram makes
 * redundant, so the payload is not copied. */
static size_t ul_send_data(struct ulink *ul, struct queue *q)
{
	uint8_t *f = q->buf + q->head;
	size_t plen = get24(f + 1);

	f[3] = f[0];
	if (1 + plen <= ul_plain_max(ul))
		ul_send(ul, f + 3, 1 + plen);
	else
		ul_send_frag(ul, f + 3, 1 + plen);
	queue_consume(q, FRAME_HDR + plen);
	return FRAME_HDR + plen;
}

static void ul_send_ctrl(struct ulink *ul, struct queue *q, uint64_t now)
{
	uint8_t *b = ul->ep->u->pt;
	size_t seg = ul_plain_max(ul) - 1 - REL_HDR, n;

	if (seg > REL_SEG_MAX)
		seg = REL_SEG_MAX;
	while (queue_len(q) &&
	       (n = rel_write(&ul->rel, q->buf + q->head, queue_len(q), seg,
			      now)) > 0)
		queue_consume(q, n);
	while ((n = rel_output(&ul->rel, now, b + 1, UDP_DGRAM_MAX - 1))) {
		b[0] = DG_REL;
		if (1 + n <= ul_plain_max(ul))
			ul_send(ul, b, 1 + n);
		else	/* written before the path shrank */
			ul_send_frag(ul, b, 1 + n);
	}
}

/* A padded probe whose datagram is exactly size bytes. */
static void ul_send_probe(struct ulink *ul, size_t size)
{
	uint8_t *b = ul->ep->u->pt;
	size_t n = size > ul->overhead + 3 ? size - ul->overhead : 3;

	memset(b, 0, n);
	b[0] = DG_PROBE;
	put16(b + 1, (uint16_t)size);
	ul_send(ul, b, n);
}

static void ul_send_probe_ack(struct ulink *ul, uint16_t size)
{
	uint8_t ack[3] = { DG_PROBE_ACK, 0, 0 };

	put16(ack + 1, size);
	ul_send(ul, ack, sizeof(ack));
	link_mark(ul->l);
}

static void ul_arm(struct ulink *ul, uint64_t now)
{
	struct ev_loop *loop = ul->ep->u->c->loop;
	uint64_t a = rel_next_timeout(&ul->rel), b = pmtu_next(&ul->pm);
	uint64_t next = !a ? b : !b ? a : a < b ? a : b;

	if (ul->fresh && !ul->fresh_done) {
		uint64_t h = now + gnutls_dtls_get_timeout(ul->fresh) * 1000000ull;

		next = next && next < h ? next : h;
	}
	if (ul->old && (!next || ul->old_until < next))
		next = ul->old_until + 1;
	if (ul->secured && !ul->ep->u->fixed_mtu && ul->pm.cur > UDP_MTU_BASE &&
	    (!next || ul->confirm_at < next))
		next = ul->confirm_at;
	if (ul->doubt && (!next || ul->doubt + UDP_RESET_QUIET_NS < next))
		next = ul->doubt + UDP_RESET_QUIET_NS;

	ev_timer_stop(loop, &ul->timer);
	if (!next)
		return;
	ev_timer_set(&ul->timer, next > now ? (next - now) / 1e9 : 0., 0.);
	ev_timer_start(loop, &ul->timer);
}

/* RFC 8899's black hole detection: a probe of the current size every
 * UDP_CONFIRM_NS; if none gets through for UDP_CONFIRM_LOST_NS, the path
 * shrank: fall back to the base size and search again. */
static void ul_confirm(struct ulink *ul, uint64_t now)
{
	if (ul->ep->u->fixed_mtu || ul->pm.cur <= UDP_MTU_BASE)
		return;
	if (now - ul->confirmed > UDP_CONFIRM_LOST_NS) {
		log_info("link %s: path MTU %zu no longer passes, probing again",
			 link_io(ul->l)->addr, ul->pm.cur);
		pmtu_too_big(&ul->pm, ul->pm.cur, now);
		ul->confirmed = now;
		return;
	}
	if (now >= ul->confirm_at) {
		ul_send_probe(ul, ul->pm.cur);
		ul->confirm_at = now + UDP_CONFIRM_NS;
	}
}

static void ul_down_drain(struct ulink *ul);

static void ul_flush(struct link *l)
{
	struct ulink *ul = link_io(l)->x;
	struct link_io *io = link_io(l);
	uint64_t now = now_ns();
	size_t probe;

	if (!ul->secured)
		return;
	ul_down_drain(ul);
	if (ul->doubt && now - ul->doubt >= UDP_RESET_QUIET_NS &&
	    !ul->tp.is_server) {
		link_fail(l, "peer lost our session (restarted?)");
		return;
	}
	if (ul->old && now > ul->old_until) {
		tls_deinit(ul->old);
		ul->old = NULL;
	}
	ul_send_ctrl(ul, &io->ctrl, now);
	while (queue_len(&io->data) && !link_doomed(l) && link_up_may(l))
		link_up_used(l, ul_send_data(ul, &io->data));
	if ((probe = pmtu_probe(&ul->pm, now)))
		ul_send_probe(ul, probe);
	ul_confirm(ul, now);
	ul_out_flush(ul->ep->u);
	ul_arm(ul, now);
}

/* ---- plaintext in ------------------------------------------------------------ */

static void ctrl_deliver(void *arg, const uint8_t *p, size_t n)
{
	struct ulink *ul = arg;
	uint8_t *b = queue_reserve(&ul->in, n);

	if (!b) {
		link_fail(ul->l, "control input overflow");
		return;
	}
	memcpy(b, p, n);
	queue_commit(&ul->in, n);
}

void ul_plain(struct ulink *ul, const uint8_t *p, size_t n, int whole)
{
	struct wire_dgram d;
	const uint8_t *m;
	size_t mlen;

	if (wire_dgram_decode(p, n, &d) < 0)
		goto garbage;
	switch (d.type) {
	case FR_DATA:
		link_rx_frame(ul->l, FR_DATA, d.body, d.len);
		return;
	case DG_REL:
		if (rel_input(&ul->rel, d.body, d.len, now_ns(), ctrl_deliver,
			      ul) < 0)
			goto garbage;
		link_rx_stream(ul->l, &ul->in);
		link_mark(ul->l);	/* an ack is owed, the window moved */
		return;
	case DG_FRAG:
		/* a reassembled message is one whole datagram, never a FRAG */
		if (!whole)
			goto garbage;
		if (reasm_input(ul->ra, d.body, d.len, now_ns(), &m, &mlen) == 1)
			ul_plain(ul, m, mlen, 0);
		return;
	case DG_PROBE:
		ul_send_probe_ack(ul, d.size);
		return;
	case DG_PROBE_ACK:
		if (d.size >= ul->pm.cur)
			ul->confirmed = now_ns();
		pmtu_ack(&ul->pm, d.size, now_ns());
		link_mark(ul->l);
		return;
	case DG_REKEY:
		/* the next ClientHello from the peer's address is a rekey */
		if (ul->tp.is_server)
			ul->hint_until = now_ns() + HANDSHAKE_TIMEOUT_US * 1000;
		return;
	}
garbage:
	ul->ep->u->garbage++;
}

/* Every record session s finds in the datagram at ul->rx; the number of
 * plaintexts, or -1 if the link failed. A record that does not decrypt
 * is dropped by GnuTLS (DTLS), so trying another session is safe. */
int ul_records(struct ulink *ul, gnutls_session_t s)
{
	uint8_t *b = ul->ep->u->pt;
	int got = 0;

	for (;;) {
		ssize_t r = gnutls_record_recv(s, b, UDP_DGRAM_MAX);

		if (r > 0) {
			got++;
			ul->doubt = 0;
			link_heard(ul->l);
			ul_plain(ul, b, (size_t)r, 1);
			continue;
		}
		ul->rx = NULL;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return got;
		if (r == 0) {
			link_fail(ul->l, "closed by peer");
			return -1;
		}
		if (gnutls_error_is_fatal((int)r)) {
			link_fail(ul->l, gnutls_strerror((int)r));
			return -1;
		}
		return got;
	}
}

/* ---- handshake ------------------------------------------------------------------ */

static size_t path_max(const struct sockaddr_storage *sa, socklen_t salen)
{
	int v6 = sa->ss_family == AF_INET6, mtu = 0;
	socklen_t ml = sizeof(mtu);
	int fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t hdr = v6 ? 48 : 28, max = 1500 - hdr;

	if (fd >= 0 && !connect(fd, (const struct sockaddr *)sa, salen) &&
	    !getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
			v6 ? IPV6_MTU : IP_MTU, &mtu, &ml) &&
	    (size_t)mtu > hdr + UDP_MTU_BASE)
		max = (size_t)mtu - hdr;
	if (fd >= 0)
		close(fd);
	return max > UDP_DGRAM_MAX ? UDP_DGRAM_MAX : max;
}

static void ul_secured(struct ulink *ul)
{
	struct udp *u = ul->ep->u;
	size_t max = path_max(&ul->sa, ul->salen);

	ul->secured = 1;
	ul->confirmed = now_ns();
	ul->confirm_at = ul->confirmed + UDP_CONFIRM_NS;
	gnutls_dtls_set_mtu(ul->s, UDP_DGRAM_MAX);
	ul->overhead = gnutls_record_overhead_size(ul->s);
	pmtu_init(&ul->pm, max < UDP_MTU_BASE ? max : UDP_MTU_BASE, max,
		  u->fixed_mtu, now_ns());
	tls_peer_export(&ul->tp, &link_io(ul->l)->peer);
	link_secured(ul->l);
	link_mark(ul->l);
}

void ul_handshake(struct ulink *ul)
{
	struct ev_loop *loop = ul->ep->u->c->loop;
	int r = gnutls_handshake(ul->s);

	ul_out_flush(ul->ep->u);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	    (r < 0 && !gnutls_error_is_fatal(r))) {
		ev_timer_stop(loop, &ul->timer);
		ev_timer_set(&ul->timer, gnutls_dtls_get_timeout(ul->s) / 1e3,
			     0.);
		ev_timer_start(loop, &ul->timer);
		return;
	}
	ev_timer_stop(loop, &ul->timer);
	if (r < 0 || !ul->tp.verified) {
		if (link_log_early(ul->l))
			tls_log_failure(link_io(ul->l)->addr, r, ul->s,
					&ul->tp);
		tls_refuse(ul->s, r, &ul->tp);
		ul_out_flush(ul->ep->u);
		link_hs_fail(ul->l, tls_hs_why(r, &ul->tp), "handshake failed");
		return;
	}
	ul_secured(ul);
	if (ul->rx)
		ul_records(ul, ul->s);
}

static uint64_t rec_seq(const uint8_t *p)
{
	return (uint64_t)get16(p + 5) << 32 | get32(p + 7);
}

/* Remember where the peer's record numbers are (for roaming). */
void ul_note(struct ulink *ul, const uint8_t *p, size_t len)
{
	if (len < REC_HDR)
		return;
	ul->rx_epoch = get16(p + 3);
	ul->rx_seq = rec_seq(p);
}

/* Could this record be the peer's, from a new address? Its epoch and
 * sequence number must continue what we last authenticated: random junk
 * almost never does, so it cannot use up the trial decryptions. */
int ul_plausible(const struct ulink *ul, const uint8_t *p, size_t len)
{
	uint64_t seq;

	if (len < REC_HDR || get16(p + 3) != ul->rx_epoch)
		return 0;
	seq = rec_seq(p);
	return seq + UDP_ROAM_SEQ_BACK >= ul->rx_seq &&
	       seq <= ul->rx_seq + UDP_ROAM_SEQ_AHEAD;
}

/* Application data: the current session, else the one before or after. */
static void ul_app(struct ulink *ul, const uint8_t *p, size_t len)
{
	int r = ul_records(ul, ul->s);

	if (r > 0)
		ul_note(ul, p, len);
	if (r != 0)
		return;
	ul->rx = p;
	ul->rxlen = len;
	if (ul->fresh && ul->fresh_done && ul_records(ul, ul->fresh) > 0) {
		rk_promote(ul);
		ul_note(ul, p, len);
		return;
	}
	ul->rx = p;
	ul->rxlen = len;
	if (ul->old && ul_records(ul, ul->old) == 0)
		ul->ep->u->garbage++;
}

/* The peer says it has no session for us. Unauthenticated: believed only
 * when nothing authenticated came for UDP_RESET_QUIET_NS. */
/* Does the peer still have our session? Unauthenticated signs say no (a
 * "no session" hint, a new ClientHello from its address); they are
 * believed only if a probe that the old session must answer goes
 * unanswered for UDP_RESET_QUIET_NS. 1 once believed, else 0. */
int ul_doubt(struct ulink *ul)
{
	uint64_t now = now_ns();

	if (!ul->doubt) {
		ul->doubt = now;
		ul_send_probe(ul, 0);	/* answered by PROBE_ACK, authenticated */
		ul_out_flush(ul->ep->u);
		ul_arm(ul, now);
		return 0;
	}
	return now - ul->doubt >= UDP_RESET_QUIET_NS;
}

static void ul_reset_hint(struct ulink *ul)
{
	if (ul_doubt(ul))
		link_fail(ul->l, "peer lost our session (restarted?)");
}

/* What a limited download counts of a datagram: its frames, without the
 * DTLS record's own bytes, as uploads count frames. */
static size_t ul_down_bytes(const struct ulink *ul, size_t len)
{
	return len > ul->overhead ? len - ul->overhead : len;
}

/*
 * downlimit-*: a datagram that comes faster than the limit waits in the
 * link's queue (DOWN_QUEUE_DIV of a second of the rate) for the limit to
 * let it in, behind those before it; one that finds the queue full is
 * dropped before decryption (counted), as a router's full queue drops.
 * Small ones (acks, pings, probes) are never dropped: they pass at once
 * when the queue is empty or full, so the link lives. Passing them while
 * others waited reordered the TCP flows inside (a segment's small rest
 * went ahead of hundreds), and a policer that dropped at once left them no
 * queue to grow their windows into: at LAN round trips two flows under a
 * 50 Mbit/s total carried 42-47 together, one of them 7.5 at worst.
 * 1 if the datagram was taken (queued or dropped).
 */
static int ul_down_hold(struct ulink *ul, const uint8_t *p, size_t len)
{
	uint64_t cap;

	if (!ul->down.n && (len <= DOWN_SMALL || link_down_may(ul->l)))
		goto pass;
	cap = link_down_rate(ul->l) / DOWN_QUEUE_DIV;
	if (cap < DOWN_QUEUE_MIN)
		cap = DOWN_QUEUE_MIN;
	if (dgq_push(&ul->down, p, len, cap) == 0)
		return 1;
	if (len <= DOWN_SMALL)
		goto pass;
	link_down_dropped(ul->l, len);
	return 1;
pass:
	link_down_used(ul->l, ul_down_bytes(ul, len));
	return 0;
}

/* The held datagrams the limit now lets in, in order. */
static void ul_down_drain(struct ulink *ul)
{
	const uint8_t *p;
	size_t len;

	while ((p = dgq_peek(&ul->down, &len)) && !link_doomed(ul->l) &&
	       link_down_may(ul->l)) {
		link_down_used(ul->l, ul_down_bytes(ul, len));
		ul->rx = p;
		ul->rxlen = len;
		ul_app(ul, p, len);
		ul->rx = NULL;
		dgq_pop(&ul->down);
	}
}

void ul_input(struct ulink *ul, const uint8_t *p, size_t len)
{
	ul->rx = p;
	ul->rxlen = len;
	link_io(ul->l)->bytes_in += len;
	if (ul->secured && len == REC_HDR + 2 && p[0] == REC_ALERT && !p[3] &&
	    !p[4])
		ul_reset_hint(ul);
	else if (!ul->secured)
		ul_handshake(ul);
	else if (ul->fresh && len > 0 && p[0] != REC_APPDATA &&
		 p[0] != REC_ALERT)
		rk_input(ul);
	else if (!ul_down_hold(ul, p, len))
		ul_app(ul, p, len);
	ul->rx = NULL;
}

static void ul_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ulink *ul = w->data;

	(void)loop;
	(void)revents;
	if (link_doomed(ul->l))
		return;
	if (!ul->secured)
		ul_handshake(ul);
	else if (ul->fresh && !ul->fresh_done) {
		rk_hint(ul);
		rk_step(ul);
	}
	link_mark(ul->l);
}

/* ---- links -------------------------------------------------------------------- */

static void ul_free(struct link *l)
{
	struct ulink *ul = link_io(l)->x, **pp;
	struct uep *ep = ul->ep;

	ul_out_flush(ep->u);
	ev_timer_stop(ep->u->c->loop, &ul->timer);
	for (pp = &ep->links; *pp; pp = &(*pp)->next)
		if (*pp == ul) {
			*pp = ul->next;
			break;
		}
	tls_deinit(ul->s);
	if (ul->fresh)
		tls_deinit(ul->fresh);
	if (ul->old)
		tls_deinit(ul->old);
	reasm_free(ul->ra);
	queue_free(&ul->in);
	dgq_free(&ul->down);
	free(ul);
	/* a connected socket's one link, or a removed listen-udp's last */
	if (!ep->listening && !ep->links)
		ep_close(ep);
}

static void ul_bye(struct link *l)
{
	struct ulink *ul = link_io(l)->x;

	if (ul->secured)
		gnutls_bye(ul->s, GNUTLS_SHUT_WR);
	ul_out_flush(ul->ep->u);
}

static const char *ul_recheck(struct link *l)
{
	struct ulink *ul = link_io(l)->x;

	return tls_recheck(ul->s, &ul->tp);
}


static size_t ul_data_max(const struct link *l)
{
	const struct ulink *ul = link_io_c(l)->x;

	return ul_plain_max(ul) - 1;
}

static void ul_figures(const struct link *l, struct xport_fig *f)
{
	const struct ulink *ul = link_io_c(l)->x;

	f->name = "udp";
	f->mtu = ul->secured ? ul->pm.cur : 0;
	f->retransmits = ul->rel.retransmits;
}

static const struct xport_ops udp_ops = {
	.name = "udp",
	.flush = ul_flush,
	.bye = ul_bye,
	.free = ul_free,
	.recheck = ul_recheck,
	.rekey = ul_rekey,
	.data_max = ul_data_max,
	.figures = ul_figures,
};

/* A DTLS session of ul, talking through ul's socket. */
int us_new(struct ulink *ul, int is_server, gnutls_session_t *s,
		  struct tls_peer *tp)
{
	memset(tp, 0, sizeof(*tp));
	tp->is_server = is_server;
	if (tls_session(ul->ep ? ul->ep->u->tls : NULL, 1, tp, s) < 0)
		return -1;
	gnutls_transport_set_ptr(*s, ul);
	gnutls_transport_set_push_function(*s, ul_push);
	gnutls_transport_set_pull_function(*s, ul_pull);
	gnutls_transport_set_pull_timeout_function(*s, ul_pull_timeout);
	gnutls_dtls_set_mtu(*s, UDP_MTU_BASE);
	gnutls_dtls_set_timeouts(*s, UDP_HS_RETRANS_MS,
				 HANDSHAKE_TIMEOUT_US / 1000);
	return 0;
}

struct ulink *ul_new(struct uep *ep, const struct sockaddr_storage *sa,
			    socklen_t salen, int is_server)
{
	struct udp *u = ep->u;
	struct ulink *ul = calloc(1, sizeof(*ul));
	char addr[NET_ADDRSTRLEN];

	net_fmt_addr((const struct sockaddr *)sa, addr, sizeof(addr));
	if (!ul || queue_init(&ul->in, IN_CAP) < 0 || !(ul->ra = reasm_new()))
		goto fail;
	ul->ep = ep;
	dgq_init(&ul->down);
	if (us_new(ul, is_server, &ul->s, &ul->tp) < 0)
		goto fail;
	if (!(ul->l = link_new(u->c, addr, is_server))) {
		tls_deinit(ul->s);
		goto fail;
	}
	ul->ep = ep;
	memcpy(&ul->sa, sa, salen);
	ul->salen = salen;
	rel_init(&ul->rel, now_ns());
	ev_timer_init(&ul->timer, ul_timer_cb, 0., 0.);
	ul->timer.data = ul;
	ul->next = ep->links;
	ep->links = ul;
	link_attach(ul->l, &udp_ops, ul);
	return ul;
fail:
	if (ul) {
		reasm_free(ul->ra);
		queue_free(&ul->in);
	}
	free(ul);
	log_warnx("link %s: out of memory", addr);
	return NULL;
}

