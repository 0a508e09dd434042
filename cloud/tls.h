/* TLS credentials: key, certificate, CAs, CRLs, priorities (GnuTLS). The
 * sessions built on them live in the transports (tls_sess.h). */
#ifndef CV_TLS_H
#define CV_TLS_H

#include "proto.h"

struct conf;
struct tls;

/* Load key, cert, CAs, CRLs and priorities; NULL after logging why. */
struct tls *tls_new(const struct conf *conf);
void tls_free(struct tls *t);
const struct node_id *tls_self_id(const struct tls *t);
const char *tls_self_name(const struct tls *t);
/* SIGHUP: read every ca and crl file again (by name, in the directory it
 * was in at start, opened then: chroot and user do not stop it) into new
 * credentials that replace the old ones for new sessions (a CA or CRL
 * taken out of a file is gone); on any error the old ones stay, -1 after
 * logging. Live sessions keep theirs until they end: tls_recheck() them. */
int tls_reload(struct tls *t, const struct conf *conf);

#endif
