/*
 * The STUN Binding codec against RFC 5769's vectors, its own encoders,
 * and every kind of malformed message.
 *
 *   RFC 5769 bytes --stun_decode--> fields, integrity, fingerprint
 *   fields --stun_binding_*--> bytes --stun_decode--> the same fields
 *   bytes, cut or bent --stun_decode--> -1
 *
 * Malformed messages are decoded from exact-size heap copies, so valgrind
 * and ASan see an over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "bytes.h"
#include "stun.h"

/* ---- RFC 5769 §2, typed in from the RFC ------------------------------ */

static const char short_term_pw[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* §2.1: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY,
 * FINGERPRINT; the padding is 0x20, as the RFC has it. */
static const uint8_t rfc_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
	0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
	0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20,
	0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
/* where each attribute of §2.1 starts, and its end */
static const size_t rfc_request_attrs[] = { 20, 40, 48, 60, 76, 100, 108 };

/* §2.2: 192.0.2.1 port 32853 */
static const uint8_t rfc_resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* §2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853 */
static const uint8_t rfc_resp6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* §2.4: USERNAME, NONCE, REALM, MESSAGE-INTEGRITY (long-term), no
 * FINGERPRINT */
static const uint8_t rfc_long_term[] = {
	0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42,
	0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
	0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83,
	0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00,
	0x00, 0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39,
	0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46,
	0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41,
	0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e,
	0x6f, 0x72, 0x67, 0x00,
	0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e,
	0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};
/* <U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9> in UTF-8 */
static const char lt_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
			      "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";

static const uint8_t rfc_txid[STUN_TXID] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

static const struct {
	const uint8_t *b;
	size_t n;
} rfc_all[] = {
	{ rfc_request, sizeof(rfc_request) },
	{ rfc_resp4, sizeof(rfc_resp4) },
	{ rfc_resp6, sizeof(rfc_resp6) },
	{ rfc_long_term, sizeof(rfc_long_term) },
};

/* ---- helpers ---------------------------------------------------------- */

static const uint8_t *pw(const char *s)
{
	return (const uint8_t *)s;
}

/* Decode an exact-size heap copy: only the result is kept, since the
 * message's views die with the copy. */
static int decode_exact(const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	rc = stun_decode(copy, len, &m);
	free(copy);
	return rc;
}

/* Append an attribute (zero padding) to the message of len bytes in buf
 * and set the header's length to match; the new length. */
static size_t append(uint8_t *buf, size_t len, uint16_t type,
		     const void *val, size_t n)
{
	size_t room = (n + 3) & ~(size_t)3;

	put16(buf + len, type);
	put16(buf + len + 2, (uint16_t)n);
	memcpy(buf + len + 4, val, n);
	memset(buf + len + 4 + n, 0, room - n);
	len += 4 + room;
	put16(buf + 2, (uint16_t)(len - STUN_HDR));
	return len;
}

/* A bare header of the given type with the RFC's transaction ID. */
static size_t header(uint8_t *buf, uint16_t type)
{
	assert_int_equal(stun_binding_request(buf, STUN_HDR, rfc_txid, NULL,
					      NULL, 0, 0), STUN_HDR);
	put16(buf, type);
	return STUN_HDR;
}

static struct sockaddr_storage sa_make(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&ss, 0, sizeof(ss));
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&ss, &sin, sizeof(sin));
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		memcpy(&ss, &sin6, sizeof(sin6));
	}
	return ss;
}

static void assert_mapped(const struct stun_msg *m, const char *ip,
			  uint16_t port)
{
	struct sockaddr_storage want = sa_make(ip, port);

	assert_true(m->has_mapped);
	assert_memory_equal(&m->mapped, &want, sizeof(want));
}

static void assert_view(const void *p, size_t n, const char *want)
{
	assert_non_null(p);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
}

/* ---- RFC 5769 ------------------------------------------------------- */

static void test_rfc_request(void **state)
{
	struct stun_msg m;

	(void)state;
	assert_true(stun_is_stun(rfc_request, sizeof(rfc_request)));
	assert_int_equal(stun_decode(rfc_request, sizeof(rfc_request), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_memory_equal(m.txid, rfc_txid, STUN_TXID);
	assert_false(m.has_mapped);
	assert_view(m.software, m.software_len, "STUN test client");
	assert_view(m.username, m.username_len, "evtj:h6vY");
	assert_int_equal(m.integrity_at, 76);
	assert_true(m.has_fingerprint);
	assert_int_equal(m.error_code, 0);
	assert_int_equal(stun_check_integrity(rfc_request, sizeof(rfc_request),
					      &m, pw(short_term_pw),
					      strlen(short_term_pw)), 1);
	assert_int_equal(stun_check_integrity(rfc_request, sizeof(rfc_request),
					      &m, pw("VOkJxbRl1RmTxUk/WvJxBu"),
					      strlen(short_term_pw)), 0);
}

static void check_rfc_response(const uint8_t *b, size_t n, const char *ip)
{
	struct stun_msg m;

	assert_int_equal(stun_decode(b, n, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_memory_equal(m.txid, rfc_txid, STUN_TXID);
	assert_mapped(&m, ip, 32853);
	assert_view(m.software, m.software_len, "test vector");
	assert_null(m.username);
	assert_int_equal(m.integrity_at, n - 32);
	assert_true(m.has_fingerprint);
	assert_int_equal(stun_check_integrity(b, n, &m, pw(short_term_pw),
					      strlen(short_term_pw)), 1);
	assert_int_equal(stun_check_integrity(b, n, &m, pw(short_term_pw),
					      strlen(short_term_pw) - 1), 0);
}

static void test_rfc_responses(void **state)
{
	(void)state;
	check_rfc_response(rfc_resp4, sizeof(rfc_resp4), "192.0.2.1");
	check_rfc_response(rfc_resp6, sizeof(rfc_resp6),
			   "2001:db8:1234:5678:11:2233:4455:6677");
}

static void test_rfc_long_term(void **state)
{
	uint8_t key[STUN_LT_KEY];
	struct stun_msg m;

	(void)state;
	assert_int_equal(stun_decode(rfc_long_term, sizeof(rfc_long_term),
				     &m), 0);
	assert_memory_equal(m.txid, rfc_long_term + 8, STUN_TXID);
	assert_view(m.username, m.username_len, lt_user);
	assert_int_equal(m.integrity_at, sizeof(rfc_long_term) - 24);
	assert_false(m.has_fingerprint);
	/* the password after SASLprep, as the RFC gives it */
	assert_int_equal(stun_long_term_key(lt_user, "example.org",
					    "TheMatrIX", key), 0);
	assert_int_equal(stun_check_integrity(rfc_long_term,
					      sizeof(rfc_long_term), &m, key,
					      sizeof(key)), 1);
	assert_int_equal(stun_long_term_key(lt_user, "example.org",
					    "TheMatrix", key), 0);
	assert_int_equal(stun_check_integrity(rfc_long_term,
					      sizeof(rfc_long_term), &m, key,
					      sizeof(key)), 0);
}

/* Our XOR-MAPPED-ADDRESS is the RFC's, byte for byte (the rest of our
 * message differs: our padding is zero, the RFC's 0x20). */
static void test_encode_matches_rfc(void **state)
{
	struct sockaddr_storage v4 = sa_make("192.0.2.1", 32853);
	struct sockaddr_storage v6 =
		sa_make("2001:db8:1234:5678:11:2233:4455:6677", 32853);
	uint8_t buf[STUN_MSG_MAX];

	(void)state;
	assert_int_equal(stun_binding_response(buf, sizeof(buf), rfc_txid,
					       (struct sockaddr *)&v4, NULL,
					       NULL, 0, 0), 32);
	assert_memory_equal(buf + 20, rfc_resp4 + 36, 12);
	assert_int_equal(stun_binding_response(buf, sizeof(buf), rfc_txid,
					       (struct sockaddr *)&v6, NULL,
					       NULL, 0, 0), 44);
	assert_memory_equal(buf + 20, rfc_resp6 + 36, 24);
}

/* Without its FINGERPRINT (and the header's length shortened to match),
 * the §2.2 response still verifies: §14.5's length ends at the
 * MESSAGE-INTEGRITY, whatever follows it. */
static void test_integrity_ignores_fingerprint(void **state)
{
	uint8_t buf[sizeof(rfc_resp4)];
	size_t n = sizeof(rfc_resp4) - 8;
	struct stun_msg m;

	(void)state;
	memcpy(buf, rfc_resp4, n);
	put16(buf + 2, (uint16_t)(n - STUN_HDR));
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_false(m.has_fingerprint);
	assert_int_equal(stun_check_integrity(buf, n, &m, pw(short_term_pw),
					      strlen(short_term_pw)), 1);
}

/* ---- round trips ------------------------------------------------------ */

static const uint8_t rt_key[] = "a short-term password";
/* not a trailing NUL: HMAC pads its key with zeros, so that would match */
static const uint8_t rt_wrong[] = "a short-term passwore";

static void check_round_trip(const uint8_t *buf, size_t n, uint16_t type,
			     const char *software, int keyed, int fp)
{
	struct stun_msg m;

	assert_int_equal(decode_exact(buf, n), 0);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_int_equal(m.type, type);
	assert_memory_equal(m.txid, rfc_txid, STUN_TXID);
	if (software != NULL)
		assert_view(m.software, m.software_len, software);
	else
		assert_null(m.software);
	assert_int_equal(m.integrity_at != 0, keyed);
	assert_int_equal(stun_check_integrity(buf, n, &m, rt_key,
					      sizeof(rt_key)), keyed);
	assert_int_equal(stun_check_integrity(buf, n, &m, rt_wrong,
					      sizeof(rt_wrong)), 0);
	assert_int_equal(m.has_fingerprint, fp);
}

static void test_round_trips(void **state)
{
	static const char *const addrs[] = { "198.51.100.7", "2001:db8::42" };
	static const char *const sws[] = { NULL, "cloudvpn stunproxy" };
	struct sockaddr_storage ss;
	uint8_t buf[STUN_MSG_MAX];
	size_t i, n, want, a, s, k, f;
	struct stun_msg m;

	(void)state;
	for (i = 0; i < 16; i++) {
		a = i & 1;		/* IPv6 */
		s = i >> 1 & 1;		/* SOFTWARE */
		k = i >> 2 & 1;		/* MESSAGE-INTEGRITY */
		f = i >> 3 & 1;		/* FINGERPRINT */
		want = (s ? 4 + 20 : 0) + (k ? 24 : 0) + (f ? 8 : 0);
		n = stun_binding_request(buf, sizeof(buf), rfc_txid, sws[s],
					 k ? rt_key : NULL, sizeof(rt_key),
					 (int)f);
		assert_int_equal(n, STUN_HDR + want);
		check_round_trip(buf, n, STUN_BINDING_REQUEST, sws[s],
				 (int)k, (int)f);
		assert_int_equal(stun_decode(buf, n, &m), 0);
		assert_false(m.has_mapped);

		ss = sa_make(addrs[a], (uint16_t)(1000 + a));
		n = stun_binding_response(buf, sizeof(buf), rfc_txid,
					  (struct sockaddr *)&ss, sws[s],
					  k ? rt_key : NULL, sizeof(rt_key),
					  (int)f);
		assert_int_equal(n, STUN_HDR + (a ? 24 : 12) + want);
		check_round_trip(buf, n, STUN_BINDING_SUCCESS, sws[s],
				 (int)k, (int)f);
		assert_int_equal(stun_decode(buf, n, &m), 0);
		assert_mapped(&m, addrs[a], (uint16_t)(1000 + a));
	}
}

/* Every buffer too small gives 0, and nothing is written past it. */
static void test_encode_limits(void **state)
{
	struct sockaddr_storage ss = sa_make("2001:db8::1", 9);
	struct sockaddr_un sun;
	char sw[511];
	uint8_t full[STUN_MSG_MAX], *small;
	size_t n, cap;

	(void)state;
	n = stun_binding_response(full, sizeof(full), rfc_txid,
				  (struct sockaddr *)&ss, "x", rt_key,
				  sizeof(rt_key), 1);
	assert_int_equal(n, STUN_HDR + 24 + 8 + 24 + 8);
	for (cap = 0; cap < n; cap++) {
		small = malloc(cap > 0 ? cap : 1);
		assert_non_null(small);
		assert_int_equal(stun_binding_response(small, cap, rfc_txid,
						       (struct sockaddr *)&ss,
						       "x", rt_key,
						       sizeof(rt_key), 1), 0);
		free(small);
	}
	memset(sw, 'a', sizeof(sw));
	sw[509] = '\0';		/* 509 bytes, the most one may send */
	assert_int_equal(stun_binding_request(full, sizeof(full), rfc_txid, sw,
					      NULL, 0, 0), STUN_HDR + 4 + 512);
	sw[509] = 'a';
	sw[510] = '\0';
	assert_int_equal(stun_binding_request(full, sizeof(full), rfc_txid, sw,
					      NULL, 0, 0), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(stun_binding_response(full, sizeof(full), rfc_txid,
					       (struct sockaddr *)&sun, NULL,
					       NULL, 0, 0), 0);
}

/* ---- damage ------------------------------------------------------------ */

static void test_fingerprint_damage(void **state)
{
	const size_t fp_at = sizeof(rfc_request) - 8;
	uint8_t buf[sizeof(rfc_request)];
	struct stun_msg m;
	size_t i;

	(void)state;
	/* a flipped bit before the CRC, or in it, fails the CRC (or worse);
	 * one in its header leaves no FINGERPRINT, but an attribute after
	 * MESSAGE-INTEGRITY that is ignored (or a malformed one) */
	for (i = 0; i < sizeof(buf); i++) {
		memcpy(buf, rfc_request, sizeof(buf));
		buf[i] ^= 0x01;
		if (i >= fp_at && i < fp_at + 4 &&
		    stun_decode(buf, sizeof(buf), &m) == 0)
			assert_false(m.has_fingerprint);
		else
			assert_int_equal(decode_exact(buf, sizeof(buf)), -1);
	}
}

/* With no FINGERPRINT to catch it, a flipped bit anywhere the HMAC covers
 * either breaks the message or fails MESSAGE-INTEGRITY. */
static void test_integrity_damage(void **state)
{
	struct sockaddr_storage ss = sa_make("203.0.113.9", 4242);
	uint8_t good[STUN_MSG_MAX], buf[STUN_MSG_MAX];
	size_t i, n, decoded = 0;
	struct stun_msg m;

	(void)state;
	n = stun_binding_response(good, sizeof(good), rfc_txid,
				  (struct sockaddr *)&ss, "sw", rt_key,
				  sizeof(rt_key), 0);
	assert_int_not_equal(n, 0);
	for (i = 0; i < n; i++) {
		memcpy(buf, good, n);
		buf[i] ^= 0x01;
		if (stun_decode(buf, n, &m) < 0)
			continue;
		decoded++;
		assert_int_equal(stun_check_integrity(buf, n, &m, rt_key,
						      sizeof(rt_key)), 0);
	}
	/* at least the transaction ID and the tag itself still decode */
	assert_true(decoded >= STUN_TXID + 20);
}

static void test_truncations(void **state)
{
	uint8_t buf[sizeof(rfc_request)];
	size_t i, cut, j;
	int boundary;

	(void)state;
	for (i = 0; i < sizeof(rfc_all) / sizeof(rfc_all[0]); i++)
		for (cut = 0; cut < rfc_all[i].n; cut++)
			assert_int_equal(decode_exact(rfc_all[i].b, cut), -1);
	/* cut, with the header's length told: whole only at a boundary */
	for (cut = STUN_HDR; cut <= sizeof(buf); cut += 4) {
		memcpy(buf, rfc_request, cut);
		put16(buf + 2, (uint16_t)(cut - STUN_HDR));
		boundary = 0;
		for (j = 0; j < sizeof(rfc_request_attrs) / sizeof(size_t); j++)
			boundary |= cut == rfc_request_attrs[j];
		assert_int_equal(decode_exact(buf, cut), boundary ? 0 : -1);
	}
}

static void test_bad_header(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = header(buf, STUN_BINDING_REQUEST);
	assert_int_equal(decode_exact(buf, n), 0);
	buf[0] |= 0x40;				/* first bits not zero */
	assert_int_equal(decode_exact(buf, n), -1);
	n = header(buf, STUN_BINDING_REQUEST);
	buf[4] ^= 0x01;				/* magic cookie */
	assert_int_equal(decode_exact(buf, n), -1);
	n = header(buf, 0x0011);		/* a Binding indication */
	assert_int_equal(decode_exact(buf, n), -1);
	n = header(buf, 0x0002);		/* another method */
	assert_int_equal(decode_exact(buf, n), -1);
	n = header(buf, STUN_BINDING_REQUEST);
	memset(buf + n, 0, 8);
	put16(buf + 2, 6);			/* not a multiple of 4 */
	assert_int_equal(decode_exact(buf, n + 6), -1);
	put16(buf + 2, 4);			/* less than is there */
	assert_int_equal(decode_exact(buf, n + 8), -1);
	put16(buf + 2, 8);			/* more than is there */
	assert_int_equal(decode_exact(buf, n + 4), -1);
}

/* A message with one attribute of the given type and value length (the
 * value: v, or zeros) must decode as `want` says. */
static void check_attr(uint16_t msgtype, uint16_t type, const void *v,
		       size_t n, int want)
{
	static const uint8_t zeros[STUN_MSG_MAX];
	uint8_t buf[STUN_MSG_MAX + 4];
	size_t len;

	len = append(buf, header(buf, msgtype), type, v ? v : zeros, n);
	assert_int_equal(decode_exact(buf, len), want);
}

static void test_attr_lengths(void **state)
{
	(void)state;
	check_attr(STUN_BINDING_REQUEST, 0x0024, NULL, 4, 0); /* PRIORITY */
	check_attr(STUN_BINDING_REQUEST, 0x0024, NULL, 3, -1);
	check_attr(STUN_BINDING_REQUEST, 0x0024, NULL, 5, -1);
	check_attr(STUN_BINDING_REQUEST, 0x0025, NULL, 0, 0); /* USE-CAND. */
	check_attr(STUN_BINDING_REQUEST, 0x0025, NULL, 1, -1);
	check_attr(STUN_BINDING_REQUEST, 0x8029, NULL, 8, 0); /* CONTROLLED */
	check_attr(STUN_BINDING_REQUEST, 0x802a, NULL, 4, -1);
	check_attr(STUN_BINDING_REQUEST, 0x0008, NULL, 20, 0); /* MI */
	check_attr(STUN_BINDING_REQUEST, 0x0008, NULL, 16, -1);
	check_attr(STUN_BINDING_REQUEST, 0x8028, NULL, 8, -1); /* FP */
	/* USERNAME: more than the 508 bytes one may send is accepted */
	check_attr(STUN_BINDING_REQUEST, 0x0006, NULL, 524, 0);
	check_attr(STUN_BINDING_REQUEST, 0x8022, NULL, 0, 0); /* SOFTWARE */
	/* bigger than STUN_MSG_MAX, even though only optional */
	check_attr(STUN_BINDING_REQUEST, 0xc0de, NULL, 524, 0);
	check_attr(STUN_BINDING_REQUEST, 0xc0de, NULL, 525, -1);
}

static void test_attr_overrun(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = append(buf, header(buf, STUN_BINDING_REQUEST), 0x0006, "evtj:h6v",
		   8);
	assert_int_equal(decode_exact(buf, n), 0);
	put16(buf + STUN_HDR + 2, 9);	/* padded, it passes the end */
	assert_int_equal(decode_exact(buf, n), -1);
	put16(buf + STUN_HDR + 2, 0xffff);
	assert_int_equal(decode_exact(buf, n), -1);
}

static void test_addresses(void **state)
{
	static const uint8_t v4[8] = { 0, 1, 0x12, 0x34, 10, 0, 0, 1 };
	uint8_t v[20] = { 0, 1 }, buf[128];
	struct stun_msg m;
	size_t n;

	(void)state;
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 8, 0);
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 20, -1); /* v4, 20 */
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 12, -1);
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 4, -1);
	v[1] = 2;
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 20, 0);
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 8, -1);  /* v6, 8 */
	check_attr(STUN_BINDING_SUCCESS, 0x0001, v, 16, -1);
	v[1] = 3;
	check_attr(STUN_BINDING_SUCCESS, 0x0020, v, 8, -1);
	check_attr(STUN_BINDING_SUCCESS, 0x0001, v, 8, -1);
	/* RFC 3489 servers: MAPPED-ADDRESS, not XORed */
	n = append(buf, header(buf, STUN_BINDING_SUCCESS), 0x0001, v4, 8);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_mapped(&m, "10.0.0.1", 0x1234);
	/* a later XOR-MAPPED-ADDRESS wins; a second of either does not */
	n = append(buf, n, 0x0020, rfc_resp4 + 40, 8);
	n = append(buf, n, 0x0020, v4, 8);
	n = append(buf, n, 0x0001, v4, 8);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_mapped(&m, "192.0.2.1", 32853);
}

static void test_error_code(void **state)
{
	static const uint8_t e401[] = { 0, 0, 4, 1, 'U', 'n', 'a', 'u', 't',
					'h', 'o', 'r', 'i', 'z', 'e', 'd' };
	uint8_t v[4] = { 0, 0, 4, 1 }, buf[64];
	struct stun_msg m;
	size_t n;

	(void)state;
	n = append(buf, header(buf, STUN_BINDING_ERROR), 0x0009, e401,
		   sizeof(e401));
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_ERROR);
	assert_int_equal(m.error_code, 401);
	check_attr(STUN_BINDING_ERROR, 0x0009, v, 3, -1);
	v[2] = 2;
	check_attr(STUN_BINDING_ERROR, 0x0009, v, 4, -1);
	v[2] = 7;
	check_attr(STUN_BINDING_ERROR, 0x0009, v, 4, -1);
	v[2] = 6;
	v[3] = 99;
	check_attr(STUN_BINDING_ERROR, 0x0009, v, 4, 0);
	v[3] = 100;
	check_attr(STUN_BINDING_ERROR, 0x0009, v, 4, -1);
	/* an error response says which error */
	check_attr(STUN_BINDING_ERROR, 0x8022, "sw", 2, -1);
}

static void test_unknown_attrs(void **state)
{
	uint8_t buf[STUN_MSG_MAX];
	struct stun_msg m;
	size_t base, n;

	(void)state;
	base = stun_binding_request(buf, sizeof(buf), rfc_txid, "sw", NULL, 0,
				    0);
	/* comprehension-optional: skipped */
	n = append(buf, base, 0xc0de, "hello", 5);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_view(m.software, m.software_len, "sw");
	/* comprehension-required: the message is malformed */
	n = append(buf, base, 0x7fff, "hello", 5);
	assert_int_equal(decode_exact(buf, n), -1);
	n = append(buf, base, 0x0000, "", 0);
	assert_int_equal(decode_exact(buf, n), -1);
}

/* After MESSAGE-INTEGRITY only FINGERPRINT counts (§14.5); what else
 * follows, known or not, is ignored and the integrity still holds. */
static void test_after_integrity(void **state)
{
	uint8_t buf[sizeof(rfc_resp4) + 16];
	size_t n = sizeof(rfc_resp4) - 8;
	struct stun_msg m;

	(void)state;
	memcpy(buf, rfc_resp4, n);
	n = append(buf, n, 0x7fff, "junk", 4);
	n = append(buf, n, 0x0006, "user", 4);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_null(m.username);
	assert_int_equal(m.integrity_at, sizeof(rfc_resp4) - 32);
	assert_int_equal(stun_check_integrity(buf, n, &m, pw(short_term_pw),
					      strlen(short_term_pw)), 1);
}

/* CRC-32 by a table, where stun.c loops over bits. */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t c;
	unsigned i, k;

	for (i = 0; table[255] == 0 && i < 256; i++) {
		for (c = i, k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ c >> 1 : c >> 1;
		table[i] = c;
	}
	for (c = 0xffffffffu; n > 0; n--)
		c = table[(c ^ *p++) & 0xff] ^ c >> 8;
	return c ^ 0xffffffffu;
}

/* A FINGERPRINT whose CRC is right for the final length. */
static size_t append_fingerprint(uint8_t *buf, size_t len, size_t total)
{
	uint8_t crc[4];

	put16(buf + 2, (uint16_t)(total - STUN_HDR));
	put32(crc, ref_crc32(buf, len) ^ 0x5354554eu);
	return append(buf, len, 0x8028, crc, 4);
}

static void test_fingerprint_last(void **state)
{
	uint8_t buf[STUN_MSG_MAX];
	struct stun_msg m;
	size_t n;

	(void)state;
	assert_int_equal(ref_crc32((const uint8_t *)"123456789", 9),
			 0xcbf43926u);	/* the standard check value */
	n = append(buf, header(buf, STUN_BINDING_REQUEST), 0x8022, "sw", 2);
	n = append_fingerprint(buf, n, n + 8);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_true(m.has_fingerprint);
	/* right, but not last */
	n = append_fingerprint(buf, header(buf, STUN_BINDING_REQUEST),
			       STUN_HDR + 8 + 8);
	n = append(buf, n, 0x8022, "sw", 2);
	assert_int_equal(decode_exact(buf, n), -1);
}

/* Of an attribute that comes twice, the first counts. */
static void test_first_counts(void **state)
{
	static const uint8_t e401[4] = { 0, 0, 4, 1 }, e500[4] = { 0, 0, 5, 0 };
	uint8_t buf[128];
	struct stun_msg m;
	size_t n;

	(void)state;
	n = append(buf, header(buf, STUN_BINDING_ERROR), 0x0009, e401, 4);
	n = append(buf, n, 0x0009, e500, 4);
	n = append(buf, n, 0x0006, "first", 5);
	n = append(buf, n, 0x0006, "second", 6);
	n = append(buf, n, 0x8022, "one", 3);
	n = append(buf, n, 0x8022, "two", 3);
	assert_int_equal(stun_decode(buf, n, &m), 0);
	assert_int_equal(m.error_code, 401);
	assert_view(m.username, m.username_len, "first");
	assert_view(m.software, m.software_len, "one");
}

/* ---- demultiplexing ---------------------------------------------------- */

static void test_is_stun(void **state)
{
	/* a DTLS 1.2 ClientHello's record header, padded to 32 bytes */
	static const uint8_t dtls[32] = { 0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00,
					  0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
					  0x13 };
	uint8_t cvsp[STUN_HDR + 8] = { 0x63, 0x76, 0x73, 0x70 };
	uint8_t buf[sizeof(rfc_request)];
	size_t i;

	(void)state;
	assert_false(stun_is_stun(dtls, sizeof(dtls)));
	assert_int_equal(decode_exact(dtls, sizeof(dtls)), -1);
	assert_false(stun_is_stun(cvsp, sizeof(cvsp)));
	/* even with a STUN length and cookie, "cvsp" starts with 01 */
	put16(cvsp + 2, 8);
	put32(cvsp + 4, STUN_MAGIC);
	assert_false(stun_is_stun(cvsp, sizeof(cvsp)));
	cvsp[0] = 0x00;
	assert_true(stun_is_stun(cvsp, sizeof(cvsp)));
	for (i = 0; i < sizeof(rfc_all) / sizeof(rfc_all[0]); i++)
		assert_true(stun_is_stun(rfc_all[i].b, rfc_all[i].n));
	memcpy(buf, rfc_request, sizeof(buf));
	assert_false(stun_is_stun(buf, sizeof(buf) - 4));
	assert_false(stun_is_stun(buf, 19));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_request),
		cmocka_unit_test(test_rfc_responses),
		cmocka_unit_test(test_rfc_long_term),
		cmocka_unit_test(test_encode_matches_rfc),
		cmocka_unit_test(test_integrity_ignores_fingerprint),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_fingerprint_damage),
		cmocka_unit_test(test_integrity_damage),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_attr_lengths),
		cmocka_unit_test(test_attr_overrun),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_error_code),
		cmocka_unit_test(test_unknown_attrs),
		cmocka_unit_test(test_after_integrity),
		cmocka_unit_test(test_fingerprint_last),
		cmocka_unit_test(test_first_counts),
		cmocka_unit_test(test_is_stun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
