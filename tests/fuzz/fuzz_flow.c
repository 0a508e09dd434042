/*
 * libFuzzer: the flow hash ether and tun take of each packet read from
 * their device (lib/flow.c), as an Ethernet frame and as an IP packet, on
 * an exact-size copy so ASan sees any read past the end. A hash of an IP
 * packet is never 0, and the same bytes always hash the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/flow.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[SIPHASH_KEY_LEN] = { 1, 2, 3 };
	uint8_t *p = malloc(size ? size : 1);
	uint32_t a;

	if (!p)
		return 0;
	memcpy(p, data, size);
	a = flow_ip(key, p, size);
	if (a != flow_ip(key, p, size))
		abort();
	if (a == 0 && size >= 1 &&
	    ((p[0] >> 4 == 4 && size >= 20 && (p[0] & 0xf) >= 5 &&
	      (size_t)(p[0] & 0xf) * 4 <= size) ||
	     (p[0] >> 4 == 6 && size >= 40)))
		abort();
	a = flow_eth(key, p, size);
	if (a != flow_eth(key, p, size))
		abort();
	free(p);
	return 0;
}
