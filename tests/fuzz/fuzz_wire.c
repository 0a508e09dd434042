/* libFuzzer: the link frame decoder, as link.c drives it on a stream,
 * and the UDP datagram decoder on the whole input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cloud/wire.c"

static void dgram(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);	/* exact size: ASan sees */
	struct wire_dgram d;
	volatile uint8_t sink = 0;

	memcpy(copy, buf, len);
	if (wire_dgram_decode(copy, len, &d) == 0) {
		for (size_t i = 0; i < d.len; i++)
			sink ^= d.body[i];
		if ((d.type == DG_PROBE || d.type == DG_PROBE_ACK) &&
		    d.len < 2)
			abort();
	}
	(void)sink;
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	dgram(buf, len);
	while (len > 0) {
		struct wire_hello h;
		struct pkt p;
		uint8_t type;
		size_t plen;
		volatile uint8_t sink = 0;

		if (wire_frame(buf, len, FRAME_MAX, &type, &plen) != 1 ||
		    len < FRAME_HDR + plen)
			break;
		if (type == FR_HELLO)
			wire_hello_decode(buf + FRAME_HDR, plen, &h);
		if (type == FR_DATA &&
		    !wire_data_decode(buf + FRAME_HDR, plen, &p)) {
			/* touch every byte the views claim */
			for (size_t i = 0; i < p.len; i++)
				sink ^= p.data[i];
			for (size_t i = 0; i < p.dlen; i++)
				sink ^= p.dst[i];
			for (size_t i = 0; i < p.slen; i++)
				sink ^= p.src[i];
		}
		(void)sink;
		buf += FRAME_HDR + plen;
		len -= FRAME_HDR + plen;
	}
	return 0;
}
