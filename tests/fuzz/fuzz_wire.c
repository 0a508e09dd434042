/* libFuzzer: the link frame decoder, as link.c drives it on a stream. */
#include <stddef.h>
#include <stdint.h>

#include "../../cloud/wire.c"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
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
