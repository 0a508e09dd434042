/*
 * Origins: whom a route claims to come from, and whether it may. Every
 * node keeps the certificates of the origins it has heard of (ours first),
 * each checked against our CAs and CRLs once, when it arrives over a link
 * (FR_CERT), and cached by node ID. A route is taken only if its origin's
 * certificate is here, grants the prefix, and its key signed (prefix,
 * origin, seqno). Each link is sent a certificate once, before the first
 * route of that origin: links are reliable and in order, so the receiver
 * always has it in time.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "addr.h"
#include "cloud.h"
#include "conf.h"
#include "grants.h"
#include "esc.h"
#include "log.h"
#include "link.h"
#include "origin.h"
#include "route.h"
#include "siphash.h"
#include "tls_sess.h"

#define ORIGINS_MAX 16384	/* certificates cached at most */
#define CERT_DER_MAX 16384	/* an FR_CERT payload at most */
#define SP_ADDR_LEN 16		/* stunproxy addresses (stunproxy/spmsg.h) */

enum { LOGGED_GRANT = 1, LOGGED_SIG = 2 };

struct ocert {
	struct ocert *next;		/* hash chain */
	struct node_id id;
	char name[NODE_NAME_MAX + 1];
	gnutls_pubkey_t key;
	gnutls_sign_algorithm_t alg;
	uint8_t *der;
	size_t derlen;
	time_t activated;
	struct grants *grants;		/* NULL: the certificate has none */
	uint8_t sp_addr[SP_ADDR_LEN];	/* its stunproxy's address */
	uint32_t idx;			/* its bit in each link's sent set */
	int revoked;
	uint8_t logged;
	uint64_t refused;
};

struct osent {				/* per link (peer handle - 1) */
	uint8_t *bits;			/* certificates sent, by idx */
	size_t nbytes;
	int logged;			/* a route with no certificate */
	int logged_cert;		/* a certificate refused */
};

struct origins {
	struct cloud *c;
	struct tls *tls;
	gnutls_privkey_t key;
	gnutls_sign_algorithm_t alg;
	struct ocert *self;
	struct ocert **buckets;
	size_t nbuckets, n;
	struct ocert **by_idx;
	size_t nidx;
	struct osent *peers;
	size_t npeers;
	uint8_t hkey[SIPHASH_KEY_LEN];
	int require_grants;
	int logged_full;
};

static struct osent *peer_sent(struct origins *o, uint32_t peer);

static char *hex8(const uint8_t *b, char out[17])
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return out;
}

/* ---- the cache ------------------------------------------------------- */

static struct ocert **find(const struct origins *o, const struct node_id *id)
{
	struct ocert **pp;
	size_t h = siphash24(o->hkey, id->b, NODE_ID_LEN) & (o->nbuckets - 1);

	for (pp = &o->buckets[h]; *pp; pp = &(*pp)->next)
		if (!memcmp((*pp)->id.b, id->b, NODE_ID_LEN))
			return pp;
	return NULL;
}

const char *origins_name(const struct origins *o, const struct node_id *id)
{
	struct ocert **pp = find(o, id);

	return pp ? (*pp)->name : "-";
}

static void ocert_free(struct ocert *e)
{
	if (!e)
		return;
	if (e->key)
		gnutls_pubkey_deinit(e->key);
	free(e->der);
	free(e->grants);
	free(e);
}

static int rehash(struct origins *o)
{
	size_t i, n = o->nbuckets * 2, h;
	struct ocert **nb = calloc(n, sizeof(*nb)), *e, *next;

	if (!nb)
		return -1;
	for (i = 0; i < o->nbuckets; i++)
		for (e = o->buckets[i]; e; e = next) {
			next = e->next;
			h = siphash24(o->hkey, e->id.b, NODE_ID_LEN) & (n - 1);
			e->next = nb[h];
			nb[h] = e;
		}
	free(o->buckets);
	o->buckets = nb;
	o->nbuckets = n;
	return 0;
}

static int insert(struct origins *o, struct ocert *e)
{
	struct ocert **t;
	size_t h;

	if (o->n >= o->nbuckets && rehash(o) < 0)
		return -1;
	if (!(t = realloc(o->by_idx, (o->nidx + 1) * sizeof(*t))))
		return -1;
	o->by_idx = t;
	e->idx = (uint32_t)o->nidx;
	t[o->nidx++] = e;
	h = siphash24(o->hkey, e->id.b, NODE_ID_LEN) & (o->nbuckets - 1);
	e->next = o->buckets[h];
	o->buckets[h] = e;
	o->n++;
	return 0;
}

/* ---- reading a certificate ------------------------------------------- */

static int read_grants(gnutls_x509_crt_t crt, struct ocert *e)
{
	gnutls_datum_t v = { NULL, 0 };
	unsigned critical = 0;
	int r;

	r = gnutls_x509_crt_get_extension_by_oid2(crt, GRANTS_OID, 0, &v,
						  &critical);
	if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (r < 0 || !(e->grants = calloc(1, sizeof(*e->grants))))
		return -1;
	r = grants_decode(v.data, v.size, e->grants);
	gnutls_free(v.data);
	return r;
}

/* The algorithm its key signs routes with: ECDSA (SHA-256) or Ed25519. */
static int sign_alg(gnutls_pk_algorithm_t pk, gnutls_sign_algorithm_t *alg)
{
	if (pk == GNUTLS_PK_ECDSA)
		*alg = GNUTLS_SIGN_ECDSA_SHA256;
	else if (pk == GNUTLS_PK_EDDSA_ED25519)
		*alg = GNUTLS_SIGN_EDDSA_ED25519;
	else
		return -1;
	return 0;
}

/* The name escaped as tls.c escapes a peer's, so that the stunproxy
 * address hashes what that node's daemon tells its stunproxy. */
static int identity(gnutls_x509_crt_t crt, struct ocert *e)
{
	size_t sz = NODE_ID_LEN;
	char raw[NODE_NAME_MAX + 1];
	uint8_t d[32];
	char pre[] = "cloudvpn stunproxy ";
	char buf[sizeof(pre) + NODE_NAME_MAX];

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, e->id.b,
				       &sz) < 0 || sz != NODE_ID_LEN)
		return -1;
	sz = sizeof(raw);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, raw, &sz) < 0)
		raw[0] = '\0';
	esc_name(raw, e->name, sizeof(e->name));
	snprintf(buf, sizeof(buf), "%s%s", pre, e->name);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, strlen(buf), d) < 0)
		return -1;
	memcpy(e->sp_addr, d, SP_ADDR_LEN);
	e->activated = gnutls_x509_crt_get_activation_time(crt);
	return 0;
}

/* A cache entry from a parsed certificate; NULL, and why, if unusable. */
static struct ocert *ocert_new(gnutls_x509_crt_t crt, const char **why)
{
	struct ocert *e = calloc(1, sizeof(*e));
	gnutls_datum_t der = { NULL, 0 };
	unsigned bits;

	*why = "out of memory";
	if (!e || gnutls_pubkey_init(&e->key) < 0)
		goto fail;
	*why = "unreadable certificate";
	if (identity(crt, e) < 0 ||
	    gnutls_pubkey_import_x509(e->key, crt, 0) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		goto fail;
	e->der = malloc(der.size);
	if (!e->der)
		goto fail;
	memcpy(e->der, der.data, der.size);
	e->derlen = der.size;
	*why = "key is neither ECDSA nor Ed25519";
	if (sign_alg(gnutls_pubkey_get_pk_algorithm(e->key, &bits), &e->alg))
		goto fail;
	*why = "malformed grants extension";
	if (read_grants(crt, e) < 0)
		goto fail;
	gnutls_free(der.data);
	return e;
fail:
	gnutls_free(der.data);
	ocert_free(e);
	return NULL;
}

/* Chains to our CAs, not revoked, valid now, for TLS clients. */
static const char *chain_check(struct origins *o, gnutls_x509_crt_t crt)
{
	gnutls_typed_vdata_st vd = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
				     .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT };
	gnutls_x509_trust_list_t tl;
	unsigned st = 0;

	gnutls_certificate_get_trust_list(tls_cred(o->tls), &tl);
	if (gnutls_x509_trust_list_verify_crt2(tl, &crt, 1, &vd, 1, 0, &st,
					       NULL) < 0)
		return "cannot be verified";
	if (st)
		return tls_status_reason(st);
	/* GnuTLS takes no extended key usage for any: we do not */
	return tls_crt_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT);
}

static gnutls_x509_crt_t crt_parse(const uint8_t *der, size_t len,
				   gnutls_x509_crt_fmt_t fmt)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	gnutls_x509_crt_t crt;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d, fmt) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

/* ---- life ------------------------------------------------------------ */

static int load_self(struct origins *o, const struct conf *conf)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	const char *why = "cannot read";
	unsigned bits;

	if (gnutls_load_file(conf_last(conf, "cert")->raw, &pem) < 0 ||
	    !(crt = crt_parse(pem.data, pem.size, GNUTLS_X509_FMT_PEM)) ||
	    !(o->self = ocert_new(crt, &why)) || insert(o, o->self) < 0) {
		log_warnx("cert \"%s\": %s", conf_last(conf, "cert")->raw,
			  why);
		goto fail;
	}
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	crt = NULL;
	if (gnutls_load_file(conf_last(conf, "key")->raw, &pem) < 0 ||
	    gnutls_privkey_init(&o->key) < 0 ||
	    gnutls_privkey_import_x509_raw(o->key, &pem, GNUTLS_X509_FMT_PEM,
					   NULL, 0) < 0 ||
	    sign_alg(gnutls_privkey_get_pk_algorithm(o->key, &bits),
		     &o->alg) < 0) {
		log_warnx("key \"%s\": cannot sign routes with it (an ECDSA "
			  "or Ed25519 key is needed)",
			  conf_last(conf, "key")->raw);
		goto fail;
	}
	gnutls_free(pem.data);
	return 0;
fail:
	gnutls_free(pem.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return -1;
}

struct origins *origins_new(struct cloud *c)
{
	struct origins *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->c = c;
	o->tls = links_tls(c);
	o->require_grants = conf_int(c->conf, "require_grants") != 0;
	o->nbuckets = 64;
	if (getrandom(o->hkey, sizeof(o->hkey), 0) != sizeof(o->hkey) ||
	    !(o->buckets = calloc(o->nbuckets, sizeof(*o->buckets))) ||
	    load_self(o, c->conf) < 0) {
		origins_free(o);
		return NULL;
	}
	if (!o->self->grants && o->require_grants)
		log_warnx("this node's certificate grants nothing and "
			  "require_grants is set: it announces no address");
	return o;
}

void origins_free(struct origins *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->nidx; i++)
		ocert_free(o->by_idx[i]);
	for (i = 0; i < o->npeers; i++)
		free(o->peers[i].bits);
	if (o->key)
		gnutls_privkey_deinit(o->key);
	free(o->by_idx);
	free(o->buckets);
	free(o->peers);
	free(o);
}

/* ---- certificates from links ------------------------------------------ */

/* Do we hold these very bytes? (A cheap look before any signature.) */
static int cached(const struct origins *o, gnutls_x509_crt_t crt,
		  const uint8_t *der, size_t len)
{
	struct node_id id;
	struct ocert **pp;
	size_t sz = NODE_ID_LEN;

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id.b,
				       &sz) < 0 || sz != NODE_ID_LEN)
		return 0;
	pp = find(o, &id);
	return pp && (*pp)->derlen == len && !memcmp((*pp)->der, der, len);
}

/* Said once per link: a peer that sends bad ones cannot flood the log. */
static void refused_cert(struct origins *o, uint32_t peer, const char *why)
{
	struct osent *ps = peer_sent(o, peer);

	if (ps && ps->logged_cert++)
		return;
	log_warnx("link %s: a certificate it relayed is refused: %s (said "
		  "once per link)", links_peer_name(o->c, peer), why);
}

/* e replaces old (same key): the later certificate wins. */
static void replace(struct origins *o, struct ocert **pp, struct ocert *e)
{
	struct ocert *old = *pp;

	e->next = old->next;
	e->idx = old->idx;
	*pp = e;
	o->by_idx[e->idx] = e;
	if (o->self == old)
		o->self = e;
	ocert_free(old);
}

int origins_recv_cert(struct origins *o, uint32_t peer, const uint8_t *der,
		      size_t len)
{
	gnutls_x509_crt_t crt;
	struct ocert *e, **pp;
	const char *why;

	if (len == 0 || len > CERT_DER_MAX ||
	    !(crt = crt_parse(der, len, GNUTLS_X509_FMT_DER)))
		return -1;
	if (cached(o, crt, der, len)) {	/* the one we have: no checks */
		gnutls_x509_crt_deinit(crt);
		return 0;
	}
	if ((why = chain_check(o, crt)) || !(e = ocert_new(crt, &why))) {
		refused_cert(o, peer, why);
		gnutls_x509_crt_deinit(crt);
		return 0;
	}
	gnutls_x509_crt_deinit(crt);
	pp = find(o, &e->id);
	if (pp && ((*pp)->derlen == e->derlen &&
		   !memcmp((*pp)->der, e->der, e->derlen))) {
		ocert_free(e);		/* the one we have */
	} else if (pp && *pp != o->self && e->activated > (*pp)->activated) {
		replace(o, pp, e);	/* reissued */
	} else if (pp || o->n >= ORIGINS_MAX) {
		if (!pp && !o->logged_full++)
			log_warnx("origins: %d certificates cached, the most "
				  "we keep: more are refused", ORIGINS_MAX);
		ocert_free(e);
	} else if (insert(o, e) < 0) {
		ocert_free(e);
	}
	return 0;
}

/* ---- routes ---------------------------------------------------------- */

/* May e announce a? Its stunproxy's address always (and no other in that
 * instance); else what its grants say, or, with none, anything unless
 * require_grants. */
static int allowed(const struct origins *o, const struct ocert *e,
		   const struct addr *a)
{
	if (a->inst == INST_STUNPROXY)
		return a->len == SP_ADDR_LEN && a->plen == SP_ADDR_LEN * 8 &&
		       !memcmp(a->b, e->sp_addr, SP_ADDR_LEN);
	if (!e->grants)
		return !o->require_grants;
	return grants_allow(e->grants, a);
}

static void refuse(struct origins *o, struct ocert *e, uint32_t peer,
		   const struct addr *a, uint8_t what)
{
	char id[17], ab[ADDR_STRLEN], g[GRANTS_STRLEN];

	e->refused++;
	if (e->logged & what)
		return;
	e->logged |= what;
	addr_fmt(a, ab, sizeof(ab));
	if (what == LOGGED_SIG) {
		log_warnx("link %s: route %s of node %s (id %s): bad signature; "
			  "refused (logged once per origin)",
			  links_peer_name(o->c, peer), ab, e->name,
			  hex8(e->id.b, id));
		return;
	}
	if (e->grants)
		grants_format(e->grants, g, sizeof(g));
	else
		snprintf(g, sizeof(g), "nothing (require_grants)");
	log_warnx("route %s: node %s (id %s) may not announce it: its "
		  "certificate grants %s; refused (logged once per origin)",
		  ab, e->name, hex8(e->id.b, id), g);
}

int origins_verify(struct origins *o, uint32_t peer,
		   const struct route_update *u)
{
	uint8_t buf[ROUTE_SIG_DATA_MAX];
	struct ocert **pp = find(o, &u->origin);
	struct osent *ps = peer - 1 < o->npeers ? &o->peers[peer - 1] : NULL;
	char id[17], ab[ADDR_STRLEN];
	size_t len;

	if (!pp || (*pp)->revoked) {
		if (ps && !ps->logged++)
			log_warnx("link %s: route %s of origin id %s: no valid "
				  "certificate of that origin; refused (logged "
				  "once per link)", links_peer_name(o->c, peer),
				  addr_fmt(&u->prefix, ab, sizeof(ab)),
				  hex8(u->origin.b, id));
		return -1;
	}
	if (!allowed(o, *pp, &u->prefix)) {
		refuse(o, *pp, peer, &u->prefix, LOGGED_GRANT);
		return -1;
	}
	len = route_sig_data(u, buf);
	if (origins_verify_data(o, &u->origin, buf, len, u->sig,
				u->siglen) < 0) {
		refuse(o, *pp, peer, &u->prefix, LOGGED_SIG);
		return -1;
	}
	return 0;
}

int origins_verify_data(struct origins *o, const struct node_id *origin,
			const uint8_t *data, size_t len, const uint8_t *sig,
			size_t siglen)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len },
		       s = { (unsigned char *)sig, (unsigned)siglen };
	struct ocert **pp = find(o, origin);

	if (!pp || (*pp)->revoked)
		return -1;
	return gnutls_pubkey_verify_data2((*pp)->key, (*pp)->alg, 0, &d,
					  &s) < 0 ? -1 : 0;
}

int origins_sign_data(struct origins *o, const uint8_t *data, size_t len,
		      uint8_t *sig, size_t cap, size_t *siglen)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len },
		       s = { NULL, 0 };

	if (gnutls_privkey_sign_data2(o->key, o->alg, 0, &d, &s) < 0)
		return -1;
	if (s.size > cap) {
		gnutls_free(s.data);
		return -1;
	}
	memcpy(sig, s.data, s.size);
	*siglen = s.size;
	gnutls_free(s.data);
	return 0;
}

int origins_sign(struct origins *o, struct route_update *u)
{
	uint8_t buf[ROUTE_SIG_DATA_MAX];
	char ab[ADDR_STRLEN];
	size_t len, siglen;

	if (!allowed(o, o->self, &u->prefix)) {
		log_warnx("route %s: outside this node's certificate grants: "
			  "not announced", addr_fmt(&u->prefix, ab, sizeof(ab)));
		return -1;
	}
	len = route_sig_data(u, buf);
	if (origins_sign_data(o, buf, len, u->sig, ROUTE_SIG_MAX,
			      &siglen) < 0)
		return -1;
	u->siglen = (uint8_t)siglen;
	return 0;
}

/* ---- what each link has been sent ------------------------------------- */

static struct osent *peer_sent(struct origins *o, uint32_t peer)
{
	struct osent *t;
	size_t n;

	if (peer == 0)
		return NULL;
	if (peer > o->npeers) {
		n = peer + 8;
		if (!(t = realloc(o->peers, n * sizeof(*t))))
			return NULL;
		memset(t + o->npeers, 0, (n - o->npeers) * sizeof(*t));
		o->peers = t;
		o->npeers = n;
	}
	return &o->peers[peer - 1];
}

const uint8_t *origins_cert_for(struct origins *o, uint32_t peer,
				const struct node_id *origin, size_t *len)
{
	struct ocert **pp = find(o, origin);
	struct osent *ps = peer_sent(o, peer);
	uint8_t *b;
	size_t need;

	if (!pp || !ps)
		return NULL;
	need = (*pp)->idx / 8 + 1;
	if (need > ps->nbytes) {
		if (!(b = realloc(ps->bits, need + 64)))
			return NULL;
		memset(b + ps->nbytes, 0, need + 64 - ps->nbytes);
		ps->bits = b;
		ps->nbytes = need + 64;
	}
	if (ps->bits[(*pp)->idx / 8] & (1u << (*pp)->idx % 8))
		return NULL;
	ps->bits[(*pp)->idx / 8] |= (uint8_t)(1u << (*pp)->idx % 8);
	*len = (*pp)->derlen;
	return (*pp)->der;
}

void origins_peer_reset(struct origins *o, uint32_t peer)
{
	struct osent *ps = peer_sent(o, peer);

	if (!ps)
		return;
	free(ps->bits);
	memset(ps, 0, sizeof(*ps));
}

/* ---- local gates, reloads, status ------------------------------------ */

int origins_self_inst(const struct origins *o, uint32_t inst)
{
	if (inst == INST_STUNPROXY)
		return 1;
	if (!o->self->grants)
		return !o->require_grants;
	return grants_allow_inst(o->self->grants, inst);
}

void origins_recheck(struct origins *o)
{
	gnutls_x509_crt_t crt;
	size_t i;
	struct ocert *e;
	const char *why;
	char id[17];

	for (i = 0; i < o->nidx; i++) {
		e = o->by_idx[i];
		if (e == o->self || e->revoked ||
		    !(crt = crt_parse(e->der, e->derlen, GNUTLS_X509_FMT_DER)))
			continue;
		if ((why = chain_check(o, crt))) {
			e->revoked = 1;
			log_warnx("origin %s (id %s): certificate no longer "
				  "accepted: %s; its routes are refused",
				  e->name, hex8(e->id.b, id), why);
		}
		gnutls_x509_crt_deinit(crt);
	}
}

void origins_status(const struct origins *o, FILE *f)
{
	char id[17], g[GRANTS_STRLEN];
	const struct ocert *e;
	size_t i;

	for (i = 0; i < o->nidx; i++) {
		e = o->by_idx[i];
		if (e->grants)
			grants_format(e->grants, g, sizeof(g));
		else
			snprintf(g, sizeof(g), "%s",
				 o->require_grants ? "none" : "any");
		fprintf(f, "origin name=%s id=%s grants=%s state=%s "
			"refused=%llu\n", e->name, hex8(e->id.b, id), g,
			e == o->self ? "self" : e->revoked ? "revoked" : "ok",
			(unsigned long long)e->refused);
	}
}
