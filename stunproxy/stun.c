/*
 * STUN Binding messages (RFC 8489), both ways. The decoder walks every
 * attribute before it hands anything back; the encoders write only the
 * attributes stun.h lists, in that order, and never more than
 * STUN_MSG_MAX bytes, so whatever they write the decoder accepts.
 */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "bytes.h"
#include "sa.h"
#include "stun.h"

/* Attribute types: RFC 8489 §18.3, and ICE's (RFC 8445 §16.1), which the
 * RFC 5769 sample request carries. */
enum {
	STUN_A_MAPPED = 0x0001,
	STUN_A_USERNAME = 0x0006,
	STUN_A_INTEGRITY = 0x0008,
	STUN_A_ERROR_CODE = 0x0009,
	STUN_A_REALM = 0x0014,
	STUN_A_NONCE = 0x0015,
	STUN_A_XOR_MAPPED = 0x0020,
	STUN_A_PRIORITY = 0x0024,
	STUN_A_USE_CANDIDATE = 0x0025,
	STUN_A_SOFTWARE = 0x8022,
	STUN_A_FINGERPRINT = 0x8028,
	STUN_A_ICE_CONTROLLED = 0x8029,
	STUN_A_ICE_CONTROLLING = 0x802A,
};

#define STUN_A_OPTIONAL 0x8000		/* §14: 0x8000-0xFFFF, skippable */
#define STUN_ATTR_HDR 4
#define STUN_HMAC_LEN 20		/* MESSAGE-INTEGRITY, HMAC-SHA1 */
#define STUN_CRC_LEN 4			/* FINGERPRINT */
#define STUN_CRC_XOR 0x5354554eu	/* §14.7: "STUN" */
#define STUN_FAMILY_V4 0x01		/* §14.1 */
#define STUN_FAMILY_V6 0x02
#define STUN_PAD_LEN 16			/* cookie + transaction ID */
/* USERNAME (§14.3), the reason phrase (§14.8), REALM (§14.9), NONCE
 * (§14.10) and SOFTWARE (§14.14): up to 509 bytes sent, 763 accepted. */
#define STUN_TEXT_SEND_MAX 509
#define STUN_TEXT_MAX 763

/* What the value of each attribute this codec knows may measure
 * (FINGERPRINT, known wherever it is, is checked on its own). */
static const struct stun_rule {
	uint16_t type, min, max;
} stun_rules[] = {
	{ STUN_A_MAPPED, 8, 20 },
	{ STUN_A_USERNAME, 0, STUN_TEXT_MAX },
	{ STUN_A_INTEGRITY, STUN_HMAC_LEN, STUN_HMAC_LEN },
	{ STUN_A_ERROR_CODE, 4, 4 + STUN_TEXT_MAX },
	{ STUN_A_REALM, 0, STUN_TEXT_MAX },
	{ STUN_A_NONCE, 0, STUN_TEXT_MAX },
	{ STUN_A_XOR_MAPPED, 8, 20 },
	{ STUN_A_PRIORITY, 4, 4 },
	{ STUN_A_USE_CANDIDATE, 0, 0 },
	{ STUN_A_SOFTWARE, 0, STUN_TEXT_MAX },
	{ STUN_A_ICE_CONTROLLED, 8, 8 },
	{ STUN_A_ICE_CONTROLLING, 8, 8 },
};

static size_t stun_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* CRC-32 (ISO 3309, reflected), bit by bit: messages are small. */
static uint32_t stun_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? c >> 1 ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* HMAC-SHA1 of buf[0..at), MESSAGE-INTEGRITY being at `at`: as §14.5 has
 * it, the header's length then counts up to the end of that attribute,
 * whatever follows it. */
static int stun_hmac(const uint8_t *buf, size_t at, const uint8_t *key,
		     size_t keylen, uint8_t tag[STUN_HMAC_LEN])
{
	uint8_t msg[STUN_MSG_MAX];

	if (at < STUN_HDR || at > sizeof(msg) - STUN_ATTR_HDR - STUN_HMAC_LEN)
		return -1;
	memcpy(msg, buf, at);
	put16(msg + 2, (uint16_t)(at - STUN_HDR + STUN_ATTR_HDR +
				  STUN_HMAC_LEN));
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, key, keylen, msg, at, tag) < 0)
		return -1;
	return 0;
}

/* What XOR-MAPPED-ADDRESS XORs with: the magic cookie and, for IPv6,
 * the transaction ID after it (§14.2). */
static void stun_xor_pad(uint8_t pad[STUN_PAD_LEN],
			 const uint8_t txid[STUN_TXID])
{
	put32(pad, STUN_MAGIC);
	memcpy(pad + 4, txid, STUN_TXID);
}

static void stun_xor(uint8_t *p, const uint8_t *pad, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] ^= pad[i];
}

int stun_is_stun(const uint8_t *buf, size_t len)
{
	return len >= STUN_HDR && (buf[0] & 0xc0) == 0 &&
	       get16(buf + 2) % 4 == 0 && get16(buf + 2) == len - STUN_HDR &&
	       get32(buf + 4) == STUN_MAGIC;
}

/* ---- decoding --------------------------------------------------------- */

struct stun_dec {
	const uint8_t *buf;
	size_t len;
	uint8_t pad[STUN_PAD_LEN];	/* for XOR-MAPPED-ADDRESS */
	int have_xor;			/* the mapped address is from it */
	struct stun_msg m;
};

/* 1 for an attribute this codec knows whose length is right, 0 for an
 * unknown comprehension-optional one, -1 for anything else. */
static int stun_rule_check(uint16_t type, size_t alen)
{
	size_t i;

	for (i = 0; i < sizeof(stun_rules) / sizeof(stun_rules[0]); i++)
		if (stun_rules[i].type == type)
			return alen >= stun_rules[i].min &&
			       alen <= stun_rules[i].max ? 1 : -1;
	return type >= STUN_A_OPTIONAL ? 0 : -1;
}

/* (XOR-)MAPPED-ADDRESS, §14.1-14.2: a byte receivers ignore, the family,
 * the port and the address; pad is zero for the plain form. */
static int stun_addr_get(const uint8_t *v, size_t alen, const uint8_t *pad,
			 struct sockaddr_storage *ss)
{
	size_t n = v[1] == STUN_FAMILY_V4 ? 4 : v[1] == STUN_FAMILY_V6 ? 16 : 0;
	uint8_t a[16];

	if (n == 0 || alen != 4 + n)
		return -1;
	memcpy(a, v + 4, n);
	stun_xor(a, pad, n);
	sa_set(ss, a, n, get16(v + 2) ^ get16(pad));
	return 0;
}

/* Either address attribute; the first XOR-MAPPED-ADDRESS wins over any
 * MAPPED-ADDRESS, and each over later ones of its kind. */
static int stun_mapped(struct stun_dec *d, uint16_t type, const uint8_t *v,
		       size_t alen)
{
	static const uint8_t zero[STUN_PAD_LEN];
	struct sockaddr_storage ss;
	int is_xor = type == STUN_A_XOR_MAPPED;

	if (stun_addr_get(v, alen, is_xor ? d->pad : zero, &ss) < 0)
		return -1;
	if (d->have_xor || (d->m.has_mapped && !is_xor))
		return 0;
	d->m.mapped = ss;
	d->m.has_mapped = 1;
	d->have_xor = is_xor;
	return 0;
}

/* ERROR-CODE, §14.8: 21 reserved bits, the class (3-6), the number
 * (0-99), then a reason phrase this codec does not keep. */
static int stun_error_code(struct stun_dec *d, const uint8_t *v)
{
	unsigned class = v[2] & 0x07, number = v[3];

	if (class < 3 || class > 6 || number > 99)
		return -1;
	if (d->m.error_code == 0)
		d->m.error_code = (uint16_t)(class * 100 + number);
	return 0;
}

/* FINGERPRINT, §14.7: last, and the CRC of everything before it. */
static int stun_fingerprint(struct stun_dec *d, size_t off, size_t alen)
{
	if (alen != STUN_CRC_LEN ||
	    off + STUN_ATTR_HDR + STUN_CRC_LEN != d->len)
		return -1;
	if (get32(d->buf + off + STUN_ATTR_HDR) !=
	    (stun_crc32(d->buf, off) ^ STUN_CRC_XOR))
		return -1;
	d->m.has_fingerprint = 1;
	return 0;
}

/* The values that carry something a caller reads; the rest of what
 * stun_rules knows is checked for length only. */
static int stun_attr_value(struct stun_dec *d, uint16_t type, size_t off,
			   size_t alen)
{
	const uint8_t *v = d->buf + off + STUN_ATTR_HDR;

	switch (type) {
	case STUN_A_MAPPED:
	case STUN_A_XOR_MAPPED:
		return stun_mapped(d, type, v, alen);
	case STUN_A_ERROR_CODE:
		return stun_error_code(d, v);
	case STUN_A_USERNAME:
		if (d->m.username == NULL) {
			d->m.username = v;
			d->m.username_len = alen;
		}
		return 0;
	case STUN_A_SOFTWARE:
		if (d->m.software == NULL) {
			d->m.software = (const char *)v;
			d->m.software_len = alen;
		}
		return 0;
	case STUN_A_INTEGRITY:
		d->m.integrity_at = off;
		return 0;
	default:
		return 0;
	}
}

/* One attribute at off, whose padded value is known to fit. */
static int stun_attr(struct stun_dec *d, size_t off)
{
	uint16_t type = get16(d->buf + off);
	size_t alen = get16(d->buf + off + 2);
	int known;

	if (type == STUN_A_FINGERPRINT)
		return stun_fingerprint(d, off, alen);
	if (d->m.integrity_at != 0)
		return 0;	/* §14.5: ignored after MESSAGE-INTEGRITY */
	known = stun_rule_check(type, alen);
	if (known <= 0)
		return known;
	return stun_attr_value(d, type, off, alen);
}

int stun_decode(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	struct stun_dec d;
	size_t off, room;

	memset(m, 0, sizeof(*m));
	if (!stun_is_stun(buf, len) || len > STUN_MSG_MAX)
		return -1;
	memset(&d, 0, sizeof(d));
	d.buf = buf;
	d.len = len;
	d.m.type = get16(buf);
	if (d.m.type != STUN_BINDING_REQUEST &&
	    d.m.type != STUN_BINDING_SUCCESS && d.m.type != STUN_BINDING_ERROR)
		return -1;
	memcpy(d.m.txid, buf + 8, STUN_TXID);
	stun_xor_pad(d.pad, d.m.txid);
	/* len and off are multiples of 4, so an attribute header fits */
	for (off = STUN_HDR; off < len; off += STUN_ATTR_HDR + room) {
		room = stun_pad4(get16(buf + off + 2));
		if (room > len - off - STUN_ATTR_HDR || stun_attr(&d, off) < 0)
			return -1;
	}
	if (d.m.type == STUN_BINDING_ERROR && d.m.error_code == 0)
		return -1;
	*m = d.m;
	return 0;
}

int stun_check_integrity(const uint8_t *buf, size_t len,
			 const struct stun_msg *m, const uint8_t *key,
			 size_t keylen)
{
	size_t at = m->integrity_at;
	uint8_t tag[STUN_HMAC_LEN];

	if (key == NULL || at < STUN_HDR || at > len ||
	    len - at < STUN_ATTR_HDR + STUN_HMAC_LEN ||
	    get16(buf + at) != STUN_A_INTEGRITY ||
	    get16(buf + at + 2) != STUN_HMAC_LEN)
		return 0;
	if (stun_hmac(buf, at, key, keylen, tag) < 0)
		return 0;
	return gnutls_memcmp(tag, buf + at + STUN_ATTR_HDR, sizeof(tag)) == 0;
}

int stun_long_term_key(const char *username, const char *realm,
		       const char *password, uint8_t key[STUN_LT_KEY])
{
	char s[3 * STUN_TEXT_MAX];
	int n;

	n = snprintf(s, sizeof(s), "%s:%s:%s", username, realm, password);
	if (n < 0 || (size_t)n >= sizeof(s))
		return -1;
	if (gnutls_hash_fast(GNUTLS_DIG_MD5, s, (size_t)n, key) < 0)
		return -1;
	return 0;
}

/* ---- encoding --------------------------------------------------------- */

struct stun_out {
	uint8_t *buf;
	size_t cap, off;	/* off 0: something did not fit */
};

static void stun_start(struct stun_out *o, uint8_t *buf, size_t cap,
		       uint16_t type, const uint8_t txid[STUN_TXID])
{
	o->buf = buf;
	o->cap = cap < STUN_MSG_MAX ? cap : STUN_MSG_MAX;
	o->off = 0;
	if (o->cap < STUN_HDR)
		return;
	put16(buf, type);
	put16(buf + 2, 0);
	put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, txid, STUN_TXID);
	o->off = STUN_HDR;
}

/* Append one attribute, zero-padded, and keep the header's length
 * current; on failure, o->off becomes 0 and stays so. */
static void stun_put(struct stun_out *o, uint16_t type, const void *val,
		     size_t n)
{
	size_t room = stun_pad4(n);
	uint8_t *p = o->buf + o->off;

	if (o->off == 0 || o->cap - o->off < STUN_ATTR_HDR + room) {
		o->off = 0;
		return;
	}
	put16(p, type);
	put16(p + 2, (uint16_t)n);
	if (n > 0)
		memcpy(p + STUN_ATTR_HDR, val, n);
	memset(p + STUN_ATTR_HDR + n, 0, room - n);
	o->off += STUN_ATTR_HDR + room;
	put16(o->buf + 2, (uint16_t)(o->off - STUN_HDR));
}

/* XOR-MAPPED-ADDRESS's value for sa into v; its length, or 0 for a
 * family STUN has no code for. */
static size_t stun_addr_put(uint8_t v[4 + 16], const struct sockaddr *sa,
			    const uint8_t pad[STUN_PAD_LEN])
{
	const uint8_t *a;
	uint16_t port;
	size_t n = sa_get((const struct sockaddr_storage *)sa, &a, &port);

	if (n == 0)
		return 0;
	memcpy(v + 4, a, n);
	v[0] = 0;
	v[1] = n == 4 ? STUN_FAMILY_V4 : STUN_FAMILY_V6;
	put16(v + 2, port ^ get16(pad));
	stun_xor(v + 4, pad, n);
	return 4 + n;
}

/* SOFTWARE, MESSAGE-INTEGRITY and FINGERPRINT, each when asked for. */
static size_t stun_finish(struct stun_out *o, const char *software,
			  const uint8_t *key, size_t keylen, int fingerprint)
{
	static const uint8_t zero[STUN_HMAC_LEN];
	size_t at, n;

	if (software != NULL) {
		n = strlen(software);
		if (n > STUN_TEXT_SEND_MAX)
			return 0;
		stun_put(o, STUN_A_SOFTWARE, software, n);
	}
	if (key != NULL) {
		at = o->off;
		stun_put(o, STUN_A_INTEGRITY, zero, STUN_HMAC_LEN);
		if (o->off != 0 && stun_hmac(o->buf, at, key, keylen,
					     o->buf + at + STUN_ATTR_HDR) < 0)
			return 0;
	}
	if (fingerprint) {
		at = o->off;
		stun_put(o, STUN_A_FINGERPRINT, zero, STUN_CRC_LEN);
		if (o->off != 0)
			put32(o->buf + at + STUN_ATTR_HDR,
			      stun_crc32(o->buf, at) ^ STUN_CRC_XOR);
	}
	return o->off;
}

size_t stun_binding_request(uint8_t *buf, size_t cap,
			    const uint8_t txid[STUN_TXID],
			    const char *software, const uint8_t *key,
			    size_t keylen, int fingerprint)
{
	struct stun_out o;

	stun_start(&o, buf, cap, STUN_BINDING_REQUEST, txid);
	return stun_finish(&o, software, key, keylen, fingerprint);
}

size_t stun_binding_response(uint8_t *buf, size_t cap,
			     const uint8_t txid[STUN_TXID],
			     const struct sockaddr *mapped,
			     const char *software, const uint8_t *key,
			     size_t keylen, int fingerprint)
{
	uint8_t pad[STUN_PAD_LEN], v[4 + 16];
	struct stun_out o;
	size_t n;

	stun_xor_pad(pad, txid);
	n = stun_addr_put(v, mapped, pad);
	if (n == 0)
		return 0;
	stun_start(&o, buf, cap, STUN_BINDING_SUCCESS, txid);
	stun_put(&o, STUN_A_XOR_MAPPED, v, n);
	return stun_finish(&o, software, key, keylen, fingerprint);
}
