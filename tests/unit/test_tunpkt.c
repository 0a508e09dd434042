/*
 * tun/tunpkt.c: what the tun gate reads in an IP packet, the port filter
 * and the pseudo-Ethernet framing.
 *
 *   TUN --IP--> tun --[zero MACs | 0x0800/0x86dd | IP]--> mesh
 *   TUN <--IP-- tun <--strip, check, filter ports-------- mesh
 *
 * Every packet is built here byte by byte; truncations are parsed from
 * exact-size copies so a sanitizer would see an over-read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tunpkt.h"

#define BUF 256

static const uint8_t FD20_1[16] = { 0xfd, 0x20, [15] = 1 };
static const uint8_t FD20_3[16] = { 0xfd, 0x20, [15] = 3 };

static void be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 10.20.0.1 -> 10.20.0.3, hl bytes of header, then l4len bytes of
 * protocol proto whose first four bytes are sport, dport. */
static size_t ip4(uint8_t *b, size_t hl, uint8_t proto, size_t l4len,
		  unsigned sport, unsigned dport)
{
	memset(b, 0, BUF);
	b[0] = (uint8_t)(0x40 | hl / 4);
	be16(b + 2, (unsigned)(hl + l4len));
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, "\x0a\x14\x00\x01\x0a\x14\x00\x03", 8);
	be16(b + hl, sport);
	be16(b + hl + 2, dport);
	if (proto == TUNPKT_TCP)
		b[hl + 12] = 0x50;
	return hl + l4len;
}

/* IPv6 fd20::1 -> fd20::3 with the extension headers exts (each: its
 * type, total length in 8-byte units), then an L4 header as ip4. */
static size_t ip6(uint8_t *b, const uint8_t (*exts)[2], size_t n,
		  uint8_t proto, size_t l4len, unsigned sport, unsigned dport)
{
	size_t off = 40, i;
	uint8_t *nh = b + 6;

	memset(b, 0, BUF);
	b[0] = 0x60;
	b[7] = 64;
	memcpy(b + 8, FD20_1, 16);
	memcpy(b + 24, FD20_3, 16);
	for (i = 0; i < n; i++) {
		*nh = exts[i][0];
		nh = b + off;
		b[off + 1] = (uint8_t)(exts[i][1] - 1);
		if (exts[i][0] == 44)
			b[off + 1] = 0;
		off += (size_t)exts[i][1] * 8;
	}
	*nh = proto;
	be16(b + off, sport);
	be16(b + off + 2, dport);
	be16(b + 4, (unsigned)(off - 40 + l4len));
	return off + l4len;
}

/* Parse an exact-size copy of b[0..len); p's pointers die with it. */
static int parse(const uint8_t *b, size_t len, struct tunpkt *p)
{
	uint8_t *c = malloc(len ? len : 1);
	int r;

	assert_non_null(c);
	memcpy(c, b, len);
	r = tunpkt_parse(c, len, p);
	free(c);
	return r;
}

static void test_ipv4(void **state)
{
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n = ip4(b, 20, TUNPKT_UDP, 8 + 10, 5353, 53);

	(void)state;
	assert_int_equal(tunpkt_parse(b, n, &p), 0);
	assert_int_equal(p.version, 4);
	assert_int_equal(p.len, n);
	assert_int_equal(p.alen, 4);
	assert_memory_equal(p.src, "\x0a\x14\x00\x01", 4);
	assert_memory_equal(p.dst, "\x0a\x14\x00\x03", 4);
	assert_int_equal(p.proto, TUNPKT_UDP);
	assert_true(p.ports);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	/* padding after the packet (an Ethernet minimum) is not part of it */
	assert_int_equal(tunpkt_parse(b, n + 20, &p), 0);
	assert_int_equal(p.len, n);
	/* options: a 60-byte header */
	n = ip4(b, 60, TUNPKT_TCP, 20, 40000, 22);
	assert_int_equal(parse(b, n, &p), 0);
	assert_int_equal(p.proto, TUNPKT_TCP);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 22);
	/* ICMP: no ports */
	n = ip4(b, 20, TUNPKT_ICMP, 8, 0x0800, 0);
	assert_int_equal(parse(b, n, &p), 0);
	assert_false(p.ports);
}

static void test_ipv4_malformed(void **state)
{
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n = ip4(b, 20, TUNPKT_TCP, 20, 1, 2), i;

	(void)state;
	for (i = 0; i < n; i++)		/* every truncation */
		assert_int_equal(parse(b, i, &p), -1);
	assert_int_equal(parse(b, n, &p), 0);
	b[0] = 0x44;			/* header length 16 */
	assert_int_equal(parse(b, n, &p), -1);
	b[0] = 0x4f;			/* 60 bytes: past the total length */
	assert_int_equal(parse(b, n, &p), -1);
	b[0] = 0x55;			/* version 5 */
	assert_int_equal(parse(b, n, &p), -1);
	b[0] = 0x45;
	be16(b + 2, 19);		/* total length below the header */
	assert_int_equal(parse(b, n, &p), -1);
	/* a whole UDP packet shorter than its header */
	n = ip4(b, 20, TUNPKT_UDP, 6, 1, 2);
	assert_int_equal(parse(b, n, &p), -1);
	/* unknown protocols may be any length */
	n = ip4(b, 20, 132, 0, 0, 0);
	assert_int_equal(parse(b, n, &p), 0);
	assert_false(p.ports);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n = ip4(b, 20, TUNPKT_TCP, 8, 1000, 80);

	(void)state;
	b[6] = 0x20;			/* MF, offset 0: the first */
	assert_int_equal(parse(b, n, &p), 0);
	assert_false(p.later_frag);
	assert_true(p.ports);		/* a short TCP header still has them */
	assert_int_equal(p.dport, 80);
	n = ip4(b, 20, TUNPKT_TCP, 2, 1000, 80);
	b[6] = 0x20;			/* too short even for ports */
	assert_int_equal(parse(b, n, &p), 0);
	assert_false(p.ports);
	n = ip4(b, 20, TUNPKT_TCP, 8, 1000, 80);
	b[6] = 0x00;
	b[7] = 0xb9;			/* offset 185 * 8, no MF: the last */
	assert_int_equal(parse(b, n, &p), 0);
	assert_true(p.later_frag);
	assert_false(p.ports);
	assert_int_equal(p.proto, TUNPKT_TCP);
}

static void test_ipv6(void **state)
{
	static const uint8_t none[1][2];
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n = ip6(b, none, 0, TUNPKT_TCP, 20, 443, 50000);

	(void)state;
	assert_int_equal(parse(b, n, &p), 0);	/* an exact copy parses */
	assert_int_equal(tunpkt_parse(b, n, &p), 0);	/* p points into b */
	assert_int_equal(p.version, 6);
	assert_int_equal(p.len, n);
	assert_int_equal(p.alen, 16);
	assert_memory_equal(p.src, FD20_1, 16);
	assert_memory_equal(p.dst, FD20_3, 16);
	assert_int_equal(p.proto, TUNPKT_TCP);
	assert_int_equal(p.sport, 443);
	assert_int_equal(p.dport, 50000);
	n = ip6(b, none, 0, TUNPKT_ICMPV6, 8, 0x8000, 0);
	assert_int_equal(parse(b, n, &p), 0);
	assert_int_equal(p.proto, TUNPKT_ICMPV6);
	assert_false(p.ports);
}

static void test_ipv6_extensions(void **state)
{
	static const uint8_t chain[4][2] = {
		{ 0, 1 }, { 43, 3 }, { 60, 2 }, { 44, 1 } };
	static const uint8_t ah[1][2] = { { 51, 2 } };
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n = ip6(b, chain, 4, TUNPKT_UDP, 8, 123, 124), i;

	(void)state;
	assert_int_equal(n, 40 + 8 + 24 + 16 + 8 + 8);
	assert_int_equal(parse(b, n, &p), 0);
	assert_int_equal(p.proto, TUNPKT_UDP);
	assert_false(p.later_frag);
	assert_int_equal(p.sport, 123);
	assert_int_equal(p.dport, 124);
	for (i = 40; i < n; i++) {	/* every cut (payload length too) */
		be16(b + 4, (unsigned)(i - 40));
		assert_int_equal(parse(b, i, &p), -1);
	}
	/* AH counts in 4-byte units, minus 2: 16 bytes is 2 */
	n = ip6(b, ah, 1, TUNPKT_UDP, 8, 7, 8);
	b[41] = 2;
	assert_int_equal(parse(b, n, &p), 0);
	assert_int_equal(p.dport, 8);
	/* no next header */
	n = ip6(b, ah, 0, 59, 0, 0, 0);
	assert_int_equal(parse(b, n, &p), 0);
	assert_false(p.ports);
}

static void test_ipv6_bad_chains(void **state)
{
	static const uint8_t late_hbh[2][2] = { { 60, 1 }, { 0, 1 } };
	static uint8_t many[TUNPKT_EXT_MAX + 1][2];
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n, i;

	(void)state;
	n = ip6(b, late_hbh, 2, TUNPKT_UDP, 8, 1, 2);
	assert_int_equal(parse(b, n, &p), -1);
	for (i = 0; i < TUNPKT_EXT_MAX + 1; i++) {
		many[i][0] = 60;
		many[i][1] = 1;
	}
	n = ip6(b, many, TUNPKT_EXT_MAX, TUNPKT_UDP, 8, 1, 2);
	assert_int_equal(parse(b, n, &p), 0);	/* the bound itself */
	n = ip6(b, many, TUNPKT_EXT_MAX + 1, TUNPKT_UDP, 8, 1, 2);
	assert_int_equal(parse(b, n, &p), -1);	/* one more */
	n = ip6(b, many, 0, TUNPKT_UDP, 8, 1, 2);
	be16(b + 4, 100);			/* payload past the buffer */
	assert_int_equal(parse(b, n, &p), -1);
	b[0] = 0x70;
	assert_int_equal(parse(b, n, &p), -1);
}

static void test_ipv6_fragments(void **state)
{
	static const uint8_t frag[1][2] = { { 44, 1 } };
	uint8_t b[BUF];
	struct tunpkt p;
	size_t n = ip6(b, frag, 1, TUNPKT_TCP, 4, 1000, 80);

	(void)state;
	b[43] = 1;			/* M, offset 0: the first */
	assert_int_equal(parse(b, n, &p), 0);
	assert_false(p.later_frag);
	assert_true(p.ports);
	assert_int_equal(p.dport, 80);
	be16(b + 42, 1480);		/* offset 185 * 8 */
	assert_int_equal(parse(b, n, &p), 0);
	assert_true(p.later_frag);
	assert_false(p.ports);
	assert_int_equal(p.proto, TUNPKT_TCP);
	/* unfragmented, the same short TCP header is malformed */
	n = ip6(b, frag, 0, TUNPKT_TCP, 4, 1000, 80);
	assert_int_equal(parse(b, n, &p), -1);
}

static void test_port_parse(void **state)
{
	uint16_t port;
	unsigned pr;

	(void)state;
	assert_int_equal(tunpkt_port_parse("22", &port, &pr), 0);
	assert_int_equal(port, 22);
	assert_int_equal(pr, TUNPKT_F_TCP | TUNPKT_F_UDP);
	assert_int_equal(tunpkt_port_parse("53/udp", &port, &pr), 0);
	assert_int_equal(pr, TUNPKT_F_UDP);
	assert_int_equal(tunpkt_port_parse("65535/tcp", &port, &pr), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(pr, TUNPKT_F_TCP);
	assert_int_equal(tunpkt_port_parse("0", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse("65536", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse("-1", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse(" 22", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse("22/sctp", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse("22/", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse("", &port, &pr), -1);
	assert_int_equal(tunpkt_port_parse("http", &port, &pr), -1);
}

static int allowed(const struct tunpkt_filter *f, const uint8_t *b,
		   size_t n)
{
	struct tunpkt p;

	assert_int_equal(parse(b, n, &p), 0);
	return tunpkt_allow(f, &p);
}

static void test_filter(void **state)
{
	static const uint8_t frag[1][2] = { { 44, 1 } };
	static const uint8_t none[1][2];
	struct tunpkt_filter *f = calloc(1, sizeof(*f));
	uint8_t b[BUF];
	size_t n;

	(void)state;
	assert_non_null(f);
	n = ip4(b, 20, TUNPKT_UDP, 8, 9, 9);
	assert_true(allowed(f, b, n));		/* off: all pass */
	tunpkt_filter_add(f, 22, TUNPKT_F_TCP);
	tunpkt_filter_add(f, 53, TUNPKT_F_UDP);
	tunpkt_filter_add(f, 5000, TUNPKT_F_TCP | TUNPKT_F_UDP);
	assert_false(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_TCP, 20, 40000, 22);
	assert_true(allowed(f, b, n));		/* destination port */
	n = ip4(b, 20, TUNPKT_TCP, 20, 22, 40000);
	assert_true(allowed(f, b, n));		/* source port: replies */
	n = ip4(b, 20, TUNPKT_UDP, 8, 40000, 22);
	assert_false(allowed(f, b, n));		/* 22 is TCP only */
	n = ip4(b, 20, TUNPKT_UDP, 8, 40000, 53);
	assert_true(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_TCP, 20, 40000, 53);
	assert_false(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_UDP, 8, 5000, 1);
	assert_true(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_ICMP, 8, 0x0800, 0);
	assert_true(allowed(f, b, n));
	n = ip4(b, 20, 132, 12, 22, 22);	/* SCTP: no ports read */
	assert_false(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_ICMPV6, 8, 0, 0);	/* ICMPv6 inside IPv4 */
	assert_false(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_TCP, 20, 40000, 22);
	b[7] = 0x10;				/* a later fragment */
	assert_false(allowed(f, b, n));
	n = ip4(b, 20, TUNPKT_ICMP, 20, 0, 0);
	b[7] = 0x10;				/* but ICMP passes whole */
	assert_true(allowed(f, b, n));
	n = ip6(b, none, 0, TUNPKT_TCP, 20, 40000, 22);
	assert_true(allowed(f, b, n));
	n = ip6(b, none, 0, TUNPKT_ICMPV6, 8, 0x8000, 0);
	assert_true(allowed(f, b, n));
	n = ip6(b, none, 0, TUNPKT_ICMP, 8, 0x0800, 0);
	assert_false(allowed(f, b, n));		/* ICMP inside IPv6 */
	n = ip6(b, frag, 1, TUNPKT_UDP, 8, 40000, 53);
	assert_true(allowed(f, b, n));		/* a first fragment */
	be16(b + 42, 8);
	assert_false(allowed(f, b, n));		/* a later one */
	free(f);
}

static void test_framing(void **state)
{
	static const uint8_t none[1][2];
	uint8_t f[TUNPKT_ETH_LEN + BUF];
	struct tunpkt p;
	size_t n;

	(void)state;
	n = ip4(f + TUNPKT_ETH_LEN, 20, TUNPKT_UDP, 8, 1, 2);
	tunpkt_eth_put(f, 4);
	assert_memory_equal(f, "\0\0\0\0\0\0\0\0\0\0\0\0\x08\x00", 14);
	assert_int_equal(tunpkt_eth_strip(f, TUNPKT_ETH_LEN + n), 4);
	assert_int_equal(parse(f + TUNPKT_ETH_LEN, n, &p), 0);
	assert_int_equal(p.dport, 2);
	/* the ethertype must match the version */
	f[12] = 0x86;
	f[13] = 0xdd;
	assert_int_equal(tunpkt_eth_strip(f, TUNPKT_ETH_LEN + n), -1);
	n = ip6(f + TUNPKT_ETH_LEN, none, 0, TUNPKT_UDP, 8, 1, 2);
	tunpkt_eth_put(f, 6);
	assert_memory_equal(f + 12, "\x86\xdd", 2);
	assert_int_equal(tunpkt_eth_strip(f, TUNPKT_ETH_LEN + n), 6);
	tunpkt_eth_put(f, 4);
	assert_int_equal(tunpkt_eth_strip(f, TUNPKT_ETH_LEN + n), -1);
	f[12] = 0x08;
	f[13] = 0x06;				/* ARP */
	assert_int_equal(tunpkt_eth_strip(f, TUNPKT_ETH_LEN + n), -1);
	tunpkt_eth_put(f, 6);
	assert_int_equal(tunpkt_eth_strip(f, TUNPKT_ETH_LEN), -1);
	assert_int_equal(tunpkt_eth_strip(f, 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ipv6_extensions),
		cmocka_unit_test(test_ipv6_bad_chains),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_port_parse),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
