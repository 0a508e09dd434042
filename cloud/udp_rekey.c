/*
 * Rekeying a UDP link: a fresh DTLS handshake beside the running session
 * (see below and doc/PROTOCOL.md section 1.4).
 */
#include <string.h>

#include "cloud.h"
#include "link.h"
#include "log.h"
#include "tls_sess.h"
#include "udp_int.h"

#define REKEY_GRACE_NS (2000000000ull)	/* the old session is still read */

/* ---- rekeying ---------------------------------------------------------------------
 * The side that connected starts a fresh handshake on the same socket,
 * after a DG_REKEY hint, while data keeps flowing on the old session.
 * Handshake records go to the new session, application data to the old
 * one, then to the new (a record that does not decrypt is dropped by
 * GnuTLS, so trying both is safe). The initiator sends with the new keys
 * once its handshake is done; the responder once a record arrives under
 * them (so the initiator is surely done). The old session is still read
 * for a grace period: no packet in flight is lost. */

void rk_promote(struct ulink *ul)
{
	if (ul->old)
		tls_deinit(ul->old);
	ul->old = ul->s;
	ul->old_until = now_ns() + REKEY_GRACE_NS;
	ul->s = ul->fresh;
	ul->tp = ul->ntp;
	ul->fresh = NULL;
	ul->fresh_done = 0;
	gnutls_dtls_set_mtu(ul->s, UDP_DGRAM_MAX);
	log_debug("link %s: new DTLS session in use", link_io(ul->l)->addr);
}

void rk_step(struct ulink *ul)
{
	int r = gnutls_handshake(ul->fresh);

	ul_out_flush(ul->ep->u);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	    (r < 0 && !gnutls_error_is_fatal(r)))
		return;
	if (r >= 0 && ul->ntp.verified &&
	    memcmp(ul->ntp.id.b, ul->tp.id.b, NODE_ID_LEN)) {
		link_fail(ul->l, "rekey: the new session is another node's");
		return;
	}
	if (r < 0 || !ul->ntp.verified) {
		/* the running session is still good: keep it, try later */
		tls_log_failure(link_io(ul->l)->addr, r, ul->fresh, &ul->ntp);
		log_warnx("link %s: rekey failed, keeping the current keys",
			  link_io(ul->l)->addr);
		tls_deinit(ul->fresh);
		ul->fresh = NULL;
		return;
	}
	ul->fresh_done = 1;
	if (!ul->ntp.is_server)
		rk_promote(ul);
}

void rk_input(struct ulink *ul)
{
	if (!ul->fresh_done)
		rk_step(ul);
	else
		ul_records(ul, ul->fresh);
}

/* A new session in the making, replacing any earlier attempt. */
static int rk_fresh(struct ulink *ul, int is_server)
{
	if (ul->fresh)
		tls_deinit(ul->fresh);
	ul->fresh = NULL;
	ul->fresh_done = 0;
	return us_new(ul, is_server, &ul->fresh, &ul->ntp);
}

/* The REKEY hint goes before every ClientHello of the new session, so
 * that losing it costs one more retransmission, not the link. */
void rk_hint(struct ulink *ul)
{
	uint8_t hint = DG_REKEY;

	if (!ul->tp.is_server)
		ul_send(ul, &hint, 1);
}

void ul_rekey(struct link *l)
{
	struct ulink *ul = link_io(l)->x;

	if (!ul->secured || ul->tp.is_server || rk_fresh(ul, 0) < 0)
		return;
	rk_hint(ul);
	rk_step(ul);
	link_mark(l);
}

/* A ClientHello after the hint: verify its cookie like a stranger's,
 * then it starts the new session. */
void rk_accept(struct ulink *ul, const struct sockaddr_storage *sa,
	       socklen_t salen, const uint8_t *p, size_t len)
{
	gnutls_dtls_prestate_st ps;

	if (!ep_cookie_ok(ul->ep, sa, salen, p, len, &ps) || rk_fresh(ul, 1) < 0)
		return;
	gnutls_dtls_prestate_set(ul->fresh, &ps);
	ul->hint_until = 0;
	ul->rx = p;
	ul->rxlen = len;
	rk_step(ul);
	ul->rx = NULL;
	link_mark(ul->l);	/* arms the handshake's timer */
}

