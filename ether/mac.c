/*
 * MAC classification and learning table.
 *
 * The table is a fixed pool of entries, allocated once: a hash index for
 * lookups and a list ordered by last sighting (head = oldest), so that
 * refreshing, ageing and evicting are O(1) per entry and nothing allocates
 * on the frame path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mac.h"
#include "siphash.h"

#define NIL UINT32_MAX

struct mac_ent {
	uint8_t mac[MAC_LEN];
	uint64_t seen;
	uint32_t hnext;		/* hash chain, or free list */
	uint32_t prev, next;	/* age list */
};

struct mac_table {
	struct mac_ent *ent;
	uint32_t *bucket;
	uint32_t nbucket;	/* a power of two */
	uint32_t max, count;
	uint32_t head, tail;	/* oldest, newest */
	uint32_t free;
	unsigned age;
	uint8_t key[SIPHASH_KEY_LEN];	/* secret: peers choose the MACs */
};

static const uint8_t mac_bcast[MAC_LEN] = { 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff };

enum mac_kind mac_kind(const uint8_t *mac)
{
	if (memcmp(mac, mac_bcast, MAC_LEN) == 0)
		return MAC_BROADCAST;
	if (mac[0] & 0x01)
		return MAC_MULTICAST;
	return MAC_UNICAST;
}

int mac_classify(const uint8_t *frame, size_t len)
{
	if (frame == NULL || len < MAC_HDR_LEN)
		return -1;
	return (int)mac_kind(frame);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t *mac)
{
	int colons = strlen(s) == 17;
	size_t i;

	if (!colons && strlen(s) != 12)
		return -1;
	for (i = 0; i < MAC_LEN; i++) {
		int hi = hexval((unsigned char)s[0]);
		int lo = hexval((unsigned char)s[1]);

		if (hi < 0 || lo < 0)
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (colons && i < MAC_LEN - 1) {
			if (*s != ':' && *s != '-')
				return -1;
			s++;
		}
	}
	return 0;
}

char *mac_fmt(const uint8_t *mac, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

void mac_make_local(uint8_t *mac)
{
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

/* The mesh chooses the MACs: a keyed hash, so nobody can aim many at
 * one chain. */
static uint32_t mac_hash(const struct mac_table *t, const uint8_t *mac)
{
	return (uint32_t)siphash24(t->key, mac, MAC_LEN) & (t->nbucket - 1);
}

struct mac_table *mac_table_new(size_t max, unsigned age)
{
	struct mac_table *t;
	uint32_t i;

	if (max == 0)
		max = MAC_TABLE_MAX;
	if (max > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->max = (uint32_t)max;
	t->age = age ? age : MAC_AGE_SEC;
	for (t->nbucket = 16; t->nbucket < t->max; t->nbucket <<= 1)
		;
	t->ent = calloc(t->max, sizeof(*t->ent));
	t->bucket = malloc(t->nbucket * sizeof(*t->bucket));
	if (t->ent == NULL || t->bucket == NULL) {
		mac_table_free(t);
		return NULL;
	}
	for (i = 0; i < t->nbucket; i++)
		t->bucket[i] = NIL;
	for (i = 0; i < t->max; i++)
		t->ent[i].hnext = i + 1 < t->max ? i + 1 : NIL;
	t->free = 0;
	t->head = t->tail = NIL;
	if (getrandom(t->key, sizeof(t->key), 0) != sizeof(t->key)) {
		mac_table_free(t);
		return NULL;
	}
	return t;
}

void mac_table_free(struct mac_table *t)
{
	if (t == NULL)
		return;
	free(t->ent);
	free(t->bucket);
	free(t);
}

static uint32_t mac_find(const struct mac_table *t, const uint8_t *mac)
{
	uint32_t i;

	for (i = t->bucket[mac_hash(t, mac)]; i != NIL; i = t->ent[i].hnext)
		if (memcmp(t->ent[i].mac, mac, MAC_LEN) == 0)
			return i;
	return NIL;
}

static void list_unlink(struct mac_table *t, uint32_t i)
{
	struct mac_ent *e = &t->ent[i];

	if (e->prev != NIL)
		t->ent[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != NIL)
		t->ent[e->next].prev = e->prev;
	else
		t->tail = e->prev;
}

static void list_append(struct mac_table *t, uint32_t i)
{
	struct mac_ent *e = &t->ent[i];

	e->prev = t->tail;
	e->next = NIL;
	if (t->tail != NIL)
		t->ent[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
}

static void mac_remove(struct mac_table *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[mac_hash(t, t->ent[i].mac)];

	while (*pp != i)
		pp = &t->ent[*pp].hnext;
	*pp = t->ent[i].hnext;
	list_unlink(t, i);
	t->ent[i].hnext = t->free;
	t->free = i;
	t->count--;
}

int mac_learn(struct mac_table *t, const uint8_t *mac, uint64_t now)
{
	uint32_t i, h;

	if (mac_kind(mac) != MAC_UNICAST)
		return -1;
	/* Keep the age list sorted even if a caller's clock steps back. */
	if (t->tail != NIL && now < t->ent[t->tail].seen)
		now = t->ent[t->tail].seen;
	i = mac_find(t, mac);
	if (i != NIL) {
		t->ent[i].seen = now;
		if (t->tail != i) {
			list_unlink(t, i);
			list_append(t, i);
		}
		return 0;
	}
	if (t->free == NIL)
		mac_remove(t, t->head);
	i = t->free;
	t->free = t->ent[i].hnext;
	memcpy(t->ent[i].mac, mac, MAC_LEN);
	t->ent[i].seen = now;
	h = mac_hash(t, mac);
	t->ent[i].hnext = t->bucket[h];
	t->bucket[h] = i;
	list_append(t, i);
	t->count++;
	return 1;
}

int mac_forget(struct mac_table *t, const uint8_t *mac)
{
	uint32_t i = mac_find(t, mac);

	if (i == NIL)
		return 0;
	mac_remove(t, i);
	return 1;
}

size_t mac_expire(struct mac_table *t, uint64_t now)
{
	size_t n = 0;

	/* Sightings only move forward, so the list is sorted by `seen`. */
	while (t->head != NIL && now >= t->ent[t->head].seen &&
	       now - t->ent[t->head].seen >= t->age) {
		mac_remove(t, t->head);
		n++;
	}
	return n;
}

int mac_known(const struct mac_table *t, const uint8_t *mac)
{
	return mac_find(t, mac) != NIL;
}

size_t mac_count(const struct mac_table *t)
{
	return t->count;
}

size_t mac_list(const struct mac_table *t, uint8_t (*out)[MAC_LEN],
		size_t cap)
{
	uint32_t i;
	size_t n = 0;

	for (i = t->head; i != NIL && n < cap; i = t->ent[i].next)
		memcpy(out[n++], t->ent[i].mac, MAC_LEN);
	return n;
}
