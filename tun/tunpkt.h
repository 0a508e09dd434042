/*
 * IP packets as the tun gate sees them: version, addresses, the L4
 * protocol and ports (past IPv6 extension headers), the port filter, and
 * the pseudo-Ethernet header tun puts before every packet it sends into
 * the mesh. Pure functions on (buf, len): no system calls, no allocation.
 */
#ifndef CV_TUNPKT_H
#define CV_TUNPKT_H

#include <stddef.h>
#include <stdint.h>

#define TUNPKT_ETH_LEN 14	/* dst MAC, src MAC (all zero), ethertype */
#define TUNPKT_ETH_IPV4 0x0800
#define TUNPKT_ETH_IPV6 0x86dd
#define TUNPKT_EXT_MAX 8	/* IPv6 extension headers followed, at most */

/* IP protocol numbers (IANA) that the filter looks at. */
#define TUNPKT_ICMP 1
#define TUNPKT_TCP 6
#define TUNPKT_UDP 17
#define TUNPKT_ICMPV6 58

struct tunpkt {
	unsigned version;	/* 4 or 6 */
	size_t len;		/* the packet's own length (<= the buffer's) */
	uint8_t alen;		/* address bytes: 4 or 16 */
	const uint8_t *src, *dst;	/* into the buffer */
	uint8_t proto;		/* L4 protocol past any extension headers */
	int later_frag;		/* a fragment other than the first */
	int ports;		/* sport and dport were read */
	uint16_t sport, dport;
};

/*
 * 0 and p filled, or -1 for a malformed packet: not version 4 or 6, a
 * header or total length that does not fit the buffer, more than
 * TUNPKT_EXT_MAX extension headers or one cut short, a hop-by-hop header
 * not first, an unfragmented TCP or UDP packet shorter than its header.
 * A first fragment too short for the ports is not malformed: it just has
 * no ports.
 */
int tunpkt_parse(const uint8_t *buf, size_t len, struct tunpkt *p);

/* Port filter: allowed TCP and UDP ports, one bit each. */
#define TUNPKT_F_TCP 0x1
#define TUNPKT_F_UDP 0x2

struct tunpkt_filter {
	int on;			/* 0: everything passes */
	uint8_t tcp[65536 / 8], udp[65536 / 8];
};

/* "P", "P/tcp" or "P/udp" (P in 1..65535): 0 with the port and
 * TUNPKT_F_* bits, or -1. */
int tunpkt_port_parse(const char *s, uint16_t *port, unsigned *protos);
/* Allow port for protos; the filter is on from then on. */
void tunpkt_filter_add(struct tunpkt_filter *f, uint16_t port,
		       unsigned protos);
/*
 * 1 if the packet passes: the filter is off, or it is ICMP (IPv4) or
 * ICMPv6 (IPv6), fragments included, or TCP/UDP with an allowed source or
 * destination port. Anything else, including TCP/UDP fragments other than
 * the first (they carry no ports), is 0.
 */
int tunpkt_allow(const struct tunpkt_filter *f, const struct tunpkt *p);

/* Write the pseudo-Ethernet header for an IP packet of version ver (4 or
 * 6) at eth: zero MACs, ethertype 0x0800 or 0x86dd. */
void tunpkt_eth_put(uint8_t *eth, unsigned ver);
/* frame = pseudo-Ethernet header + IP packet: the packet's version (4 or
 * 6) if the ethertype is an IP one and matches the packet's first nibble,
 * else -1. The packet itself is checked by tunpkt_parse. */
int tunpkt_eth_strip(const uint8_t *frame, size_t len);

#endif
