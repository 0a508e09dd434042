/*
 * TSO/GSO in software: split TCP super-segments read from a TAP with a
 * virtio_net_hdr into ordinary frames, and complete partial checksums.
 *
 * Every check is made before the first frame goes out, so a malformed
 * input emits nothing. Segments are built one at a time in the caller's
 * scratch buffer: headers copied, per-segment fields patched, payload
 * copied, and the IPv4 header and TCP checksums computed from scratch
 * (the ones' complement sum runs 8 bytes at a time).
 */
#include <string.h>

#include "bytes.h"
#include "gso.h"

#define ETH_HLEN	14
#define ETH_P_IPV4	0x0800
#define ETH_P_IPV6	0x86dd
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define VLAN_MAX	2
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define IPPROTO_TCP_	6
#define TCP_HLEN	20
#define TCP_CSUM_OFF	16
#define UDP_CSUM_OFF	6
#define TCP_FIN		0x01
#define TCP_PSH		0x08
#define TCP_CWR		0x80

struct vnet {
	uint8_t		flags;
	uint8_t		type;
	uint16_t	hdr_len;
	uint16_t	gso_size;
	uint16_t	csum_start;
	uint16_t	csum_off;
};

/* A parsed TCP super-segment: offsets are from the frame's start. */
struct tso {
	const uint8_t	*f;
	size_t		l3, l4, hlen, plen;
	int		v6;
	size_t		mss;
	uint32_t	pseudo;		/* addresses + protocol, folded */
};

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void vnet_read(const uint8_t *p, struct vnet *h)
{
	h->flags = p[0];
	h->type = p[1];
	h->hdr_len = get_le16(p + 2);
	h->gso_size = get_le16(p + 4);
	h->csum_start = get_le16(p + 6);
	h->csum_off = get_le16(p + 8);
}

static uint32_t fold16(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/*
 * Ones' complement sum of p[0..n) as big-endian 16-bit words (an odd last
 * byte padded with zero), folded to 16 bits. Summed in host order, which
 * RFC 1071 shows is the byte-swapped result; 2^32 = 1 mod 0xffff lets
 * 32-bit halves stand for pairs of words, and 64 KB cannot overflow.
 */
static uint32_t csum_sum(const uint8_t *p, size_t n)
{
	uint64_t acc = 0, w;
	uint8_t tail[8] = { 0 };
	uint32_t r;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		acc += (w & 0xffffffff) + (w >> 32);
	}
	if (n > 0) {
		memcpy(tail, p, n);
		memcpy(&w, tail, 8);
		acc += (w & 0xffffffff) + (w >> 32);
	}
	r = fold16(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = (r >> 8 | r << 8) & 0xffff;
#endif
	return r;
}

/* Skips up to VLAN_MAX tags; sets the L3 offset and ethertype. */
static int parse_l2(const uint8_t *f, size_t n, size_t *l3, uint16_t *proto)
{
	size_t off = 12;
	int tags = 0;
	uint16_t t;

	for (;;) {
		if (n < off + 2)
			return -1;
		t = get16(f + off);
		off += 2;
		if (t != ETH_P_8021Q && t != ETH_P_8021AD)
			break;
		if (++tags > VLAN_MAX)
			return -1;
		off += 2;
	}
	*l3 = off;
	*proto = t;
	return 0;
}

/* IPv4 carrying the whole frame's TCP segment, not a fragment. */
static int parse_ip4(struct tso *t, size_t n)
{
	const uint8_t *ip = t->f + t->l3;
	size_t ihl, tot;

	if (n < t->l3 + IPV4_HLEN)
		return -1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < IPV4_HLEN || tot < ihl ||
	    tot != n - t->l3)
		return -1;
	if (ip[9] != IPPROTO_TCP_ || (get16(ip + 6) & 0x3fff) != 0)
		return -1;
	t->l4 = t->l3 + ihl;
	t->pseudo = fold16(csum_sum(ip + 12, 8) + IPPROTO_TCP_);
	return 0;
}

/* IPv6 with TCP right after the fixed header (no extension headers). */
static int parse_ip6(struct tso *t, size_t n)
{
	const uint8_t *ip = t->f + t->l3;

	if (n < t->l3 + IPV6_HLEN)
		return -1;
	if (ip[0] >> 4 != 6 || ip[6] != IPPROTO_TCP_ ||
	    get16(ip + 4) != n - t->l3 - IPV6_HLEN)
		return -1;
	t->l4 = t->l3 + IPV6_HLEN;
	t->pseudo = fold16(csum_sum(ip + 8, 32) + IPPROTO_TCP_);
	return 0;
}

static int parse_tso(const struct vnet *h, const uint8_t *f, size_t n,
    struct tso *t)
{
	uint16_t proto;
	size_t doff;
	int v6;

	switch (h->type & ~GSO_TYPE_ECN) {
	case GSO_TYPE_TCPV4:
		v6 = 0;
		break;
	case GSO_TYPE_TCPV6:
		v6 = 1;
		break;
	default:
		return -1;
	}
	if (h->gso_size == 0)
		return -1;
	memset(t, 0, sizeof(*t));
	t->f = f;
	t->v6 = v6;
	t->mss = h->gso_size;
	if (parse_l2(f, n, &t->l3, &proto) == -1 ||
	    proto != (v6 ? ETH_P_IPV6 : ETH_P_IPV4))
		return -1;
	if ((v6 ? parse_ip6(t, n) : parse_ip4(t, n)) == -1)
		return -1;
	if (n < t->l4 + TCP_HLEN)
		return -1;
	doff = (size_t)(f[t->l4 + 12] >> 4) * 4;
	if (doff < TCP_HLEN || n < t->l4 + doff)
		return -1;
	t->hlen = t->l4 + doff;
	t->plen = n - t->hlen;
	/* the partial checksum, if any, must be TCP's; it is redone anyway */
	if ((h->flags & GSO_F_NEEDS_CSUM) &&
	    (h->csum_start != t->l4 || h->csum_off != TCP_CSUM_OFF))
		return -1;
	return 0;
}

/* Builds segment i (payload [off, off + seg)) in s; returns its length. */
static size_t tso_segment(const struct tso *t, uint8_t *s, size_t i,
    size_t off, size_t seg)
{
	uint8_t *ip = s + t->l3, *th = s + t->l4;
	size_t tcplen = t->hlen - t->l4 + seg;
	uint32_t sum;
	uint8_t flags;

	memcpy(s, t->f, t->hlen);
	memcpy(s + t->hlen, t->f + t->hlen + off, seg);
	if (t->v6) {
		put16(ip + 4, (uint16_t)tcplen);
	} else {
		put16(ip + 2, (uint16_t)(t->l4 - t->l3 + tcplen));
		put16(ip + 4, (uint16_t)(get16(ip + 4) + i));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~csum_sum(ip, t->l4 - t->l3));
	}
	flags = th[13];
	if (i > 0)
		flags &= (uint8_t)~TCP_CWR;
	if (off + seg < t->plen)
		flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	th[13] = flags;
	put32(th + 4, (uint32_t)(get32(th + 4) + off));
	put16(th + TCP_CSUM_OFF, 0);
	sum = t->pseudo + (uint32_t)tcplen + csum_sum(th, t->hlen - t->l4) +
	    csum_sum(s + t->hlen, seg);
	put16(th + TCP_CSUM_OFF, (uint16_t)~fold16(sum));
	return t->hlen + seg;
}

static int tso_split(const struct vnet *h, const uint8_t *f, size_t n,
    size_t mss_max, uint8_t *s, size_t slen,
    void (*emit)(void *, const uint8_t *, size_t), void *arg)
{
	struct tso t;
	size_t off = 0, seg, i = 0;

	if (parse_tso(h, f, n, &t) == -1)
		return -1;
	if (mss_max != 0 && mss_max < t.mss)
		t.mss = mss_max;
	if (t.hlen + (t.plen < t.mss ? t.plen : t.mss) > slen)
		return -1;
	do {
		seg = t.plen - off < t.mss ? t.plen - off : t.mss;
		emit(arg, s, tso_segment(&t, s, i, off, seg));
		off += seg;
		i++;
	} while (off < t.plen);
	return (int)i;
}

/* Stores the folded sum over [csum_start, n) at csum_start + csum_off. */
static int csum_complete(const struct vnet *h, const uint8_t *f, size_t n,
    uint8_t *s, size_t slen,
    void (*emit)(void *, const uint8_t *, size_t), void *arg)
{
	size_t at = (size_t)h->csum_start + h->csum_off;
	uint16_t c;

	if (at + 2 > n || n > slen)
		return -1;
	memcpy(s, f, n);
	c = (uint16_t)~csum_sum(s + h->csum_start, n - h->csum_start);
	/* as the kernel does, so a UDP sum never reads as "none" */
	put16(s + at, c ? c : 0xffff);
	emit(arg, s, n);
	return 1;
}

int gso_needed(const uint8_t *vnet_hdr)
{
	return (vnet_hdr[0] & GSO_F_NEEDS_CSUM) ||
	    vnet_hdr[1] != GSO_TYPE_NONE;
}

/* Reads the vnet header; sets the frame. -1 if the lengths are wrong. */
static int gso_input(const uint8_t *buf, size_t len, struct vnet *h,
    const uint8_t **f, size_t *n)
{
	if (len < GSO_VNET_HDR_LEN)
		return -1;
	vnet_read(buf, h);
	*f = buf + GSO_VNET_HDR_LEN;
	*n = len - GSO_VNET_HDR_LEN;
	if (*n < ETH_HLEN || *n > GSO_FRAME_MAX || h->hdr_len > *n)
		return -1;
	return 0;
}

size_t gso_hdr_len(const uint8_t *buf, size_t len)
{
	const uint8_t *f;
	struct vnet h;
	struct tso t;
	size_t n;

	if (gso_input(buf, len, &h, &f, &n) == -1 ||
	    parse_tso(&h, f, n, &t) == -1)
		return 0;
	return t.hlen;
}

/* The rule of gso_check for a frame without a GSO type. */
static const char *check_csum_only(const struct vnet *h, size_t n)
{
	if (h->gso_size != 0)
		return "gso_size without a gso type";
	if (!(h->flags & GSO_F_NEEDS_CSUM))
		return NULL;
	if (h->csum_start < ETH_HLEN ||
	    (h->csum_off != TCP_CSUM_OFF && h->csum_off != UDP_CSUM_OFF) ||
	    (size_t)h->csum_start + h->csum_off + 2 > n)
		return "csum_start/csum_offset";
	return NULL;
}

int gso_check(const uint8_t *buf, size_t len, const char **why)
{
	const char *bad = NULL;
	const uint8_t *f;
	struct vnet h;
	struct tso t;
	size_t n;

	if (gso_input(buf, len, &h, &f, &n) == -1)
		bad = "length or hdr_len";
	else if (h.flags & ~(GSO_F_NEEDS_CSUM | GSO_F_DATA_VALID))
		bad = "flags";
	else if (h.type == GSO_TYPE_NONE)
		bad = check_csum_only(&h, n);
	else if ((h.type & ~GSO_TYPE_ECN) != GSO_TYPE_TCPV4 &&
	    (h.type & ~GSO_TYPE_ECN) != GSO_TYPE_TCPV6)
		bad = "gso type";
	else if (h.gso_size < GSO_SIZE_MIN)
		bad = "gso_size";
	else if (parse_tso(&h, f, n, &t) == -1)
		bad = "headers or csum for the gso type";
	else if (t.plen > (size_t)GSO_SEGS_MAX * t.mss)
		bad = "segments";
	if (bad != NULL && why != NULL)
		*why = bad;
	return bad != NULL ? -1 : 0;
}

int gso_split_mss(const uint8_t *buf, size_t len, size_t mss_max,
    uint8_t *scratch, size_t scratch_len,
    void (*emit)(void *arg, const uint8_t *frame, size_t len), void *arg)
{
	const uint8_t *f;
	struct vnet h;
	size_t n;

	if ((mss_max != 0 && mss_max < GSO_MSS_MIN) ||
	    gso_input(buf, len, &h, &f, &n) == -1)
		return -1;
	if (h.type != GSO_TYPE_NONE)
		return tso_split(&h, f, n, mss_max, scratch, scratch_len, emit,
		    arg);
	if (h.flags & GSO_F_NEEDS_CSUM)
		return csum_complete(&h, f, n, scratch, scratch_len, emit, arg);
	emit(arg, f, n);
	return 1;
}

int gso_split(const uint8_t *buf, size_t len, uint8_t *scratch,
    size_t scratch_len,
    void (*emit)(void *arg, const uint8_t *frame, size_t len), void *arg)
{
	return gso_split_mss(buf, len, 0, scratch, scratch_len, emit, arg);
}
