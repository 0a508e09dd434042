/*
 * The UDP transport's sockets: one per `listen-udp` address, shared by the
 * links accepted on it and demultiplexed by the peer's address, and one per
 * `connect-udp` link. Strangers: a ClientHello gets a cookie and no state
 * until it returns it; application data is tried for roaming, else
 * answered with a "no session" hint; anything else is counted and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "bytes.h"
#include "cloud.h"
#include "conf.h"
#include "link.h"
#include "log.h"
#include "net.h"
#include "tls_sess.h"
#include "udp.h"
#include "udp_int.h"
#include "uio.h"

struct raw_dest {
	int fd;
	const struct sockaddr_storage *sa;
	socklen_t salen;
};

/* A HelloVerifyRequest goes straight out: there is no link. */
static ssize_t raw_push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct raw_dest *d = p;

	return sendto(d->fd, buf, n, 0, (const struct sockaddr *)d->sa,
		      d->salen);
}

/* ---- sockets -------------------------------------------------------------------- */

static int same_addr(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
	return 0;
}

static struct ulink *ep_find(struct uep *ep, const struct sockaddr_storage *sa)
{
	struct ulink *ul;

	for (ul = ep->links; ul; ul = ul->next)
		if (!link_doomed(ul->l) && same_addr(&ul->sa, sa))
			return ul;
	return NULL;
}

/* A ClientHello from an address with no link: only one that carries our
 * cookie gets a link; the others get a HelloVerifyRequest and cost no
 * state. Returns the new link, or NULL. */
/* Does this ClientHello carry our cookie? If not, answer with a
 * HelloVerifyRequest, keeping no state. */
int ep_cookie_ok(struct uep *ep, const struct sockaddr_storage *sa,
			socklen_t salen, const uint8_t *p, size_t len,
			gnutls_dtls_prestate_st *ps)
{
	struct udp *u = ep->u;
	struct raw_dest d = { ep->fd, sa, salen };

	memset(ps, 0, sizeof(*ps));
	if (gnutls_dtls_cookie_verify(&u->cookie_key, (void *)sa, salen,
				      (void *)p, len, ps) >= 0)
		return 1;
	u->cookies++;
	gnutls_dtls_cookie_send(&u->cookie_key, (void *)sa, salen, ps, &d,
				raw_push);
	return 0;
}

static struct ulink *ep_hello(struct uep *ep, const struct sockaddr_storage *sa,
			      socklen_t salen, const uint8_t *p, size_t len)
{
	gnutls_dtls_prestate_st ps;
	char addr[NET_ADDRSTRLEN];
	struct ulink *ul;

	if (!ep_cookie_ok(ep, sa, salen, p, len, &ps))
		return NULL;
	net_fmt_addr((const struct sockaddr *)sa, addr, sizeof(addr));
	if (admit_inbound(ep->u->c, (const struct sockaddr *)sa, addr) < 0 || !(ul = ul_new(ep, sa, salen, 1)))
		return NULL;
	gnutls_dtls_prestate_set(ul->s, &ps);
	return ul;
}

static int rate_take(struct rate *r, uint64_t per_s, uint64_t now)
{
	if (now - r->at > 1000000000ull) {
		r->at = now;
		r->left = per_s;
	}
	if (!r->left)
		return 0;
	r->left--;
	return 1;
}

/* Application data for a session we do not have (we restarted): an
 * unencrypted epoch-0 alert tells the sender, so it reconnects now rather
 * than after conn_timeout. It is 15 bytes (no amplification), rate
 * limited, and only a hint: the sender acts on it only if its session has
 * also been silent for a while (ul_reset_hint). */
static void ep_reset(struct uep *ep, const struct sockaddr_storage *sa,
		     socklen_t salen)
{
	struct udp *u = ep->u;
	uint8_t a[REC_HDR + 2] = { REC_ALERT, 0xfe, 0xfd };

	if (!rate_take(&u->reset, UDP_RESETS, now_ns()))
		return;
	put16(a + 11, 2);
	a[REC_HDR] = ALERT_FATAL;
	a[REC_HDR + 1] = ALERT_UNEXPECTED;
	sendto(ep->fd, a, sizeof(a), 0, (const struct sockaddr *)sa, salen);
}

/* Authenticated records from a new address move the link there
 * (roaming, NAT rebinding); anything else is dropped. Trial decryption
 * is rate limited, so garbage cannot buy much CPU. */
static int ep_roam(struct uep *ep, const struct sockaddr_storage *sa,
		   socklen_t salen, const uint8_t *p, size_t len)
{
	struct udp *u = ep->u;
	uint64_t now = now_ns();
	struct ulink *ul;
	char was[NET_ADDRSTRLEN];
	ssize_t r;

	for (ul = ep->links; ul; ul = ul->next) {
		if (!ul->secured || link_doomed(ul->l) ||
		    !ul_plausible(ul, p, len) ||
		    !rate_take(&u->roam, UDP_ROAM_TRIALS, now))
			continue;
		ul->rx = p;
		ul->rxlen = len;
		r = gnutls_record_recv(ul->s, u->pt, UDP_DGRAM_MAX);
		if (r <= 0) {
			ul->rx = NULL;
			continue;
		}
		snprintf(was, sizeof(was), "%s", link_io(ul->l)->addr);
		memcpy(&ul->sa, sa, salen);
		ul->salen = salen;
		net_fmt_addr((const struct sockaddr *)sa, link_io(ul->l)->addr,
			     NET_ADDRSTRLEN);
		log_info("link %s: moved from %s to %s", link_io(ul->l)->peer.name,
			 was, link_io(ul->l)->addr);
		link_heard(ul->l);
		ul_note(ul, p, len);
		ul_plain(ul, u->pt, (size_t)r, 1);
		ul_records(ul, ul->s);	/* more records of the datagram */
		return 0;
	}
	return -1;
}

/* DTLS record header: u8 type, u16 version, u16 epoch, u48 seq, u16 len;
 * a handshake message starts with its u8 type (1: ClientHello) */


static void ep_datagram(struct uep *ep, const struct sockaddr_storage *sa,
			socklen_t salen, const uint8_t *p, size_t len)
{
	struct ulink *ul = ep_find(ep, sa);
	int hello = len > REC_HDR && p[0] == REC_HANDSHAKE && !p[3] && !p[4] &&
		    p[REC_HDR] == HS_CLIENT_HELLO;

	if (ul && hello && ul->secured && ul->fresh) {
		ul_input(ul, p, len);	/* a rekey's hello, sent again */
		return;
	}
	if (ul && hello && ul->secured && ul->hint_until > now_ns()) {
		rk_accept(ul, sa, salen, p, len);
		return;
	}
	if (ul && hello && ul->secured && ep->listening) {
		gnutls_dtls_prestate_st ps;

		/* Has the peer restarted? Only if the hello carries our
		 * cookie and the old session stays silent when asked: a
		 * replayed or duplicated hello cannot end a live link. The
		 * peer sends its hello again meanwhile. */
		if (!ep_cookie_ok(ep, sa, salen, p, len, &ps) || !ul_doubt(ul))
			return;
		link_fail(ul->l, "peer started a new session");
		if (!(ul = ep_hello(ep, sa, salen, p, len)))
			return;
	} else if (!ul && hello && ep->listening) {
		/* answered with a cookie, or a new link: not garbage */
		if (!(ul = ep_hello(ep, sa, salen, p, len)))
			return;
	} else if (!ul && len >= REC_HDR && p[0] == REC_APPDATA) {
		if (ep_roam(ep, sa, salen, p, len) == 0)
			return;
		if (ep->listening)
			ep_reset(ep, sa, salen);
	}
	if (ul)
		ul_input(ul, p, len);
	else
		ep->u->garbage++;
}

static void ep_rx(void *arg, const struct sockaddr_storage *sa,
		  socklen_t salen, const uint8_t *p, size_t len)
{
	ep_datagram(arg, sa, salen, p, len);
}

static void ep_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct uep *ep = w->data;
	int round;

	(void)loop;
	(void)revents;
	/* bounded: let the loop breathe */
	for (round = 0; round < 8; round++)
		if (uio_recv(ep->u->io, ep->fd, ep_rx, ep) <= 0)
			break;
	ul_out_flush(ep->u);
}

static struct uep *ep_new(struct udp *u, int fd, const char *addr,
			  int listening)
{
	struct uep *ep = calloc(1, sizeof(*ep));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!ep)
		return NULL;
	ep->u = u;
	ep->fd = fd;
	ep->listening = listening;
	snprintf(ep->addr, sizeof(ep->addr), "%s", addr);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		uio_tune(fd, ss.ss_family);
	ev_io_init(&ep->io, ep_io_cb, fd, EV_READ);
	ep->io.data = ep;
	ev_io_start(u->c->loop, &ep->io);
	ep->next = u->eps;
	u->eps = ep;
	return ep;
}

void ep_close(struct uep *ep)
{
	struct udp *u = ep->u;
	struct uep **pp;

	for (pp = &u->eps; *pp; pp = &(*pp)->next)
		if (*pp == ep) {
			*pp = ep->next;
			break;
		}
	if (uio_pending(u->io, ep->fd))
		ul_out_flush(u);
	ev_io_stop(u->c->loop, &ep->io);
	close(ep->fd);
	free(ep);
}

int udp_bound(struct cloud *c, int fd, const char *addr)
{
	if (!ep_new(links_udp(c), fd, addr, 1)) {
		close(fd);
		return -1;
	}
	return 0;
}

void udp_unbound(struct cloud *c, int fd)
{
	struct uep *ep;

	for (ep = links_udp(c)->eps; ep; ep = ep->next)
		if (ep->fd == fd && ep->listening)
			break;
	if (!ep)
		return;
	ep->listening = 0;
	if (!ep->links)
		ep_close(ep);
}

void udp_connected(struct cloud *c, struct connector *cn, int fd,
		   const struct sockaddr *sa, socklen_t salen,
		   const char *addr)
{
	struct sockaddr_storage ss;
	struct uep *ep = ep_new(links_udp(c), fd, addr, 0);
	struct ulink *ul;

	if (!ep) {
		close(fd);
		net_link_down(cn, 0);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, salen);
	uio_tune(fd, sa->sa_family);
	if (!(ul = ul_new(ep, &ss, salen, 0))) {
		ep_close(ep);
		net_link_down(cn, 0);
		return;
	}
	link_set_connector(ul->l, cn);
	ul_handshake(ul);
}

/* A connected socket from a gate. It is not listening: a connected socket
 * hears only its peer, whose ClientHello the server side takes without a
 * cookie (nothing spoofed can reach it). Its end closes the socket
 * (ul_free) and nothing reconnects. */
int udp_handed(struct cloud *c, int fd, const struct sockaddr_storage *sa,
	       socklen_t salen, const struct node_id *want, uint32_t gate)
{
	int client = memcmp(c->self.b, want->b, NODE_ID_LEN) < 0;
	char addr[NET_ADDRSTRLEN];
	struct ulink *ul;
	struct uep *ep;
	int fl;

	net_fmt_addr((const struct sockaddr *)sa, addr, sizeof(addr));
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_warn("link %s: handed socket", addr);
		close(fd);
		return -1;
	}
	if (admit_outbound(c, addr) < 0 || !(ep = ep_new(links_udp(c), fd, addr, 0))) {
		close(fd);
		return -1;
	}
	if (!(ul = ul_new(ep, sa, salen, !client))) {
		ep_close(ep);
		return -1;
	}
	link_set_handed(ul->l, want, gate);
	log_info("link %s: handed socket, DTLS %s", addr,
		 client ? "client" : "server");
	if (client)
		ul_handshake(ul);
	return 0;
}

/* ---- setup ------------------------------------------------------------------------ */

struct udp *udp_new(struct cloud *c, struct tls *tls)
{
	struct udp *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->c = c;
	u->tls = tls;
	u->fixed_mtu = (size_t)conf_int(c->conf, "udp_mtu");
	if (u->fixed_mtu && u->fixed_mtu < UDP_MTU_MIN)
		u->fixed_mtu = UDP_MTU_MIN;
	if (!(u->io = uio_new()) ||
	    gnutls_key_generate(&u->cookie_key, GNUTLS_COOKIE_KEY_SIZE) < 0) {
		udp_free(u);
		return NULL;
	}
	return u;
}

void udp_free(struct udp *u)
{
	if (!u)
		return;
	while (u->eps)
		ep_close(u->eps);
	gnutls_free(u->cookie_key.data);
	uio_free(u->io);
	free(u);
}

void udp_counts(const struct udp *u, uint64_t *garbage, uint64_t *cookies)
{
	*garbage = u->garbage;
	*cookies = u->cookies;
}

void udp_status(const struct udp *u, FILE *f)
{
	fprintf(f, "udp garbage=%llu cookies_sent=%llu\n",
		(unsigned long long)u->garbage, (unsigned long long)u->cookies);
}

