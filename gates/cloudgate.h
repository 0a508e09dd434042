/*
 * libcloudgate: the client side of the cloudvpn gate socket.
 * A gate connects to the local `cloud` daemon, announces the addresses it
 * owns, and sends and receives packets. The protocol is in doc/PROTOCOL.md.
 */
#ifndef CLOUDGATE_H
#define CLOUDGATE_H

#include <stddef.h>
#include <stdint.h>

#define CG_ADDR_MAX 16
#define CG_PAYLOAD_MAX (96 * 1024)

struct cg_addr {
	uint32_t instance;
	uint8_t len;		/* bytes; 0 with plen 0: promiscuous */
	uint16_t plen;		/* prefix length in bits */
	uint8_t bytes[CG_ADDR_MAX];
};

#define CG_PKT_OFFLOAD 0x1	/* data = virtio_net_hdr + frame (see cg_set_offload) */

struct cg_packet {
	uint32_t instance;
	uint8_t dlen, slen;	/* dlen 0: broadcast in the instance */
	const uint8_t *dst, *src;
	const uint8_t *data;
	size_t len;
	unsigned flags;		/* CG_PKT_* */
};

struct cloudgate;

/* Connect and exchange hellos. NULL on failure, with errno set and a
 * reason in err (if err is not NULL). */
struct cloudgate *cg_open(const char *path, const char *name, char *err,
			  size_t errsize);
void cg_close(struct cloudgate *g);
/* The socket, for poll/epoll/libev; it is non-blocking. */
int cg_fd(const struct cloudgate *g);
/* Replace the set of announced addresses (remembered for cg_reconnect). */
int cg_announce(struct cloudgate *g, const struct cg_addr *a, size_t n);
/* Queue a packet; call cg_flush after a batch (a quarter-full queue is
 * written at once). 0, or -1 with errno EAGAIN when the queue is full
 * (the packet was dropped). */
int cg_send(struct cloudgate *g, const struct cg_packet *p);
/* Write what is queued. 0 all written, 1 some left (wait for POLLOUT), -1. */
int cg_flush(struct cloudgate *g);
/* Next packet: 1 and p filled (views valid until the next cg_ call),
 * 0 if none within timeout_ms (0: don't wait, -1: forever), -1 when the
 * daemon is gone or spoke garbage. Keepalives are answered inside. */
int cg_recv(struct cloudgate *g, struct cg_packet *p, int timeout_ms);
/* Declare that this gate takes CG_PKT_OFFLOAD packets: data that starts
 * with a 10-byte virtio_net_hdr (TAP IFF_VNET_HDR) and may be a TCP
 * super-segment of up to 64 KB. Without it the daemon hands this gate only
 * ordinary frames, segmenting in software. Kept across cg_reconnect. */
int cg_set_offload(struct cloudgate *g, int on);
/* Reconnect to the same path and re-announce; 0 or -1. */
int cg_reconnect(struct cloudgate *g);
/* "01:02:ff" / "0102ff" / "" -> bytes; length or -1. */
int cg_parse_hex(const char *s, uint8_t *out, size_t cap);

#endif
