/*
 * The gate protocol in one screen: the codec shared by libcloudgate and the
 * daemon's gate server. Byte-by-byte layouts are in doc/PROTOCOL.md.
 *
 * Every message: u8 type, u24 payload length (big-endian), payload.
 * Encoders write a whole message (header included) into a caller buffer
 * and return its size, or 0 if it does not fit or the input is invalid.
 * Decoders take the payload only and return 0, or -1 on any malformation.
 */
#ifndef CV_GATEPROTO_H
#define CV_GATEPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define GP_VERSION 1

#define GP_HDR 4
#define GP_NAME_MAX 64		/* gate and node names, bytes */
#define GP_ADDR_MAX ADDR_MAX	/* 16: an IPv6 address */
#define GP_ANNOUNCE_MAX 1024	/* addresses in one ANNOUNCE */
#define GP_PAYLOAD_MAX (96 * 1024)	/* == CG_PAYLOAD_MAX */

/* Payload size limits per message type. */
#define GP_HELLO_MAX 1024	/* generous: later versions may grow it */
#define GP_ANNOUNCE_ENTRY (4 + 1 + 2)	/* plus the address bytes */
#define GP_ANNOUNCE_BYTES \
	(2 + GP_ANNOUNCE_MAX * (GP_ANNOUNCE_ENTRY + GP_ADDR_MAX))
#define GP_PACKET_FIXED (4 + 1 + 1)
#define GP_PACKET_BYTES (GP_PACKET_FIXED + 2 * GP_ADDR_MAX + GP_PAYLOAD_MAX)
#define GP_ID_LEN 32		/* a node ID (SHA-256 of its key) */
#define GP_WHY_MAX 128		/* LINK: why a link ended, bytes */
#define GP_TEXT_MAX 128		/* NOTE: the text, bytes */
#define GP_LINK_BYTES (1 + GP_ID_LEN + 1 + GP_WHY_MAX)
#define GP_NOTE_BYTES (GP_ID_LEN + 1 + GP_NAME_MAX + 1 + GP_TEXT_MAX)
/* PREFIX entry: u8 up, u8 local, u32 metric, then an ANNOUNCE entry */
#define GP_PREFIX_ENTRY (1 + 1 + 4 + GP_ANNOUNCE_ENTRY)	/* plus bytes */
#define GP_PREFIX_BYTES \
	(1 + 2 + GP_PREFIX_MAX * (GP_PREFIX_ENTRY + GP_ADDR_MAX))
/* The largest whole message: a read buffer this big always progresses. */
#define GP_MSG_MAX (GP_HDR + GP_PACKET_BYTES)

/* Timers, milliseconds: a side silent for GP_DEAD_MS is dead; each side
 * sends a KEEPALIVE after GP_KEEPALIVE_MS without sending anything. */
#define GP_KEEPALIVE_MS 10000
#define GP_DEAD_MS 30000
#define GP_HELLO_TIMEOUT_MS 10000
/* The daemon writes NODE with its HELLO; a gate that has the HELLO waits
 * this long for the NODE before it goes on without (a daemon or test hub
 * that predates NODE). */
#define GP_NODE_WAIT_MS 250

enum gp_type {
	GP_HELLO = 1,		/* u16 version, u8 namelen, name */
	GP_ANNOUNCE = 2,	/* gate -> daemon: u16 count, entries */
	GP_PACKET = 3,		/* both ways */
	GP_KEEPALIVE = 4,	/* both ways, empty */
	GP_CAPS = 5,		/* gate -> daemon: u32 capabilities */
	GP_OFFLOAD = 6,		/* a PACKET whose payload starts with a
				 * virtio_net_hdr (segmentation offload) */
	GP_NODE = 7,		/* daemon -> gate, after HELLO: id[32] */
	GP_SOCKET = 8,		/* gate -> daemon: id[32] expected; one fd
				 * rides on its first byte (SCM_RIGHTS) */
	GP_LINK = 9,		/* daemon -> gate: u8 up, id[32], u8 whylen,
				 * why */
	GP_NOTE = 10,		/* gate -> daemon: id[32], u8 namelen, name,
				 * u8 textlen, text (0: forget the node) */
	GP_SUBSCRIBE = 11,	/* gate -> daemon: u32 instance: send me its
				 * prefixes, then their changes */
	GP_PREFIX = 12,		/* daemon -> gate: u8 flags (GP_PF_*), u16
				 * count, entries of the subscribed instances */
	GP_NOROUTE = 13,	/* daemon -> gate (GP_CAP_NOROUTE only): u32
				 * instance, u8 dlen, dst: a packet of the
				 * gate's found no route and was dropped */
	GP_FPACKET = 14,	/* gate -> daemon: u32 flow, then a PACKET's
				 * payload (multipath keeps a flow on one
				 * path) */
	GP_FOFFLOAD = 15,	/* the same for an OFFLOAD */
};

/* GP_PREFIX flags */
#define GP_PF_FULL 0x1		/* the first of a full set: forget what you
				 * had for the instances in it */
#define GP_PREFIX_MAX 512	/* entries in one PREFIX */

/* GP_CAPS bits */
#define GP_CAP_OFFLOAD 0x1	/* the gate takes GP_OFFLOAD packets */
#define GP_CAP_NOROUTE 0x2	/* the gate takes GP_NOROUTE messages */

struct gp_packet {
	int offload;		/* sent or received as GP_OFFLOAD */
	int has_flow;		/* sent as GP_FPACKET / GP_FOFFLOAD */
	uint32_t flow;
	uint32_t inst;
	uint8_t dlen, slen;	/* dlen 0: broadcast within inst */
	const uint8_t *dst, *src;
	const uint8_t *data;
	size_t len;
};

/*
 * Stream deframer. Returns the size of the whole first message when it is
 * all in buf (and sets *type, *payload, *plen), 0 when more bytes are
 * needed, -1 for an unknown type or a length over that type's limit.
 */
long gp_frame(const uint8_t *buf, size_t len, uint8_t *type,
	      const uint8_t **payload, size_t *plen);

size_t gp_hello_encode(uint8_t *buf, size_t cap, uint16_t version,
		       const char *name);
/* *version is set whenever len >= 2, even if the rest is malformed, so a
 * caller can report a version mismatch before anything else. name gets a
 * NUL-terminated copy (size GP_NAME_MAX + 1). */
int gp_hello_decode(const uint8_t *buf, size_t len, uint16_t *version,
		    char *name);
/* Printable ASCII without spaces, at most GP_NAME_MAX bytes. */
int gp_name_valid(const char *name, size_t len);

size_t gp_announce_encode(uint8_t *buf, size_t cap, const struct addr *a,
			  size_t n);
/* Fills out[0..*n); max must be >= GP_ANNOUNCE_MAX to accept every valid
 * message. Bits past plen are cleared. */
int gp_announce_decode(const uint8_t *buf, size_t len, struct addr *out,
		       size_t max, size_t *n);
/* len <= GP_ADDR_MAX and plen <= len * 8. */
int gp_addr_valid(const struct addr *a);

/* PACKET or OFFLOAD, or with has_flow FPACKET or FOFFLOAD. */
size_t gp_packet_encode(uint8_t *buf, size_t cap, const struct gp_packet *p);
/* The payload of a PACKET or OFFLOAD; the views point into buf. */
int gp_packet_decode(const uint8_t *buf, size_t len, struct gp_packet *p);
/* The payload of an FPACKET or FOFFLOAD: the flow, then as above. */
int gp_fpacket_decode(const uint8_t *buf, size_t len, struct gp_packet *p);

size_t gp_keepalive_encode(uint8_t *buf, size_t cap);

size_t gp_caps_encode(uint8_t *buf, size_t cap, uint32_t caps);
int gp_caps_decode(const uint8_t *buf, size_t len, uint32_t *caps);

/* NODE and SOCKET carry one node ID and nothing else. */
size_t gp_node_encode(uint8_t *buf, size_t cap, const uint8_t *id);
int gp_node_decode(const uint8_t *buf, size_t len, uint8_t *id);
size_t gp_socket_encode(uint8_t *buf, size_t cap, const uint8_t *id);
int gp_socket_decode(const uint8_t *buf, size_t len, uint8_t *id);

/* Printable ASCII, spaces allowed, at most max bytes (LINK's why, NOTE's
 * text). */
int gp_text_valid(const char *s, size_t len, size_t max);

struct gp_link {
	int up;				/* 1 up, 0 down or refused */
	uint8_t id[GP_ID_LEN];
	char why[GP_WHY_MAX + 1];	/* NUL-terminated */
};

size_t gp_link_encode(uint8_t *buf, size_t cap, const struct gp_link *l);
int gp_link_decode(const uint8_t *buf, size_t len, struct gp_link *l);

#define GP_NOROUTE_BYTES (4 + 1 + GP_ADDR_MAX)

/* A destination without a route; dlen 1..GP_ADDR_MAX. */
struct gp_noroute {
	uint32_t inst;
	uint8_t dlen;
	uint8_t dst[GP_ADDR_MAX];
};

size_t gp_noroute_encode(uint8_t *buf, size_t cap,
			 const struct gp_noroute *n);
int gp_noroute_decode(const uint8_t *buf, size_t len, struct gp_noroute *n);

/* One route of a subscribed instance as the daemon's table has it. Entry
 * on the wire: u8 state (1 reachable, 0 gone), u8 local (1: a gate of
 * this node owns it), u32 metric, then an address as in ANNOUNCE (u32
 * instance, u8 len, u16 plen, bytes). */
struct gp_prefix {
	int up;
	int local;
	uint32_t metric;
	struct addr addr;
};

size_t gp_subscribe_encode(uint8_t *buf, size_t cap, uint32_t inst);
int gp_subscribe_decode(const uint8_t *buf, size_t len, uint32_t *inst);
/* n entries, at most GP_PREFIX_MAX. */
size_t gp_prefix_encode(uint8_t *buf, size_t cap, uint8_t flags,
			const struct gp_prefix *p, size_t n);
/* Fills out[0..*n); max must be >= GP_PREFIX_MAX for every valid message.
 * Bits past plen are cleared. */
int gp_prefix_decode(const uint8_t *buf, size_t len, uint8_t *flags,
		     struct gp_prefix *out, size_t max, size_t *n);

struct gp_note {
	uint8_t id[GP_ID_LEN];
	char name[GP_NAME_MAX + 1];	/* as gp_name_valid; NUL-terminated */
	char text[GP_TEXT_MAX + 1];	/* "" forgets the node */
};

size_t gp_note_encode(uint8_t *buf, size_t cap, const struct gp_note *n);
int gp_note_decode(const uint8_t *buf, size_t len, struct gp_note *n);

#endif
