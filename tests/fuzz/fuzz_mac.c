/*
 * libFuzzer: what ether does with each frame read from its TAP in bridge
 * mode: classify it, learn its source, forget sources heard from the mesh,
 * expire, list. A small table so eviction is exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../ether/mac.c"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct mac_table *t = mac_table_new(8, 5);
	uint8_t list[8][MAC_LEN];
	uint64_t now = 0;

	if (!t)
		return 0;
	while (len >= 1) {
		size_t n = buf[0] % 32;	/* frame length, often short */

		buf++;
		len--;
		if (n > len)
			n = len;
		now += n % 3;
		if (mac_classify(buf, n) >= 0) {
			mac_learn(t, buf + MAC_LEN, now);
			if (buf[0] & 1)
				mac_forget(t, buf);
			if (mac_count(t) > 8)	/* the bound holds */
				abort();
		}
		mac_expire(t, now);
		if (mac_list(t, list, 8) > 8)
			abort();
		buf += n;
		len -= n;
	}
	mac_table_free(t);
	return 0;
}
