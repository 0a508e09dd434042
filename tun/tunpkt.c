/* IP packet classification, the port filter and the pseudo-Ethernet
 * framing of the tun gate (tunpkt.h). Lengths are checked before every
 * read; fields are read big-endian with lib/bytes.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "tunpkt.h"

#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20
#define UDP_HDR 8

/* IPv6 extension headers (RFC 8200 4.1; AH: RFC 4302) */
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60

/* The ports of a TCP or UDP header at b[off..end). frag: the packet is a
 * first fragment, which may be cut before the end of the header (ports
 * then, if they are there at all); a whole packet, an atomic fragment
 * (offset 0, no more to come) too, must hold the header. */
static int l4_ports(const uint8_t *b, size_t off, size_t end, int frag,
		    struct tunpkt *p)
{
	size_t need;

	if (p->proto == TUNPKT_TCP)
		need = TCP_HDR;
	else if (p->proto == TUNPKT_UDP)
		need = UDP_HDR;
	else
		return 0;
	if (end - off < need && (!frag || end - off < 4))
		return frag ? 0 : -1;
	p->sport = get16(b + off);
	p->dport = get16(b + off + 2);
	p->ports = 1;
	return 0;
}

static int parse_v4(const uint8_t *b, size_t len, struct tunpkt *p)
{
	size_t hl, tot;
	uint16_t frag;

	if (len < IP4_HDR)
		return -1;
	hl = (size_t)(b[0] & 0x0f) * 4;
	tot = get16(b + 2);
	if (hl < IP4_HDR || tot < hl || tot > len)
		return -1;
	p->len = tot;
	p->alen = 4;
	p->src = b + 12;
	p->dst = b + 16;
	p->proto = b[9];
	frag = get16(b + 6);
	if (frag & 0x1fff) {	/* an offset: a later fragment */
		p->later_frag = 1;
		return 0;
	}
	return l4_ports(b, hl, tot, (frag & 0x2000) != 0, p);
}

/* The length of the extension header nh at h (room bytes left), 0 if nh
 * is not one, -1 if it is cut short. */
static long ext_len(uint8_t nh, const uint8_t *h, size_t room)
{
	size_t n;

	switch (nh) {
	case IP6_HOPOPTS:
	case IP6_ROUTING:
	case IP6_DSTOPTS:
		n = room >= 2 ? ((size_t)h[1] + 1) * 8 : 8;
		break;
	case IP6_FRAGMENT:
		n = 8;
		break;
	case IP6_AH:
		n = room >= 2 ? ((size_t)h[1] + 2) * 4 : 8;
		break;
	default:
		return 0;
	}
	return n <= room ? (long)n : -1;
}

static int parse_v6(const uint8_t *b, size_t len, struct tunpkt *p)
{
	size_t tot, off = IP6_HDR;
	uint8_t nh;
	int i, frag = 0;
	long hl;

	if (len < IP6_HDR)
		return -1;
	tot = IP6_HDR + (size_t)get16(b + 4);
	if (tot > len)
		return -1;
	p->len = tot;
	p->alen = 16;
	p->src = b + 8;
	p->dst = b + 24;
	nh = b[6];
	for (i = 0; (hl = ext_len(nh, b + off, tot - off)) != 0; i++) {
		if (hl < 0 || i == TUNPKT_EXT_MAX ||
		    (nh == IP6_HOPOPTS && i > 0))
			return -1;
		if (nh == IP6_FRAGMENT) {
			if (get16(b + off + 2) & 0xfff8) {
				p->proto = b[off];
				p->later_frag = 1;
				return 0;
			}
			frag = b[off + 3] & 1;	/* M: more follow */
		}
		nh = b[off];
		off += (size_t)hl;
	}
	p->proto = nh;
	return l4_ports(b, off, tot, frag, p);
}

int tunpkt_parse(const uint8_t *buf, size_t len, struct tunpkt *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 1)
		return -1;
	p->version = buf[0] >> 4;
	if (p->version == 4)
		return parse_v4(buf, len, p);
	if (p->version == 6)
		return parse_v6(buf, len, p);
	return -1;
}

/* ---- the port filter ------------------------------------------------ */

int tunpkt_port_parse(const char *s, uint16_t *port, unsigned *protos)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || v < 1 || v > 65535)
		return -1;
	if (*end == '\0')
		*protos = TUNPKT_F_TCP | TUNPKT_F_UDP;
	else if (strcmp(end, "/tcp") == 0)
		*protos = TUNPKT_F_TCP;
	else if (strcmp(end, "/udp") == 0)
		*protos = TUNPKT_F_UDP;
	else
		return -1;
	*port = (uint16_t)v;
	return 0;
}

void tunpkt_filter_add(struct tunpkt_filter *f, uint16_t port,
		       unsigned protos)
{
	uint8_t bit = (uint8_t)(1u << (port & 7));

	if (protos & TUNPKT_F_TCP)
		f->tcp[port >> 3] |= bit;
	if (protos & TUNPKT_F_UDP)
		f->udp[port >> 3] |= bit;
	f->on = 1;
}

static int port_set(const uint8_t *map, uint16_t port)
{
	return (map[port >> 3] >> (port & 7)) & 1;
}

int tunpkt_allow(const struct tunpkt_filter *f, const struct tunpkt *p)
{
	const uint8_t *map;

	if (!f->on)
		return 1;
	if ((p->version == 4 && p->proto == TUNPKT_ICMP) ||
	    (p->version == 6 && p->proto == TUNPKT_ICMPV6))
		return 1;
	if (!p->ports)
		return 0;
	if (p->proto == TUNPKT_TCP)
		map = f->tcp;
	else if (p->proto == TUNPKT_UDP)
		map = f->udp;
	else
		return 0;
	return port_set(map, p->sport) || port_set(map, p->dport);
}

/* ---- the pseudo-Ethernet header ------------------------------------- */

void tunpkt_eth_put(uint8_t *eth, unsigned ver)
{
	memset(eth, 0, 12);
	put16(eth + 12, ver == 6 ? TUNPKT_ETH_IPV6 : TUNPKT_ETH_IPV4);
}

int tunpkt_eth_strip(const uint8_t *frame, size_t len)
{
	uint16_t type;
	unsigned ver;

	if (len <= TUNPKT_ETH_LEN)
		return -1;
	type = get16(frame + 12);
	ver = frame[TUNPKT_ETH_LEN] >> 4;
	if (type == TUNPKT_ETH_IPV4 && ver == 4)
		return 4;
	if (type == TUNPKT_ETH_IPV6 && ver == 6)
		return 6;
	return -1;
}
