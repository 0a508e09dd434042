/* stunproxy's signalling, probe and rendezvous codec (doc/PROTOCOL.md §4). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "bytes.h"
#include "log.h"
#include "sa.h"
#include "spmsg.h"

/* Wire sizes, bytes; the layouts are the tables of doc/PROTOCOL.md §4. */
enum {
	SIG_FIXED = 4 + SP_ID + 8,	/* up to namelen, id, sid (+ name) */
	SIG_PUNCH = SP_KEYHALF + 2,	/* OFFER, ANSWER: key, nat, ncand */
	CAND_HDR = 4,			/* kind, family, port; + 4 or 16 */
	ADDR_FORM = 20,			/* family, 0, port, 16-byte address */
	PR_FIXED = 28,			/* magic..stamp */
	PR_SHORT = PR_FIXED + SP_TAG,	/* PROBE, OPEN */
	PR_LONG = PR_FIXED + ADDR_FORM + SP_TAG,	/* ACK */
	RV_HDR = 24,			/* magic, version, type, 0, group */
	RV_MIN = RV_HDR + 8,		/* REG, the smallest */
	/* any SEND body can be forwarded in a FWD of at most SP_MSG_MAX */
	RV_BODY_MAX = SP_MSG_MAX - RV_HDR - ADDR_FORM,
};

static const uint8_t pr_magic[4] = { 'c', 'v', 's', 'p' };
static const uint8_t rv_magic[4] = { 'c', 'v', 'r', 'v' };

/* ---- crypto ---------------------------------------------------------- */

/* SHA-256 and HMAC-SHA256 fail only without memory or without SHA-256. */
static void sp_sha256(const char *label, const void *data, size_t len,
		      uint8_t out[32])
{
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0 ||
	    gnutls_hash(h, label, strlen(label)) < 0 ||
	    gnutls_hash(h, data, len) < 0)
		fatalx("stunproxy: SHA-256 failed");
	gnutls_hash_deinit(h, out);
}

static void sp_hmac(const uint8_t key[SP_KEY], const void *msg, size_t len,
		    uint8_t out[32])
{
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, SP_KEY, msg, len, out) < 0)
		fatalx("stunproxy: HMAC-SHA256 failed");
}

/* Write the tag of buf[0..len) at buf + len. */
static void sp_tag_put(const uint8_t key[SP_KEY], uint8_t *buf, size_t len)
{
	uint8_t mac[32];

	sp_hmac(key, buf, len, mac);
	memcpy(buf + len, mac, SP_TAG);
}

/* Is buf + len the tag of buf[0..len)? In constant time. */
static int sp_tag_ok(const uint8_t key[SP_KEY], const uint8_t *buf,
		     size_t len)
{
	uint8_t mac[32];

	sp_hmac(key, buf, len, mac);
	return gnutls_memcmp(mac, buf + len, SP_TAG) == 0;
}

void sp_addr_of(const char *name, uint8_t out[SP_ADDR_LEN])
{
	uint8_t d[32];

	sp_sha256("cloudvpn stunproxy ", name, strlen(name), d);
	memcpy(out, d, SP_ADDR_LEN);
}

void sp_probe_key(const uint8_t offer[SP_KEYHALF],
		  const uint8_t answer[SP_KEYHALF], uint64_t sid,
		  uint8_t out[SP_KEY])
{
	static const char label[14] = "cloudvpn probe";
	uint8_t key[SP_KEY], msg[sizeof(label) + 8];

	memcpy(key, offer, SP_KEYHALF);
	memcpy(key + SP_KEYHALF, answer, SP_KEYHALF);
	memcpy(msg, label, sizeof(label));
	put64(msg + sizeof(label), sid);
	sp_hmac(key, msg, sizeof(msg), out);
}

void sp_rv_keys(const char *secret, uint8_t group[SP_GROUP],
		uint8_t key[SP_KEY])
{
	uint8_t d[32];

	sp_sha256("cloudvpn rendezvous group ", secret, strlen(secret), d);
	memcpy(group, d, SP_GROUP);
	sp_sha256("cloudvpn rendezvous key ", secret, strlen(secret), key);
}

size_t sp_seal(uint8_t *buf, size_t cap, const uint8_t *msg, size_t len,
	       const uint8_t key[SP_KEY])
{
	if (len == 0 || cap < SP_TAG || cap - SP_TAG < len)
		return 0;
	memmove(buf, msg, len);
	sp_tag_put(key, buf, len);
	return len + SP_TAG;
}

int sp_unseal(const uint8_t *buf, size_t len, const uint8_t key[SP_KEY],
	      size_t *msg_len)
{
	if (len <= SP_TAG || !sp_tag_ok(key, buf, len - SP_TAG))
		return -1;
	*msg_len = len - SP_TAG;
	return 0;
}

/* ---- addresses ------------------------------------------------------- */

/* An AF_INET or AF_INET6 address's bytes and port (host order); its
 * length, 4 or 16, or 0 for any other family. */
static int sa_ok(const struct sockaddr_storage *ss)
{
	const uint8_t *a;
	uint16_t port;

	return sa_get(ss, &a, &port) != 0 && port != 0;
}

/* The wire's family byte (4 or 6) to an address length, 0 if neither. */
static size_t fam_len(uint8_t fam)
{
	return fam == 4 ? 4 : fam == 6 ? 16 : 0;
}

/* The family byte at *fam, then port and address bytes at w; the
 * address length. */
static size_t addr_put(uint8_t *fam, uint8_t *w,
		       const struct sockaddr_storage *ss)
{
	const uint8_t *a;
	uint16_t port;
	size_t alen = sa_get(ss, &a, &port);

	*fam = alen == 4 ? 4 : 6;
	put16(w, port);
	memcpy(w + 2, a, alen);
	return alen;
}

/* The 20-byte form: family, 0, port, address padded with zeros. */
static void addr_form_put(uint8_t *w, const struct sockaddr_storage *ss)
{
	memset(w, 0, ADDR_FORM);
	addr_put(w, w + 2, ss);
}

static int addr_form_get(const uint8_t *r, struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];
	size_t alen = fam_len(r[0]);
	uint16_t port = get16(r + 2);

	if (alen == 0 || r[1] != 0 || port == 0 ||
	    memcmp(r + 4 + alen, zero, 16 - alen) != 0)
		return -1;
	sa_set(ss, r + 4, alen, port);
	return 0;
}

/* ---- signalling ------------------------------------------------------ */

/* A reader that hands out the next n bytes, or NULL past the end. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *q = r->p;

	if (r->left < n)
		return NULL;
	r->p += n;
	r->left -= n;
	return q;
}

static int text_ok(const char *t, size_t len, char lo)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (t[i] < lo || t[i] > 0x7e)
			return 0;
	return 1;
}

static int sig_has_cands(uint8_t type)
{
	return type == SP_OFFER || type == SP_ANSWER;
}

static int cand_ok(const struct sp_cand *c)
{
	return c->kind >= SP_CAND_HOST && c->kind <= SP_CAND_FIXED &&
	       sa_ok(&c->sa);
}

static int sig_valid(const struct sp_sig *s)
{
	size_t nlen = strnlen(s->name, SP_NAME_MAX + 1), i;
	size_t wlen = strnlen(s->why, SP_WHY_MAX + 1);

	if (s->type < SP_HERE || s->type > SP_FAIL ||
	    (s->flags & ~(s->type == SP_HERE ? SP_F_REPLY : 0)) != 0 ||
	    (s->type == SP_HERE && s->sid != 0) ||
	    nlen < 1 || nlen > SP_NAME_MAX || !text_ok(s->name, nlen, 0x21))
		return 0;
	if (s->type == SP_FAIL)
		return wlen <= SP_WHY_MAX && text_ok(s->why, wlen, 0x20);
	if (!sig_has_cands(s->type))
		return 1;
	if (s->nat > SP_NAT_EDM || s->ncand > SP_CAND_MAX)
		return 0;
	for (i = 0; i < s->ncand; i++)
		if (!cand_ok(&s->cand[i]))
			return 0;
	return 1;
}

/* The encoded size of a valid message. */
static size_t sig_size(const struct sp_sig *s)
{
	size_t n = SIG_FIXED + strlen(s->name), i;

	if (s->type == SP_FAIL)
		return n + 1 + strlen(s->why);
	if (!sig_has_cands(s->type))
		return n;
	n += SIG_PUNCH;
	for (i = 0; i < s->ncand; i++)
		n += CAND_HDR + (s->cand[i].sa.ss_family == AF_INET ? 4 : 16);
	return n;
}

static void sig_body_put(uint8_t *w, const struct sp_sig *s)
{
	size_t i;

	if (s->type == SP_FAIL) {
		w[0] = (uint8_t)strlen(s->why);
		memcpy(w + 1, s->why, w[0]);
		return;
	}
	if (!sig_has_cands(s->type))
		return;
	memcpy(w, s->key, SP_KEYHALF);
	w[SP_KEYHALF] = s->nat;
	w[SP_KEYHALF + 1] = (uint8_t)s->ncand;
	w += SIG_PUNCH;
	for (i = 0; i < s->ncand; i++) {
		w[0] = s->cand[i].kind;
		w += CAND_HDR + addr_put(w + 1, w + 2, &s->cand[i].sa);
	}
}

size_t sp_sig_encode(uint8_t *buf, size_t cap, const struct sp_sig *s)
{
	size_t n, nlen;

	if (!sig_valid(s) || (n = sig_size(s)) > cap)
		return 0;
	nlen = strlen(s->name);
	buf[0] = SP_VERSION;
	buf[1] = s->type;
	buf[2] = s->flags;
	buf[3] = (uint8_t)nlen;
	memcpy(buf + 4, s->name, nlen);
	memcpy(buf + 4 + nlen, s->id, SP_ID);
	put64(buf + 4 + nlen + SP_ID, s->sid);
	sig_body_put(buf + SIG_FIXED + nlen, s);
	return n;
}

/* A length byte, then that many bytes of text (at most max) into out. */
static int text_get(struct rd *r, size_t max, char lo, char *out)
{
	const uint8_t *n = rd_take(r, 1), *t;

	if (n == NULL || *n > max || (t = rd_take(r, *n)) == NULL ||
	    !text_ok((const char *)t, *n, lo))
		return -1;
	memcpy(out, t, *n);
	out[*n] = '\0';
	return 0;
}

static int cand_get(struct rd *r, struct sp_cand *c)
{
	const uint8_t *h = rd_take(r, CAND_HDR), *a;
	size_t alen;

	if (h == NULL || (alen = fam_len(h[1])) == 0 ||
	    (a = rd_take(r, alen)) == NULL)
		return -1;
	c->kind = h[0];
	sa_set(&c->sa, a, alen, get16(h + 2));
	return 0;
}

static int sig_body_get(struct rd *r, struct sp_sig *s)
{
	const uint8_t *p;
	size_t i;

	if (s->type == SP_FAIL)
		return text_get(r, SP_WHY_MAX, 0x20, s->why);
	if (!sig_has_cands(s->type))
		return 0;
	if ((p = rd_take(r, SIG_PUNCH)) == NULL ||
	    p[SP_KEYHALF + 1] > SP_CAND_MAX)
		return -1;
	memcpy(s->key, p, SP_KEYHALF);
	s->nat = p[SP_KEYHALF];
	s->ncand = p[SP_KEYHALF + 1];
	for (i = 0; i < s->ncand; i++)
		if (cand_get(r, &s->cand[i]) < 0)
			return -1;
	return 0;
}

int sp_sig_decode(const uint8_t *buf, size_t len, struct sp_sig *s)
{
	struct rd r = { buf, len };
	const uint8_t *h = rd_take(&r, 3), *p;

	memset(s, 0, sizeof(*s));
	if (h == NULL || h[0] != SP_VERSION)
		return -1;
	s->type = h[1];
	s->flags = h[2];
	if (text_get(&r, SP_NAME_MAX, 0x21, s->name) < 0 ||
	    (p = rd_take(&r, SP_ID + 8)) == NULL)
		return -1;
	memcpy(s->id, p, SP_ID);
	s->sid = get64(p + SP_ID);
	if (sig_body_get(&r, s) < 0 || r.left != 0 || !sig_valid(s))
		return -1;
	return 0;
}

/* ---- probes ---------------------------------------------------------- */

static int probe_valid(const struct sp_probe *p)
{
	return p->type >= SP_PROBE && p->type <= SP_OPEN &&
	       (p->flags & ~SP_P_USE) == 0 &&
	       (p->type != SP_ACK || sa_ok(&p->seen));
}

int sp_probe_peek(const uint8_t *buf, size_t len, uint64_t *sid)
{
	if ((len != PR_SHORT && len != PR_LONG) ||
	    memcmp(buf, pr_magic, sizeof(pr_magic)) != 0)
		return 0;
	*sid = get64(buf + 8);
	return 1;
}

size_t sp_probe_encode(uint8_t *buf, size_t cap, const struct sp_probe *p,
		       const uint8_t key[SP_KEY])
{
	size_t n = p->type == SP_ACK ? PR_LONG : PR_SHORT;

	if (!probe_valid(p) || cap < n)
		return 0;
	memcpy(buf, pr_magic, sizeof(pr_magic));
	buf[4] = SP_VERSION;
	buf[5] = p->type;
	buf[6] = p->flags;
	buf[7] = 0;
	put64(buf + 8, p->sid);
	put32(buf + 16, p->seq);
	put64(buf + 20, p->stamp);
	if (p->type == SP_ACK)
		addr_form_put(buf + PR_FIXED, &p->seen);
	sp_tag_put(key, buf, n - SP_TAG);
	return n;
}

int sp_probe_decode(const uint8_t *buf, size_t len, const uint8_t key[SP_KEY],
		    struct sp_probe *p)
{
	struct sp_probe q;

	memset(&q, 0, sizeof(q));
	if (!sp_probe_peek(buf, len, &q.sid) ||
	    !sp_tag_ok(key, buf, len - SP_TAG))
		return -1;
	q.type = buf[5];
	q.flags = buf[6];
	q.seq = get32(buf + 16);
	q.stamp = get64(buf + 20);
	if (buf[4] != SP_VERSION || buf[7] != 0 ||
	    (len == PR_LONG) != (q.type == SP_ACK) ||
	    (len == PR_LONG && addr_form_get(buf + PR_FIXED, &q.seen) < 0) ||
	    !probe_valid(&q))
		return -1;
	memcpy(p, &q, sizeof(q));
	return 0;
}

/* ---- rendezvous ------------------------------------------------------ */

static int rv_has_nonce(uint8_t type)
{
	return type == SP_RV_REG || type == SP_RV_REGACK;
}

static int rv_has_addr(uint8_t type)
{
	return type == SP_RV_REGACK || type == SP_RV_FWD;
}

static int rv_has_body(uint8_t type)
{
	return type == SP_RV_SEND || type == SP_RV_FWD;
}

static int rv_valid(const struct sp_rv *m)
{
	if (m->type < SP_RV_REG || m->type > SP_RV_FWD ||
	    (rv_has_addr(m->type) && !sa_ok(&m->addr)))
		return 0;
	return !rv_has_body(m->type) ||
	       (m->body != NULL && m->body_len > SP_TAG &&
		m->body_len <= RV_BODY_MAX);
}

int sp_rv_is(const uint8_t *buf, size_t len)
{
	return len >= RV_MIN && memcmp(buf, rv_magic, sizeof(rv_magic)) == 0;
}

size_t sp_rv_encode(uint8_t *buf, size_t cap, const struct sp_rv *m)
{
	size_t n;
	uint8_t *w = buf + RV_HDR;

	if (!rv_valid(m))
		return 0;
	n = RV_HDR + (rv_has_nonce(m->type) ? 8 : 0) +
	    (rv_has_addr(m->type) ? ADDR_FORM : 0) +
	    (rv_has_body(m->type) ? m->body_len : 0);
	if (cap < n)
		return 0;
	memcpy(buf, rv_magic, sizeof(rv_magic));
	buf[4] = SP_VERSION;
	buf[5] = m->type;
	put16(buf + 6, 0);
	memcpy(buf + 8, m->group, SP_GROUP);
	if (rv_has_nonce(m->type)) {
		put64(w, m->nonce);
		w += 8;
	}
	if (rv_has_addr(m->type)) {
		addr_form_put(w, &m->addr);
		w += ADDR_FORM;
	}
	if (rv_has_body(m->type))
		memcpy(w, m->body, m->body_len);
	return n;
}

int sp_rv_decode(const uint8_t *buf, size_t len, struct sp_rv *m)
{
	struct rd r = { buf, len };
	const uint8_t *h = rd_take(&r, RV_HDR), *p;

	memset(m, 0, sizeof(*m));
	if (h == NULL || memcmp(h, rv_magic, sizeof(rv_magic)) != 0 ||
	    h[4] != SP_VERSION || get16(h + 6) != 0)
		return -1;
	m->type = h[5];
	memcpy(m->group, h + 8, SP_GROUP);
	if (rv_has_nonce(m->type)) {
		if ((p = rd_take(&r, 8)) == NULL)
			return -1;
		m->nonce = get64(p);
	}
	if (rv_has_addr(m->type) &&
	    ((p = rd_take(&r, ADDR_FORM)) == NULL ||
	     addr_form_get(p, &m->addr) < 0))
		return -1;
	if (rv_has_body(m->type)) {
		m->body = r.p;
		m->body_len = r.left;
		r.left = 0;
	}
	return r.left == 0 && rv_valid(m) ? 0 : -1;
}

/* ---- the rendezvous envelope --------------------------------------------- */

size_t sp_env_encode(uint8_t *buf, size_t cap, const char *to,
		     const uint8_t *msg, size_t len)
{
	size_t tl = to ? strlen(to) : 0;

	if (tl > SP_NAME_MAX || (tl && !text_ok(to, tl, 0x21)) || len == 0 ||
	    cap < 1 + tl + len)
		return 0;
	buf[0] = (uint8_t)tl;
	memcpy(buf + 1, to ? to : "", tl);
	memmove(buf + 1 + tl, msg, len);
	return 1 + tl + len;
}

int sp_env_decode(const uint8_t *buf, size_t len, char to[SP_NAME_MAX + 1],
		  const uint8_t **msg, size_t *msg_len)
{
	size_t tl;

	if (len < 2 || (tl = buf[0]) > SP_NAME_MAX || len < 2 + tl ||
	    !text_ok((const char *)buf + 1, tl, 0x21))
		return -1;
	memcpy(to, buf + 1, tl);
	to[tl] = 0;
	*msg = buf + 1 + tl;
	*msg_len = len - 1 - tl;
	return 0;
}
