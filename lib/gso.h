/*
 * Software segmentation of offloaded frames (TSO/GSO) and checksum
 * completion, for gates that read a TAP with IFF_VNET_HDR but must hand
 * ordinary frames to something that cannot take super-segments.
 *
 * Input: a struct virtio_net_hdr (linux/virtio_net.h, 10 bytes, u16 fields
 * little-endian) followed by an Ethernet frame, optionally with one or two
 * VLAN tags (0x8100 / 0x88a8). Supported work:
 *   - gso_type TCPV4 / TCPV6 (with or without the ECN bit): IPv4 with or
 *     without options, IPv6 without extension headers;
 *   - flags & NEEDS_CSUM on any frame: the checksum over [csum_start, end)
 *     is folded and stored at csum_start + csum_offset;
 *   - a cap below gso_size on the TCP payload of each segment, for a path
 *     narrower than the TAP's (gso_split_mss).
 */
#ifndef CV_GSO_H
#define CV_GSO_H

#include <stddef.h>
#include <stdint.h>

#define GSO_VNET_HDR_LEN	10

/* virtio_net_hdr values (linux/virtio_net.h) */
#define GSO_F_NEEDS_CSUM	0x01
#define GSO_F_DATA_VALID	0x02
#define GSO_TYPE_NONE		0
#define GSO_TYPE_TCPV4		1
#define GSO_TYPE_UDP		3
#define GSO_TYPE_TCPV6		4
#define GSO_TYPE_UDP_L4		5
#define GSO_TYPE_ECN		0x80

/*
 * Largest Ethernet frame accepted (vnet header excluded): two VLAN tags
 * plus the largest IPv6 packet without a jumbogram. A scratch buffer of
 * GSO_FRAME_MAX bytes is always enough; Linux never writes a frame longer
 * than 14 + 4 + 65536 on a TAP.
 */
#define GSO_FRAME_MAX		(14 + 8 + 40 + 65535)

/* Does this vnet header describe work (segmentation or checksum)? */
int gso_needed(const uint8_t *vnet_hdr);

/*
 * buf = virtio_net_hdr + Ethernet frame (len bytes in all). Emits ordinary
 * Ethernet frames (no vnet header) with IPv4 total length/id/header
 * checksum, IPv6 payload length, TCP sequence numbers, flags (FIN/PSH only
 * on the last segment, CWR only on the first) and TCP checksums all
 * correct. Each segment carries at most gso_size bytes of TCP payload
 * after the frame's own headers (hdr_len is a hint only: Linux fills it
 * with the skb's linear length, so the headers are parsed instead), so it
 * is at most hdr_len + gso_size bytes for any frame Linux writes. A frame
 * that only needs its checksum completed is emitted once, completed, from
 * scratch; a frame that needs nothing is emitted once, unchanged, straight
 * from buf.
 *
 * scratch must hold one output frame (GSO_FRAME_MAX is always enough); an
 * output that would not fit makes the call fail. emit must neither keep
 * nor change the frame it is given. No allocation.
 *
 * Returns the number of frames emitted (>= 1), or -1 if the input is
 * malformed (truncated, inconsistent header lengths, gso_size 0 with a GSO
 * type, unsupported gso_type such as UDP, csum offsets out of range, frame
 * longer than GSO_FRAME_MAX, scratch too small...). Everything is checked
 * before the first frame goes out: on -1 nothing was emitted.
 */
int gso_split(const uint8_t *buf, size_t len, uint8_t *scratch,
    size_t scratch_len,
    void (*emit)(void *arg, const uint8_t *frame, size_t len), void *arg);

/* The smallest cap on a segment's payload: below is a caller's error. */
#define GSO_MSS_MIN		64

/*
 * gso_split with TCP super-segments cut to at most min(gso_size, mss_max)
 * bytes of payload each, so that every segment is at most
 * gso_hdr_len() + mss_max bytes (mss_max 0: no cap, as gso_split).
 * Frames without a GSO type are emitted whole whatever their size.
 * Returns -1, emitting nothing, if 0 < mss_max < GSO_MSS_MIN.
 */
int gso_split_mss(const uint8_t *buf, size_t len, size_t mss_max,
    uint8_t *scratch, size_t scratch_len,
    void (*emit)(void *arg, const uint8_t *frame, size_t len), void *arg);

/*
 * The length of the headers (Ethernet through TCP options) that every
 * segment of a TCP super-segment repeats, vnet header excluded; 0 if buf
 * is not a well-formed super-segment.
 */
size_t gso_hdr_len(const uint8_t *buf, size_t len);

/*
 * Offload metadata that arrives from the mesh is checked before it reaches
 * a kernel (a TAP or TUN write) or a segmenter (gso_split): a remote
 * member chooses every field, and gso_size 1 would make one 64 KB packet
 * 65000 segments. The rule, what gso_split and a Linux TAP both accept:
 *   - flags: NEEDS_CSUM and DATA_VALID only;
 *   - gso_type NONE (gso_size 0), or TCPV4 / TCPV6, with or without ECN;
 *     UDP (UFO) and UDP_L4 are never asked of a TAP here, so never sent;
 *   - hdr_len inside the frame (Linux fills it with the skb's linear
 *     length, a hint, so it may be shorter or longer than the headers);
 *   - TCPV4/TCPV6: Ethernet (0-2 tags), IPv4 (options, not a fragment) or
 *     IPv6 (no extension header) of the type's version, lengths matching
 *     the frame, TCP; gso_size at least GSO_SIZE_MIN and at most
 *     GSO_SEGS_MAX segments; a partial checksum at TCP's own field;
 *   - NEEDS_CSUM without a GSO type: [csum_start, end) past the Ethernet
 *     header, csum_offset at a TCP (16) or UDP (6) checksum field, the
 *     field inside the frame.
 * Returns 0, or -1 with *why (may be NULL) a constant naming the rule.
 * A few comparisons and the parse of the headers: no payload is read.
 */
#define GSO_SIZE_MIN		536	/* RFC 1122's default MSS */
#define GSO_SEGS_MAX		64	/* as GRO_SEGS_MAX (ether/gro.h) */

int gso_check(const uint8_t *buf, size_t len, const char **why);

#endif
