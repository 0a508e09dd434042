/* The link frame codec: header, hello, ping and data frames. */
#ifndef CV_WIRE_H
#define CV_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "proto.h"

struct wire_hello {
	uint16_t version;
	uint32_t caps;
	struct node_id id;
	char name[NODE_NAME_MAX + 1];
};

#define WIRE_HELLO_MAX (2 + 4 + NODE_ID_LEN + 1 + NODE_NAME_MAX)
/* u8 ttl, u8 flags, u32 inst, u8 dlen, u8 slen [u64 origin, u32 seq]
 * [u32 flow] */
#define WIRE_DATA_FIXED 8
#define WIRE_DATA_BC 12
#define WIRE_DATA_FLOWLEN 4
#define WIRE_DATA_BROADCAST 0x01
#define WIRE_DATA_OFFLOAD 0x02	/* payload starts with a virtio_net_hdr */
#define WIRE_DATA_FLOW 0x04	/* unicast: a u32 flow hash follows */
#define WIRE_DATA_HDR_MAX (FRAME_HDR + WIRE_DATA_FIXED + WIRE_DATA_BC + \
			   WIRE_DATA_FLOWLEN + 2 * 255)
/* HELLO caps: the sender takes data frames with WIRE_DATA_FLOW */
#define WIRE_CAP_FLOW 0x1
/* HELLO caps: the sender takes FR_NODE frames (node records) */
#define WIRE_CAP_NODE 0x2

/* The data header's bytes before the addresses, for p. */
static inline size_t wire_data_fixed(const struct pkt *p)
{
	return WIRE_DATA_FIXED + (p->flow && p->dlen ? WIRE_DATA_FLOWLEN : 0);
}

/*
 * Look at the start of a byte stream: 0 if fewer than FRAME_HDR bytes,
 * 1 with *type and *plen set, -1 if the length exceeds max.
 */
int wire_frame(const uint8_t *buf, size_t len, size_t max, uint8_t *type,
	       size_t *plen);
void wire_put_hdr(uint8_t *buf, uint8_t type, size_t plen);

size_t wire_hello_encode(const struct wire_hello *h, uint8_t *buf,
			 size_t cap);
int wire_hello_decode(const uint8_t *p, size_t len, struct wire_hello *h);

/* Frame header + data header of p (no payload); returns bytes written
 * (at most WIRE_DATA_HDR_MAX). The payload of p->len bytes follows. */
size_t wire_data_hdr(const struct pkt *p, uint8_t *buf);
/* A data payload (without the frame header); views point into p. */
int wire_data_decode(const uint8_t *p, size_t len, struct pkt *out);

/* A UDP link's datagram plaintext (proto.h, enum dgram_type). */
struct wire_dgram {
	uint8_t type;		/* FR_DATA or DG_* */
	const uint8_t *body;	/* after the type byte */
	size_t len;
	uint16_t size;		/* DG_PROBE, DG_PROBE_ACK */
};

/* 0 and d filled, or -1 if unknown or too short for its type. */
int wire_dgram_decode(const uint8_t *p, size_t len, struct wire_dgram *d);

#endif
