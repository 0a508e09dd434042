/*
 * The kernel routes of the tun gate: one through its TUN for each prefix
 * a remote node announces in the instance, added and removed over
 * rtnetlink (libnl-3 route/route), never by running ip.
 *
 * Every route carries the protocol number TROUTE_PROTO, so `ip route`
 * shows whose it is and a delete (which names the protocol and the
 * device) can only ever remove a route tun made. Routes are added with
 * NLM_F_EXCL: one that exists already (someone else's) is left alone,
 * logged once, and never removed; the add is retried when a whole set
 * names the prefix again, not on each change of its metric.
 */
#ifndef CV_TROUTE_H
#define CV_TROUTE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The route protocol of tun's routes (rtm_protocol). Linux leaves values
 * above RTPROT_STATIC (4) to user space; 77 is in none of iproute2's
 * rt_protos (0-4, 8-18, 42, 99, 186-192) nor used by FRR (193-198),
 * BIRD (12) or systemd-networkd. `ip route show proto 77` lists them.
 */
#define TROUTE_PROTO 77

/* Prefixes remembered as refused (someone else's route), so that each is
 * logged once; a refusal past this many is logged every time it recurs. */
#define TROUTE_REFUSED_MAX 64

struct troute;

/* Routes through the device with this index; NULL on failure (logged). */
struct troute *troute_open(int ifindex);
/* A subnet the device is connected to (an iface_addr with its prefix):
 * prefixes inside it need no route of their own. len is 4 or 16. */
int troute_connected(struct troute *t, uint8_t len, const uint8_t *b,
		     unsigned plen);
/*
 * A remote prefix is reachable (up 1) or gone (up 0). Only IPv4 and IPv6
 * prefixes (len 4 or 16) with a prefix length of at least 1 that are not
 * inside a connected subnet get a route. 1 if the kernel's table changed,
 * 0 if not, -1 if rtnetlink refused (logged; someone else's route only
 * once, until the prefix goes or a whole set finds it gone).
 */
int troute_set(struct troute *t, uint8_t len, const uint8_t *b,
	       unsigned plen, int up);
/* A whole set begins: every route is stale until troute_set confirms it
 * again; troute_sweep removes those that were not. */
void troute_stale(struct troute *t);
size_t troute_sweep(struct troute *t);
/* The routes tun has in the kernel now. */
size_t troute_count(const struct troute *t);
/* Remove every route tun made and free t (NULL is fine). */
void troute_close(struct troute *t);

#endif
