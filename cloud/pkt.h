/* A packet inside the daemon: views into a frame buffer, never owned. */
#ifndef CV_PKT_H
#define CV_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_OFFLOAD 0x01	/* data starts with a virtio_net_hdr */

struct pkt {
	uint32_t inst;
	uint8_t ttl;
	uint8_t flags;		/* PKT_* */
	uint8_t dlen, slen;	/* dlen 0: broadcast within inst */
	const uint8_t *dst, *src;
	const uint8_t *data;
	size_t len;
	uint32_t flow;		/* the gate's flow hash (multipath), 0: none */
	/* broadcasts only: origin and sequence for duplicate suppression */
	uint64_t bc_origin;
	uint32_t bc_seq;
};

#endif
