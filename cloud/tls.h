/* TLS credentials and peer verification (GnuTLS, X.509 with a CA). */
#ifndef CV_TLS_H
#define CV_TLS_H

#include <gnutls/gnutls.h>

#include "proto.h"

#define TLS_DEFAULT_PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3"

/* What one session learnt about its peer; lives in the link. */
struct tls_peer {
	int is_server;
	int verified;
	char why[160];		/* reason the peer was refused */
	struct node_id id;
	char name[NODE_NAME_MAX + 1];
};

struct conf;
struct tls;

/* Load key, cert, CAs, CRLs and priorities; NULL after logging why. */
struct tls *tls_new(const struct conf *conf);
void tls_free(struct tls *t);
const struct node_id *tls_self_id(const struct tls *t);
const char *tls_self_name(const struct tls *t);
/* A non-blocking session on fd; p receives the verification result. */
int tls_session(struct tls *t, int fd, struct tls_peer *p,
		gnutls_session_t *out);
/* SIGHUP: read every ca and crl file again. CAs and revocations are added
 * to what is loaded (taking a CA away needs a restart). -1 after logging. */
int tls_reload(struct tls *t, const struct conf *conf);
/* Verify an established session's peer again (after a reload): NULL if
 * it still passes, else the reason. */
const char *tls_recheck(gnutls_session_t s, const struct tls_peer *p);
/* Words for a failed handshake (gnutls error code). */
const char *tls_errstr(int err, const struct tls_peer *p);

#endif
