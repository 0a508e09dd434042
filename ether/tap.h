/*
 * The TAP device of the ether gate and the TUN device of the tun gate:
 * created with TUNSETIFF, configured through rtnetlink (libnl-3 route/link
 * and route/addr), never by running ip or ifconfig.
 *
 * With TAP_OFFLOAD (IFF_VNET_HDR + TUNSETOFFLOAD) every read and write
 * starts with a 10-byte virtio_net_hdr, and the kernel hands us TCP
 * super-segments of up to 64 KB with their checksums left to complete.
 */
#ifndef CV_TAP_H
#define CV_TAP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define TAP_PERSIST 0x1		/* keep the device after the fd is closed */
#define TAP_OFFLOAD 0x2		/* ask for a vnet header and TSO/checksum */
#define TAP_TUN 0x4		/* a TUN (IP packets, no Ethernet header) */
#define TAP_VNET_HDR 10		/* sizeof(struct virtio_net_hdr) */

/* An address with its prefix length, as tap_parse_ip reads it. */
struct tap_ip {
	int family;		/* AF_INET or AF_INET6 */
	unsigned plen;
	uint8_t b[16];		/* 4 or 16 bytes used */
};

struct tap_conf {
	const uint8_t *mac;	/* 6 bytes, or NULL to keep the kernel's */
	unsigned mtu;		/* 0 keeps the kernel's */
	int promisc;
	const char *const *addrs; /* "10.0.0.1/24", "fd00::1/64", ... */
	size_t naddr;
	unsigned gso_max_segs;	/* segments per super-segment; 0 keeps the
				 * kernel's (65535) */
};

/*
 * Create (or attach to) the TAP (or, with TAP_TUN in *flags, the TUN) named
 * by tmpl ("cvpn%d" lets the kernel number it); the device's name goes to
 * name (IFNAMSIZ bytes). Returns a non-blocking fd, or -1 with a reason in
 * err. With TAP_OFFLOAD, *flags loses the bit if the kernel refuses
 * offloads (plain frames or packets then).
 */
int tap_open(const char *tmpl, unsigned *flags, char *name, char *err,
	     size_t errsize);
/* Set MAC, MTU, addresses, then bring the link up. 0 or -1 with err. */
int tap_configure(const char *name, const struct tap_conf *tc, char *err,
		  size_t errsize);
/* Is s an IPv4 or IPv6 address with an optional "/prefix"? */
int tap_addr_valid(const char *s);
/* s as tap_addr_valid accepts it (no prefix: a host, /32 or /128); 0 or
 * -1. */
int tap_parse_ip(const char *s, struct tap_ip *ip);
/* Close the fd; a device that is not to persist goes away with it. */
void tap_close(int fd, unsigned flags);

#endif
