/*
 * A reliable, ordered byte stream over datagrams: the control frames of a
 * UDP link (the routing protocol assumes TCP-like delivery) travel in it.
 * A tiny TCP with SACK, counted in segments rather than bytes. No I/O, no
 * clock, no malloc: the caller passes the monotonic time in ns to every
 * call, sends what rel_output produces and feeds in what arrives.
 *
 * Datagram (the caller's type byte and encryption wrap it), big-endian:
 *   u32 seq    this segment's number (meaningful if the payload is not empty)
 *   u32 ack    next segment the sender of this datagram expects
 *   u32 sack   bit i: segment ack + 1 + i arrived out of order
 *   payload    0 bytes: a pure ack; at most REL_SEG_MAX
 * Segment numbers start at 0 on both sides and wrap (compare as int32_t).
 */
#ifndef CV_REL_H
#define CV_REL_H

#include <stddef.h>
#include <stdint.h>

#define REL_HDR 12		/* seq, ack, sack */
#define REL_SACK_BITS 32	/* segments after ack one datagram can SACK */
#define REL_WINDOW 64		/* segments in flight; the receiver's buffer */
#define REL_SEG_MAX 1400	/* payload bytes: with our header, the link's
				 * type byte, AEAD and IPv6 + UDP, < 1500 */

/* Fast retransmit: a segment with REL_DUPTHRESH later ones SACKed is sent
 * again once, when srtt plus REL_REORDER_PCT % of srtt have passed since
 * its last sending (the slack is RACK's reordering window, RFC 8985 6.2;
 * without it most reordered segments would be sent twice). */
#define REL_DUPTHRESH 3
#define REL_REORDER_PCT 25

/* Retransmission timer (ns), RFC 6298 with these bounds. The RFC's 1 s
 * minimum is for the Internet's delayed acks; we ack once per loop turn. */
#define REL_RTO_INIT (200 * 1000000ULL)	/* before the first RTT sample */
#define REL_RTO_MIN (10 * 1000000ULL)
#define REL_RTO_MAX (2000 * 1000000ULL)	/* backoff stops doubling here */
#define REL_RTO_G (1000000ULL)		/* the RFC's clock granularity G */

struct rel_seg {
	uint64_t sent;		/* sender: last transmission, ns */
	uint64_t deadline;	/* sender: sent + the rto of that moment */
	uint16_t len;		/* payload bytes; receiver: 0 = empty slot */
	uint8_t retx;		/* sender: sent twice, no RTT sample (Karn) */
	uint8_t fast;		/* sender: fast retransmit used up */
	uint8_t sacked;		/* sender: the peer holds it */
	uint8_t data[REL_SEG_MAX];
};

/* About 180 KB: both windows of segments are inside. */
struct rel {
	/* Read by the caller. */
	uint64_t retransmits;	/* segments sent again (timeout or fast) */
	uint64_t srtt_ns;	/* smoothed RTT, 0 until the first sample */
	uint64_t rto_ns;	/* current retransmission timeout */

	uint64_t rttvar_ns;
	uint64_t backoff_at;	/* when rto_ns was last doubled, or rel_init */
	/* Sender: [snd_una, snd_nxt) in flight, [snd_nxt, snd_end) never
	 * sent; snd_end - snd_una <= REL_WINDOW; slot = seq % REL_WINDOW. */
	uint32_t snd_una, snd_nxt, snd_end;
	/* Receiver: segments in [rcv_nxt, rcv_nxt + REL_WINDOW) are kept. */
	uint32_t rcv_nxt;
	int ack_owed;
	struct rel_seg snd[REL_WINDOW];
	struct rel_seg rcv[REL_WINDOW];
};

void rel_init(struct rel *r, uint64_t now);

/*
 * Take as much of the stream as the send window has room for, packing it
 * into new segments of at most seg_max payload bytes (seg_max <=
 * REL_SEG_MAX, derived by the caller from the path MTU; a partly filled
 * last unsent segment may be topped up by a later call). Returns the
 * number of bytes taken.
 */
size_t rel_write(struct rel *r, const uint8_t *p, size_t len,
		 size_t seg_max, uint64_t now);

/*
 * The next datagram to send now, written to buf (cap bytes, at least
 * REL_HDR + REL_SEG_MAX): a never-sent segment first, then a retransmission
 * that is due, then a pure ack if one is owed. Returns its length, or 0
 * when nothing needs sending now (or it does not fit cap). Call repeatedly
 * until 0.
 */
size_t rel_output(struct rel *r, uint64_t now, uint8_t *buf, size_t cap);

/*
 * One received channel datagram. In-order bytes go to deliver (possibly
 * several calls), which may call rel_write and rel_output but not
 * rel_input. Returns 0, or -1 if malformed (too short, too long, an ack or
 * SACK of a segment never sent): then nothing was changed.
 */
int rel_input(struct rel *r, const uint8_t *p, size_t len, uint64_t now,
	      void (*deliver)(void *arg, const uint8_t *p, size_t n),
	      void *arg);

/* Absolute time (ns) at which rel_output will have a retransmission to
 * send, or 0 if none is pending. */
uint64_t rel_next_timeout(const struct rel *r);

/* Bytes rel_write(r, ..., seg_max, ...) can accept right now. */
size_t rel_room(const struct rel *r, size_t seg_max);

/* Nothing in flight and nothing unsent. */
int rel_idle(const struct rel *r);

#endif
