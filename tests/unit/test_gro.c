/*
 * Software GRO: TCP super-segments cut by gso_split_mss (as a sending
 * daemon cuts them for a UDP link) and fed to gro one frame at a time,
 * each from its own exact-size heap copy freed at once, as cg_recv's views
 * die at the next call. What comes out is checked against the input:
 *
 *   super-segment --gso_split_mss--> s1 s2 .. sN --gro--> super-frame(s)
 *        ==                                                   |
 *        +------------ byte for byte ---------------<---------+
 *                  s1 s2 .. sN  <--gso_split-- each super-frame
 *
 * and frames that must not merge (other flows, gaps, FIN, options...)
 * come out one by one, unchanged and in order. Checksums are checked by
 * reference code that sums byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gro.h"
#include "gso.h"
#include "ref.h"

#define VNET		GSO_VNET_HDR_LEN
#define MAXF		2048
#define LIST_CAP	(4u << 20)
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_URG		0x20
#define TCP_ECE		0x40
#define TCP_CWR		0x80

/* ---- reference helpers, deliberately naive ---- */

/* Offsets of an untagged frame's IP and TCP headers and its payload. */
static int is_v6(const uint8_t *f)
{
	return be16(f + 12) == 0x86dd;
}

static size_t l4_of(const uint8_t *f)
{
	return 14 + (is_v6(f) ? 40 : (size_t)(f[14] & 0x0f) * 4);
}

static size_t hlen_of(const uint8_t *f)
{
	return l4_of(f) + (size_t)(f[l4_of(f) + 12] >> 4) * 4;
}

static int ref_tcp_ok(const uint8_t *f, size_t n)
{
	size_t l4 = l4_of(f);

	return ref_fold(ref_pseudo(f + 14, is_v6(f), n - l4) +
	    ref_sum(f + l4, n - l4)) == 0xffff;
}

static int ref_ip_ok(const uint8_t *f)
{
	return is_v6(f) || ref_sum(f + 14, l4_of(f) - 14) == 0xffff;
}

/* Recomputes the IPv4 header and TCP checksums of a frame. */
static void refix(uint8_t *f, size_t n)
{
	size_t l4 = l4_of(f);

	if (!is_v6(f)) {
		wbe16(f + 24, 0);
		wbe16(f + 24, (uint16_t)~ref_sum(f + 14, l4 - 14));
	}
	wbe16(f + l4 + 16, 0);
	wbe16(f + l4 + 16, (uint16_t)~ref_fold(ref_pseudo(f + 14, is_v6(f),
	    n - l4) + ref_sum(f + l4, n - l4)));
}

static void test_reference(void **state)
{
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
	    0xf6, 0xf7 };

	(void)state;
	assert_int_equal(ref_sum(rfc, sizeof(rfc)), 0xddf2);
	assert_int_equal(ref_sum(rfc, 3), 0xf201);
}

/* ---- building frames ---- */

/* A flow's headers; seq, id, length and flags are per segment. */
struct flow {
	int		v6;
	uint16_t	sport;
	size_t		tcpopt;		/* 0, or 12: NOP NOP timestamps */
	uint32_t	ack;
	uint32_t	tsval;
	uint16_t	win;
	uint8_t		tos;		/* IPv4 TOS, IPv6 traffic class */
	uint16_t	frag;		/* IPv4 flags + offset */
};

static const struct flow flow_a = { .sport = 40000, .tcpopt = 12,
    .ack = 0x11223344, .tsval = 0xa1b2c3d4, .win = 0xfedc, .tos = 0x02,
    .frag = 0x4000 };

/* Payload bytes depend on the sequence number only. */
static uint8_t data_at(uint32_t seq)
{
	return (uint8_t)(seq * 7 + (seq >> 8) * 13 + (seq >> 16));
}

static size_t seg_build(uint8_t *f, const struct flow *w, uint32_t seq,
    uint16_t id, size_t plen, uint8_t flags)
{
	static const uint8_t a6[32] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	uint8_t *ip = f + 14, *th;
	size_t l4 = 14 + (w->v6 ? 40 : 20), hlen = l4 + 20 + w->tcpopt;
	size_t n = hlen + plen, i;

	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (w->v6) {
		wbe16(f + 12, 0x86dd);
		ip[0] = (uint8_t)(0x60 | w->tos >> 4);
		ip[1] = (uint8_t)(w->tos << 4 | 0x0a);
		ip[2] = 0xbc;
		ip[3] = 0xde;
		wbe16(ip + 4, (uint16_t)(n - 54));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, a6, 32);
	} else {
		wbe16(f + 12, 0x0800);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[1] = w->tos;
		wbe16(ip + 2, (uint16_t)(n - 14));
		wbe16(ip + 4, id);
		wbe16(ip + 6, w->frag);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	th = f + l4;
	wbe16(th, w->sport);
	wbe16(th + 2, 443);
	wbe32(th + 4, seq);
	wbe32(th + 8, w->ack);
	th[12] = (uint8_t)((20 + w->tcpopt) / 4 << 4);
	th[13] = flags;
	wbe16(th + 14, w->win);
	wbe16(th + 18, 0);
	if (w->tcpopt == 12) {
		memcpy(th + 20, "\x01\x01\x08\x0a", 4);
		wbe32(th + 24, w->tsval);
		wbe32(th + 28, 0x01020304);
	}
	for (i = 0; i < plen; i++)
		f[hlen + i] = data_at(seq + (uint32_t)i);
	refix(f, n);
	return n;
}

/*
 * A super-segment as Linux writes it on a TAP: vnet header, one frame
 * carrying plen bytes, TCP check = the folded pseudo-header sum.
 */
static size_t super_build(uint8_t *b, const struct flow *w, uint32_t seq,
    uint16_t id, size_t plen, uint8_t flags, uint16_t mss)
{
	uint8_t *f = b + VNET;
	size_t n = seg_build(f, w, seq, id, plen, flags), l4 = l4_of(f);

	wbe16(f + l4 + 16, (uint16_t)ref_pseudo(f + 14, w->v6, n - l4));
	b[0] = GSO_F_NEEDS_CSUM;
	b[1] = w->v6 ? GSO_TYPE_TCPV6 : GSO_TYPE_TCPV4;
	wle16(b + 2, (uint16_t)hlen_of(f));
	wle16(b + 4, mss);
	wle16(b + 6, (uint16_t)l4);
	wle16(b + 8, 16);
	return VNET + n;
}

/* ---- frame lists: the input, gro's output ---- */

struct list {
	size_t		count, used;
	size_t		off[MAXF], len[MAXF];
	uint8_t		vnet[MAXF][VNET];
	uint8_t		*data;
};

static struct list *in, *out, *pieces;
static struct gro *gro;
static uint8_t *sbuf, *scratch;

static void list_reset(struct list *l)
{
	l->count = 0;
	l->used = 0;
}

static uint8_t *list_at(const struct list *l, size_t i)
{
	return l->data + l->off[i];
}

static void list_add(struct list *l, const uint8_t *vnet, const uint8_t *f,
    size_t len)
{
	assert_true(l->count < MAXF);
	assert_true(l->used + len <= LIST_CAP);
	l->off[l->count] = l->used;
	l->len[l->count] = len;
	if (vnet != NULL)
		memcpy(l->vnet[l->count], vnet, VNET);
	else
		memset(l->vnet[l->count], 0, VNET);
	memcpy(l->data + l->used, f, len);
	l->used += len;
	l->count++;
}

static void gro_collect(void *arg, const uint8_t *vnet, const uint8_t *f,
    size_t len)
{
	assert_ptr_equal(arg, out);
	assert_non_null(vnet);
	assert_true(len > 0 && len <= GRO_FRAME_MAX);
	list_add(out, vnet, f, len);
}

static void gso_collect(void *arg, const uint8_t *f, size_t len)
{
	list_add(arg, NULL, f, len);
}

/* Adds one segment of w to the input. */
static void push(const struct flow *w, uint32_t seq, uint16_t id,
    size_t plen, uint8_t flags)
{
	list_add(in, NULL, sbuf, seg_build(sbuf, w, seq, id, plen, flags));
}

/* Adds the segments of a super-segment cut under cap; their number. */
static size_t push_cut(const uint8_t *b, size_t len, size_t cap)
{
	size_t before = in->count;

	assert_true(gso_split_mss(b, len, cap, scratch, GSO_FRAME_MAX,
	    gso_collect, in) > 0);
	return in->count - before;
}

/* Feeds the input to gro, each frame from an exact-size copy, then
 * flushes. */
static void feed(void)
{
	size_t i;
	uint8_t *c;

	list_reset(out);
	for (i = 0; i < in->count; i++) {
		c = malloc(in->len[i]);
		assert_non_null(c);
		memcpy(c, list_at(in, i), in->len[i]);
		gro_frame(gro, c, in->len[i]);
		memset(c, 0xa5, in->len[i]);
		free(c);
	}
	gro_flush(gro);
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/*
 * Checks output i, a super-frame of the input's segments [k, k + segs):
 * vnet fields, lengths, checksums; gso_split cuts it back into exactly
 * those segments, byte for byte.
 */
static void check_super(size_t i, size_t k, size_t segs)
{
	const uint8_t *o = list_at(out, i), *v = out->vnet[i];
	const uint8_t *first = list_at(in, k);
	size_t n = out->len[i], l4 = l4_of(o), hlen = hlen_of(o), j;
	int v6 = is_v6(o);

	assert_int_equal(v[0], GSO_F_NEEDS_CSUM);
	assert_int_equal(v[1], v6 ? GSO_TYPE_TCPV6 : GSO_TYPE_TCPV4);
	assert_int_equal(le16(v + 2), hlen);
	assert_int_equal(le16(v + 4), in->len[k] - hlen_of(first));
	assert_int_equal(le16(v + 6), l4);
	assert_int_equal(le16(v + 8), 16);
	assert_true(n - 14 <= GRO_IP_MAX);
	assert_int_equal(be16(o + (v6 ? 18 : 16)), n - (v6 ? 54 : 14));
	assert_true(ref_ip_ok(o));
	/* the partial checksum a NEEDS_CSUM frame carries */
	assert_int_equal(be16(o + l4 + 16), ref_pseudo(o + 14, v6, n - l4));
	memcpy(sbuf, v, VNET);
	memcpy(sbuf + VNET, o, n);
	list_reset(pieces);
	assert_int_equal(gso_split(sbuf, VNET + n, scratch, GSO_FRAME_MAX,
	    gso_collect, pieces), (int)segs);
	for (j = 0; j < segs; j++) {
		assert_int_equal(pieces->len[j], in->len[k + j]);
		assert_memory_equal(list_at(pieces, j), list_at(in, k + j),
		    in->len[k + j]);
	}
	/* lib/gso completing the partial checksum gets the right one */
	sbuf[1] = GSO_TYPE_NONE;
	list_reset(pieces);
	assert_int_equal(gso_split(sbuf, VNET + n, scratch, GSO_FRAME_MAX,
	    gso_collect, pieces), 1);
	assert_true(ref_tcp_ok(list_at(pieces, 0), n));
}

/*
 * Feeds the input and checks the output: group i of the input is one
 * output frame, unchanged with a zero vnet header if it is one frame.
 */
static void expect(const size_t *groups, size_t ngroups)
{
	size_t i, k = 0;

	feed();
	assert_int_equal(out->count, ngroups);
	for (i = 0; i < ngroups; i++) {
		assert_true(k + groups[i] <= in->count);
		if (groups[i] == 1) {
			assert_true(all_zero(out->vnet[i], VNET));
			assert_int_equal(out->len[i], in->len[k]);
			assert_memory_equal(list_at(out, i), list_at(in, k),
			    in->len[k]);
		} else {
			check_super(i, k, groups[i]);
		}
		k += groups[i];
	}
	assert_int_equal(k, in->count);
}

#define EXPECT(...) do {						\
	static const size_t g_[] = { __VA_ARGS__ };			\
	expect(g_, sizeof(g_) / sizeof(g_[0]));				\
} while (0)

static int setup(void **state)
{
	(void)state;
	in = calloc(1, sizeof(*in));
	out = calloc(1, sizeof(*out));
	pieces = calloc(1, sizeof(*pieces));
	gro = malloc(sizeof(*gro));
	sbuf = malloc(VNET + GSO_FRAME_MAX);
	scratch = malloc(GSO_FRAME_MAX);
	if (in == NULL || out == NULL || pieces == NULL || gro == NULL ||
	    sbuf == NULL || scratch == NULL)
		return -1;
	in->data = malloc(LIST_CAP);
	out->data = malloc(LIST_CAP);
	pieces->data = malloc(LIST_CAP);
	if (in->data == NULL || out->data == NULL || pieces->data == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(in->data);
	free(out->data);
	free(pieces->data);
	free(in);
	free(out);
	free(pieces);
	free(gro);
	free(sbuf);
	free(scratch);
	return 0;
}

/* Each test starts with an empty input and a fresh gro. */
static int reset(void **state)
{
	(void)state;
	list_reset(in);
	list_reset(out);
	gro_init(gro, gro_collect, out);
	return 0;
}

/* ---- round trips: super-segment -> cut -> gro -> the same ---- */

static uint8_t *sup;

/* Cuts the super-segment in sup[0, len) under cap, merges the pieces,
 * and expects it back whole: same bytes, gso_size min(mss, cap). */
static void roundtrip(size_t len, size_t cap)
{
	size_t segs, mss = le16(sup + 4);
	unsigned long long merged = gro->merged, supers = gro->supers;

	list_reset(in);
	segs = push_cut(sup, len, cap);
	assert_true(segs > 1);
	expect(&segs, 1);
	assert_int_equal(out->len[0], len - VNET);
	assert_memory_equal(list_at(out, 0), sup + VNET, len - VNET);
	assert_memory_equal(out->vnet[0], sup, 4);
	assert_int_equal(le16(out->vnet[0] + 4), cap && cap < mss ? cap : mss);
	assert_memory_equal(out->vnet[0] + 6, sup + 6, 4);
	assert_int_equal(gro->merged - merged, segs);
	assert_int_equal(gro->supers - supers, 1);
}

static void test_v4_64k(void **state)
{
	size_t len;

	(void)state;
	/* the largest IPv4 packet: 45 segments of 1448 and one of 323 */
	len = super_build(sup, &flow_a, 0xffff0000, 0xfff0, 65535 - 52,
	    TCP_ACK, 1448);
	roundtrip(len, 0);
	assert_int_equal(out->len[0], 14 + 65535);
	roundtrip(len, 1380);
	roundtrip(len, 1447);
	len = super_build(sup, &flow_a, 7, 1, 30000, TCP_ACK | TCP_PSH,
	    1448);
	roundtrip(len, 0);
	roundtrip(len, 1000);
}

static void test_v6_64k(void **state)
{
	struct flow w = flow_a;
	size_t len;

	(void)state;
	w.v6 = 1;
	w.tos = 0xa0;
	len = super_build(sup, &w, 0xfffffff0, 0, 65535 - 72,
	    TCP_ACK | TCP_PSH, 1428);
	roundtrip(len, 0);
	roundtrip(len, 1280);
	w.tcpopt = 0;
	len = super_build(sup, &w, 1, 0, 10000, TCP_ACK, 1440);
	roundtrip(len, 0);
}

/* Exactly mss: a full last segment does not end the run, the flush does. */
static void test_exact_multiple(void **state)
{
	size_t len;

	(void)state;
	len = super_build(sup, &flow_a, 100, 200, 10 * 1000, TCP_ACK, 1000);
	roundtrip(len, 0);
}

/* A tiny cap: 1024 segments, in super-frames of GRO_SEGS_MAX. */
static void test_segs_max(void **state)
{
	size_t groups[16], i, len;

	(void)state;
	len = super_build(sup, &flow_a, 5, 9, 65535 - 52, TCP_ACK,
	    1448);
	assert_int_equal(push_cut(sup, len, GSO_MSS_MIN), 1024);
	for (i = 0; i < 16; i++)
		groups[i] = GRO_SEGS_MAX;
	expect(groups, 16);
	assert_int_equal(gro->merged, 1024);
	assert_int_equal(gro->supers, 16);
}

/* Two super-segments back to back: the run stops at 64 KB of IP. */
static void test_ip_max(void **state)
{
	struct flow w = flow_a;
	size_t len, first;

	(void)state;
	len = super_build(sup, &w, 1000, 40, 30 * 1448, TCP_ACK, 1448);
	assert_int_equal(push_cut(sup, len, 0), 30);
	len = super_build(sup, &w, 1000 + 30 * 1448, 70, 30 * 1448,
	    TCP_ACK | TCP_PSH, 1448);
	assert_int_equal(push_cut(sup, len, 0), 30);
	/* 20 + 32 + 45 * 1448 = 65212 fits, one more does not */
	EXPECT(45, 15);
	assert_int_equal(out->len[0], 14 + 52 + 45 * 1448);
	/* the PSH of the last segment, only on the second */
	assert_int_equal(list_at(out, 0)[34 + 13], TCP_ACK);
	assert_int_equal(list_at(out, 1)[34 + 13], TCP_ACK | TCP_PSH);
	/* IPv6: the largest super-segment does not fit in one */
	list_reset(in);
	w.v6 = 1;
	len = super_build(sup, &w, 1, 0, 65535 - 32, TCP_ACK, 1428);
	assert_int_equal(push_cut(sup, len, 0), 46);
	EXPECT(45, 1);
	first = 14 + 40 + 32 + 45 * 1428;
	assert_int_equal(out->len[0], first);
	assert_true(first - 14 <= GRO_IP_MAX &&
	    first - 14 + 1428 > GRO_IP_MAX);
}

/* ---- what must not merge ---- */

static void test_two_flows(void **state)
{
	struct flow b = flow_a;
	int i;

	(void)state;
	b.sport = 40001;
	for (i = 0; i < 3; i++) {
		push(&flow_a, 1000 + (uint32_t)i * 100, (uint16_t)i, 100,
		    TCP_ACK);
		push(&b, 5000 + (uint32_t)i * 100, (uint16_t)(50 + i), 100,
		    TCP_ACK);
	}
	EXPECT(1, 1, 1, 1, 1, 1);
	assert_int_equal(gro->supers, 0);
	/* the same frames in blocks merge per flow */
	list_reset(in);
	for (i = 0; i < 3; i++)
		push(&flow_a, 1000 + (uint32_t)i * 100, (uint16_t)i, 100,
		    TCP_ACK);
	for (i = 0; i < 3; i++)
		push(&b, 5000 + (uint32_t)i * 100, (uint16_t)(50 + i), 100,
		    TCP_ACK);
	EXPECT(3, 3);
}

static void test_seq_gap(void **state)
{
	(void)state;
	push(&flow_a, 0, 0, 500, TCP_ACK);
	push(&flow_a, 500, 1, 500, TCP_ACK);
	push(&flow_a, 1500, 2, 500, TCP_ACK);	/* 1000..1500 lost */
	push(&flow_a, 2000, 3, 500, TCP_ACK);
	push(&flow_a, 2000, 4, 500, TCP_ACK);	/* a retransmission */
	push(&flow_a, 1000, 5, 500, TCP_ACK);	/* the lost one */
	EXPECT(2, 2, 1, 1);
}

static void test_headers_differ(void **state)
{
	struct flow w = flow_a;

	(void)state;
	push(&w, 0, 0, 500, TCP_ACK);
	push(&w, 500, 1, 500, TCP_ACK);
	w.ack++;				/* ack moves */
	push(&w, 1000, 2, 500, TCP_ACK);
	push(&w, 1500, 3, 500, TCP_ACK);
	w.tsval++;				/* options differ */
	push(&w, 2000, 4, 500, TCP_ACK);
	push(&w, 2500, 5, 500, TCP_ACK);
	w.win--;				/* window */
	push(&w, 3000, 6, 500, TCP_ACK);
	w.tos = 0x03;				/* CE mark */
	push(&w, 3500, 7, 500, TCP_ACK);
	w.tos = 0x02;
	push(&w, 4000, 8, 500, TCP_ACK);
	push(&w, 4500, 10, 500, TCP_ACK);	/* IP ID skips */
	EXPECT(2, 2, 2, 1, 1, 1, 1);
	list_reset(in);
	w.tcpopt = 0;				/* no options at all */
	push(&w, 5000, 11, 500, TCP_ACK);
	push(&w, 5500, 12, 500, TCP_ACK);
	w.tcpopt = 12;
	push(&w, 6000, 13, 500, TCP_ACK);
	EXPECT(2, 1);
}

/* A FIN, or any flag but ACK and a last PSH, goes out on its own. */
static void test_flags(void **state)
{
	static const uint8_t alone[] = { TCP_FIN, TCP_SYN, TCP_RST, TCP_URG,
	    TCP_ECE, TCP_CWR, 0 };
	size_t i;

	(void)state;
	push(&flow_a, 0, 0, 100, TCP_ACK);
	push(&flow_a, 100, 1, 100, TCP_ACK);
	push(&flow_a, 200, 2, 100, TCP_ACK | TCP_FIN);
	push(&flow_a, 300, 3, 100, TCP_ACK);
	EXPECT(2, 1, 1);
	for (i = 0; i < sizeof(alone); i++) {
		list_reset(in);
		push(&flow_a, 0, 0, 100, TCP_ACK);
		push(&flow_a, 100, 1, 100, TCP_ACK);
		push(&flow_a, 200, 2, 100, (uint8_t)(TCP_ACK | alone[i]));
		push(&flow_a, 300, 3, 100, TCP_ACK);
		push(&flow_a, 400, 4, 100, TCP_ACK);
		if (alone[i] == 0)
			EXPECT(5);
		else
			EXPECT(2, 1, 2);
	}
	/* a frame without ACK never merges */
	list_reset(in);
	push(&flow_a, 0, 0, 100, TCP_ACK);
	push(&flow_a, 100, 1, 100, 0);
	EXPECT(1, 1);
	/* a PSH ends a run and does not start one */
	list_reset(in);
	push(&flow_a, 0, 0, 100, TCP_ACK);
	push(&flow_a, 100, 1, 100, TCP_ACK);
	push(&flow_a, 200, 2, 100, TCP_ACK | TCP_PSH);
	push(&flow_a, 300, 3, 100, TCP_ACK | TCP_PSH);
	push(&flow_a, 400, 4, 100, TCP_ACK);
	push(&flow_a, 500, 5, 100, TCP_ACK);
	EXPECT(3, 1, 2);
	assert_int_equal(list_at(out, 0)[34 + 13], TCP_ACK | TCP_PSH);
	assert_int_equal(list_at(out, 2)[34 + 13], TCP_ACK);
}

/* A short segment ends the run; a longer one than the first starts one. */
static void test_sizes(void **state)
{
	(void)state;
	push(&flow_a, 0, 0, 1000, TCP_ACK);
	push(&flow_a, 1000, 1, 1000, TCP_ACK);
	push(&flow_a, 2000, 2, 999, TCP_ACK);
	push(&flow_a, 2999, 3, 1000, TCP_ACK);
	push(&flow_a, 3999, 4, 1001, TCP_ACK);
	push(&flow_a, 5000, 5, 1001, TCP_ACK);
	push(&flow_a, 6001, 6, 1, TCP_ACK);
	push(&flow_a, 6002, 7, 0, TCP_ACK);	/* a pure ACK */
	push(&flow_a, 6002, 8, 0, TCP_ACK);
	EXPECT(3, 1, 3, 1, 1);
	assert_int_equal(le16(out->vnet[0] + 4), 1000);
	assert_int_equal(le16(out->vnet[2] + 4), 1001);
}

/* What is not plain IP + TCP goes out unchanged, in its place. */
static void test_not_tcp(void **state)
{
	struct flow w = flow_a;
	uint8_t *f = sbuf;
	size_t n;

	(void)state;
	push(&flow_a, 0, 0, 100, TCP_ACK);
	push(&flow_a, 100, 1, 100, TCP_ACK);
	/* UDP */
	n = seg_build(f, &flow_a, 200, 2, 100, TCP_ACK);
	f[23] = 17;
	refix(f, n);
	list_add(in, NULL, f, n);
	/* an ARP-sized frame, and one shorter than an Ethernet header */
	memset(f + 12, 0, 50);
	wbe16(f + 12, 0x0806);
	list_add(in, NULL, f, 60);
	list_add(in, NULL, f, 13);
	/* VLAN-tagged TCP */
	n = seg_build(f + 4, &flow_a, 200, 2, 100, TCP_ACK);
	memmove(f, f + 4, 12);
	wbe16(f + 12, 0x8100);
	wbe16(f + 14, 7);
	list_add(in, NULL, f, n + 4);
	list_add(in, NULL, f, n + 4);
	/* IPv4 options */
	n = seg_build(f, &flow_a, 200, 2, 100, TCP_ACK);
	memmove(f + 38, f + 34, n - 34);
	memset(f + 34, 1, 4);
	f[14] = 0x46;
	wbe16(f + 16, (uint16_t)(n + 4 - 14));
	refix(f, n + 4);
	list_add(in, NULL, f, n + 4);
	list_add(in, NULL, f, n + 4);
	/* fragments: more fragments, an offset, the reserved bit */
	w.frag = 0x2000;
	push(&w, 200, 2, 100, TCP_ACK);
	push(&w, 300, 3, 100, TCP_ACK);
	w.frag = 0x0001;
	push(&w, 400, 4, 100, TCP_ACK);
	w.frag = 0xc000;
	push(&w, 500, 5, 100, TCP_ACK);
	/* IPv6 with a hop-by-hop header, taken for TCP */
	w = flow_a;
	w.v6 = 1;
	n = seg_build(f, &w, 0, 0, 100, TCP_ACK);
	f[20] = 0;
	list_add(in, NULL, f, n);
	list_add(in, NULL, f, n);
	/* Ethernet padding after the IP packet */
	n = seg_build(f, &flow_a, 200, 2, 4, TCP_ACK);
	memset(f + n, 0, 4);
	list_add(in, NULL, f, n + 4);
	list_add(in, NULL, f, n + 4);
	EXPECT(2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
}

/* A bad checksum is passed on for the kernel to drop, never merged. */
static void test_bad_csum(void **state)
{
	uint8_t *f = sbuf;
	size_t n;

	(void)state;
	push(&flow_a, 0, 0, 100, TCP_ACK);
	n = seg_build(f, &flow_a, 100, 1, 100, TCP_ACK);
	f[n - 1] ^= 0x40;			/* payload */
	list_add(in, NULL, f, n);
	push(&flow_a, 100, 1, 100, TCP_ACK);
	push(&flow_a, 200, 2, 100, TCP_ACK);
	EXPECT(1, 1, 2);
	list_reset(in);
	push(&flow_a, 0, 0, 100, TCP_ACK);
	n = seg_build(f, &flow_a, 100, 1, 100, TCP_ACK);
	f[24] ^= 0x01;				/* IPv4 header */
	list_add(in, NULL, f, n);
	push(&flow_a, 100, 1, 100, TCP_ACK);
	push(&flow_a, 200, 2, 100, TCP_ACK);
	EXPECT(1, 1, 2);
}

/*
 * The IP length must be the frame's: Ethernet padding, or a frame cut
 * short, is not merged even with a TCP checksum that fits the frame.
 */
static void test_ip_length(void **state)
{
	struct flow w = flow_a;
	uint8_t *f = sbuf;
	size_t n;
	int v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		w.v6 = v6;
		list_reset(in);
		push(&w, 0, 0, 100, TCP_ACK);
		push(&w, 100, 1, 100, TCP_ACK);
		n = seg_build(f, &w, 200, 2, 96, TCP_ACK);
		memset(f + n, 0, 4);
		refix(f, n + 4);
		list_add(in, NULL, f, n + 4);
		EXPECT(2, 1);
		list_reset(in);
		push(&w, 0, 0, 100, TCP_ACK);
		push(&w, 100, 1, 100, TCP_ACK);
		n = seg_build(f, &w, 200, 2, 104, TCP_ACK);
		refix(f, n - 4);
		list_add(in, NULL, f, n - 4);
		EXPECT(2, 1);
	}
}

/* One header field differs from the run's: the run ends before it. */
static void test_field_differs(void **state)
{
	static const struct {
		int	v6;
		size_t	off;
		uint8_t	x;
	} pokes[] = {
		{ 0, 5, 0x08 },			/* Ethernet destination */
		{ 0, 11, 0x08 },		/* Ethernet source */
		{ 0, 15, 0x04 },		/* TOS */
		{ 0, 22, 0x01 },		/* TTL */
		{ 0, 29, 0x80 },		/* source address */
		{ 0, 33, 0x80 },		/* destination address */
		{ 0, 35, 0x01 },		/* source port */
		{ 0, 37, 0x01 },		/* destination port */
		{ 0, 45, 0x01 },		/* ack */
		{ 0, 49, 0x01 },		/* window */
		{ 0, 53, 0x01 },		/* urgent pointer (URG clear) */
		{ 0, 54, 0x01 },		/* options: NOP -> EOL */
		{ 0, 61, 0x01 },		/* timestamp value */
		{ 0, 65, 0x01 },		/* timestamp echo */
		{ 1, 14, 0x01 },		/* traffic class */
		{ 1, 15, 0x10 },
		{ 1, 17, 0x01 },		/* flow label */
		{ 1, 21, 0x01 },		/* hop limit */
		{ 1, 37, 0x01 },		/* source address */
		{ 1, 53, 0x01 },		/* destination address */
		{ 1, 55, 0x01 },		/* source port */
		{ 1, 65, 0x01 },		/* ack */
		{ 1, 69, 0x01 },		/* window */
	};
	struct flow w = flow_a;
	uint8_t *f = sbuf;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
		list_reset(in);
		w.v6 = pokes[i].v6;
		push(&w, 0, 0, 100, TCP_ACK);
		push(&w, 100, 1, 100, TCP_ACK);
		n = seg_build(f, &w, 200, 2, 100, TCP_ACK);
		f[pokes[i].off] ^= pokes[i].x;
		refix(f, n);
		list_add(in, NULL, f, n);
		EXPECT(2, 1);
	}
	/* IPv4, then IPv6 between the same ports */
	list_reset(in);
	w.v6 = 0;
	push(&w, 0, 0, 100, TCP_ACK);
	push(&w, 100, 1, 100, TCP_ACK);
	w.v6 = 1;
	push(&w, 200, 2, 100, TCP_ACK);
	push(&w, 300, 3, 100, TCP_ACK);
	EXPECT(2, 2);
}

/*
 * With DF the IP ID may stand still (RFC 6864); it then comes out of a
 * re-cut counting up, which is as good. Without DF it must count.
 */
static void test_fixed_id(void **state)
{
	struct flow w = flow_a;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		push(&w, (uint32_t)i * 100, 77, 100, TCP_ACK);
	push(&w, 400, 78, 100, TCP_ACK);
	feed();
	assert_int_equal(out->count, 2);
	assert_int_equal(out->len[0], in->len[0] + 300);
	assert_int_equal(le16(out->vnet[0] + 4), 100);
	assert_int_equal(be16(list_at(out, 0) + 18), 77);
	assert_true(ref_ip_ok(list_at(out, 0)));
	for (i = 0; i < 4; i++)
		assert_memory_equal(list_at(out, 0) + 66 + i * 100,
		    list_at(in, i) + 66, 100);
	assert_memory_equal(list_at(out, 1), list_at(in, 4), in->len[4]);
	/* without DF: one at a time */
	list_reset(in);
	w.frag = 0;
	for (i = 0; i < 3; i++)
		push(&w, (uint32_t)i * 100, 77, 100, TCP_ACK);
	EXPECT(1, 1, 1);
	/* counting IDs without DF are fine, across the wrap */
	list_reset(in);
	for (i = 0; i < 3; i++)
		push(&w, (uint32_t)i * 100, (uint16_t)(0xffff + i), 100,
		    TCP_ACK);
	EXPECT(3);
	/* a step of 2 is not a count */
	list_reset(in);
	for (i = 0; i < 3; i++)
		push(&w, (uint32_t)i * 100, (uint16_t)(2 * i), 100, TCP_ACK);
	EXPECT(1, 1, 1);
}

/* An explicit flush ends the run; flushing nothing emits nothing. */
static void test_flush(void **state)
{
	uint8_t *c;
	size_t i;

	(void)state;
	gro_flush(gro);
	assert_int_equal(out->count, 0);
	for (i = 0; i < 4; i++)
		push(&flow_a, (uint32_t)i * 100, (uint16_t)i, 100, TCP_ACK);
	for (i = 0; i < 4; i++) {
		c = malloc(in->len[i]);
		assert_non_null(c);
		memcpy(c, list_at(in, i), in->len[i]);
		gro_frame(gro, c, in->len[i]);
		free(c);
		if (i == 1)
			gro_flush(gro);
	}
	assert_int_equal(out->count, 1);
	gro_flush(gro);
	gro_flush(gro);
	assert_int_equal(out->count, 2);
	assert_int_equal(out->len[0], in->len[0] + 100);
	assert_int_equal(out->len[1], in->len[2] + 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference),
		cmocka_unit_test_setup(test_v4_64k, reset),
		cmocka_unit_test_setup(test_v6_64k, reset),
		cmocka_unit_test_setup(test_exact_multiple, reset),
		cmocka_unit_test_setup(test_segs_max, reset),
		cmocka_unit_test_setup(test_ip_max, reset),
		cmocka_unit_test_setup(test_two_flows, reset),
		cmocka_unit_test_setup(test_seq_gap, reset),
		cmocka_unit_test_setup(test_headers_differ, reset),
		cmocka_unit_test_setup(test_flags, reset),
		cmocka_unit_test_setup(test_sizes, reset),
		cmocka_unit_test_setup(test_not_tcp, reset),
		cmocka_unit_test_setup(test_bad_csum, reset),
		cmocka_unit_test_setup(test_ip_length, reset),
		cmocka_unit_test_setup(test_field_differs, reset),
		cmocka_unit_test_setup(test_fixed_id, reset),
		cmocka_unit_test_setup(test_flush, reset),
	};
	int r;

	sup = malloc(VNET + GSO_FRAME_MAX);
	if (sup == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, setup, teardown);
	free(sup);
	return r;
}
