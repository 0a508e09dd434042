/*
 * The TAP device of the ether gate: created with TUNSETIFF, configured
 * through rtnetlink (libnl-3 route/link and route/addr), never by running
 * ip or ifconfig.
 *
 * Later: IFF_VNET_HDR + TUNSETOFFLOAD, so the kernel hands us 64 KB TCP
 * segments; tap_open() takes flags for that reason.
 */
#ifndef CV_TAP_H
#define CV_TAP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define TAP_PERSIST 0x1		/* keep the device after the fd is closed */

struct tap_conf {
	const uint8_t *mac;	/* 6 bytes, or NULL to keep the kernel's */
	unsigned mtu;		/* 0 keeps the kernel's */
	int promisc;
	const char *const *addrs; /* "10.0.0.1/24", "fd00::1/64", ... */
	size_t naddr;
};

/*
 * Create (or attach to) the TAP named by tmpl ("cvpn%d" lets the kernel
 * number it); the device's name goes to name (IFNAMSIZ bytes). Returns a
 * non-blocking fd, or -1 with a reason in err.
 */
int tap_open(const char *tmpl, unsigned flags, char *name, char *err,
	     size_t errsize);
/* Set MAC, MTU, addresses, then bring the link up. 0 or -1 with err. */
int tap_configure(const char *name, const struct tap_conf *tc, char *err,
		  size_t errsize);
/* Is s an IPv4 or IPv6 address with an optional "/prefix"? */
int tap_addr_valid(const char *s);
/* Close the fd; a TAP that is not to persist goes away with it. */
void tap_close(int fd, unsigned flags);

#endif
