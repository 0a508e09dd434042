/* Flow hashes for multipath (gate API cg_send_flow): gates hash what the
 * daemon never looks at, a packet's own addresses, protocol and ports. */
#ifndef CV_FLOW_H
#define CV_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

/* The hash of an IPv4 or IPv6 packet's flow (addresses, protocol, and
 * for TCP, UDP and SCTP the ports; a fragment's addresses alone), keyed
 * so no sender can aim flows at one path; never 0. 0 if ip is no IP
 * packet: the daemon then keeps to one path per pair of mesh addresses. */
uint32_t flow_ip(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *ip,
		 size_t len);
/* The same for an Ethernet frame (VLAN tags skipped). */
uint32_t flow_eth(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *frame,
		  size_t len);

#endif
