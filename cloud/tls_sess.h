/* TLS and DTLS sessions with mutual verification: for transports only,
 * the one place besides tls.c that sees GnuTLS types. */
#ifndef CV_TLS_SESS_H
#define CV_TLS_SESS_H

#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/dtls.h>
#include <gnutls/x509.h>

#include "tls.h"
#include "xport.h"

#define TLS_DEFAULT_PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3"
/* DTLS 1.2, AES-GCM only unless tls_prio_str says otherwise */
#define DTLS_DEFAULT_PRIO \
	"NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM"
/* Appended to every priority string, tls_prio_str too: (D)TLS 1.2 with
 * forward secrecy and AEAD only. TLS 1.3 suites are all ECDHE/AEAD. */
#define TLS12_ECDHE_AEAD \
	":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA" \
	":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305" \
	":-MAC-ALL:+AEAD"

/* What one session learnt about its peer; lives in the transport. */
struct tls_peer {
	int is_server;
	int verified;
	char why[320];		/* reason the peer was refused */
	int alert;		/* the alert that tells the peer why */
	int pinned;		/* outbound `connect ... NODEID`: */
	struct node_id pin;	/* the only node it may reach */
	struct node_id id;
	char name[NODE_NAME_MAX + 1];
	time_t expires;		/* the peer certificate's notAfter */
	unsigned checked;	/* credentials generation it passed last */
};

/* A non-blocking session (DTLS if dtls); p receives the verification
 * result. The caller sets the transport (fd or push/pull). */
int tls_session(struct tls *t, int dtls, struct tls_peer *p,
		gnutls_session_t *out);
/* Deinit a session made by tls_session (every one, whatever happened to
 * it): the credentials it was made with are freed with their last
 * session. */
void tls_deinit(gnutls_session_t s);
/* The next client session made (by the `connected` callback net.c is
 * calling) may only reach node pin; NULL: any node. net.c arms it just
 * before that call and disarms it just after. */
void tls_pin_next(struct tls *t, const struct node_id *pin);
/* An established session's peer still good? NULL if so, else the reason.
 * Cheap enough for every keepalive tick: the certificate's expiry is
 * compared with the clock; the chain is verified again only when CAs and
 * CRLs were reloaded since, against the new ones (not the session's own,
 * older ones). */
const char *tls_recheck(gnutls_session_t s, struct tls_peer *p);
/* A handshake ended with r: log why, in the same words for every
 * transport ("link ADDR: refused: unknown issuer", ...). */
/* We refused the peer (tls_log_failure said why): tell it, with the alert
 * that fits the reason, so its log can say more than "connection reset". */
void tls_refuse(gnutls_session_t s, int r, const struct tls_peer *p);
/* A session whose handshake we completed failed with r (0: EOF) before
 * any record came from the peer: log what the peer most likely meant. In
 * TLS 1.3 a client learns of its refusal only now. */
void tls_log_closed(const char *addr, int r, gnutls_session_t s);
void tls_log_failure(const char *addr, int r, gnutls_session_t s,
		     const struct tls_peer *p);
/* What a failed handshake (r) or a session closed before its first
 * record (p NULL) counts as (xport.h). */
enum link_hs tls_hs_why(int r, const struct tls_peer *p);
/* The current credentials (CAs, CRLs) other checks share: origin.c. */
gnutls_certificate_credentials_t tls_cred(const struct tls *t);
/* NULL if crt's extended key usage names purpose oid (GNUTLS_KP_...),
 * else why not: a certificate without the extension is refused, not taken
 * as good for any purpose. */
const char *tls_crt_purpose(gnutls_x509_crt_t crt, const char *oid);
/* Why verification status st refuses a certificate, in a few words. */
const char *tls_status_reason(unsigned st);
/* Copy the verified identity into the link's view. */
void tls_peer_export(const struct tls_peer *p, struct link_peer *out);

#endif
