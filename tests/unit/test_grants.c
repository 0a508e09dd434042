/*
 * Certificate grants: the extension codec byte by byte (lib/grants.h),
 * every way a value can be malformed, the allow/deny matrix, command-line
 * grants and the status-file word.
 *
 *   grants used by the matrix:
 *     8                  instance 8, whole
 *     7:10.20.0.3/32     one IPv4 host of instance 7
 *     7:fd00::/64        one IPv6 network of instance 7
 *     9:10.0.0.0/8       an IPv4 network of instance 9
 *     5:0.0.0.0/0        all of IPv4 (but not IPv6) of instance 5
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grants.h"

static struct grant arg(const char *kind, const char *a)
{
	struct grant g;
	char err[256];

	if (grants_parse_arg(kind, a, &g, err, sizeof(err)) != 0)
		fail_msg("%s %s: %s", kind, a, err);
	return g;
}

static void add(struct grants *g, const char *kind, const char *a)
{
	assert_true(g->n < GRANTS_MAX);
	g->g[g->n++] = arg(kind, a);
}

static void assert_grants_equal(const struct grants *x,
				const struct grants *y)
{
	size_t i;

	assert_int_equal(x->n, y->n);
	for (i = 0; i < x->n; i++) {
		assert_int_equal(x->g[i].kind, y->g[i].kind);
		assert_true(addr_equal(&x->g[i].a, &y->g[i].a));
	}
}

/* encode, decode from an exact-size copy, compare, encode again */
static size_t round_trip(const struct grants *g, uint8_t *der, size_t cap)
{
	static struct grants back;
	uint8_t again[GRANTS_DER_MAX];
	uint8_t *copy;
	size_t n = grants_encode(g, der, cap);

	assert_true(n > 0);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, der, n);
	assert_int_equal(grants_decode(copy, n, &back), 0);
	free(copy);
	assert_grants_equal(g, &back);
	assert_int_equal(grants_encode(&back, again, sizeof(again)), n);
	assert_memory_equal(again, der, n);
	/* one byte less room is too little */
	assert_int_equal(grants_encode(g, again, n - 1), 0);
	return n;
}

/* Decoding der[0..n) from an exact-size copy fails and leaves g alone. */
static void bad(const uint8_t *der, size_t n, const char *what)
{
	static struct grants g;
	uint8_t *copy = malloc(n ? n : 1);

	assert_non_null(copy);
	memcpy(copy, der, n);
	g.n = 99;
	if (grants_decode(copy, n, &g) != -1)
		fail_msg("%s: decoded", what);
	assert_int_equal(g.n, 99);
	free(copy);
}

/* content[0..clen) wrapped in the shortest OCTET STRING header. */
static size_t wrap(const uint8_t *content, size_t clen, uint8_t *out)
{
	size_t hl = clen < 0x80 ? 2 : clen < 0x100 ? 3 : 4;

	out[0] = 0x04;
	if (hl == 2) {
		out[1] = (uint8_t)clen;
	} else if (hl == 3) {
		out[1] = 0x81;
		out[2] = (uint8_t)clen;
	} else {
		out[1] = 0x82;
		out[2] = (uint8_t)(clen >> 8);
		out[3] = (uint8_t)clen;
	}
	memcpy(out + hl, content, clen);
	return hl + clen;
}

static void test_golden(void **state)
{
	static struct grants g;
	uint8_t der[GRANTS_DER_MAX];
	static const uint8_t none[] = { 0x04, 0x01, 0x01 };
	static const uint8_t want[] = {
		0x04, 0x28,			/* OCTET STRING, 40 bytes */
		0x01,				/* version 1 */
		0x01, 0x00, 0x00, 0x00, 0x08,	/* instance 8 */
		0x02, 0x00, 0x00, 0x00, 0x07,	/* prefix, instance 7 */
		0x04, 0x20, 0x0a, 0x14, 0x00, 0x03, /* 10.20.0.3/32 */
		0x02, 0x00, 0x00, 0x00, 0x07,	/* prefix, instance 7 */
		0x10, 0x40, 0xfd, 0x00, 0, 0, 0, 0, 0, 0, /* fd00::/64 */
		0, 0, 0, 0, 0, 0, 0, 0,
	};

	(void)state;
	assert_int_equal(round_trip(&g, der, sizeof(der)), sizeof(none));
	assert_memory_equal(der, none, sizeof(none));
	add(&g, "--instance", "8");
	add(&g, "--prefix", "7:10.20.0.3/32");
	add(&g, "--prefix", "7:fd00::/64");
	assert_int_equal(round_trip(&g, der, sizeof(der)), sizeof(want));
	assert_memory_equal(der, want, sizeof(want));
}

/* The three DER length forms, up to a full set. */
static void test_lengths(void **state)
{
	static struct grants g;
	uint8_t der[GRANTS_DER_MAX];
	char a[64];
	size_t n;

	(void)state;
	while (g.n < 11) {	/* 1 + 11 * 11 = 122 */
		snprintf(a, sizeof(a), "%zu:10.0.%zu.0/24", g.n, g.n);
		add(&g, "prefix", a);
	}
	n = round_trip(&g, der, sizeof(der));
	assert_int_equal(n, 2 + 122);
	assert_int_equal(der[1], 122);
	add(&g, "prefix", "4294967295:10.1.0.0/16");	/* 133 */
	n = round_trip(&g, der, sizeof(der));
	assert_int_equal(n, 3 + 133);
	assert_memory_equal(der, "\x04\x81\x85", 3);
	while (g.n < GRANTS_MAX) {
		snprintf(a, sizeof(a), "%zu:fd00:%zx::/128", g.n, g.n);
		add(&g, "prefix", a);
	}
	n = round_trip(&g, der, sizeof(der));
	assert_int_equal(n, 4 + 1 + 12 * 11 + 52 * 23);
	assert_int_equal(der[1], 0x82);
	assert_int_equal(der[2] << 8 | der[3], n - 4);
	g.n = GRANTS_MAX + 1;
	assert_int_equal(grants_encode(&g, der, sizeof(der)), 0);
}

static void test_malformed(void **state)
{
	/* version, instance 8, prefix 7:10.20.0.0/24 */
	static const uint8_t good[] = {
		0x01, 0x01, 0, 0, 0, 8,
		0x02, 0, 0, 0, 7, 0x04, 24, 10, 20, 0, 0,
	};
	static const struct {
		size_t at;
		uint8_t v;
		int grow;
		const char *what;
	} one[] = {
		{ 0, 2, 0, "version 2" },
		{ 0, 0, 0, "version 0" },
		{ 1, 0, 0, "kind 0" },
		{ 1, 3, 0, "kind 3" },
		{ 6, 1, 0, "kind 1 with a prefix's bytes after it" },
		{ 6, 3, 0, "second kind 3" },
		{ 11, 5, 1, "len 5" },
		{ 11, 0, -4, "len 0" },
		{ 11, 16, 0, "len 16 with 4 bytes" },
		{ 12, 33, 0, "plen 33" },
		{ 16, 1, 0, "host bits: 10.20.0.1/24" },
		{ 12, 13, 0, "host bits: 10.20.0.0/13 (0x14 is 00010100)" },
		{ 17, 0, 1, "trailing byte in the string" },
		{ 17, 1, 1, "trailing kind 1 cut short" },
	};
	static struct grants g;
	uint8_t c[2048], der[2048];
	size_t n, i, cl;

	(void)state;
	/* the good one decodes: what follows changes one thing each */
	n = wrap(good, sizeof(good), der);
	assert_int_equal(grants_decode(der, n, &g), 0);
	assert_int_equal(g.n, 2);
	/* truncated: short by any number of bytes, header as is */
	for (i = 0; i < n; i++)
		bad(der, i, "truncated");
	/* truncated inside an entry, the DER length fixed to match */
	for (cl = 0; cl < sizeof(good); cl++) {
		if (cl == 1 || cl == 6)
			continue;	/* entry boundaries: valid */
		bad(c, wrap(good, cl, c), "entry cut short");
	}
	/* good with one byte changed, and the content that much longer */
	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		memcpy(c, good, sizeof(good));
		c[sizeof(good)] = 0;
		c[one[i].at] = one[i].v;
		bad(der, wrap(c, (size_t)((int)sizeof(good) + one[i].grow), der),
		    one[i].what);
	}
	/* but 10.20.0.0/14 is a prefix (0x14 is 00010100) */
	memcpy(c, good, sizeof(good));
	c[12] = 14;
	assert_int_equal(grants_decode(der, wrap(c, sizeof(good), der), &g), 0);
	/* too many entries: GRANTS_MAX is fine, one more is not */
	c[0] = 1;
	for (i = 0; i <= GRANTS_MAX; i++)
		memcpy(c + 1 + 5 * i, "\x01\0\0\0\x08", 5);
	n = wrap(c, 1 + 5 * GRANTS_MAX, der);
	assert_int_equal(grants_decode(der, n, &g), 0);
	assert_int_equal(g.n, GRANTS_MAX);
	bad(der, wrap(c, 1 + 5 * (GRANTS_MAX + 1), der), "65 entries");
	/* a trailing byte after the string */
	n = wrap(good, sizeof(good), der);
	der[n] = 0;
	bad(der, n + 1, "trailing byte after");
	/* DER tag and length */
	n = wrap(good, sizeof(good), der);
	der[0] = 0x30;
	bad(der, n, "tag 0x30");
	der[0] = 0x24;
	bad(der, n, "constructed OCTET STRING");
	der[0] = 0x04;
	der[1]++;
	bad(der, n, "length one more");
	der[1] -= 2;
	bad(der, n, "length one less");
	memcpy(c, "\x04\x81", 2);	/* long form for a short length */
	c[2] = (uint8_t)sizeof(good);
	memcpy(c + 3, good, sizeof(good));
	bad(c, 3 + sizeof(good), "0x81 below 128");
	memcpy(c, "\x04\x82\x00", 3);
	c[3] = (uint8_t)sizeof(good);
	memcpy(c + 4, good, sizeof(good));
	bad(c, 4 + sizeof(good), "0x82 below 256");
	memcpy(c, "\x04\x80", 2);	/* indefinite */
	memcpy(c + 2, good, sizeof(good));
	memcpy(c + 2 + sizeof(good), "\0\0", 2);
	bad(c, 4 + sizeof(good), "indefinite length");
	memcpy(c, "\x04\x83\x00\x00", 4);
	c[4] = (uint8_t)sizeof(good);
	memcpy(c + 5, good, sizeof(good));
	bad(c, 5 + sizeof(good), "0x83");
	bad((const uint8_t *)"\x04\x00", 2, "no version");
	bad((const uint8_t *)"\x04", 1, "no length");
}

/* What grants_encode will not write. */
static void test_encode_invalid(void **state)
{
	static struct grants g;
	uint8_t der[GRANTS_DER_MAX];

	(void)state;
	g.n = 1;
	g.g[0] = arg("prefix", "7:10.20.0.0/24");
	g.g[0].a.len = 5;
	assert_int_equal(grants_encode(&g, der, sizeof(der)), 0);
	g.g[0] = arg("prefix", "7:10.20.0.0/24");
	g.g[0].a.plen = 33;
	assert_int_equal(grants_encode(&g, der, sizeof(der)), 0);
	g.g[0] = arg("prefix", "7:10.20.0.0/24");
	g.g[0].a.b[3] = 1;
	assert_int_equal(grants_encode(&g, der, sizeof(der)), 0);
	g.g[0] = arg("prefix", "7:10.20.0.0/24");
	g.g[0].kind = 3;
	assert_int_equal(grants_encode(&g, der, sizeof(der)), 0);
	g.g[0].kind = GRANT_PREFIX;
	assert_int_equal(grants_encode(&g, der, sizeof(der)), 2 + 1 + 11);
}

/* "7:10.20.0.3/32" as the struct addr a gate announces. */
static struct addr pfx(const char *s)
{
	return arg("prefix", s).a;
}

static void test_allow(void **state)
{
	static const struct {
		const char *addr;
		int allow;
	} m[] = {
		{ "8:10.1.2.3/32", 1 },		/* instance 8, whole */
		{ "8:fd99::/16", 1 },
		{ "8:0.0.0.0/0", 1 },
		{ "7:10.20.0.3/32", 1 },	/* exactly the /32 */
		{ "7:10.20.0.2/32", 0 },
		{ "7:10.20.0.0/24", 0 },	/* wider than the grant */
		{ "7:0.0.0.0/0", 0 },
		{ "7:fd00::/64", 1 },		/* the /64 and inside it */
		{ "7:fd00::1/128", 1 },
		{ "7:fd00::ff00:0/120", 1 },
		{ "7:fd00:0:0:1::/64", 0 },	/* next /64 */
		{ "7:fd00::/48", 0 },		/* wider */
		{ "7:fe00::1/128", 0 },
		{ "7:::a14:3/128", 0 },		/* 10.20.0.3's bytes, IPv6 */
		{ "6:10.20.0.3/32", 0 },	/* other instances */
		{ "6:fd00::1/128", 0 },
		{ "9:10.255.0.0/16", 1 },
		{ "9:10.0.0.0/8", 1 },
		{ "9:10.0.0.0/7", 0 },
		{ "9:11.0.0.0/8", 0 },
		{ "9:a00::/8", 0 },		/* first byte 10, IPv6 */
		{ "5:192.0.2.1/32", 1 },	/* /0: all of IPv4 */
		{ "5:0.0.0.0/0", 1 },
		{ "5:::/0", 0 },		/* ... and not IPv6 */
		{ "5:2001:db8::1/128", 0 },
	};
	static struct grants g, none;
	struct addr a;
	size_t i;

	(void)state;
	add(&g, "instance", "8");
	add(&g, "prefix", "7:10.20.0.3/32");
	add(&g, "prefix", "7:fd00::/64");
	add(&g, "prefix", "9:10.0.0.0/8");
	add(&g, "prefix", "5:0.0.0.0/0");
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		a = pfx(m[i].addr);
		if (grants_allow(&g, &a) != m[i].allow)
			fail_msg("%s: want %s", m[i].addr,
				 m[i].allow ? "allowed" : "denied");
		assert_int_equal(grants_allow(&none, &a), 0);
	}
	/* an address of instance 8 that is no IP address at all */
	memset(&a, 0, sizeof(a));
	a.inst = 8;
	assert_int_equal(grants_allow(&g, &a), 1);
	a.inst = 7;
	assert_int_equal(grants_allow(&g, &a), 0);
	/* a plen past the address is not inside anything but a whole grant */
	a = pfx("7:10.20.0.3/32");
	a.plen = 40;
	assert_int_equal(grants_allow(&g, &a), 0);
	a.inst = 8;
	assert_int_equal(grants_allow(&g, &a), 1);

	assert_int_equal(grants_allow_inst(&g, 5), 1);
	assert_int_equal(grants_allow_inst(&g, 7), 1);
	assert_int_equal(grants_allow_inst(&g, 8), 1);
	assert_int_equal(grants_allow_inst(&g, 9), 1);
	assert_int_equal(grants_allow_inst(&g, 6), 0);
	assert_int_equal(grants_allow_inst(&g, 0), 0);
	assert_int_equal(grants_allow_inst(&none, 8), 0);
}

static void test_parse_arg(void **state)
{
	static const struct {
		const char *kind, *arg, *says;
	} no[] = {
		{ "instance", "", "instance number" },
		{ "instance", "-1", "instance number" },
		{ "instance", "+1", "instance number" },
		{ "instance", " 1", "instance number" },
		{ "instance", "1 ", "instance number" },
		{ "instance", "0x10", "instance number" },
		{ "instance", "4294967296", "instance number" },
		{ "instance", "99999999999999999999", "instance number" },
		{ "prefix", "", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "7", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "7:10.20.0.3", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "10.20.0.3/32", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", ":10.20.0.3/32", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "x:10.20.0.3/32", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "4294967296:10.0.0.0/8", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "7/32:10.20.0.3", "INSTANCE:ADDRESS/LENGTH" },
		{ "prefix", "7:10.20.0.300/32", "\"10.20.0.300\" is not" },
		{ "prefix", "7:/32", "\"\" is not" },
		{ "prefix", "7:hsot/32", "\"hsot\" is not" },
		{ "prefix", "7:10.20.0.3/33", "\"33\" is not 0 to 32" },
		{ "prefix", "7:10.20.0.3/", "\"\" is not 0 to 32" },
		{ "prefix", "7:10.20.0.3/-1", "\"-1\" is not" },
		{ "prefix", "7:10.20.0.3/3 2", "\"3 2\" is not" },
		{ "prefix", "7:fd00::/129", "\"129\" is not 0 to 128" },
		{ "prefix", "7:10.20.0.3/24", "would be 7:10.20.0.0/24" },
		{ "prefix", "7:fd00::1/64", "would be 7:fd00::/64" },
		{ "prefix", "7:0.0.0.1/0", "would be 7:0.0.0.0/0" },
		{ "net", "7", "expected --instance or --prefix" },
	};
	struct grant g, keep;
	char err[256];
	size_t i;

	(void)state;
	g = arg("--instance", "4294967295");
	assert_int_equal(g.kind, GRANT_INST);
	assert_int_equal(g.a.inst, 4294967295u);
	assert_int_equal(g.a.len, 0);
	g = arg("instance", "007");
	assert_int_equal(g.a.inst, 7);
	g = arg("--prefix", "7:10.20.0.3/32");
	assert_int_equal(g.kind, GRANT_PREFIX);
	assert_int_equal(g.a.inst, 7);
	assert_int_equal(g.a.len, 4);
	assert_int_equal(g.a.plen, 32);
	assert_memory_equal(g.a.b, "\x0a\x14\x00\x03", 4);
	g = arg("prefix", "7:fd00::/64");
	assert_int_equal(g.a.len, 16);
	assert_int_equal(g.a.plen, 64);
	assert_memory_equal(g.a.b, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	g = arg("prefix", "0:::/0");
	assert_int_equal(g.a.len, 16);
	assert_int_equal(g.a.plen, 0);

	memset(&keep, 0x5a, sizeof(keep));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		g = keep;
		err[0] = '\0';
		if (grants_parse_arg(no[i].kind, no[i].arg, &g, err,
				     sizeof(err)) != -1)
			fail_msg("%s %s: parsed", no[i].kind, no[i].arg);
		/* the message names the value and says what is wrong */
		if (strstr(err, no[i].arg) == NULL ||
		    strstr(err, no[i].says) == NULL)
			fail_msg("%s %s: \"%s\"", no[i].kind, no[i].arg, err);
		assert_memory_equal(&g, &keep, sizeof(g));
	}
}

static void test_format(void **state)
{
	static struct grants g;
	char buf[GRANTS_STRLEN], a[64];
	size_t n;

	(void)state;
	assert_int_equal(grants_format(&g, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "-");
	assert_int_equal(grants_format(&g, buf, 1), 0);
	add(&g, "instance", "8");
	add(&g, "prefix", "7:10.20.0.3/32");
	add(&g, "prefix", "7:fd00::/64");
	n = grants_format(&g, buf, sizeof(buf));
	assert_string_equal(buf, "8,7:10.20.0.3/32,7:fd00::/64");
	assert_int_equal(n, strlen(buf));
	/* one byte short: nothing, not a cut word */
	assert_int_equal(grants_format(&g, buf, n), 0);
	assert_string_equal(buf, "");
	/* the longest set fits GRANTS_STRLEN */
	g.n = 0;
	while (g.n < GRANTS_MAX) {
		snprintf(a, sizeof(a),
			 "4294967295:ffff:ffff:ffff:ffff:ffff:ffff:ffff:%zx/128",
			 0xff00 + g.n);
		add(&g, "prefix", a);
	}
	n = grants_format(&g, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, GRANTS_MAX * strlen(a) + GRANTS_MAX - 1);
	assert_null(strchr(buf, ' '));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_parse_arg),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
