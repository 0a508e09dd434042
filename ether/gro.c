/*
 * GRO in software: consecutive TCP segments of one flow merged into one
 * super-frame for a TAP with IFF_VNET_HDR. What merges is in gro.h.
 *
 * Incoming checksums are verified, not trusted. The mesh carried the
 * frames over authenticated links, but the TCP checksum is the sending
 * host's end-to-end word, and a super-frame reaches the kernel with a
 * partial checksum that it does not check again: a segment that fails
 * goes out unchanged instead, for the kernel to drop as before. The check
 * is one pass over bytes that are copied right after (from cache), and it
 * is work the kernel no longer does for the merged segments.
 */
#include <stddef.h>
#include <string.h>

#include "bytes.h"
#include "gro.h"

#define ETH_HLEN	14
#define ETH_P_IPV4	0x0800
#define ETH_P_IPV6	0x86dd
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define IP_DF		0x4000
#define IPPROTO_TCP_	6
#define TCP_HLEN	20
#define TCP_CSUM_OFF	16
#define TCP_PSH		0x08
#define TCP_ACK		0x10

/* A frame that passed seg_parse: offsets are from the frame's start. */
struct seg {
	const uint8_t	*f;
	size_t		n, l4, hlen;
	int		v6;
	uint64_t	pseudo;		/* addresses + protocol, unfolded */
};

static const uint8_t vnet_none[GSO_VNET_HDR_LEN];

/*
 * Ones' complement sums run over memory as native 64-bit words with the
 * carry of each add wrapped back in. RFC 1071: the sum does not care
 * about byte order, so a folded native sum stored natively is the right
 * big-endian field, and 2^64 - 1 being a multiple of 0xffff makes the
 * wide sum fold to the 16-bit one. Every piece summed starts at an even
 * offset of the checksummed data.
 */
static uint64_t sum_add(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

static uint64_t sum_bytes(uint64_t acc, const uint8_t *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		acc = sum_add(acc, w);
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		acc = sum_add(acc, w);
	}
	return acc;
}

/* v as the sum sees it when it is stored big-endian. */
static uint64_t sum_be16(uint16_t v)
{
	uint8_t b[2];
	uint16_t w;

	put16(b, v);
	memcpy(&w, b, 2);
	return w;
}

static uint16_t sum_fold(uint64_t acc)
{
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void put_le16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * Could f be in a run? A TCP segment with payload, flags ACK or ACK|PSH,
 * right after an untagged Ethernet header and an IPv4 header without
 * options or fragmentation or an IPv6 header without extensions, that
 * fills the frame exactly and fits a run, checksums correct.
 */
static int seg_parse(struct seg *s, const uint8_t *f, size_t n)
{
	const uint8_t *ip = f + ETH_HLEN, *th;
	size_t doff;
	uint64_t acc;

	if (n < ETH_HLEN + IPV4_HLEN || n > GRO_FRAME_MAX)
		return -1;
	switch (get16(f + 12)) {
	case ETH_P_IPV4:
		if (ip[0] != 0x45 || get16(ip + 2) != n - ETH_HLEN ||
		    (get16(ip + 6) & ~IP_DF) != 0 || ip[9] != IPPROTO_TCP_ ||
		    sum_fold(sum_bytes(0, ip, IPV4_HLEN)) != 0xffff)
			return -1;
		s->v6 = 0;
		s->l4 = ETH_HLEN + IPV4_HLEN;
		s->pseudo = sum_bytes(0, ip + 12, 8);
		break;
	case ETH_P_IPV6:
		if (n < ETH_HLEN + IPV6_HLEN || ip[0] >> 4 != 6 ||
		    ip[6] != IPPROTO_TCP_ ||
		    get16(ip + 4) != n - ETH_HLEN - IPV6_HLEN)
			return -1;
		s->v6 = 1;
		s->l4 = ETH_HLEN + IPV6_HLEN;
		s->pseudo = sum_bytes(0, ip + 8, 32);
		break;
	default:
		return -1;
	}
	if (n < s->l4 + TCP_HLEN)
		return -1;
	th = f + s->l4;
	doff = (size_t)(th[12] >> 4) * 4;
	/* reserved bits and AE too: nothing of ECN merges */
	if (doff < TCP_HLEN || (th[12] & 0x0f) != 0 ||
	    (th[13] & ~TCP_PSH) != TCP_ACK || n <= s->l4 + doff)
		return -1;
	s->f = f;
	s->n = n;
	s->hlen = s->l4 + doff;
	s->pseudo = sum_add(s->pseudo, sum_be16(IPPROTO_TCP_));
	acc = sum_add(s->pseudo, sum_be16((uint16_t)(n - s->l4)));
	if (sum_fold(sum_bytes(acc, th, n - s->l4)) != 0xffff)
		return -1;
	return 0;
}

/* Do the IP headers of the run and of s agree (lengths, checksum apart)? */
static int seg_same_ip(const struct gro *g, const struct seg *s)
{
	const uint8_t *a = g->buf + ETH_HLEN, *b = s->f + ETH_HLEN;
	uint16_t id;

	if (g->v6)
		return memcmp(a, b, 4) == 0 && memcmp(a + 6, b + 6, 34) == 0;
	if (memcmp(a, b, 2) != 0 || memcmp(a + 6, b + 6, 4) != 0 ||
	    memcmp(a + 12, b + 12, 8) != 0)
		return 0;
	/* the ID counts segments; with DF it may stand still instead */
	id = (uint16_t)(get16(b + 4) - g->id0);
	if (g->segs == 1)
		return id == 1 || (id == 0 && (get16(a + 6) & IP_DF));
	return id == (uint16_t)(g->id_step * g->segs);
}

/* Does s continue the run exactly, and fit? */
static int seg_continues(const struct gro *g, const struct seg *s)
{
	const uint8_t *ta = g->buf + g->l4, *tb = s->f + s->l4;
	size_t plen = s->n - s->hlen;

	if (s->v6 != g->v6 || s->hlen != g->hlen || plen > g->mss ||
	    g->segs >= GRO_SEGS_MAX ||
	    g->len - ETH_HLEN + plen > GRO_IP_MAX ||
	    get32(tb + 4) != g->seq ||
	    memcmp(g->buf, s->f, ETH_HLEN) != 0 || !seg_same_ip(g, s))
		return 0;
	/* ports, ack, data offset, window, urgent pointer, options */
	return memcmp(ta, tb, 4) == 0 && memcmp(ta + 8, tb + 8, 5) == 0 &&
	    memcmp(ta + 14, tb + 14, 2) == 0 &&
	    memcmp(ta + 18, tb + 18, g->hlen - g->l4 - 18) == 0;
}

static void run_start(struct gro *g, const struct seg *s)
{
	memcpy(g->buf, s->f, s->n);
	g->len = s->n;
	g->l4 = s->l4;
	g->hlen = s->hlen;
	g->mss = s->n - s->hlen;
	g->segs = 1;
	g->v6 = s->v6;
	g->id0 = s->v6 ? 0 : get16(s->f + ETH_HLEN + 4);
	g->id_step = 0;
	g->seq = get32(s->f + s->l4 + 4) + (uint32_t)g->mss;
	g->pseudo = s->pseudo;
}

/* Appends s's payload; a PSH or a short segment ends the run. */
static void run_extend(struct gro *g, const struct seg *s)
{
	size_t plen = s->n - s->hlen;
	int psh = s->f[s->l4 + 13] & TCP_PSH;

	memcpy(g->buf + g->len, s->f + s->hlen, plen);
	g->len += plen;
	g->seq += (uint32_t)plen;
	if (g->segs == 1 && !g->v6)
		g->id_step = (uint16_t)(get16(s->f + ETH_HLEN + 4) - g->id0);
	g->segs++;
	if (psh)
		g->buf[g->l4 + 13] |= TCP_PSH;
	if (psh || plen < g->mss)
		gro_flush(g);
}

void gro_init(struct gro *g, gro_emit_fn *emit, void *arg)
{
	memset(g, 0, offsetof(struct gro, buf));
	g->emit = emit;
	g->arg = arg;
}

void gro_flush(struct gro *g)
{
	uint8_t *ip = g->buf + ETH_HLEN, *v = g->vnet;
	size_t len = g->len;
	uint16_t c;

	if (len == 0)
		return;
	g->len = 0;
	if (g->segs == 1) {
		g->emit(g->arg, vnet_none, g->buf, len);
		return;
	}
	if (g->v6) {
		put16(ip + 4, (uint16_t)(len - ETH_HLEN - IPV6_HLEN));
	} else {
		put16(ip + 2, (uint16_t)(len - ETH_HLEN));
		put16(ip + 10, 0);
		c = (uint16_t)~sum_fold(sum_bytes(0, ip, IPV4_HLEN));
		memcpy(ip + 10, &c, 2);
	}
	/* NEEDS_CSUM: the field holds the pseudo-header's folded sum, whole
	 * TCP length included, not complemented: as Linux leaves it and as
	 * gso_split's completion (lib/gso.c) reads it */
	c = sum_fold(sum_add(g->pseudo, sum_be16((uint16_t)(len - g->l4))));
	memcpy(g->buf + g->l4 + TCP_CSUM_OFF, &c, 2);
	v[0] = GSO_F_NEEDS_CSUM;
	v[1] = g->v6 ? GSO_TYPE_TCPV6 : GSO_TYPE_TCPV4;
	put_le16(v + 2, g->hlen);
	put_le16(v + 4, g->mss);
	put_le16(v + 6, g->l4);
	put_le16(v + 8, TCP_CSUM_OFF);
	g->merged += g->segs;
	g->supers++;
	g->emit(g->arg, v, g->buf, len);
}

void gro_frame(struct gro *g, const uint8_t *frame, size_t len)
{
	struct seg s;

	if (seg_parse(&s, frame, len) == -1) {
		gro_flush(g);
		g->emit(g->arg, vnet_none, frame, len);
		return;
	}
	if (g->len != 0 && seg_continues(g, &s)) {
		run_extend(g, &s);
		return;
	}
	gro_flush(g);
	/* a PSH ends a run: it cannot start one */
	if (frame[s.l4 + 13] & TCP_PSH)
		g->emit(g->arg, vnet_none, frame, len);
	else
		run_start(g, &s);
}
