/*
 * stunproxy's message codec (stunproxy/spmsg.c) against the layouts of
 * doc/PROTOCOL.md §4:
 *
 *   stunproxy A --sig (gate packet, or sealed in rv SEND/FWD)--> stunproxy B
 *   stunproxy A <------------- probes (tagged) ---------------> stunproxy B
 *
 * Golden bytes pin the layouts; the key derivations are checked against
 * values computed with Python's hashlib/hmac. Every decoder runs on
 * exact-size heap copies, so valgrind sees any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "spmsg.h"

static const uint8_t pkey[SP_KEY] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

/* ---- helpers ----------------------------------------------------------- */

static void mk_sa(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
}

static void mk_sig(struct sp_sig *s, uint8_t type, const char *name)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->type = type;
	strcpy(s->name, name);
	for (i = 0; i < SP_ID; i++)
		s->id[i] = (uint8_t)(0xa0 + i);
	s->sid = type == SP_HERE ? 0 : 0x1122334455667788ULL;
}

static void add_cand(struct sp_sig *s, uint8_t kind, const char *ip,
		     uint16_t port)
{
	s->cand[s->ncand].kind = kind;
	mk_sa(&s->cand[s->ncand].sa, ip, port);
	s->ncand++;
}

typedef int (*decoder)(const uint8_t *buf, size_t len);

/* Decode an exact-size heap copy, so a read past the end is seen. */
static int dec_copy(decoder dec, const uint8_t *buf, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	int r;

	assert_non_null(c);
	memcpy(c, buf, len);
	r = dec(c, len);
	free(c);
	return r;
}

/* Every proper prefix and one byte more are malformed. */
static void assert_exact(decoder dec, const uint8_t *buf, size_t len)
{
	uint8_t more[SP_MSG_MAX + 1];
	size_t n;

	assert_int_equal(dec_copy(dec, buf, len), 0);
	for (n = 0; n < len; n++)
		assert_int_equal(dec_copy(dec, buf, n), -1);
	memcpy(more, buf, len);
	more[len] = 0;
	assert_int_equal(dec_copy(dec, more, len + 1), -1);
}

static int dec_sig(const uint8_t *buf, size_t len)
{
	struct sp_sig s;

	return sp_sig_decode(buf, len, &s);
}

static int dec_probe(const uint8_t *buf, size_t len)
{
	struct sp_probe p;

	return sp_probe_decode(buf, len, pkey, &p);
}

static int dec_rv(const uint8_t *buf, size_t len)
{
	struct sp_rv m;

	return sp_rv_decode(buf, len, &m);
}

/* ---- signalling -------------------------------------------------------- */

static void assert_sig_equal(const struct sp_sig *a, const struct sp_sig *b)
{
	size_t i;

	assert_int_equal(a->type, b->type);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->name, b->name);
	assert_memory_equal(a->id, b->id, SP_ID);
	assert_true(a->sid == b->sid);
	assert_memory_equal(a->key, b->key, SP_KEYHALF);
	assert_int_equal(a->nat, b->nat);
	assert_int_equal(a->ncand, b->ncand);
	for (i = 0; i < a->ncand; i++) {
		assert_int_equal(a->cand[i].kind, b->cand[i].kind);
		assert_memory_equal(&a->cand[i].sa, &b->cand[i].sa,
				    sizeof(a->cand[i].sa));
	}
	assert_string_equal(a->why, b->why);
}

/* Encode, decode, compare, re-encode the same bytes; check exactness. */
static size_t sig_roundtrip(const struct sp_sig *s, size_t want)
{
	uint8_t buf[SP_MSG_MAX], again[SP_MSG_MAX];
	struct sp_sig d;
	size_t n = sp_sig_encode(buf, sizeof(buf), s), cap;

	assert_int_equal(n, want);
	assert_int_equal(sp_sig_decode(buf, n, &d), 0);
	assert_sig_equal(s, &d);
	assert_int_equal(sp_sig_encode(again, sizeof(again), &d), n);
	assert_memory_equal(buf, again, n);
	assert_exact(dec_sig, buf, n);
	for (cap = 0; cap < n; cap++)
		assert_int_equal(sp_sig_encode(again, cap, s), 0);
	return n;
}

static void test_sig_roundtrip(void **state)
{
	char big[SP_NAME_MAX + 1];
	struct sp_sig s;
	int i;

	(void)state;
	mk_sig(&s, SP_HERE, "alpha");
	s.flags = SP_F_REPLY;
	sig_roundtrip(&s, 44 + 5);
	mk_sig(&s, SP_GO, "b");
	sig_roundtrip(&s, 44 + 1);

	mk_sig(&s, SP_OFFER, "alpha");
	memset(s.key, 0x5a, SP_KEYHALF);
	s.nat = SP_NAT_EDM;
	add_cand(&s, SP_CAND_HOST, "10.0.0.1", 1);
	add_cand(&s, SP_CAND_SRFLX, "2001:db8::7", 65535);
	sig_roundtrip(&s, 44 + 5 + 18 + 8 + 20);
	s.ncand = 0;
	sig_roundtrip(&s, 44 + 5 + 18);

	/* the largest: a 64-byte name and eight IPv6 candidates */
	memset(big, 'z', SP_NAME_MAX);
	big[SP_NAME_MAX] = '\0';
	mk_sig(&s, SP_ANSWER, big);
	for (i = 0; i < SP_CAND_MAX; i++)
		add_cand(&s, SP_CAND_FIXED, "fe80::1", (uint16_t)(4000 + i));
	assert_true(sig_roundtrip(&s, 44 + 64 + 18 + 8 * 20) <= SP_MSG_MAX);

	mk_sig(&s, SP_FAIL, "alpha");
	strcpy(s.why, "no candidate answered in 10 s");
	sig_roundtrip(&s, 44 + 5 + 1 + strlen(s.why));
	s.why[0] = '\0';
	sig_roundtrip(&s, 44 + 5 + 1);
	memset(s.why, '~', SP_WHY_MAX);
	s.why[SP_WHY_MAX] = '\0';
	sig_roundtrip(&s, 44 + 5 + 1 + SP_WHY_MAX);
}

/* An OFFER from "ab", candidates 192.0.2.1:5000 and [2001:db8::1]:43981. */
static const uint8_t golden_offer[] = {
	0x01, 0x02, 0x00, 0x02, 'a', 'b',		/* ver type flags L */
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,	/* id */
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* sid */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* key half */
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	0x02, 0x02,					/* nat EIM, ncand */
	0x01, 0x04, 0x13, 0x88, 0xc0, 0x00, 0x02, 0x01,	/* host v4 */
	0x02, 0x06, 0xab, 0xcd,				/* srflx v6 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

enum {		/* offsets in golden_offer */
	GO_NAMELEN = 3, GO_NAME = 4, GO_NCAND = 63, GO_C0 = 64, GO_C1 = 72,
};

static void test_sig_golden(void **state)
{
	uint8_t buf[SP_MSG_MAX];
	struct sp_sig s, d;
	size_t i;

	(void)state;
	mk_sig(&s, SP_OFFER, "ab");
	for (i = 0; i < SP_KEYHALF; i++)
		s.key[i] = (uint8_t)(i + 1);
	s.nat = SP_NAT_EIM;
	add_cand(&s, SP_CAND_HOST, "192.0.2.1", 5000);
	add_cand(&s, SP_CAND_SRFLX, "2001:db8::1", 0xabcd);
	assert_int_equal(sp_sig_encode(buf, sizeof(buf), &s),
			 sizeof(golden_offer));
	assert_memory_equal(buf, golden_offer, sizeof(golden_offer));
	assert_int_equal(sp_sig_decode(golden_offer, sizeof(golden_offer), &d),
			 0);
	assert_sig_equal(&s, &d);
}

/* n bytes at offset at set to v */
struct edit {
	size_t at;
	uint8_t v;
	size_t n;
};

/* golden_offer edited must not decode. */
static const struct edit offer_bad[] = {
	{ 0, 0, 1 }, { 0, 2, 1 },		/* version */
	{ 1, 0, 1 }, { 1, 6, 1 },		/* type */
	{ 2, SP_F_REPLY, 1 }, { 2, 0x80, 1 },	/* flags: REPLY only in HERE */
	{ GO_NAME, ' ', 1 },			/* name */
	{ GO_NAME + 1, '\0', 1 }, { GO_NAME + 1, 0x7f, 1 },
	{ GO_NAMELEN, 0, 1 },
	{ GO_NCAND - 1, 4, 1 },			/* nat */
	{ GO_C0, 0, 1 }, { GO_C0, 4, 1 },	/* kind */
	{ GO_C0 + 1, 5, 1 }, { GO_C0 + 1, 0, 1 },	/* family */
	{ GO_C1 + 1, 4, 1 },			/* v6 said v4: trailing */
	{ GO_C0 + 2, 0, 2 }, { GO_C1 + 2, 0, 2 },	/* port 0 */
	{ GO_NCAND, 1, 1 },			/* trailing candidate */
	{ GO_NCAND, 3, 1 },			/* missing candidate */
};

static void test_sig_malformed(void **state)
{
	uint8_t buf[SP_MSG_MAX];
	struct sp_sig s;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(offer_bad) / sizeof(offer_bad[0]); i++) {
		memcpy(buf, golden_offer, sizeof(golden_offer));
		memset(buf + offer_bad[i].at, offer_bad[i].v, offer_bad[i].n);
		assert_int_equal(dec_copy(dec_sig, buf, sizeof(golden_offer)),
				 -1);
	}

	/* ncand 9: nine well-formed candidates, one too many */
	mk_sig(&s, SP_ANSWER, "ab");
	while (s.ncand < SP_CAND_MAX)
		add_cand(&s, SP_CAND_HOST, "10.1.2.3", 9);
	n = sp_sig_encode(buf, sizeof(buf), &s);
	assert_int_equal(dec_copy(dec_sig, buf, n), 0);
	memcpy(buf + n, buf + n - 8, 8);
	buf[GO_NCAND] = SP_CAND_MAX + 1;
	assert_int_equal(dec_copy(dec_sig, buf, n + 8), -1);
	buf[GO_NCAND] = SP_CAND_MAX;
	assert_int_equal(dec_copy(dec_sig, buf, n + 8), -1);
}

static void test_sig_malformed_here_fail(void **state)
{
	uint8_t buf[SP_MSG_MAX];
	struct sp_sig s;
	size_t n;

	(void)state;
	mk_sig(&s, SP_HERE, "ab");
	n = sp_sig_encode(buf, sizeof(buf), &s);
	assert_int_equal(n, 46);
	buf[46 - 1] = 1;			/* HERE with a session */
	assert_int_equal(dec_copy(dec_sig, buf, n), -1);
	buf[46 - 1] = 0;
	buf[3] = SP_NAME_MAX + 1;		/* name too long */
	assert_int_equal(dec_copy(dec_sig, buf, n), -1);

	mk_sig(&s, SP_FAIL, "ab");
	strcpy(s.why, "a b");
	n = sp_sig_encode(buf, sizeof(buf), &s);
	assert_int_equal(dec_copy(dec_sig, buf, n), 0);
	buf[n - 2] = '\n';			/* control character */
	assert_int_equal(dec_copy(dec_sig, buf, n), -1);
	buf[n - 2] = ' ';
	buf[n - 4] = 2;			/* whylen short: trailing */
	assert_int_equal(dec_copy(dec_sig, buf, n), -1);
	/* whylen 129 */
	n = 46;
	buf[n] = SP_WHY_MAX + 1;
	memset(buf + n + 1, 'x', SP_WHY_MAX + 1);
	assert_int_equal(dec_copy(dec_sig, buf, n + 2 + SP_WHY_MAX), -1);
	buf[n] = SP_WHY_MAX;
	assert_int_equal(dec_copy(dec_sig, buf, n + 1 + SP_WHY_MAX), 0);
}

static void assert_sig_refused(const struct sp_sig *s)
{
	uint8_t buf[SP_MSG_MAX];

	assert_int_equal(sp_sig_encode(buf, sizeof(buf), s), 0);
}

static void test_sig_encode_refuses(void **state)
{
	struct sp_sig s, ok;

	(void)state;
	mk_sig(&ok, SP_OFFER, "ab");
	add_cand(&ok, SP_CAND_HOST, "10.0.0.1", 1);
	s = ok;
	assert_int_not_equal(sp_sig_encode((uint8_t[SP_MSG_MAX]){ 0 },
					   SP_MSG_MAX, &s), 0);
	s.type = 0;
	assert_sig_refused(&s);
	s = ok;
	s.type = SP_FAIL + 1;
	assert_sig_refused(&s);
	s = ok;
	s.flags = SP_F_REPLY;
	assert_sig_refused(&s);
	s = ok;
	strcpy(s.name, "a b");
	assert_sig_refused(&s);
	s.name[0] = '\0';
	assert_sig_refused(&s);
	memset(s.name, 'n', sizeof(s.name));	/* no NUL within 65 */
	assert_sig_refused(&s);
	s = ok;
	s.nat = SP_NAT_EDM + 1;
	assert_sig_refused(&s);
	s = ok;
	s.ncand = SP_CAND_MAX + 1;
	assert_sig_refused(&s);
	s = ok;
	s.cand[0].kind = 0;
	assert_sig_refused(&s);
	s = ok;
	s.cand[0].sa.ss_family = AF_UNIX;
	assert_sig_refused(&s);
	s = ok;
	mk_sa(&s.cand[0].sa, "10.0.0.1", 0);
	assert_sig_refused(&s);
	mk_sig(&s, SP_HERE, "ab");
	s.sid = 1;
	assert_sig_refused(&s);
	mk_sig(&s, SP_FAIL, "ab");
	strcpy(s.why, "tab\there");
	assert_sig_refused(&s);
	memset(s.why, 'w', sizeof(s.why));
	assert_sig_refused(&s);
}

/* ---- probes ------------------------------------------------------------ */

/* The tag as the spec says, computed here, not by the codec. */
static void retag(uint8_t *buf, size_t len, const uint8_t key[SP_KEY])
{
	uint8_t mac[32];

	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, SP_KEY, buf,
					  len - SP_TAG, mac), 0);
	memcpy(buf + len - SP_TAG, mac, SP_TAG);
}

/* An ACK, flags USE, seen 198.51.100.7:4660, keyed with 32 x 0x42. */
static const uint8_t golden_ack[] = {
	0x63, 0x76, 0x73, 0x70, 0x01, 0x02, 0x01, 0x00,	/* cvsp 1 ACK USE */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* sid */
	0x0a, 0x0b, 0x0c, 0x0d,				/* seq */
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,	/* stamp */
	0x04, 0x00, 0x12, 0x34, 0xc6, 0x33, 0x64, 0x07,	/* seen */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0xfc, 0x52, 0xcb, 0x4b, 0xc2, 0x77, 0x3c,	/* tag */
	0x05, 0x1c, 0x2a, 0xcc, 0x9d, 0x24, 0x10, 0x78,
};

static void mk_probe(struct sp_probe *p, uint8_t type)
{
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->sid = 0x0102030405060708ULL;
	p->seq = 0x0a0b0c0d;
	p->stamp = 0x1112131415161718ULL;
}

static void test_probe_golden(void **state)
{
	uint8_t buf[SP_MSG_MAX];
	struct sp_probe p, d;
	uint64_t sid = 0;

	(void)state;
	mk_probe(&p, SP_ACK);
	p.flags = SP_P_USE;
	mk_sa(&p.seen, "198.51.100.7", 0x1234);
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey),
			 sizeof(golden_ack));
	assert_memory_equal(buf, golden_ack, sizeof(golden_ack));
	assert_int_equal(sp_probe_peek(golden_ack, sizeof(golden_ack), &sid),
			 1);
	assert_true(sid == p.sid);
	assert_int_equal(sp_probe_decode(golden_ack, sizeof(golden_ack), pkey,
					 &d), 0);
	assert_memory_equal(&p, &d, sizeof(p));
}

static void probe_roundtrip(const struct sp_probe *p, size_t want)
{
	uint8_t buf[SP_MSG_MAX];
	struct sp_probe d;
	size_t cap;

	assert_int_equal(sp_probe_encode(buf, sizeof(buf), p, pkey), want);
	assert_int_equal(sp_probe_decode(buf, want, pkey, &d), 0);
	assert_memory_equal(p, &d, sizeof(d));
	assert_exact(dec_probe, buf, want);
	for (cap = 0; cap < want; cap++)
		assert_int_equal(sp_probe_encode(buf, cap, p, pkey), 0);
}

static void test_probe_roundtrip(void **state)
{
	struct sp_probe p;

	(void)state;
	mk_probe(&p, SP_PROBE);
	p.flags = SP_P_USE;
	probe_roundtrip(&p, 44);
	mk_probe(&p, SP_OPEN);
	p.sid = UINT64_MAX;
	p.seq = UINT32_MAX;
	probe_roundtrip(&p, 44);
	mk_probe(&p, SP_ACK);
	mk_sa(&p.seen, "2001:db8::42", 65535);
	probe_roundtrip(&p, 64);
	mk_sa(&p.seen, "0.0.0.0", 1);
	probe_roundtrip(&p, 64);
}

/* golden_ack edited, with the tag made right again, must not decode. */
static const struct edit ack_bad[] = {
	{ 4, 0, 1 }, { 4, 2, 1 },		/* version */
	{ 5, 0, 1 }, { 5, 4, 1 },		/* type */
	{ 5, SP_PROBE, 1 },			/* PROBE at ACK length */
	{ 6, 2, 1 },				/* flags */
	{ 7, 1, 1 },				/* reserved */
	{ 28, 5, 1 },				/* family */
	{ 29, 1, 1 },				/* pad after family */
	{ 30, 0, 2 },				/* port 0 */
	{ 36, 0x80, 12 }, { 36, 1, 1 }, { 47, 1, 1 },	/* IPv4 padding */
};

static void test_probe_malformed(void **state)
{
	uint8_t buf[sizeof(golden_ack)], key[SP_KEY];
	size_t i;

	(void)state;
	memcpy(buf, golden_ack, sizeof(buf));
	retag(buf, sizeof(buf), pkey);
	assert_memory_equal(buf, golden_ack, sizeof(buf));
	for (i = 0; i < sizeof(ack_bad) / sizeof(ack_bad[0]); i++) {
		memcpy(buf, golden_ack, sizeof(buf));
		memset(buf + ack_bad[i].at, ack_bad[i].v, ack_bad[i].n);
		retag(buf, sizeof(buf), pkey);
		assert_int_equal(dec_copy(dec_probe, buf, sizeof(buf)), -1);
	}

	/* any flipped bit breaks the tag */
	for (i = 0; i < sizeof(golden_ack) * 8; i++) {
		memcpy(buf, golden_ack, sizeof(buf));
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(dec_copy(dec_probe, buf, sizeof(buf)), -1);
	}
	memcpy(key, pkey, sizeof(key));
	key[SP_KEY - 1] ^= 1;
	assert_int_equal(sp_probe_decode(golden_ack, sizeof(golden_ack), key,
					 (struct sp_probe[1]){ { 0 } }), -1);
}

static void test_probe_short_forms(void **state)
{
	uint8_t buf[SP_MSG_MAX];
	struct sp_probe p;
	uint64_t sid = 7;

	(void)state;
	mk_probe(&p, SP_PROBE);
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey), 44);
	buf[5] = SP_ACK;			/* ACK without its address */
	retag(buf, 44, pkey);
	assert_int_equal(dec_copy(dec_probe, buf, 44), -1);

	/* peek: magic and length only */
	assert_int_equal(sp_probe_peek(buf, 44, &sid), 1);
	assert_true(sid == p.sid);
	assert_int_equal(sp_probe_peek(buf, 43, &sid), 0);
	assert_int_equal(sp_probe_peek(buf, 45, &sid), 0);
	assert_int_equal(sp_probe_peek(buf, 0, &sid), 0);
	buf[3] = 'q';
	assert_int_equal(sp_probe_peek(buf, 44, &sid), 0);
	retag(buf, 44, pkey);
	assert_int_equal(dec_copy(dec_probe, buf, 44), -1);

	/* encoder refusals */
	p.type = 0;
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey), 0);
	p.type = SP_OPEN + 1;
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey), 0);
	mk_probe(&p, SP_PROBE);
	p.flags = 2;
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey), 0);
	mk_probe(&p, SP_ACK);			/* no seen address */
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey), 0);
	mk_sa(&p.seen, "10.0.0.1", 0);
	assert_int_equal(sp_probe_encode(buf, sizeof(buf), &p, pkey), 0);
}

/* ---- keys -------------------------------------------------------------- */

static void test_probe_key(void **state)
{
	static const uint8_t want[SP_KEY] = {
		0xfa, 0xaf, 0x05, 0xf6, 0x63, 0x91, 0xd8, 0xf2,
		0x05, 0x4d, 0xf4, 0x15, 0xfa, 0xe7, 0xcd, 0x2d,
		0x7b, 0xda, 0x4c, 0xcd, 0x22, 0x3f, 0xa9, 0xb3,
		0x94, 0xa4, 0x9c, 0x0d, 0xf5, 0xd1, 0x32, 0x7f,
	};
	uint8_t offer[SP_KEYHALF], answer[SP_KEYHALF], k[SP_KEY], o[SP_KEY];
	const uint64_t sid = 0x0102030405060708ULL;
	size_t i;

	(void)state;
	for (i = 0; i < SP_KEYHALF; i++) {
		offer[i] = (uint8_t)i;
		answer[i] = (uint8_t)(SP_KEYHALF + i);
	}
	sp_probe_key(offer, answer, sid, k);
	assert_memory_equal(k, want, SP_KEY);
	sp_probe_key(answer, offer, sid, o);	/* the order matters */
	assert_memory_not_equal(k, o, SP_KEY);
	for (i = 0; i < 64; i++) {
		sp_probe_key(offer, answer, sid ^ (1ULL << i), o);
		assert_memory_not_equal(k, o, SP_KEY);
	}
	for (i = 0; i < SP_KEYHALF; i++) {
		offer[i] ^= 1;
		sp_probe_key(offer, answer, sid, o);
		assert_memory_not_equal(k, o, SP_KEY);
		offer[i] ^= 1;
		answer[i] ^= 0x80;
		sp_probe_key(offer, answer, sid, o);
		assert_memory_not_equal(k, o, SP_KEY);
		answer[i] ^= 0x80;
	}
	sp_probe_key(offer, answer, sid, o);
	assert_memory_equal(k, o, SP_KEY);
}

static void test_addr_and_rv_keys(void **state)
{
	static const uint8_t alpha[SP_ADDR_LEN] = {
		0x96, 0xc5, 0xd9, 0x26, 0x06, 0xa8, 0x91, 0x42,
		0x4f, 0x86, 0x43, 0x93, 0x69, 0x3b, 0xdf, 0x33,
	};
	static const uint8_t group[SP_GROUP] = {
		0xd9, 0xb8, 0x36, 0x65, 0xb1, 0xe9, 0x73, 0x3f,
		0xde, 0xd6, 0x95, 0xdd, 0x0a, 0x13, 0xc3, 0x5d,
	};
	static const uint8_t key[SP_KEY] = {
		0x70, 0xcc, 0x8d, 0xec, 0x15, 0x66, 0x54, 0xd8,
		0x99, 0x4f, 0x15, 0x0d, 0xf7, 0x79, 0x34, 0x4b,
		0x8c, 0xcf, 0x43, 0xb2, 0x61, 0x77, 0xa4, 0x15,
		0xe4, 0xa5, 0x42, 0x90, 0xb1, 0xf0, 0x99, 0x9d,
	};
	uint8_t a[SP_ADDR_LEN], g[SP_GROUP], k[SP_KEY];

	(void)state;
	sp_addr_of("alpha", a);
	assert_memory_equal(a, alpha, SP_ADDR_LEN);
	sp_addr_of("alphb", a);
	assert_memory_not_equal(a, alpha, SP_ADDR_LEN);
	sp_rv_keys("s3cret", g, k);
	assert_memory_equal(g, group, SP_GROUP);
	assert_memory_equal(k, key, SP_KEY);
}

/* ---- rendezvous -------------------------------------------------------- */

static void mk_rv(struct sp_rv *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	memset(m->group, 0x67, SP_GROUP);
}

static void rv_roundtrip(const struct sp_rv *m, size_t want)
{
	uint8_t buf[SP_MSG_MAX], again[SP_MSG_MAX];
	struct sp_rv d;
	size_t n = sp_rv_encode(buf, sizeof(buf), m), cap;

	assert_int_equal(n, want);
	assert_int_equal(sp_rv_is(buf, n), 1);
	assert_int_equal(sp_rv_decode(buf, n, &d), 0);
	assert_int_equal(d.type, m->type);
	assert_memory_equal(d.group, m->group, SP_GROUP);
	assert_true(d.nonce == m->nonce);
	assert_memory_equal(&d.addr, &m->addr, sizeof(d.addr));
	assert_int_equal(d.body_len, m->body_len);
	if (m->body_len)
		assert_memory_equal(d.body, m->body, m->body_len);
	assert_int_equal(sp_rv_encode(again, sizeof(again), &d), n);
	assert_memory_equal(buf, again, n);
	for (cap = 0; cap < n; cap++)
		assert_int_equal(sp_rv_encode(again, cap, m), 0);
	if (m->body == NULL)	/* a body takes whatever follows */
		assert_exact(dec_rv, buf, n);
}

static void test_rv_roundtrip(void **state)
{
	uint8_t body[SP_MSG_MAX];
	struct sp_rv m;

	(void)state;
	memset(body, 0xbd, sizeof(body));
	mk_rv(&m, SP_RV_REG);
	m.nonce = 0xfedcba9876543210ULL;
	rv_roundtrip(&m, 32);
	m.type = SP_RV_REGACK;
	mk_sa(&m.addr, "203.0.113.9", 3478);
	rv_roundtrip(&m, 52);
	mk_sa(&m.addr, "2001:db8::9", 3478);
	rv_roundtrip(&m, 52);

	mk_rv(&m, SP_RV_SEND);
	m.body = body;
	m.body_len = SP_TAG + 1;
	rv_roundtrip(&m, 24 + SP_TAG + 1);
	m.body_len = SP_MSG_MAX - 44;		/* forwardable in a FWD */
	rv_roundtrip(&m, SP_MSG_MAX - 20);
	m.type = SP_RV_FWD;
	mk_sa(&m.addr, "2001:db8::9", 1);
	rv_roundtrip(&m, SP_MSG_MAX);
	m.body_len = SP_TAG + 1;
	rv_roundtrip(&m, 44 + SP_TAG + 1);
}

/* A valid rv message with one byte changed must not decode. */
static void assert_rv_bad(const struct sp_rv *m, size_t at, uint8_t v)
{
	uint8_t buf[SP_MSG_MAX];
	size_t n = sp_rv_encode(buf, sizeof(buf), m);

	assert_int_equal(dec_copy(dec_rv, buf, n), 0);
	buf[at] = v;
	assert_int_equal(dec_copy(dec_rv, buf, n), -1);
}

static void test_rv_malformed(void **state)
{
	uint8_t body[SP_MSG_MAX], buf[SP_MSG_MAX];
	struct sp_rv m;
	size_t n;

	(void)state;
	memset(body, 0xbd, sizeof(body));
	mk_rv(&m, SP_RV_REGACK);
	mk_sa(&m.addr, "203.0.113.9", 3478);
	assert_rv_bad(&m, 0, 'C');		/* magic */
	assert_rv_bad(&m, 3, 'p');
	assert_rv_bad(&m, 4, 2);		/* version */
	assert_rv_bad(&m, 5, 0);		/* type */
	assert_rv_bad(&m, 5, 5);
	assert_rv_bad(&m, 5, SP_RV_REG);	/* REG with an address */
	assert_rv_bad(&m, 6, 1);		/* reserved */
	assert_rv_bad(&m, 7, 1);
	assert_rv_bad(&m, 32, 5);		/* family */
	assert_rv_bad(&m, 33, 1);		/* pad */
	assert_rv_bad(&m, 51, 1);		/* IPv4 padding */

	/* sp_rv_is: magic and the smallest message */
	n = sp_rv_encode(buf, sizeof(buf), &m);
	assert_int_equal(sp_rv_is(buf, 32), 1);
	assert_int_equal(sp_rv_is(buf, 31), 0);
	buf[1] = 'V';
	assert_int_equal(sp_rv_is(buf, n), 0);
	assert_int_equal(sp_rv_is(golden_ack, sizeof(golden_ack)), 0);
	assert_int_equal(sp_probe_peek(buf, 64, &m.nonce), 0);

	/* bodies: a tag and a byte at least, forwardable at most */
	mk_rv(&m, SP_RV_SEND);
	m.body = body;
	m.body_len = SP_TAG;
	assert_int_equal(sp_rv_encode(buf, sizeof(buf), &m), 0);
	m.body_len = SP_MSG_MAX - 44 + 1;
	assert_int_equal(sp_rv_encode(buf, sizeof(buf), &m), 0);
	m.body_len = SP_MSG_MAX - 44;
	n = sp_rv_encode(buf, sizeof(buf), &m);
	buf[n] = 0;
	assert_int_equal(dec_copy(dec_rv, buf, n + 1), -1);
	assert_int_equal(dec_copy(dec_rv, buf, 24 + SP_TAG), -1);
	assert_int_equal(dec_copy(dec_rv, buf, 24 + SP_TAG + 1), 0);
	m.body = NULL;
	assert_int_equal(sp_rv_encode(buf, sizeof(buf), &m), 0);
	mk_rv(&m, SP_RV_FWD);		/* FWD without an address */
	m.body = body;
	m.body_len = SP_TAG + 1;
	assert_int_equal(sp_rv_encode(buf, sizeof(buf), &m), 0);
}

/* ---- sealing ----------------------------------------------------------- */

static void test_seal(void **state)
{
	uint8_t buf[SP_MSG_MAX], key[SP_KEY];
	size_t n, len = 0, i;

	(void)state;
	memcpy(buf, golden_offer, sizeof(golden_offer));
	n = sp_seal(buf, sizeof(buf), buf, sizeof(golden_offer), pkey);
	assert_int_equal(n, sizeof(golden_offer) + SP_TAG);
	assert_int_equal(sp_unseal(buf, n, pkey, &len), 0);
	assert_int_equal(len, sizeof(golden_offer));
	assert_memory_equal(buf, golden_offer, len);
	assert_int_equal(dec_copy(dec_sig, buf, len), 0);

	for (i = 0; i < n * 8; i++) {
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(sp_unseal(buf, n, pkey, &len), -1);
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	assert_int_equal(sp_unseal(buf, n - 1, pkey, &len), -1);
	memcpy(key, pkey, sizeof(key));
	key[0] ^= 1;
	assert_int_equal(sp_unseal(buf, n, key, &len), -1);

	/* nothing to seal, no room, no message */
	assert_int_equal(sp_seal(buf, sizeof(buf), golden_offer, 0, pkey), 0);
	assert_int_equal(sp_seal(buf, SP_TAG, golden_offer, 1, pkey), 0);
	assert_int_equal(sp_seal(buf, SP_TAG + 1, golden_offer, 1, pkey),
			 SP_TAG + 1);
	assert_int_equal(sp_unseal(buf, SP_TAG + 1, pkey, &len), 0);
	assert_int_equal(len, 1);
	retag(buf, SP_TAG, pkey);		/* a right tag of nothing */
	assert_int_equal(sp_unseal(buf, SP_TAG, pkey, &len), -1);
}

static void test_env(void **state)
{
	static const uint8_t want[] = { 2, 'B', 'x', 0xaa, 0xbb };
	uint8_t buf[SP_MSG_MAX], bad[sizeof(want)];
	char to[SP_NAME_MAX + 1], name[SP_NAME_MAX + 2];
	const uint8_t *msg;
	size_t n, len;

	(void)state;
	n = sp_env_encode(buf, sizeof(buf), "Bx", want + 3, 2);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, n);
	assert_int_equal(sp_env_decode(buf, n, to, &msg, &len), 0);
	assert_string_equal(to, "Bx");
	assert_ptr_equal(msg, buf + 3);
	assert_int_equal(len, 2);
	/* to everyone */
	n = sp_env_encode(buf, sizeof(buf), NULL, want + 3, 2);
	assert_int_equal(n, 3);
	assert_int_equal(sp_env_decode(buf, n, to, &msg, &len), 0);
	assert_string_equal(to, "");
	/* no message, a name that runs past the end, a space, too long */
	assert_int_equal(sp_env_decode(want, 3, to, &msg, &len), -1);
	memcpy(bad, want, sizeof(bad));
	bad[0] = 5;
	assert_int_equal(sp_env_decode(bad, sizeof(bad), to, &msg, &len), -1);
	bad[0] = 1;
	bad[1] = ' ';
	assert_int_equal(sp_env_decode(bad, sizeof(bad), to, &msg, &len), -1);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	assert_int_equal(sp_env_encode(buf, sizeof(buf), name, want, 1), 0);
	assert_int_equal(sp_env_encode(buf, sizeof(buf), "a b", want, 1), 0);
	assert_int_equal(sp_env_encode(buf, sizeof(buf), "B", want, 0), 0);
	assert_int_equal(sp_env_encode(buf, 3, "B", want, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig_roundtrip),
		cmocka_unit_test(test_sig_golden),
		cmocka_unit_test(test_sig_malformed),
		cmocka_unit_test(test_sig_malformed_here_fail),
		cmocka_unit_test(test_sig_encode_refuses),
		cmocka_unit_test(test_probe_golden),
		cmocka_unit_test(test_probe_roundtrip),
		cmocka_unit_test(test_probe_malformed),
		cmocka_unit_test(test_probe_short_forms),
		cmocka_unit_test(test_probe_key),
		cmocka_unit_test(test_addr_and_rv_keys),
		cmocka_unit_test(test_rv_roundtrip),
		cmocka_unit_test(test_rv_malformed),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
