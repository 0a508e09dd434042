/*
 * Ethernet frame classification and the MAC learning table of bridge mode.
 * Nothing here reads a clock: callers pass `now` (seconds, monotonic), so
 * ageing is testable.
 */
#ifndef CV_MAC_H
#define CV_MAC_H

#include <stddef.h>
#include <stdint.h>

#define MAC_LEN 6
#define MAC_HDR_LEN 14		/* dst, src, ethertype */
#define MAC_TABLE_MAX 4096	/* learned addresses, oldest evicted past it */
#define MAC_AGE_SEC 300		/* as the Linux bridge's default ageing time */

enum mac_kind {
	MAC_UNICAST,
	MAC_BROADCAST,		/* ff:ff:ff:ff:ff:ff */
	MAC_MULTICAST,		/* group bit set (includes 33:33:* of IPv6) */
};

/* Kind of one address. */
enum mac_kind mac_kind(const uint8_t *mac);
/* Kind of a frame's destination; -1 if the frame is shorter than a header. */
int mac_classify(const uint8_t *frame, size_t len);
/* "02:00:5e:10:00:01" or "02005e100001" -> 6 bytes; 0 or -1. */
int mac_parse(const char *s, uint8_t *mac);
/* "xx:xx:xx:xx:xx:xx"; buf needs 18 bytes. Returns buf. */
char *mac_fmt(const uint8_t *mac, char *buf, size_t size);
/* Turn 6 random bytes into a unicast, locally administered address. */
void mac_make_local(uint8_t *mac);

struct mac_table;

/* max 0 means MAC_TABLE_MAX, age 0 means MAC_AGE_SEC. NULL on ENOMEM. */
struct mac_table *mac_table_new(size_t max, unsigned age);
void mac_table_free(struct mac_table *t);
/*
 * Note that mac was seen as a source at time now. 1 when the set of
 * addresses changed (a new entry, possibly evicting the oldest), 0 when an
 * entry was only refreshed, -1 when mac cannot be a source (group bit).
 */
int mac_learn(struct mac_table *t, const uint8_t *mac, uint64_t now);
/* Drop mac (seen elsewhere now); 1 if it was there, else 0. */
int mac_forget(struct mac_table *t, const uint8_t *mac);
/* Drop entries not seen for `age` seconds; returns how many went. */
size_t mac_expire(struct mac_table *t, uint64_t now);
int mac_known(const struct mac_table *t, const uint8_t *mac);
size_t mac_count(const struct mac_table *t);
/* Copy up to cap addresses (oldest first) into out; returns the count. */
size_t mac_list(const struct mac_table *t, uint8_t (*out)[MAC_LEN],
		size_t cap);

#endif
