/*
 * libFuzzer: a sequence of frames into gro, each from an exact-size heap
 * copy freed right after (cg_recv's views die at the next call). Records:
 *
 *   0x00..0x7f  len(2, LE) bytes: a raw frame; bit 0 has its IPv4 header
 *               and TCP checksums fixed first; len 0 flushes instead.
 *   0x80..0xff  plen(2, LE) off xor: the next segment of one of four
 *               flows (bits 0-1: IPv4/IPv6, with or without timestamps),
 *               bit 2 PSH, bit 3 the IPv4 ID stands still, bit 4 byte
 *               off of the frame XORed with xor before the checksums
 *               are set, bit 5 after, bit 6 the flow's seq not moved.
 *
 * Every output must be accounted for, in order: a plain one is the next
 * input, unchanged; a super-frame has sane vnet fields, lengths and
 * partial checksum, gso_split cuts it without error into at least two,
 * at most GRO_SEGS_MAX segments, and those are the next inputs (their
 * checksums valid; the IPv4 ID may differ only where DF let it stand
 * still). At the end every input came out once, payload bytes included.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ether/gro.c"
#include "fz_csum.h"

#define FZ_MAXIN	8192
#define FZ_SEG_MAX	1600

struct fz_flow {
	int		v6;
	size_t		tcpopt;
	uint32_t	seq;
	uint16_t	id;
};

struct fz {
	struct gro	g;
	size_t		count, next, used;
	size_t		off[FZ_MAXIN], len[FZ_MAXIN];
	uint8_t		*data;
	size_t		cap;
	uint8_t		*scratch, *whole;
	/* the super-frame being checked */
	size_t		pieces, hlen, mss, paid;
	int		ended;		/* a PSH or short segment came */
	const uint8_t	*first;		/* its first input */
	unsigned long long in_bytes, out_bytes;
};

static struct fz z;

static uint16_t fz_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* An untagged IPv4/IPv6 frame's TCP header offset; 0 if it has none. */
static size_t fz_l4(const uint8_t *f, size_t n)
{
	size_t l4;

	if (n < 14 + 20)
		return 0;
	if (get16(f + 12) == 0x86dd) {
		if (n < 14 + 40 + 20 || f[20] != 6)
			return 0;
		l4 = 54;
	} else if (get16(f + 12) == 0x0800) {
		l4 = 14 + (size_t)(f[14] & 0x0f) * 4;
		if (l4 < 34 || f[23] != 6 || n < l4 + 20)
			return 0;
	} else {
		return 0;
	}
	return l4;
}

FZ_QUIET static uint32_t fz_pseudo(const uint8_t *f, size_t tcplen)
{
	uint8_t ph[4] = { 0, 6, 0, 0 };
	uint32_t s;

	s = get16(f + 12) == 0x86dd ? fz_sum(f + 22, 32, 0) :
	    fz_sum(f + 26, 8, 0);
	put16(ph + 2, (uint16_t)tcplen);
	return fz_sum(ph, 4, s);
}

FZ_QUIET static int fz_tcp_ok(const uint8_t *f, size_t n)
{
	size_t l4 = fz_l4(f, n);

	return l4 != 0 && fz_sum(f + l4, n - l4, fz_pseudo(f, n - l4)) ==
	    0xffff;
}

/* Sets the IPv4 header and TCP checksums as far as the frame allows. */
FZ_QUIET static void fz_fix(uint8_t *f, size_t n)
{
	size_t l4 = fz_l4(f, n), ihl;

	if (l4 == 0)
		return;
	if (get16(f + 12) == 0x0800) {
		ihl = l4 - 14;
		put16(f + 24, 0);
		put16(f + 24, (uint16_t)~fz_sum(f + 14, ihl, 0));
	}
	put16(f + l4 + 16, 0);
	put16(f + l4 + 16, (uint16_t)~fz_sum(f + l4, n - l4,
	    fz_pseudo(f, n - l4)));
}

static void fz_input(const uint8_t *f, size_t n)
{
	uint8_t *c;

	if (z.count == FZ_MAXIN || z.used + n > z.cap)
		return;
	z.off[z.count] = z.used;
	z.len[z.count] = n;
	memcpy(z.data + z.used, f, n);
	z.used += n;
	z.count++;
	z.in_bytes += n;
	if ((c = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(c, f, n);
	gro_frame(&z.g, c, n);
	free(c);
}

/* A segment cut from a super-frame against the next input. */
static void fz_piece(void *arg, const uint8_t *p, size_t n)
{
	const uint8_t *e;
	size_t en, l4;

	(void)arg;
	if (z.next == z.count)
		abort();
	e = z.data + z.off[z.next];
	en = z.len[z.next];
	z.next++;
	z.pieces++;
	if (n != en || n < z.hlen || !fz_tcp_ok(p, n) || !fz_tcp_ok(e, n))
		abort();
	/* the rules, on what merged: plain IPv4 with a correct header
	 * checksum or IPv6 with TCP next, ACK with PSH or a short payload
	 * only on the last, no reserved bits */
	l4 = fz_l4(e, n);
	if (get16(e + 12) == 0x0800 ? l4 != 34 || e[14] != 0x45 ||
	    get16(e + 16) != n - 14 || (get16(e + 20) & ~0x4000) != 0 ||
	    fz_sum(e + 14, 20, 0) != 0xffff :
	    l4 != 54 || get16(e + 18) != n - 54)
		abort();
	if (z.ended || (e[l4 + 13] & ~0x08) != 0x10 || (e[l4 + 12] & 0x0f) ||
	    n == z.hlen)
		abort();
	z.ended = (e[l4 + 13] & 0x08) || n - z.hlen < z.mss;
	if (n - z.hlen > z.mss)
		abort();
	z.paid += n - z.hlen;
	z.out_bytes += n;
	l4 = fz_l4(p, n);
	/* everything but the checksums and, with DF, a fixed IPv4 ID */
	if (l4 == 34) {
		if (memcmp(p, e, 18) != 0 || memcmp(p + 20, e + 20, 4) != 0 ||
		    memcmp(p + 26, e + 26, 8) != 0)
			abort();
		if (get16(p + 18) != get16(e + 18) &&
		    (!(e[20] & 0x40) || get16(e + 18) != get16(z.first + 18)))
			abort();
	} else if (memcmp(p, e, l4) != 0) {
		abort();
	}
	if (memcmp(p + l4, e + l4, 16) != 0 ||
	    memcmp(p + l4 + 18, e + l4 + 18, n - l4 - 18) != 0)
		abort();
}

static void fz_emit(void *arg, const uint8_t *v, const uint8_t *f,
    size_t n)
{
	static const uint8_t none[GSO_VNET_HDR_LEN];
	size_t l4;
	int r;

	if (arg != &z || n == 0 || n > GRO_FRAME_MAX)
		abort();
	if (memcmp(v, none, sizeof(none)) == 0) {
		if (z.next == z.count || n != z.len[z.next] ||
		    memcmp(f, z.data + z.off[z.next], n) != 0)
			abort();
		z.next++;
		z.out_bytes += n;
		return;
	}
	/* a super-frame */
	l4 = fz_le16(v + 6);
	z.hlen = fz_le16(v + 2);
	z.mss = fz_le16(v + 4);
	if (l4 == 0 || l4 != fz_l4(f, n) || v[0] != GSO_F_NEEDS_CSUM ||
	    fz_le16(v + 8) != 16 || v[1] != (get16(f + 12) == 0x86dd ?
	    GSO_TYPE_TCPV6 : GSO_TYPE_TCPV4) || z.hlen > n ||
	    n - 14 > GRO_IP_MAX || z.mss == 0 || n - z.hlen <= z.mss ||
	    z.hlen != l4 + (size_t)(f[l4 + 12] >> 4) * 4)
		abort();
	if (get16(f + 12) == 0x0800 ? get16(f + 16) != n - 14 ||
	    fz_sum(f + 14, 20, 0) != 0xffff : get16(f + 18) != n - 54)
		abort();
	if (get16(f + l4 + 16) != fz_pseudo(f, n - l4))
		abort();
	memcpy(z.whole, v, GSO_VNET_HDR_LEN);
	memcpy(z.whole + GSO_VNET_HDR_LEN, f, n);
	if (z.next == z.count)
		abort();
	z.first = z.data + z.off[z.next];
	z.pieces = 0;
	z.paid = 0;
	z.ended = 0;
	r = gso_split(z.whole, GSO_VNET_HDR_LEN + n, z.scratch,
	    GSO_FRAME_MAX, fz_piece, NULL);
	if (r < 2 || r > GRO_SEGS_MAX || (size_t)r != z.pieces ||
	    z.paid != n - z.hlen)
		abort();
}

FZ_QUIET static size_t fz_segment(uint8_t *f, struct fz_flow *w, size_t plen,
    int psh, int fixed_id)
{
	uint8_t *th;
	size_t l4 = w->v6 ? 54 : 34, hlen = l4 + 20 + w->tcpopt, i;
	size_t n = hlen + plen;

	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	memset(f + 12, 0, hlen - 12);
	if (w->v6) {
		put16(f + 12, 0x86dd);
		f[14] = 0x60;
		f[16] = 0x12;
		put16(f + 18, (uint16_t)(n - 54));
		f[20] = 6;
		f[21] = 64;
		f[22] = 0xfd;
		f[37] = 1;
		f[38] = 0xfd;
		f[53] = 2;
	} else {
		put16(f + 12, 0x0800);
		f[14] = 0x45;
		put16(f + 16, (uint16_t)(n - 14));
		put16(f + 18, w->id);
		f[20] = 0x40;
		f[22] = 64;
		f[23] = 6;
		memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	th = f + l4;
	put16(th, 40000);
	put16(th + 2, 443);
	put32(th + 4, w->seq);
	put32(th + 8, 0x11223344);
	th[12] = (uint8_t)((20 + w->tcpopt) / 4 << 4);
	th[13] = (uint8_t)(0x10 | (psh ? 0x08 : 0));
	put16(th + 14, 1000);
	if (w->tcpopt) {
		memcpy(th + 20, "\x01\x01\x08\x0a", 4);
		put32(th + 24, 12345);
	}
	for (i = 0; i < plen; i++)
		f[hlen + i] = (uint8_t)(w->seq + i);
	if (!fixed_id)
		w->id++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static uint8_t *frame;
	struct fz_flow flows[4] = {
		{ 0, 12, 1000, 0 }, { 0, 0, 5000, 70 },
		{ 1, 12, 0xfffff000, 0 }, { 1, 0, 9, 0 },
	};
	struct fz_flow *w;
	size_t n, plen, off = 0;
	uint8_t c, x;

	if (frame == NULL) {
		frame = malloc(GRO_FRAME_MAX + 0x10000);
		z.cap = 16u << 20;
		z.data = malloc(z.cap);
		z.scratch = malloc(GSO_FRAME_MAX);
		z.whole = malloc(GSO_VNET_HDR_LEN + GSO_FRAME_MAX);
		if (!frame || !z.data || !z.scratch || !z.whole)
			abort();
	}
	z.count = z.next = z.used = 0;
	z.in_bytes = z.out_bytes = 0;
	gro_init(&z.g, fz_emit, &z);
	while (len >= 3) {
		c = buf[0];
		n = fz_le16(buf + 1);
		buf += 3;
		len -= 3;
		if (!(c & 0x80)) {
			if (n == 0) {
				gro_flush(&z.g);
				continue;
			}
			if (n > len)
				n = len;
			if (n == 0)
				break;
			memcpy(frame, buf, n);
			if (c & 1)
				fz_fix(frame, n);
			fz_input(frame, n);
			buf += n;
			len -= n;
			continue;
		}
		w = &flows[c & 3];
		plen = n % (FZ_SEG_MAX + 1);
		n = fz_segment(frame, w, plen, c & 0x04, c & 0x08);
		if (c & 0x30 && len >= 2) {
			off = buf[0] % n;
			x = buf[1];
			buf += 2;
			len -= 2;
		} else {
			x = 0;
		}
		if (c & 0x10)
			frame[off] ^= x;
		fz_fix(frame, n);
		if (c & 0x20)
			frame[off] ^= x;
		if (!(c & 0x40))
			w->seq += (uint32_t)plen;
		fz_input(frame, n);
	}
	gro_flush(&z.g);
	if (z.next != z.count || z.in_bytes != z.out_bytes)
		abort();
	return 0;
}
