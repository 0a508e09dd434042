/* Flow hashes for multipath (flow.h). */
#include <string.h>

#include "bytes.h"
#include "flow.h"

#define VLAN_TAG 4

/* Ports follow for these protocols (their first 4 bytes). */
static int has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

/* tuple: proto, then addresses, then ports if any; its length */
static size_t tuple_v4(const uint8_t *ip, size_t len, uint8_t *t)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	int frag;

	if (len < 20 || ihl < 20 || ihl > len)
		return 0;
	frag = (get16(ip + 6) & 0x3fff) != 0;	/* MF or offset */
	t[0] = ip[9];
	memcpy(t + 1, ip + 12, 8);
	if (frag || !has_ports(ip[9]) || len < ihl + 4)
		return 9;
	memcpy(t + 9, ip + ihl, 4);
	return 13;
}

static size_t tuple_v6(const uint8_t *ip, size_t len, uint8_t *t)
{
	if (len < 40)
		return 0;
	t[0] = ip[6];
	memcpy(t + 1, ip + 8, 32);
	if (!has_ports(ip[6]) || len < 44)
		return 33;
	memcpy(t + 33, ip + 40, 4);
	return 37;
}

uint32_t flow_ip(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *ip,
		 size_t len)
{
	uint8_t t[37];
	size_t n = 0;
	uint32_t h;

	if (len >= 1 && ip[0] >> 4 == 4)
		n = tuple_v4(ip, len, t);
	else if (len >= 1 && ip[0] >> 4 == 6)
		n = tuple_v6(ip, len, t);
	if (n == 0)
		return 0;
	h = (uint32_t)siphash24(key, t, n);
	return h ? h : 1;
}

uint32_t flow_eth(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *frame,
		  size_t len)
{
	size_t off = 12;
	uint16_t type;

	while (len >= off + 2) {
		type = get16(frame + off);
		if (type != 0x8100 && type != 0x88a8)
			break;
		off += VLAN_TAG;
	}
	if (len < off + 2)
		return 0;
	type = get16(frame + off);
	off += 2;
	if (type != 0x0800 && type != 0x86dd)
		return 0;
	return flow_ip(key, frame + off, len - off);
}
