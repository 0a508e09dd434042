/*
 * The cloudvpn link protocol in one screen. Byte-by-byte layouts are in
 * doc/PROTOCOL.md; every limit and timer the daemon uses is named here.
 */
#ifndef CV_PROTO_H
#define CV_PROTO_H

#include <stdint.h>

#define PROTO_VERSION 3	/* 2: signed routes, FR_CERT; 3: seqno chains */

/* Every frame on a link: u8 type, u24 payload length (big-endian). */
#define FRAME_HDR 4
#define FRAME_MAX (128 * 1024)	/* a 64 KB offloaded segment fits */

enum frame_type {
	FR_HELLO = 1,	/* u16 version, u32 caps, id[32], u8 namelen, name */
	FR_PING = 2,	/* u64 sender's monotonic ns */
	FR_PONG = 3,	/* echoes the PING payload */
	FR_ROUTE = 4,	/* route updates, see route.h */
	FR_SEQREQ = 5,	/* seqno request, see route.h */
	FR_DATA = 6,	/* a packet, see wire.h */
	FR_BYE = 7,	/* orderly close, no payload */
	FR_CERT = 8,	/* a DER certificate: an origin's, before its routes */
	FR_NODE = 9,	/* a node record, see nodes.h (peers with
			 * WIRE_CAP_NODE only) */
};

/*
 * On a UDP link each datagram's plaintext starts with a type byte:
 * FR_DATA (then one data frame's payload, its length the datagram's), or
 * one of these. Control frames travel in the reliable channel (rel.h).
 */
enum dgram_type {
	DG_REL = 0x41,		/* a reliable channel segment, see rel.h */
	DG_FRAG = 0x42,		/* a piece of a bigger datagram, see frag.h */
	DG_PROBE = 0x43,	/* u16 size, zero padding to size on the wire */
	DG_PROBE_ACK = 0x44,	/* u16 size of the probe that arrived */
	DG_REKEY = 0x45,	/* the sender's next ClientHello is a rekey */
};

#define UDP_DGRAM_MAX 9000	/* largest datagram we send or read */
#define UDP_MTU_BASE 1200	/* path MTU assumed until probes say more */
#define UDP_MTU_MIN 576		/* udp_mtu below this is raised to it */
#define UDP_HS_RETRANS_MS 400	/* first DTLS handshake retransmission */
#define UDP_ROAM_TRIALS 20000	/* trial decryptions per second at most:
				 * each costs less than receiving a datagram,
				 * so a flood that drains this is a flood */
#define UDP_ROAM_SEQ_BACK 1024	/* a roamed record's DTLS sequence number */
#define UDP_ROAM_SEQ_AHEAD 65536	/* is this close to the last one */
#define UDP_CONFIRM_NS (2000000000ull)	/* probe the current path MTU */
#define UDP_CONFIRM_LOST_NS (7000000000ull)	/* none passed: it shrank */
#define UDP_RESETS 64		/* "no session" replies per second at most */
#define UDP_RESET_QUIET_NS (1000000000ull)	/* believed after this much
						 * silence of the session */
#define UDP_SOCK_BUF (4 * 1024 * 1024)	/* socket buffers */

/* Reserved instance: every node's stunproxy announces one address there,
 * derived from the node's name (stunproxy/spmsg.h SP_INSTANCE). */
#define INST_STUNPROXY 0xfffffff0u

#define NODE_ID_LEN 32	/* SHA-256 of the certificate's public key */
#define NODE_NAME_MAX 64

struct node_id {
	uint8_t b[NODE_ID_LEN];
};

/* Default timers (microseconds) and limits. */
#define DEF_CONN_RETRY_US (10 * 1000000ULL)	/* backoff cap */
#define DEF_CONN_TIMEOUT_US (30 * 1000000ULL)	/* silent link dies */
#define DEF_KEEPALIVE_US (5 * 1000000ULL)	/* ping interval */
#define HANDSHAKE_TIMEOUT_US (10 * 1000000ULL)
#define DEF_TTL 64
#define HOP_COST 100		/* metric units (10 us) added per hop */

#endif
