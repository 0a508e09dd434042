/*
 * Path MTU discovery by probing (RFC 8899, Packetization Layer PMTUD, in
 * spirit), pure logic: the caller sends the probes and reports acks.
 *
 * Sizes are UDP payload bytes. A probe is a datagram padded to exactly
 * the size asked for, sent with DF set; the peer acknowledges it by size.
 * A search bisects between cur (confirmed) and the smallest size known to
 * fail, trying the upper bound first: on most LANs max works, so the
 * common case converges in one round trip.
 */
#ifndef CV_PMTU_H
#define CV_PMTU_H

#include <stddef.h>
#include <stdint.h>

#define PMTU_PROBE_TIMEOUT_NS	(300 * 1000000ULL) /* a probe is lost */
#define PMTU_TRIES		3	/* losses before a size fails */
#define PMTU_STEP		8	/* search done when hi - cur <= this */
#define PMTU_RESEARCH_NS	(600 * 1000000000ULL) /* look up again */

struct pmtu {
	size_t		cur;	/* largest confirmed size, starts at base */
	/* private */
	size_t		base, max;
	size_t		hi;	/* smallest size known to fail */
	size_t		probe;	/* in flight, 0 if none */
	unsigned	tries;	/* sends of probe so far */
	int		fixed;
	int		searching;
	int		first;	/* the search has not probed yet */
	uint64_t	due;	/* probe timeout, next probe or next search */
};

/*
 * base: a size that always works (e.g. 1200); max: the upper bound to
 * search (from the interface MTU, e.g. 1472); fixed != 0: no probing,
 * cur = fixed (the udp_mtu option). The first search starts at now.
 */
void pmtu_init(struct pmtu *p, size_t base, size_t max, size_t fixed,
    uint64_t now);

/* The size of a probe to send now, or 0 if none is due; it is then in
 * flight until acknowledged or timed out. */
size_t pmtu_probe(struct pmtu *p, uint64_t now);

/* The peer acknowledged a probe of size (stale or unknown sizes are
 * safe: one between cur and the smallest failure is still proof). */
void pmtu_ack(struct pmtu *p, size_t size, uint64_t now);

/*
 * Sending size failed locally with EMSGSIZE: nothing from size up is
 * probed until the next search; if size <= cur, cur falls back to base
 * (never lower) and a search below size starts now. Fixed mode only
 * falls back.
 */
void pmtu_too_big(struct pmtu *p, size_t size, uint64_t now);

/* Absolute ns of the next event (probe timeout, next probe, next search),
 * 0 if none (fixed mode). */
uint64_t pmtu_next(const struct pmtu *p);

#endif
