/* TLS: credentials from the configuration, mutual verification. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "conf.h"
#include "esc.h"
#include "log.h"
#include "tls_sess.h"

/*
 * One generation of credentials: key, certificate, CAs, CRLs. New sessions
 * take the current one; a reload builds the next and swaps it in whole. A
 * GnuTLS session keeps a pointer to its credentials, so a generation lives
 * until its last session is deinit'ed (tls_deinit). Sessions name their
 * credentials, not their generation: every live generation is on `gens`.
 */
struct tls_gen {
	struct tls_gen *next;
	struct tls *t;
	gnutls_certificate_credentials_t cred;
	unsigned refs;			/* sessions, plus one while current */
	unsigned serial;
};

static struct tls_gen *gens;

/*
 * A ca or crl file, read at every load by its name in the directory it was
 * in at start: the directory is opened (O_PATH) before chroot and the
 * privilege drop, so a reload still reaches it. It must stay in that
 * directory, readable by the user the daemon runs as.
 */
struct tls_file {
	const struct conf_val *v;
	const char *opt;		/* "ca" or "crl" */
	const char *base;		/* the name in dir (within v->raw) */
	int dir;
};

#define TLS_FILE_MAX (16 * 1024 * 1024)	/* a ca or crl file at most */

struct tls {
	struct tls_gen *cur;
	struct tls_file *files;		/* every ca, then every crl */
	size_t nfiles;
	unsigned serial;		/* of the last generation made */
	gnutls_datum_t cert_pem, key_pem;	/* read once, at start */
	gnutls_priority_t prio;		/* TLS over TCP */
	gnutls_priority_t dprio;	/* DTLS over UDP */
	gnutls_dh_params_t dh;
	struct node_id self;
	char name[NODE_NAME_MAX + 1];
	const struct node_id *pin_next;	/* see tls_pin_next() */
	int lvl;	/* of load failures: an error at start, a warning later */
};

/* The name is the CN escaped (esc.h): the peer chooses it. */
static int crt_identity(const gnutls_datum_t *der, struct node_id *id,
			char *name, size_t namesz)
{
	gnutls_x509_crt_t crt;
	char raw[NODE_NAME_MAX + 1];
	size_t sz = NODE_ID_LEN;
	int ret = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id->b,
				       &sz) < 0 || sz != NODE_ID_LEN)
		goto out;
	sz = sizeof(raw);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, raw, &sz) < 0)
		raw[0] = '\0';
	esc_name(raw, name, namesz);
	ret = 0;
out:
	gnutls_x509_crt_deinit(crt);
	return ret;
}

const char *tls_status_reason(unsigned st)
{
	if (st & GNUTLS_CERT_REVOKED)
		return "revoked";
	if (st & GNUTLS_CERT_EXPIRED)
		return "expired";
	if (st & GNUTLS_CERT_NOT_ACTIVATED)
		return "not yet valid";
	if (st & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return "unknown issuer";
	if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "wrong key usage";
	if (st & GNUTLS_CERT_SIGNER_NOT_CA)
		return "issuer is not a CA";
	if (st & GNUTLS_CERT_SIGNATURE_FAILURE)
		return "bad signature";
	if (st & GNUTLS_CERT_INSECURE_ALGORITHM)
		return "insecure algorithm";
	return "not trusted";
}

/* The alert that says what tls_status_reason(st) says. */
static int status_alert(unsigned st)
{
	if (st & GNUTLS_CERT_REVOKED)
		return GNUTLS_A_CERTIFICATE_REVOKED;
	if (st & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return GNUTLS_A_CERTIFICATE_EXPIRED;
	if (st & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return GNUTLS_A_UNKNOWN_CA;
	if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
		return GNUTLS_A_UNSUPPORTED_CERTIFICATE;
	return GNUTLS_A_BAD_CERTIFICATE;
}

const char *tls_crt_purpose(gnutls_x509_crt_t crt, const char *oid)
{
	char buf[128];
	unsigned i;
	int any = 0;

	for (i = 0;; i++) {
		size_t sz = sizeof(buf);
		int r = gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &sz,
							    NULL);

		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			any = 1;	/* longer than any OID we look for */
			continue;
		}
		if (r < 0)
			return "unreadable extended key usage";
		if (!strcmp(buf, oid))
			return NULL;
		any = 1;
	}
	return any ? "wrong key usage" : "no extended key usage";
}

static void id_hex(const struct node_id *id, char *out)
{
	unsigned i;

	for (i = 0; i < NODE_ID_LEN; i++)
		sprintf(out + 2 * i, "%02x", id->b[i]);
}

static struct tls_gen *gen_of(gnutls_session_t s)
{
	struct tls_gen *g;
	void *cred = NULL;

	if (gnutls_credentials_get(s, GNUTLS_CRD_CERTIFICATE, &cred) < 0)
		return NULL;
	for (g = gens; g; g = g->next)
		if ((void *)g->cred == cred)
			return g;
	return NULL;
}

#define CHAIN_MAX 16	/* certificates of a peer's chain we look at */

/* The chain the peer presented, checked against the CAs and CRLs of the
 * current generation (not always the session's own: after a reload the
 * session still holds the old ones), validity and key purpose: NULL if
 * good, else the reason. GnuTLS takes a certificate without extended key
 * usage as good for any purpose; we want the TLS client or server purpose
 * written in it. */
static const char *peer_check(gnutls_session_t s, struct tls_peer *p)
{
	gnutls_typed_vdata_st vd = { .type = GNUTLS_DT_KEY_PURPOSE_OID };
	const char *oid = p->is_server ? GNUTLS_KP_TLS_WWW_CLIENT
				       : GNUTLS_KP_TLS_WWW_SERVER;
	gnutls_x509_crt_t crt[CHAIN_MAX];
	gnutls_x509_trust_list_t tl;
	const gnutls_datum_t *chain;
	struct tls_gen *g = gen_of(s);
	const char *bad = "unreadable certificate";
	unsigned n = 0, k, st = 0;

	if (!g)
		return "no credentials";
	if (!(chain = gnutls_certificate_get_peers(s, &n)) || n == 0)
		return "no certificate";
	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	for (k = 0; k < n; k++) {	/* k: how many to deinit */
		if (gnutls_x509_crt_init(&crt[k]) < 0)
			goto out;
		if (gnutls_x509_crt_import(crt[k], &chain[k],
					   GNUTLS_X509_FMT_DER) < 0) {
			k++;
			goto out;
		}
	}
	vd.data = (void *)oid;
	gnutls_certificate_get_trust_list(g->t->cur->cred, &tl);
	if (gnutls_x509_trust_list_verify_crt2(tl, crt, n, &vd, 1, 0, &st,
					       NULL) < 0)
		bad = "cannot be verified";
	else if (st)
		bad = tls_status_reason(st);
	else if ((bad = tls_crt_purpose(crt[0], oid)))
		st = GNUTLS_CERT_PURPOSE_MISMATCH;
	p->alert = status_alert(st);
	if (!bad) {
		p->expires = gnutls_x509_crt_get_expiration_time(crt[0]);
		p->checked = g->t->cur->serial;
	}
out:
	while (k--)
		gnutls_x509_crt_deinit(crt[k]);
	return bad;
}

const char *tls_recheck(gnutls_session_t s, struct tls_peer *p)
{
	struct tls_gen *g;

	if (p->expires > 0 && time(NULL) >= p->expires)
		return "certificate expired";
	if ((g = gen_of(s)) && p->checked == g->t->cur->serial)
		return NULL;
	return peer_check(s, p);
}

/* Called by GnuTLS inside the handshake: a refusal aborts it with an
 * alert, so the peer learns at once. */
static int verify_cb(gnutls_session_t s)
{
	struct tls_peer *p = gnutls_session_get_ptr(s);
	const gnutls_datum_t *chain;
	const char *bad = peer_check(s, p);
	unsigned n = 0;

	if (bad) {
		snprintf(p->why, sizeof(p->why), "%s", bad);
		return -1;
	}
	chain = gnutls_certificate_get_peers(s, &n);
	if (crt_identity(&chain[0], &p->id, p->name, sizeof(p->name)) < 0) {
		snprintf(p->why, sizeof(p->why), "unreadable certificate");
		return -1;
	}
	if (p->pinned && memcmp(p->id.b, p->pin.b, NODE_ID_LEN)) {
		char got[2 * NODE_ID_LEN + 1], want[2 * NODE_ID_LEN + 1];

		p->alert = GNUTLS_A_ACCESS_DENIED;
		id_hex(&p->id, got);
		id_hex(&p->pin, want);
		snprintf(p->why, sizeof(p->why),
			 "node %s (id %s) is not the pinned node %s", p->name,
			 got, want);
		return -1;
	}
	p->verified = 1;
	return 0;
}

static const char *errstr(int err, const struct tls_peer *p)
{
	if (p->why[0])
		return p->why;
	if (err == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	    err == GNUTLS_E_CERTIFICATE_REQUIRED)
		return "no certificate";
	return gnutls_strerror(err);
}

static int we_refused(int r, const struct tls_peer *p)
{
	return p->why[0] || r == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	       r == GNUTLS_E_CERTIFICATE_REQUIRED || r >= 0;
}

/* A closed connection, not an answer: EOF or a reset, in GnuTLS's words. */
static int closed_by_peer(int r)
{
	return r == 0 || r == GNUTLS_E_PULL_ERROR ||
	       r == GNUTLS_E_PREMATURE_TERMINATION ||
	       r == GNUTLS_E_PUSH_ERROR;
}

/* The peer's fatal alert, in words that say whose certificate failed. */
static void log_alert(const char *addr, gnutls_session_t s)
{
	gnutls_alert_description_t a = gnutls_alert_get(s);
	const char *name = gnutls_alert_get_name(a);
	int cert = a == GNUTLS_A_BAD_CERTIFICATE ||
		   a == GNUTLS_A_UNSUPPORTED_CERTIFICATE ||
		   a == GNUTLS_A_CERTIFICATE_REVOKED ||
		   a == GNUTLS_A_CERTIFICATE_EXPIRED ||
		   a == GNUTLS_A_CERTIFICATE_UNKNOWN ||
		   a == GNUTLS_A_UNKNOWN_CA || a == GNUTLS_A_ACCESS_DENIED ||
		   a == GNUTLS_A_CERTIFICATE_REQUIRED;

	log_warnx("link %s: %s (alert: %s)", addr,
		  cert ? "peer refused our certificate" : "refused by peer",
		  name ? name : "unknown");
}

void tls_log_failure(const char *addr, int r, gnutls_session_t s,
		     const struct tls_peer *p)
{
	if (we_refused(r, p))
		log_warnx("link %s: refused: %s", addr,
			  r >= 0 && !p->why[0] ? "not verified" : errstr(r, p));
	else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		log_alert(addr, s);
	else if (closed_by_peer(r))
		log_warnx("link %s: handshake failed: closed by peer during the "
			  "handshake (if it is a cloud node, it probably "
			  "refused our certificate; see its log)", addr);
	else
		log_warnx("link %s: handshake failed: %s", addr,
			  gnutls_strerror(r));
}

void tls_refuse(gnutls_session_t s, int r, const struct tls_peer *p)
{
	int a = p->alert;

	if (!we_refused(r, p))
		return;		/* the peer spoke first, or the wire failed */
	if (!p->why[0])
		a = GNUTLS_A_CERTIFICATE_REQUIRED;
	else if (!a)
		a = GNUTLS_A_BAD_CERTIFICATE;
	/* best effort: a full socket buffer loses it, the peer then sees
	 * the connection closed */
	gnutls_alert_send(s, GNUTLS_AL_FATAL, (gnutls_alert_description_t)a);
}

void tls_log_closed(const char *addr, int r, gnutls_session_t s)
{
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		log_alert(addr, s);
	else if (closed_by_peer(r))
		log_warnx("link %s: closed by peer right after the handshake "
			  "(it probably refused our certificate; see its log)",
			  addr);
	else
		log_warnx("link %s: failed right after the handshake: %s",
			  addr, gnutls_strerror(r));
}

enum link_hs tls_hs_why(int r, const struct tls_peer *p)
{
	if (p && we_refused(r, p))
		return LINK_HS_REFUSED;
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return LINK_HS_PEER_REFUSED;
	return closed_by_peer(r) ? LINK_HS_CLOSED : LINK_HS_TLS;
}

void tls_peer_export(const struct tls_peer *p, struct link_peer *out)
{
	out->is_server = p->is_server;
	out->id = p->id;
	snprintf(out->name, sizeof(out->name), "%s", p->name);
}

static int load_self(struct tls *t)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t crt;
	int ret = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &t->cert_pem, GNUTLS_X509_FMT_PEM) < 0)
		goto out;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	ret = crt_identity(&der, &t->self, t->name, sizeof(t->name));
	gnutls_free(der.data);
out:
	gnutls_x509_crt_deinit(crt);
	return ret;
}

static int need(const struct conf *conf, const char *opt)
{
	if (conf_last(conf, opt))
		return 0;
	log_errorx("config: %s: required option is missing", opt);
	return -1;
}

/* Revocation dates do not make a CRL false: a stale one still lists what
 * its CA revoked. */
#define CRL_TIME_BITS (GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | \
		       GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE)

/* The CA certificates of every `ca` file, to check the CRLs against (the
 * credentials keep their own copy and do not list it). */
struct cas {
	gnutls_x509_crt_t *crt;
	unsigned n;
};

static void cas_free(struct cas *cas)
{
	unsigned i;

	for (i = 0; i < cas->n; i++)
		gnutls_x509_crt_deinit(cas->crt[i]);
	gnutls_free(cas->crt);
	cas->crt = NULL;
	cas->n = 0;
}

static int cas_add(struct cas *cas, const gnutls_datum_t *pem)
{
	gnutls_x509_crt_t *crt = NULL, *all;
	unsigned n = 0, i;

	if (gnutls_x509_crt_list_import2(&crt, &n, pem, GNUTLS_X509_FMT_PEM,
					 0) < 0)
		return -1;
	all = gnutls_realloc(cas->crt, (cas->n + n) * sizeof(*all));
	if (!all) {
		for (i = 0; i < n; i++)
			gnutls_x509_crt_deinit(crt[i]);
		gnutls_free(crt);
		return -1;
	}
	memcpy(all + cas->n, crt, n * sizeof(*all));
	gnutls_free(crt);
	cas->crt = all;
	cas->n += n;
	return 0;
}

static int file_open_dir(struct tls_file *f)
{
	const char *slash = strrchr(f->v->raw, '/');
	char *dir;
	char where[512];

	f->base = slash ? slash + 1 : f->v->raw;
	if (!slash)
		dir = strdup(".");
	else if (slash == f->v->raw)
		dir = strdup("/");
	else
		dir = strndup(f->v->raw, (size_t)(slash - f->v->raw));
	if (!dir)
		return -1;
	f->dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->dir < 0)
		log_error("%scannot open directory \"%s\"",
			 conf_where(f->v, f->opt, where, sizeof(where)), dir);
	free(dir);
	return f->dir < 0 ? -1 : 0;
}

/* Why a file of st cannot be read whole: 0 if it can, else an errno. */
static int file_unfit(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return EISDIR;
	if (!S_ISREG(st->st_mode))
		return EINVAL;	/* a device or a pipe: not a PEM file */
	return st->st_size > TLS_FILE_MAX ? EFBIG : 0;
}

/* The whole of file f into pem (NUL-terminated); -1 after logging at
 * level lvl. */
static int file_read(const struct tls_file *f, int lvl, gnutls_datum_t *pem)
{
	struct stat st;
	char where[512];
	ssize_t r = 0;
	size_t len = 0;
	int fd = openat(f->dir, f->base, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	pem->data = NULL;
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if ((errno = file_unfit(&st)) ||
	    !(pem->data = gnutls_malloc((size_t)st.st_size + 1)))
		goto fail;
	while (len < (size_t)st.st_size &&
	       (r = read(fd, pem->data + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)r;
	if (r < 0)
		goto fail;
	close(fd);
	pem->data[len] = '\0';
	pem->size = (unsigned)len;
	return 0;
fail:
	log_at(lvl, 1, "%scannot read \"%s\"",
	       conf_where(f->v, f->opt, where, sizeof(where)), f->v->raw);
	if (fd >= 0)
		close(fd);
	gnutls_free(pem->data);
	pem->data = NULL;
	return -1;
}

/* Every CRL of pem (file v), each signed by one of cas, into cred; -1
 * after logging the first one that is not (at level lvl). */
static int crl_add(gnutls_certificate_credentials_t cred,
		   const struct conf_val *v, const gnutls_datum_t *pem,
		   const struct cas *cas, int lvl)
{
	gnutls_datum_t dn = { NULL, 0 };
	gnutls_x509_crl_t *crl = NULL;
	unsigned n = 0, i, st;
	char where[512];
	int ret;

	conf_where(v, "crl", where, sizeof(where));
	ret = gnutls_x509_crl_list_import2(&crl, &n, pem, GNUTLS_X509_FMT_PEM,
					   0);
	if (ret < 0 || n == 0) {
		log_at(lvl, 0, "%s\"%s\": no CRL in PEM format", where,
		       v->raw);
		gnutls_free(crl);
		return -1;
	}
	for (i = 0; i < n; i++) {
		st = 0;
		ret = gnutls_x509_crl_verify(crl[i], cas->crt, cas->n, 0, &st);
		if (ret >= 0 && !(st & ~CRL_TIME_BITS))
			continue;
		gnutls_x509_crl_get_issuer_dn3(crl[i], &dn, 0);
		log_at(lvl, 0, "%sCRL %u in \"%s\" (issuer %s) is not signed "
		       "by a configured CA: %s", where, i + 1, v->raw,
		       dn.data ? (char *)dn.data : "?",
		       ret < 0 ? gnutls_strerror(ret)
			       : tls_status_reason(st & ~CRL_TIME_BITS));
		gnutls_free(dn.data);
		ret = -1;
		goto out;
	}
	ret = gnutls_certificate_set_x509_crl(cred, crl, n);
	if (ret < 0)
		log_at(lvl, 0, "%scannot load CRL from \"%s\": %s", where,
		       v->raw, gnutls_strerror(ret));
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crl_deinit(crl[i]);
	gnutls_free(crl);
	return ret < 0 ? -1 : 0;
}

/* One ca file into cred and cas, or one crl file into cred, checked
 * against cas; -1 after logging at level lvl. */
static int file_load(gnutls_certificate_credentials_t cred, struct cas *cas,
		     const struct tls_file *f, int lvl)
{
	gnutls_datum_t pem;
	char where[512];
	int ret = 0;

	if (file_read(f, lvl, &pem) < 0)
		return -1;
	if (!strcmp(f->opt, "crl")) {
		ret = crl_add(cred, f->v, &pem, cas, lvl);
	} else if (gnutls_certificate_set_x509_trust_mem(
			   cred, &pem, GNUTLS_X509_FMT_PEM) <= 0 ||
		   cas_add(cas, &pem) < 0) {
		log_at(lvl, 0, "%s\"%s\": no CA certificate in PEM format",
		       conf_where(f->v, "ca", where, sizeof(where)),
		       f->v->raw);
		ret = -1;
	}
	gnutls_free(pem.data);
	return ret;
}

/* Every CA first: each CRL must be signed by one of them. */
static int load_lists(struct tls *t, gnutls_certificate_credentials_t cred)
{
	struct cas cas = { NULL, 0 };
	size_t i;
	int ret = 0;

	for (i = 0; i < t->nfiles && ret == 0; i++)
		ret = file_load(cred, &cas, &t->files[i], t->lvl);
	cas_free(&cas);
	return ret;
}

/* Where every ca and crl file is, while the daemon can still open it. */
static int files_open(struct tls *t, const struct conf *conf)
{
	static const char *const opts[] = { "ca", "crl" };
	const struct conf_val *v;
	size_t i, k, n = 0;

	for (k = 0; k < 2; k++)
		for (i = 0; conf_get(conf, opts[k], i); i++)
			n++;
	if (!(t->files = calloc(n ? n : 1, sizeof(*t->files))))
		return -1;
	for (k = 0; k < 2; k++)
		for (i = 0; (v = conf_get(conf, opts[k], i)); i++) {
			t->files[t->nfiles].v = v;
			t->files[t->nfiles].opt = opts[k];
			if (file_open_dir(&t->files[t->nfiles]) < 0)
				return -1;
			t->nfiles++;
		}
	return 0;
}

static void files_close(struct tls *t)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		close(t->files[i].dir);
	free(t->files);
}

/* A file named by option opt (its last value), read at start: the
 * ca and crl files are read through their directory instead. */
static int self_read(const struct conf *conf, const char *opt,
		     gnutls_datum_t *pem)
{
	const struct tls_file f = { conf_last(conf, opt), opt,
				    conf_last(conf, opt)->raw, AT_FDCWD };

	return file_read(&f, LOG_LVL_ERR, pem);
}

static int load_dh(struct tls *t, const struct conf *conf)
{
	const struct conf_val *v = conf_last(conf, "dh");
	gnutls_datum_t pem = { NULL, 0 };
	char where[512];
	int ret;

	if (!v)
		return 0;
	if (gnutls_dh_params_init(&t->dh) < 0)
		return -1;
	if (self_read(conf, "dh", &pem) < 0)
		return -1;
	ret = gnutls_dh_params_import_pkcs3(t->dh, &pem, GNUTLS_X509_FMT_PEM);
	gnutls_free(pem.data);
	if (ret < 0) {
		log_errorx("%s\"%s\": no DH parameters in PEM format: %s",
			   conf_where(v, "dh", where, sizeof(where)), v->raw,
			   gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

/* The key file holds a private key: said here, GnuTLS's own words for a
 * certificate given as key are "The requested data were not available". */
static int key_check(const struct tls *t, const struct conf_val *v)
{
	gnutls_x509_privkey_t key;
	char where[512];
	int ret;

	if ((ret = gnutls_x509_privkey_init(&key)) >= 0) {
		ret = gnutls_x509_privkey_import2(key, &t->key_pem,
						  GNUTLS_X509_FMT_PEM, NULL, 0);
		gnutls_x509_privkey_deinit(key);
	}
	if (ret >= 0)
		return 0;
	conf_where(v, "key", where, sizeof(where));
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		log_errorx("%s\"%s\": no private key in PEM format", where,
			   v->raw);
	else
		log_errorx("%s\"%s\": unusable private key: %s", where,
			   v->raw, gnutls_strerror(ret));
	return -1;
}

/* Key and certificate are read once: the node's identity does not change
 * under a running daemon (and the key may be readable by root only). */
static int load_self_files(struct tls *t, const struct conf *conf)
{
	const struct conf_val *cert = conf_last(conf, "cert");
	char where[512];

	if (need(conf, "key") || need(conf, "cert") || need(conf, "ca"))
		return -1;
	if (self_read(conf, "cert", &t->cert_pem) < 0 ||
	    self_read(conf, "key", &t->key_pem) < 0)
		return -1;
	if (load_self(t) < 0) {
		log_errorx("%s\"%s\": no certificate in PEM format",
			   conf_where(cert, "cert", where, sizeof(where)),
			   cert->raw);
		return -1;
	}
	return key_check(t, conf_last(conf, "key"));
}

static void gen_put(struct tls_gen *g)
{
	struct tls_gen **pp;

	if (--g->refs)
		return;
	for (pp = &gens; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	gnutls_certificate_free_credentials(g->cred);
	free(g);
}

/* A complete generation from the files as they are now, or NULL after
 * logging why; the current one is left alone. */
static struct tls_gen *gen_new(struct tls *t, const struct conf *conf)
{
	const struct conf_val *cert = conf_last(conf, "cert");
	const struct conf_val *key = conf_last(conf, "key");
	struct tls_gen *g = calloc(1, sizeof(*g));
	char where[512];
	int ret;

	if (!g)
		return NULL;
	if (gnutls_certificate_allocate_credentials(&g->cred) < 0) {
		free(g);
		return NULL;
	}
	g->t = t;
	g->refs = 1;
	g->next = gens;
	gens = g;
	ret = gnutls_certificate_set_x509_key_mem(g->cred, &t->cert_pem,
						  &t->key_pem,
						  GNUTLS_X509_FMT_PEM);
	conf_where(key, "key", where, sizeof(where));
	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		log_at(t->lvl, 0, "%s\"%s\" is not the key of certificate "
		       "\"%s\"", where, key->raw, cert->raw);
	else if (ret < 0)
		log_at(t->lvl, 0, "%scannot use \"%s\" with certificate "
		       "\"%s\": %s", where, key->raw, cert->raw,
		       gnutls_strerror(ret));
	if (ret < 0)
		goto fail;
	if (load_lists(t, g->cred) < 0)
		goto fail;
	if (t->dh)
		gnutls_certificate_set_dh_params(g->cred, t->dh);
	gnutls_certificate_set_verify_function(g->cred, verify_cb);
	g->serial = ++t->serial;
	return g;
fail:
	gen_put(g);
	return NULL;
}

static int prio_init(gnutls_priority_t *pr, const char *prio,
		     const struct conf_val *pv)
{
	const char *errpos = NULL;
	char where[512];

	if (gnutls_priority_init(pr, prio, &errpos) >= 0)
		return 0;
	log_errorx("%sbad priority string at \"%s\"",
		   pv ? conf_where(pv, "tls_prio_str", where, sizeof(where))
		      : "",
		   errpos ? errpos : prio);
	return -1;
}

/* tls_prio_str applies to both transports; DTLS gets its version set.
 * Whatever it says, TLS 1.2 (and DTLS 1.2) keeps only ECDHE key exchange
 * with AEAD ciphers: no static RSA, no finite-field DHE, no CBC. */
static int load_prio(struct tls *t, const struct conf_val *pv)
{
	char prio[1024], dprio[1024];
	int n, dn;

	n = snprintf(prio, sizeof(prio), "%s%s",
		     pv ? pv->raw : TLS_DEFAULT_PRIO, TLS12_ECDHE_AEAD);
	if (pv)
		dn = snprintf(dprio, sizeof(dprio), "%s%s:-VERS-ALL:+VERS-DTLS1.2",
			      pv->raw, TLS12_ECDHE_AEAD);
	else
		dn = snprintf(dprio, sizeof(dprio), "%s%s", DTLS_DEFAULT_PRIO,
			      TLS12_ECDHE_AEAD ":-CHACHA20-POLY1305");
	if (n < 0 || dn < 0 || (size_t)n >= sizeof(prio) ||
	    (size_t)dn >= sizeof(dprio)) {
		log_errorx("%stoo long", pv ? conf_where(pv, "tls_prio_str",
							  prio, sizeof(prio))
					    : "");
		return -1;
	}
	if (prio_init(&t->prio, prio, pv) < 0)
		return -1;
	if (prio_init(&t->dprio, dprio, pv) < 0) {
		gnutls_priority_deinit(t->prio);
		return -1;
	}
	return 0;
}

static void key_wipe(struct tls *t)
{
	if (t->key_pem.data)
		gnutls_memset(t->key_pem.data, 0, t->key_pem.size);
	gnutls_free(t->key_pem.data);
	gnutls_free(t->cert_pem.data);
}

struct tls *tls_new(const struct conf *conf)
{
	const struct conf_val *pv = conf_last(conf, "tls_prio_str");
	struct tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lvl = LOG_LVL_ERR;
	if (load_self_files(t, conf) < 0 || load_dh(t, conf) < 0 ||
	    files_open(t, conf) < 0 || !(t->cur = gen_new(t, conf)))
		goto fail;
	if (load_prio(t, pv) < 0)
		goto fail_gen;
	t->lvl = LOG_LVL_WARN;	/* a reload's failure keeps the old ones */
	return t;
fail_gen:
	gen_put(t->cur);
fail:
	if (t->dh)
		gnutls_dh_params_deinit(t->dh);
	files_close(t);
	key_wipe(t);
	free(t);
	return NULL;
}

int tls_reload(struct tls *t, const struct conf *conf)
{
	struct tls_gen *g = gen_new(t, conf);

	if (!g) {
		log_warnx("reload: keeping the CAs and CRLs loaded before");
		return -1;
	}
	gen_put(t->cur);	/* freed with its last session */
	t->cur = g;
	return 0;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	gnutls_priority_deinit(t->prio);
	gnutls_priority_deinit(t->dprio);
	gen_put(t->cur);
	if (t->dh)
		gnutls_dh_params_deinit(t->dh);
	files_close(t);
	key_wipe(t);
	free(t);
}

const struct node_id *tls_self_id(const struct tls *t)
{
	return &t->self;
}

const char *tls_self_name(const struct tls *t)
{
	return t->name;
}

int tls_session(struct tls *t, int dtls, struct tls_peer *p,
		gnutls_session_t *out)
{
	gnutls_session_t s;
	unsigned flags = (p->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
			 GNUTLS_NONBLOCK | (dtls ? GNUTLS_DATAGRAM : 0);

	if (gnutls_init(&s, flags) < 0)
		return -1;
	if (gnutls_priority_set(s, dtls ? t->dprio : t->prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
				   t->cur->cred) < 0) {
		gnutls_deinit(s);
		return -1;
	}
	t->cur->refs++;
	if (p->is_server) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		/* no CA names in the request: a peer of another CA still
		 * sends its certificate, and we can say why it is refused */
		gnutls_certificate_send_x509_rdn_sequence(s, 1);
	}
	if (!p->is_server && t->pin_next) {
		p->pinned = 1;
		p->pin = *t->pin_next;
	}
	gnutls_session_set_ptr(s, p);
	*out = s;
	return 0;
}

void tls_pin_next(struct tls *t, const struct node_id *pin)
{
	t->pin_next = pin;
}

void tls_deinit(gnutls_session_t s)
{
	struct tls_gen *g;

	if (!s)
		return;
	g = gen_of(s);
	gnutls_deinit(s);
	if (g)
		gen_put(g);
}

gnutls_certificate_credentials_t tls_cred(const struct tls *t)
{
	return t->cur->cred;
}
