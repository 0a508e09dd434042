/*
 * Software TSO/GSO: super-segments built here as Linux writes them on a
 * TAP with IFF_VNET_HDR, split, and every output frame checked on its own
 * against reference checksums computed byte by byte.
 *
 *   vnet hdr | dst src [tag..] type | IPv4 (+opts) / IPv6 | TCP (+opts) | payload
 *                                      \--------- hlen ---------------/
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gso.h"
#include "ref.h"

#define VNET		GSO_VNET_HDR_LEN
#define MAXF		70000
#define SINK_CAP	(8u << 20)
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_ECE		0x40
#define TCP_CWR		0x80

/* ---- reference helpers, deliberately naive ---- */

/* Does the TCP segment at o[l4, n) verify, pseudo-header included? */
static int ref_tcp_ok(const uint8_t *o, size_t l3, size_t l4, size_t n,
    int v6)
{
	return ref_fold(ref_pseudo(o + l3, v6, n - l4) +
	    ref_sum(o + l4, n - l4)) == 0xffff;
}

/* The reference itself, on RFC 1071's example and a real IPv4 header. */
static void test_reference(void **state)
{
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
	    0xf6, 0xf7 };
	static const uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00,
	    0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
	    0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(ref_sum(rfc, sizeof(rfc)), 0xddf2);
	assert_int_equal(ref_sum(ip, sizeof(ip)), 0xffff);
	assert_int_equal(ref_sum(rfc, 3), 0xf201);
}

/* ---- building inputs ---- */

struct spec {
	int		v6;
	int		vlans;
	size_t		ipopt;		/* IPv4 option bytes, multiple of 4 */
	size_t		tcpopt;		/* TCP option bytes, multiple of 4 */
	size_t		plen;
	uint16_t	mss;
	uint16_t	id;
	uint8_t		vflags;
	uint8_t		type;
	uint8_t		tflags;
	uint32_t	seq;
};

static size_t l3_of(const struct spec *sp)
{
	return 14 + 4 * (size_t)sp->vlans;
}

static size_t l4_of(const struct spec *sp)
{
	return l3_of(sp) + (sp->v6 ? 40 : 20 + sp->ipopt);
}

static size_t hlen_of(const struct spec *sp)
{
	return l4_of(sp) + 20 + sp->tcpopt;
}

static void fill(uint8_t *p, size_t n, uint32_t x)
{
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		p[i] = (uint8_t)(x >> 16);
	}
}

static void build_ip(const struct spec *sp, uint8_t *ip, size_t iplen)
{
	static const uint8_t a6[32] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	size_t ihl = 20 + sp->ipopt;

	if (sp->v6) {
		ip[0] = 0x60;
		ip[1] = 0x2a;
		ip[2] = 0xbc;
		ip[3] = 0xde;
		wbe16(ip + 4, (uint16_t)(iplen - 40));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, a6, 32);
		return;
	}
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0x02;
	wbe16(ip + 2, (uint16_t)iplen);
	wbe16(ip + 4, sp->id);
	wbe16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	memset(ip + 20, 1, sp->ipopt);
	wbe16(ip + 10, (uint16_t)~ref_sum(ip, ihl));
}

static void build_tcp(const struct spec *sp, uint8_t *th)
{
	wbe16(th, 40000);
	wbe16(th + 2, 443);
	wbe32(th + 4, sp->seq);
	wbe32(th + 8, 0x11223344);
	th[12] = (uint8_t)((20 + sp->tcpopt) / 4 << 4);
	th[13] = sp->tflags;
	wbe16(th + 14, 0xfedc);
	wbe16(th + 16, 0);
	wbe16(th + 18, 0);
	memset(th + 20, 1, sp->tcpopt);
	if (sp->tcpopt >= 12) {
		th[22] = 8;
		th[23] = 10;
		wbe32(th + 24, 0xa1b2c3d4);
		wbe32(th + 28, 0x01020304);
	}
}

/* A super-segment as Linux writes it: TCP check = folded pseudo sum. */
static size_t build(const struct spec *sp, uint8_t *b)
{
	uint8_t *f = b + VNET;
	size_t l3 = l3_of(sp), l4 = l4_of(sp), hlen = hlen_of(sp);
	size_t n = hlen + sp->plen, i;

	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	for (i = 0; i < (size_t)sp->vlans; i++) {
		wbe16(f + 12 + 4 * i, i ? 0x8100 : 0x88a8);
		wbe16(f + 14 + 4 * i, (uint16_t)(100 + i));
	}
	wbe16(f + l3 - 2, sp->v6 ? 0x86dd : 0x0800);
	build_ip(sp, f + l3, n - l3);
	build_tcp(sp, f + l4);
	fill(f + hlen, sp->plen, (uint32_t)sp->plen);
	wbe16(f + l4 + 16, (uint16_t)ref_pseudo(f + l3, sp->v6, n - l4));
	b[0] = sp->vflags;
	b[1] = sp->type;
	wle16(b + 2, (uint16_t)hlen);
	wle16(b + 4, sp->mss);
	wle16(b + 6, (uint16_t)l4);
	wle16(b + 8, 16);
	return VNET + n;
}

/* ---- collecting outputs ---- */

struct sink {
	size_t		count, used;
	size_t		off[MAXF], len[MAXF];
	const uint8_t	*ptr[MAXF];
	uint8_t		*data;
};

static struct sink *sink;
static uint8_t *inbuf, *scratch;

static void collect(void *arg, const uint8_t *frame, size_t len)
{
	struct sink *k = arg;

	assert_true(k->count < MAXF);
	assert_true(k->used + len <= SINK_CAP);
	k->off[k->count] = k->used;
	k->len[k->count] = len;
	k->ptr[k->count] = frame;
	memcpy(k->data + k->used, frame, len);
	k->used += len;
	k->count++;
}

static int split(const uint8_t *b, size_t len, size_t slen)
{
	sink->count = 0;
	sink->used = 0;
	return gso_split(b, len, scratch, slen, collect, sink);
}

static int setup(void **state)
{
	(void)state;
	sink = malloc(sizeof(*sink));
	inbuf = calloc(1, GSO_VNET_HDR_LEN + GSO_FRAME_MAX + 64);
	scratch = malloc(GSO_FRAME_MAX);
	if (sink == NULL || inbuf == NULL || scratch == NULL)
		return -1;
	sink->data = malloc(SINK_CAP);
	return sink->data == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	free(sink->data);
	free(sink);
	free(inbuf);
	free(scratch);
	return 0;
}

/* ---- checking outputs ---- */

static void verify_ip(const struct spec *sp, const uint8_t *in,
    const uint8_t *o, size_t on, size_t i)
{
	size_t l3 = l3_of(sp), ihl = 20 + sp->ipopt;

	if (sp->v6) {
		assert_memory_equal(o + l3, in + l3, 4);
		assert_int_equal(be16(o + l3 + 4), on - l3 - 40);
		assert_memory_equal(o + l3 + 6, in + l3 + 6, 34);
		return;
	}
	assert_memory_equal(o + l3, in + l3, 2);
	assert_int_equal(be16(o + l3 + 2), on - l3);
	assert_int_equal(be16(o + l3 + 4), (uint16_t)(sp->id + i));
	assert_memory_equal(o + l3 + 6, in + l3 + 6, 4);
	assert_memory_equal(o + l3 + 12, in + l3 + 12, ihl - 12);
	assert_int_equal(ref_sum(o + l3, ihl), 0xffff);
}

static void verify_tcp(const struct spec *sp, const uint8_t *in,
    const uint8_t *o, size_t on, size_t i, size_t count, size_t off)
{
	size_t l4 = l4_of(sp);
	uint8_t tf = sp->tflags;

	if (i > 0)
		tf &= (uint8_t)~TCP_CWR;
	if (i + 1 < count)
		tf &= (uint8_t)~(TCP_FIN | TCP_PSH);
	assert_memory_equal(o + l4, in + l4, 4);
	assert_int_equal(be32(o + l4 + 4), (uint32_t)(sp->seq + off));
	assert_memory_equal(o + l4 + 8, in + l4 + 8, 5);
	assert_int_equal(o[l4 + 13], tf);
	assert_memory_equal(o + l4 + 14, in + l4 + 14, 2);
	assert_memory_equal(o + l4 + 18, in + l4 + 18, 2 + sp->tcpopt);
	assert_true(ref_tcp_ok(o, l3_of(sp), l4, on, sp->v6));
}

/* Checks every emitted frame of a split of the frame in (no vnet hdr). */
static void verify(const struct spec *sp, const uint8_t *in, size_t n)
{
	size_t hlen = hlen_of(sp), plen = n - hlen, off = 0, i, seg;
	size_t count = plen == 0 ? 1 : (plen + sp->mss - 1) / sp->mss;

	assert_int_equal(sink->count, count);
	for (i = 0; i < count; i++) {
		const uint8_t *o = sink->data + sink->off[i];
		size_t on = sink->len[i];

		assert_true(on >= hlen && on <= hlen + sp->mss);
		seg = on - hlen;
		if (i + 1 < count)
			assert_int_equal(seg, sp->mss);
		assert_memory_equal(o, in, l3_of(sp));
		verify_ip(sp, in, o, on, i);
		verify_tcp(sp, in, o, on, i, count, off);
		assert_memory_equal(o + hlen, in + hlen + off, seg);
		off += seg;
	}
	assert_int_equal(off, plen);
}

/* Builds, splits with a full scratch, verifies; returns the frame count. */
static int run(const struct spec *sp)
{
	size_t len = build(sp, inbuf);
	int r = split(inbuf, len, GSO_FRAME_MAX);

	assert_int_equal(r, (int)sink->count);
	verify(sp, inbuf + VNET, len - VNET);
	return r;
}

/* ---- tests ---- */

static void test_v4_64k(void **state)
{
	struct spec sp = { .tcpopt = 12, .plen = 65535 - 20 - 32,
	    .mss = 1448, .id = 0xfff0, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV4, .tflags = TCP_ACK, .seq = 0xffff0000 };

	(void)state;
	assert_int_equal(run(&sp), 46);
}

static void test_v6_64k(void **state)
{
	struct spec sp = { .v6 = 1, .tcpopt = 12, .plen = 65535 - 32,
	    .mss = 1428, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV6, .tflags = TCP_ACK | TCP_PSH,
	    .seq = 7 };

	(void)state;
	assert_int_equal(run(&sp), 46);
}

static void test_ecn_cwr(void **state)
{
	struct spec sp = { .tcpopt = 12, .plen = 20000, .mss = 1448,
	    .id = 1, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV4 | GSO_TYPE_ECN,
	    .tflags = TCP_ACK | TCP_CWR | TCP_ECE, .seq = 1 };

	(void)state;
	assert_int_equal(run(&sp), 14);
	assert_int_equal(sink->data[sink->off[0] + 34 + 13] & TCP_CWR,
	    TCP_CWR);
	sp.v6 = 1;
	sp.type = GSO_TYPE_TCPV6 | GSO_TYPE_ECN;
	assert_int_equal(run(&sp), 14);
}

static void test_fin_psh(void **state)
{
	struct spec sp = { .plen = 10000, .mss = 1460, .id = 99,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR,
	    .seq = 0xfffffff0 };
	size_t last;

	(void)state;
	assert_int_equal(run(&sp), 7);
	last = sink->off[6] + 34 + 13;
	assert_int_equal(sink->data[last], TCP_ACK | TCP_PSH | TCP_FIN);
	sp.v6 = 1;
	sp.type = GSO_TYPE_TCPV6;
	assert_int_equal(run(&sp), 7);
}

/* IPv4 options, TCP options, two VLAN tags, odd mss and odd tail. */
static void test_options_vlan_odd(void **state)
{
	struct spec sp = { .vlans = 2, .ipopt = 12, .tcpopt = 20,
	    .plen = 12345, .mss = 1001, .id = 0xffff,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK, .seq = 1000 };

	(void)state;
	assert_int_equal(run(&sp), 13);
	sp.vlans = 1;
	sp.v6 = 1;
	sp.type = GSO_TYPE_TCPV6;
	assert_int_equal(run(&sp), 13);
}

/* Payload 0, < mss, == mss, mss + 1, and mss 1. */
static void test_small(void **state)
{
	struct spec sp = { .mss = 100, .id = 5, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV4, .tflags = TCP_ACK | TCP_PSH, .seq = 3 };

	(void)state;
	assert_int_equal(run(&sp), 1);
	sp.plen = 99;
	assert_int_equal(run(&sp), 1);
	sp.plen = 100;
	assert_int_equal(run(&sp), 1);
	sp.plen = 101;
	assert_int_equal(run(&sp), 2);
	sp.mss = 1;
	sp.plen = 37;
	assert_int_equal(run(&sp), 37);
	sp.mss = 0xffff;
	sp.plen = 5000;
	assert_int_equal(run(&sp), 1);
}

/* Without NEEDS_CSUM the old check field is garbage: redone anyway. */
static void test_gso_without_csum_flag(void **state)
{
	struct spec sp = { .plen = 5000, .mss = 1448, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK, .seq = 9 };
	size_t len = build(&sp, inbuf);

	(void)state;
	inbuf[VNET + 34 + 16] ^= 0x5a;
	assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 4);
	verify(&sp, inbuf + VNET, len - VNET);
}

/* The scratch must hold the largest output, and that is enough. */
static void test_scratch_bound(void **state)
{
	struct spec sp = { .plen = 5000, .mss = 1448,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	size_t len = build(&sp, inbuf);

	(void)state;
	assert_int_equal(split(inbuf, len, 54 + 1448 - 1), -1);
	assert_int_equal(sink->count, 0);
	assert_int_equal(split(inbuf, len, 54 + 1448), 4);
	verify(&sp, inbuf + VNET, len - VNET);
}

/* A TCP frame that only needs its checksum: emitted once, completed. */
static void test_csum_only_tcp(void **state)
{
	struct spec sp = { .tcpopt = 12, .plen = 999,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_NONE,
	    .tflags = TCP_ACK | TCP_PSH };
	size_t len = build(&sp, inbuf), n = len - VNET;
	const uint8_t *o;

	(void)state;
	wle16(inbuf + 4, 0);
	assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 1);
	o = sink->data;
	assert_int_equal(sink->len[0], n);
	assert_memory_equal(o, inbuf + VNET, 34 + 16);
	assert_memory_equal(o + 34 + 18, inbuf + VNET + 34 + 18, n - 52);
	assert_true(ref_tcp_ok(o, 14, 34, n, 0));
	assert_int_equal(split(inbuf, len, n - 1), -1);
	assert_int_equal(split(inbuf, len, n), 1);
}

/* A UDP/IPv6 frame whose checksum comes out 0 is sent as 0xffff. */
static void test_csum_only_udp_zero(void **state)
{
	uint8_t *f = inbuf + VNET, *ip = f + 14, *uh = ip + 40;
	size_t ulen = 8 + 30, n = 14 + 40 + ulen;
	uint32_t s;

	(void)state;
	memset(inbuf, 0, VNET + n);
	wbe16(f + 12, 0x86dd);
	ip[0] = 0x60;
	wbe16(ip + 4, (uint16_t)ulen);
	ip[6] = 17;
	ip[7] = 1;
	ip[8] = 0xfe;
	ip[9] = 0x80;
	ip[23] = 1;
	ip[24] = 0xff;
	ip[25] = 0x02;
	ip[39] = 0xfb;
	wbe16(uh, 5353);
	wbe16(uh + 2, 5353);
	wbe16(uh + 4, (uint16_t)ulen);
	fill(uh + 8, ulen - 8 - 2, 77);
	/* pseudo sum, as the stack leaves it, then a word making it 0xffff */
	s = ref_sum(ip + 8, 32) + (uint32_t)ulen + 17;
	wbe16(uh + 6, (uint16_t)ref_fold(s));
	s = ref_sum(uh, ulen - 2);
	wbe16(uh + ulen - 2, (uint16_t)(0xffff - s));
	assert_int_equal(ref_fold(ref_sum(uh, ulen)), 0xffff);
	inbuf[0] = GSO_F_NEEDS_CSUM;
	wle16(inbuf + 6, 54);
	wle16(inbuf + 8, 6);
	assert_int_equal(split(inbuf, VNET + n, GSO_FRAME_MAX), 1);
	assert_int_equal(be16(sink->data + 54 + 6), 0xffff);
	s = ref_sum(ip + 8, 32) + (uint32_t)ulen + 17 +
	    ref_sum(sink->data + 54, ulen);
	assert_int_equal(ref_fold(s), 0xffff);
}

/* Odd csum_start: the sum runs over exactly [csum_start, end). */
static void test_csum_generic(void **state)
{
	uint8_t *f = inbuf + VNET;
	size_t n = 301, start = 41, at = start + 6, i;
	uint16_t want;

	(void)state;
	memset(inbuf, 0, VNET);
	fill(f, n, 3);
	f[at] = 0x12;
	f[at + 1] = 0x34;
	inbuf[0] = GSO_F_NEEDS_CSUM;
	wle16(inbuf + 6, (uint16_t)start);
	wle16(inbuf + 8, 6);
	assert_int_equal(split(inbuf, VNET + n, GSO_FRAME_MAX), 1);
	assert_int_equal(sink->len[0], n);
	for (i = 0; i < n; i++)
		if (i != at && i != at + 1)
			assert_int_equal(sink->data[i], f[i]);
	/* the complement of the sum with the old field (the seed) in it */
	want = (uint16_t)~ref_sum(f + start, n - start);
	assert_int_equal(be16(sink->data + at), want ? want : 0xffff);
	/* so that adding the seed back verifies */
	assert_int_equal(ref_fold(ref_sum(sink->data + start, n - start) +
	    0x1234), 0xffff);
}

/* No flags, or DATA_VALID only: the very same bytes, from buf. */
static void test_passthrough(void **state)
{
	size_t n = 1514;

	(void)state;
	memset(inbuf, 0, VNET);
	fill(inbuf + VNET, n, 1);
	assert_int_equal(split(inbuf, VNET + n, 0), 1);
	assert_int_equal(sink->len[0], n);
	assert_ptr_equal(sink->ptr[0], inbuf + VNET);
	assert_memory_equal(sink->data, inbuf + VNET, n);
	inbuf[0] = GSO_F_DATA_VALID;
	assert_int_equal(split(inbuf, VNET + 60, 0), 1);
	assert_int_equal(sink->len[0], 60);
	assert_int_equal(split(inbuf, VNET + GSO_FRAME_MAX, 0), 1);
}

static void test_needed(void **state)
{
	uint8_t h[VNET] = { 0 };

	(void)state;
	assert_false(gso_needed(h));
	h[0] = GSO_F_DATA_VALID;
	assert_false(gso_needed(h));
	h[0] = GSO_F_NEEDS_CSUM;
	assert_true(gso_needed(h));
	h[0] = 0;
	h[1] = GSO_TYPE_TCPV4;
	assert_true(gso_needed(h));
	h[1] = GSO_TYPE_UDP;
	assert_true(gso_needed(h));
}

static void reject(const uint8_t *b, size_t len)
{
	assert_int_equal(split(b, len, GSO_FRAME_MAX), -1);
	assert_int_equal(sink->count, 0);
}

/* Rebuilds sp, applies one byte change at frame offset off, rejects. */
static void reject_poke(const struct spec *sp, size_t off, uint8_t v)
{
	size_t len = build(sp, inbuf);

	inbuf[off] = v;
	reject(inbuf, len);
}

static void test_malformed_vnet(void **state)
{
	struct spec sp = { .plen = 3000, .mss = 1000,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK, .seq = 1 };
	size_t len = build(&sp, inbuf);
	static const uint8_t bad_types[] = { 2, 3, 5, 6, 0x80, 0x83, 0x85,
	    0xff, 0x7f };
	size_t i;

	(void)state;
	assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 3);
	for (i = 0; i < sizeof(bad_types); i++)
		reject_poke(&sp, 1, bad_types[i]);
	reject_poke(&sp, 1, GSO_TYPE_TCPV6);		/* v6 type, v4 frame */
	reject_poke(&sp, 6, 35);			/* csum_start */
	reject_poke(&sp, 8, 6);				/* csum_offset */
	reject_poke(&sp, 9, 1);
	len = build(&sp, inbuf);
	wle16(inbuf + 2, (uint16_t)(len - VNET + 1));	/* hdr_len */
	reject(inbuf, len);
	wle16(inbuf + 2, (uint16_t)(len - VNET));
	assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 3);
	wle16(inbuf + 4, 0);				/* gso_size 0 */
	reject(inbuf, len);
	sp.v6 = 1;
	sp.type = GSO_TYPE_TCPV6;
	reject_poke(&sp, 1, GSO_TYPE_TCPV4);		/* v4 type, v6 frame */
	reject_poke(&sp, 1, GSO_TYPE_UDP);
	len = build(&sp, inbuf);
	wle16(inbuf + 4, 0);
	reject(inbuf, len);
}

static void test_malformed_ip4(void **state)
{
	struct spec sp = { .ipopt = 4, .plen = 3000, .mss = 1000,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	const size_t ip = VNET + 14;

	(void)state;
	reject_poke(&sp, VNET + 13, 0x06);		/* ethertype 0x0806 */
	reject_poke(&sp, VNET + 12, 0x86);
	reject_poke(&sp, ip, 0x56);			/* version 5 */
	reject_poke(&sp, ip, 0x44);			/* ihl 16 bytes */
	reject_poke(&sp, ip, 0x45);			/* ihl != csum_start */
	reject_poke(&sp, ip, 0x4f);			/* ihl 60 */
	reject_poke(&sp, ip + 3, 0x00);			/* total length */
	reject_poke(&sp, ip + 2, 0x00);
	reject_poke(&sp, ip + 2, 0xff);
	reject_poke(&sp, ip + 9, 17);			/* UDP */
	reject_poke(&sp, ip + 6, 0x20);			/* MF */
	reject_poke(&sp, ip + 7, 0x01);			/* fragment offset */
	reject_poke(&sp, ip + 24 + 12, 0x40);		/* doff 16 bytes */
	reject_poke(&sp, ip + 24 + 12, 0x00);
	sp.vlans = 3;					/* one tag too many */
	reject_poke(&sp, 0, GSO_F_NEEDS_CSUM);
	sp.vlans = 2;
	sp.plen = 20;
	reject_poke(&sp, VNET + 22 + 24 + 12, 0xf0);	/* doff past the end */
}

static void test_malformed_ip6(void **state)
{
	struct spec sp = { .v6 = 1, .plen = 3000, .mss = 1000,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV6,
	    .tflags = TCP_ACK };
	const size_t ip = VNET + 14;

	(void)state;
	reject_poke(&sp, VNET + 13, 0x00);		/* ethertype IPv4 */
	reject_poke(&sp, ip, 0x40);			/* version 4 */
	reject_poke(&sp, ip + 6, 0);			/* hop-by-hop */
	reject_poke(&sp, ip + 6, 43);			/* routing */
	reject_poke(&sp, ip + 6, 44);			/* fragment */
	reject_poke(&sp, ip + 6, 17);
	reject_poke(&sp, ip + 5, 0x00);			/* payload length */
	reject_poke(&sp, ip + 4, 0x00);
	reject_poke(&sp, ip + 4, 0xff);
	reject_poke(&sp, ip + 40 + 12, 0x30);		/* doff 12 bytes */
}

/* Every truncation of a good super-segment is rejected, emitting nothing. */
static void test_truncated(void **state)
{
	struct spec sp = { .vlans = 1, .ipopt = 8, .tcpopt = 12, .plen = 3000,
	    .mss = 1000, .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	size_t len, cut;
	int v;

	(void)state;
	for (v = 0; v < 2; v++) {
		sp.v6 = v;
		sp.type = v ? GSO_TYPE_TCPV6 : GSO_TYPE_TCPV4;
		len = build(&sp, inbuf);
		for (cut = 0; cut < len; cut++) {
			wle16(inbuf + 2, 0);
			reject(inbuf, cut);
		}
		assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 3);
	}
}

static void test_malformed_other(void **state)
{
	size_t n = 100;

	(void)state;
	memset(inbuf, 0, VNET + GSO_FRAME_MAX + 1);
	reject(inbuf, 0);
	reject(NULL, 0);
	reject(inbuf, VNET - 1);
	reject(inbuf, VNET);
	reject(inbuf, VNET + 13);
	reject(inbuf, VNET + GSO_FRAME_MAX + 1);
	/* checksum-only frames: the field must fit in the frame */
	inbuf[0] = GSO_F_NEEDS_CSUM;
	wle16(inbuf + 6, (uint16_t)(n - 2));
	wle16(inbuf + 8, 0);
	assert_int_equal(split(inbuf, VNET + n, GSO_FRAME_MAX), 1);
	wle16(inbuf + 6, (uint16_t)(n - 1));
	reject(inbuf, VNET + n);
	wle16(inbuf + 6, 50);
	wle16(inbuf + 8, (uint16_t)(n - 51));
	reject(inbuf, VNET + n);
	wle16(inbuf + 6, 0xffff);
	wle16(inbuf + 8, 0xffff);
	reject(inbuf, VNET + n);
	wle16(inbuf + 6, 0);
	wle16(inbuf + 8, 0);
	reject(inbuf, VNET + GSO_FRAME_MAX + 1);
}

/* ---- a cap on the segment size ---- */

static int split_mss(const uint8_t *b, size_t len, size_t cap, size_t slen)
{
	sink->count = 0;
	sink->used = 0;
	return gso_split_mss(b, len, cap, scratch, slen, collect, sink);
}

/*
 * Builds, splits under cap, and checks every frame as a split with
 * gso_size min(mss, cap) must be: headers, checksums, payload in order.
 */
static int run_cap(const struct spec *sp, size_t cap)
{
	struct spec eff = *sp;
	size_t len = build(sp, inbuf), i;
	int r = split_mss(inbuf, len, cap, GSO_FRAME_MAX);

	if (cap != 0 && cap < sp->mss)
		eff.mss = (uint16_t)cap;
	assert_int_equal(r, (int)sink->count);
	assert_int_equal(gso_hdr_len(inbuf, len), hlen_of(sp));
	for (i = 0; cap != 0 && i < sink->count; i++)
		assert_true(sink->len[i] <= hlen_of(sp) + cap);
	verify(&eff, inbuf + VNET, len - VNET);
	return r;
}

static void test_cap_64k(void **state)
{
	struct spec sp = { .tcpopt = 12, .plen = 65535 - 20 - 32,
	    .mss = 1448, .id = 0xfff0, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV4, .tflags = TCP_ACK | TCP_PSH,
	    .seq = 0xffff0000 };

	(void)state;
	assert_int_equal(run_cap(&sp, 1380), 48);
	assert_int_equal(run_cap(&sp, 1447), 46);
	assert_int_equal(run_cap(&sp, 1448), 46);	/* no tighter */
	assert_int_equal(run_cap(&sp, 9000), 46);
	assert_int_equal(run_cap(&sp, 0), 46);
	assert_int_equal(run_cap(&sp, GSO_MSS_MIN), 1024);
	sp.v6 = 1;
	sp.type = GSO_TYPE_TCPV6;
	sp.plen = 65535 - 32;
	assert_int_equal(run_cap(&sp, 1000), 66);
	assert_int_equal(run_cap(&sp, 1001), 66);
	assert_int_equal(run_cap(&sp, 999), 66);
	assert_int_equal(run_cap(&sp, 992), 67);
}

/* ECN, FIN/PSH, options, two tags, odd sizes: all as without a cap. */
static void test_cap_flags_options(void **state)
{
	struct spec sp = { .vlans = 2, .ipopt = 12, .tcpopt = 20,
	    .plen = 12345, .mss = 1001, .id = 0xffff,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4 | GSO_TYPE_ECN,
	    .tflags = TCP_ACK | TCP_CWR | TCP_ECE | TCP_PSH | TCP_FIN,
	    .seq = 0xfffffff0 };

	(void)state;
	assert_int_equal(run_cap(&sp, 777), 16);
	assert_int_equal(run_cap(&sp, 65), 190);
	sp.vlans = 1;
	sp.v6 = 1;
	sp.type = GSO_TYPE_TCPV6 | GSO_TYPE_ECN;
	assert_int_equal(run_cap(&sp, 333), 38);
	sp.vflags = 0;					/* no NEEDS_CSUM */
	assert_int_equal(run_cap(&sp, 1000), 13);
	sp.plen = 0;
	assert_int_equal(run_cap(&sp, 100), 1);
}

/* Caps below GSO_MSS_MIN are refused for any frame, emitting nothing. */
static void test_cap_min(void **state)
{
	struct spec sp = { .plen = 3000, .mss = 1000,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	size_t len = build(&sp, inbuf), cap;

	(void)state;
	for (cap = 1; cap < GSO_MSS_MIN; cap++) {
		assert_int_equal(split_mss(inbuf, len, cap, GSO_FRAME_MAX), -1);
		assert_int_equal(sink->count, 0);
	}
	assert_int_equal(split_mss(inbuf, len, GSO_MSS_MIN, GSO_FRAME_MAX),
	    47);
	memset(inbuf, 0, VNET);				/* plain frame */
	assert_int_equal(split_mss(inbuf, len, GSO_MSS_MIN - 1,
	    GSO_FRAME_MAX), -1);
	assert_int_equal(sink->count, 0);
}

/* Frames without a GSO type are never cut, whatever the cap. */
static void test_cap_whole(void **state)
{
	struct spec sp = { .tcpopt = 12, .plen = 999,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_NONE,
	    .tflags = TCP_ACK | TCP_PSH };
	size_t len = build(&sp, inbuf);

	(void)state;
	wle16(inbuf + 4, 0);
	assert_int_equal(split_mss(inbuf, len, 100, GSO_FRAME_MAX), 1);
	assert_int_equal(sink->len[0], len - VNET);
	assert_true(ref_tcp_ok(sink->data, 14, 34, len - VNET, 0));
	assert_int_equal(gso_hdr_len(inbuf, len), 0);
	memset(inbuf, 0, VNET);
	assert_int_equal(split_mss(inbuf, len, 100, 0), 1);
	assert_ptr_equal(sink->ptr[0], inbuf + VNET);
	assert_int_equal(sink->len[0], len - VNET);
}

/* The scratch must hold headers + the capped payload, and that is all. */
static void test_cap_scratch(void **state)
{
	struct spec sp = { .plen = 5000, .mss = 1448,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	size_t len = build(&sp, inbuf);

	(void)state;
	assert_int_equal(split_mss(inbuf, len, 1000, 54 + 1000 - 1), -1);
	assert_int_equal(sink->count, 0);
	assert_int_equal(split_mss(inbuf, len, 1000, 54 + 1000), 5);
	sp.plen = 500;					/* one short segment */
	len = build(&sp, inbuf);
	assert_int_equal(split_mss(inbuf, len, 1000, 54 + 500), 1);
}

static void test_hdr_len(void **state)
{
	struct spec sp = { .vlans = 2, .ipopt = 8, .tcpopt = 12, .plen = 100,
	    .mss = 1000, .type = GSO_TYPE_TCPV4, .tflags = TCP_ACK };
	size_t len = build(&sp, inbuf);

	(void)state;
	assert_int_equal(gso_hdr_len(inbuf, len), 22 + 28 + 32);
	assert_int_equal(gso_hdr_len(inbuf, len - 1), 0);	/* truncated */
	assert_int_equal(gso_hdr_len(inbuf, VNET - 1), 0);
	wle16(inbuf + 4, 0);					/* gso_size 0 */
	assert_int_equal(gso_hdr_len(inbuf, len), 0);
	sp.v6 = 1;
	sp.vlans = 0;
	sp.type = GSO_TYPE_TCPV6;
	len = build(&sp, inbuf);
	assert_int_equal(gso_hdr_len(inbuf, len), 14 + 40 + 32);
	inbuf[1] = GSO_TYPE_UDP;
	assert_int_equal(gso_hdr_len(inbuf, len), 0);
}

/* ---- gso_check: offload metadata from the mesh ---- */

static int check(const uint8_t *b, size_t len, const char *want)
{
	const char *why = "unset";
	int r = gso_check(b, len, &why);

	if (r == 0)
		assert_string_equal(why, "unset");
	else if (want != NULL)
		assert_string_equal(why, want);
	return r;
}

/* A plain IPv4 super-segment of 3 segments in inbuf; its length. */
static size_t build_tso3(void)
{
	struct spec sp = { .plen = 3000, .mss = 1448,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };

	return build(&sp, inbuf);
}

/* What Linux writes on a TAP passes, and gso_split takes it. */
static void test_check_good(void **state)
{
	struct spec v4 = { .tcpopt = 12, .plen = 65535 - 20 - 32,
	    .mss = 1448, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV4 | GSO_TYPE_ECN,
	    .tflags = TCP_ACK | TCP_CWR };
	struct spec v6 = { .v6 = 1, .vlans = 2, .tcpopt = 12,
	    .plen = 65535 - 32, .mss = 1428, .vflags = GSO_F_NEEDS_CSUM,
	    .type = GSO_TYPE_TCPV6, .tflags = TCP_ACK };
	struct spec one = { .ipopt = 8, .plen = 536, .mss = GSO_SIZE_MIN,
	    .vflags = GSO_F_DATA_VALID, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	size_t len;

	(void)state;
	len = build(&v4, inbuf);
	assert_int_equal(check(inbuf, len, NULL), 0);
	assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 46);
	len = build(&v6, inbuf);
	assert_int_equal(check(inbuf, len, NULL), 0);
	assert_int_equal(split(inbuf, len, GSO_FRAME_MAX), 46);
	len = build(&one, inbuf);
	assert_int_equal(check(inbuf, len, NULL), 0);
	wle16(inbuf + 2, 0);				/* hdr_len: a hint */
	assert_int_equal(check(inbuf, len, NULL), 0);
	wle16(inbuf + 2, (uint16_t)(len - VNET));
	assert_int_equal(check(inbuf, len, NULL), 0);
	/* a checksum alone, TCP then UDP; no work at all */
	one.type = GSO_TYPE_NONE;
	one.mss = 0;
	one.vflags = GSO_F_NEEDS_CSUM;
	len = build(&one, inbuf);
	assert_int_equal(check(inbuf, len, NULL), 0);
	wle16(inbuf + 8, 6);
	assert_int_equal(check(inbuf, len, NULL), 0);
	memset(inbuf, 0, VNET);
	assert_int_equal(check(inbuf, len, NULL), 0);
}

/* gso_size 1: one 64 KB packet would be 65000 segments. */
static void test_check_gso_size(void **state)
{
	struct spec sp = { .tcpopt = 12, .plen = 65535 - 20 - 32, .mss = 1,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV4,
	    .tflags = TCP_ACK };
	size_t len = build(&sp, inbuf);

	(void)state;
	assert_int_equal(check(inbuf, len, "gso_size"), -1);
	wle16(inbuf + 4, 0);
	assert_int_equal(check(inbuf, len, "gso_size"), -1);
	wle16(inbuf + 4, GSO_SIZE_MIN - 1);
	assert_int_equal(check(inbuf, len, "gso_size"), -1);
	/* no GSO type: gso_size must be 0 */
	inbuf[1] = GSO_TYPE_NONE;
	assert_int_equal(check(inbuf, len, NULL), -1);
}

/* At most GSO_SEGS_MAX segments, whatever gso_size. */
static void test_check_segments(void **state)
{
	struct spec sp = { .v6 = 1, .plen = 64 * 1000, .mss = 1000,
	    .vflags = GSO_F_NEEDS_CSUM, .type = GSO_TYPE_TCPV6,
	    .tflags = TCP_ACK };
	size_t len = build(&sp, inbuf);

	(void)state;
	assert_int_equal(check(inbuf, len, NULL), 0);
	sp.plen++;
	len = build(&sp, inbuf);
	assert_int_equal(check(inbuf, len, "segments"), -1);
	sp.plen = 65000;
	sp.mss = 600;
	len = build(&sp, inbuf);
	assert_int_equal(check(inbuf, len, "segments"), -1);
}

/* hdr_len past the frame; a frame too short or too long. */
static void test_check_lengths(void **state)
{
	size_t len = build_tso3();

	(void)state;
	wle16(inbuf + 2, (uint16_t)(len - VNET + 1));
	assert_int_equal(check(inbuf, len, "length or hdr_len"), -1);
	wle16(inbuf + 2, 0xffff);
	assert_int_equal(check(inbuf, len, "length or hdr_len"), -1);
	wle16(inbuf + 2, 54);
	assert_int_equal(check(inbuf, len, NULL), 0);
	assert_int_equal(check(inbuf, len - 1, NULL), -1);	/* IP length */
	assert_int_equal(check(inbuf, VNET - 1, NULL), -1);
	assert_int_equal(check(inbuf, VNET + 13, NULL), -1);
	assert_int_equal(check(inbuf, VNET + GSO_FRAME_MAX + 1, NULL), -1);
}

/* csum_start/csum_offset must name the L4 checksum, inside the frame. */
static void test_check_csum(void **state)
{
	size_t len = build_tso3(), n = len - VNET;

	(void)state;
	wle16(inbuf + 6, (uint16_t)n);				/* outside */
	assert_int_equal(check(inbuf, len, NULL), -1);
	wle16(inbuf + 6, 34 + 4);				/* not TCP's */
	assert_int_equal(check(inbuf, len, NULL), -1);
	wle16(inbuf + 6, 34);
	wle16(inbuf + 8, 6);
	assert_int_equal(check(inbuf, len, NULL), -1);
	/* a checksum alone */
	inbuf[1] = GSO_TYPE_NONE;
	wle16(inbuf + 4, 0);
	wle16(inbuf + 8, 16);
	assert_int_equal(check(inbuf, len, NULL), 0);
	wle16(inbuf + 6, (uint16_t)(n - 17));
	assert_int_equal(check(inbuf, len, "csum_start/csum_offset"), -1);
	wle16(inbuf + 6, (uint16_t)(n - 18));
	assert_int_equal(check(inbuf, len, NULL), 0);
	wle16(inbuf + 6, 0xffff);
	wle16(inbuf + 8, 0xffff);
	assert_int_equal(check(inbuf, len, "csum_start/csum_offset"), -1);
	wle16(inbuf + 6, 6);				/* Ethernet header */
	wle16(inbuf + 8, 6);
	assert_int_equal(check(inbuf, len, "csum_start/csum_offset"), -1);
	wle16(inbuf + 6, 34);
	wle16(inbuf + 8, 8);
	assert_int_equal(check(inbuf, len, "csum_start/csum_offset"), -1);
}

/* Unknown types, UDP offloads, ECN alone, unknown flags; a type that is
 * not the frame's IP version. */
static void test_check_type(void **state)
{
	static const uint8_t bad[] = { 2, 3, 5, 6, 0x7f, 0xff,
	    GSO_TYPE_ECN, GSO_TYPE_UDP | GSO_TYPE_ECN,
	    GSO_TYPE_UDP_L4 | GSO_TYPE_ECN };
	size_t len = build_tso3(), i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		inbuf[1] = bad[i];
		assert_int_equal(check(inbuf, len, NULL), -1);
	}
	inbuf[1] = GSO_TYPE_TCPV6;
	assert_int_equal(check(inbuf, len, NULL), -1);
	inbuf[1] = GSO_TYPE_TCPV4;
	assert_int_equal(check(inbuf, len, NULL), 0);
	inbuf[0] = GSO_F_NEEDS_CSUM | 0x04;
	assert_int_equal(check(inbuf, len, "flags"), -1);
	inbuf[0] = GSO_F_NEEDS_CSUM | 0x80;
	assert_int_equal(check(inbuf, len, "flags"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_v4_64k),
		cmocka_unit_test(test_v6_64k),
		cmocka_unit_test(test_ecn_cwr),
		cmocka_unit_test(test_fin_psh),
		cmocka_unit_test(test_options_vlan_odd),
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_gso_without_csum_flag),
		cmocka_unit_test(test_scratch_bound),
		cmocka_unit_test(test_csum_only_tcp),
		cmocka_unit_test(test_csum_only_udp_zero),
		cmocka_unit_test(test_csum_generic),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_malformed_vnet),
		cmocka_unit_test(test_malformed_ip4),
		cmocka_unit_test(test_malformed_ip6),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed_other),
		cmocka_unit_test(test_cap_64k),
		cmocka_unit_test(test_cap_flags_options),
		cmocka_unit_test(test_cap_min),
		cmocka_unit_test(test_cap_whole),
		cmocka_unit_test(test_cap_scratch),
		cmocka_unit_test(test_hdr_len),
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_gso_size),
		cmocka_unit_test(test_check_segments),
		cmocka_unit_test(test_check_lengths),
		cmocka_unit_test(test_check_csum),
		cmocka_unit_test(test_check_type),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
