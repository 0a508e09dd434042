/*
 * Receive offload in software (GRO) for a TAP with IFF_VNET_HDR: runs of
 * consecutive ordinary Ethernet frames of one TCP flow, in the order the
 * mesh delivered them, are merged into one TCP super-frame written with a
 * virtio_net_hdr, so the kernel takes one 64 KB segment instead of ~45.
 * The inverse of gso_split (lib/gso.h): cutting a super-frame made here
 * again with gso_split gives back the frames that went in.
 *
 * A frame joins the run in progress only if it continues it exactly:
 *   - same Ethernet header, no VLAN tag;
 *   - IPv4 without options or fragmentation (DF allowed), header checksum
 *     correct, same TOS, TTL, DF, addresses; the IP ID one more than the
 *     previous segment's, or (with DF) the same in every segment;
 *   - or IPv6 with TCP right after the fixed header, same traffic class,
 *     flow label, hop limit, addresses;
 *   - TCP with payload, checksum correct, flags ACK alone (ACK|PSH only
 *     as the run's last segment), same ports, ack number, window, urgent
 *     pointer and options bytes, seq right after the previous segment's;
 *   - at most as much payload as the run's first segment (gso_size): a
 *     shorter segment, or a PSH, is the run's last;
 *   - the run stays within GRO_IP_MAX bytes of IP packet, GRO_SEGS_MAX
 *     segments.
 * Anything else (SYN, FIN, RST, URG, CWR, ECE, other protocols, padded
 * frames...) ends the run in progress and goes out unchanged after it.
 *
 * A merged run goes out with gso_type TCPV4 or TCPV6, gso_size the first
 * segment's payload length, NEEDS_CSUM at the TCP checksum (csum_start =
 * TCP header, csum_offset 16, the field holding the folded pseudo-header
 * sum with the whole TCP length, as Linux leaves it), hdr_len Ethernet +
 * IP + TCP headers; IPv4 total length and header checksum, IPv6 payload
 * length rewritten; the first segment's headers otherwise, with PSH if the
 * last one had it. A run of one frame goes out unchanged, with a zeroed
 * vnet header (no work for the kernel).
 *
 * No I/O and no allocation: the caller provides the struct (about 64 KB)
 * and an emit callback that writes; frames are copied into the run buffer.
 */
#ifndef CV_GRO_H
#define CV_GRO_H

#include <stddef.h>
#include <stdint.h>

#include "gso.h"

#define GRO_IP_MAX		65535	/* a merged IP packet, header included */
#define GRO_SEGS_MAX		64	/* segments in one super-frame */
#define GRO_FRAME_MAX		(14 + GRO_IP_MAX)

/*
 * Writes one frame: vnet is its GSO_VNET_HDR_LEN-byte virtio_net_hdr (all
 * zero for a frame that needs no work), frame and len the Ethernet frame.
 * Neither may be kept or changed.
 */
typedef void gro_emit_fn(void *arg, const uint8_t *vnet,
    const uint8_t *frame, size_t len);

struct gro {
	gro_emit_fn	*emit;
	void		*arg;
	size_t		len;		/* bytes of the run in buf; 0: none */
	size_t		l4, hlen;	/* TCP header, payload offsets */
	size_t		mss;		/* the first segment's payload */
	unsigned	segs;
	int		v6;
	uint16_t	id0;		/* the first segment's IPv4 ID */
	uint16_t	id_step;	/* 1, or 0 (DF and a fixed ID) */
	uint32_t	seq;		/* the next segment's */
	uint64_t	pseudo;		/* addresses + protocol, unfolded */
	unsigned long long merged;	/* segments sent in super-frames */
	unsigned long long supers;	/* super-frames sent */
	uint8_t		vnet[GSO_VNET_HDR_LEN];
	uint8_t		buf[GRO_FRAME_MAX];
};

void gro_init(struct gro *g, gro_emit_fn *emit, void *arg);

/*
 * One ordinary Ethernet frame (no vnet header) from the mesh. Emits the
 * run in progress if the frame does not continue it, then the frame
 * itself unless it is kept to start or extend a run. Frames come out in
 * the order they went in.
 */
void gro_frame(struct gro *g, const uint8_t *frame, size_t len);

/*
 * Emits the run in progress, if any. Call it at the end of every batch
 * and before writing anything else to the TAP.
 */
void gro_flush(struct gro *g);

#endif
