/*
 * The reliable channel (rel.h): a send window of numbered segments and a
 * receive window that reassembles them into the byte stream. A datagram
 * is checked whole before it changes anything.
 *
 * A segment is sent again when its own timer expires (the RFC 6298 rto at
 * its last sending; doubled once per round of timeouts) or, once, early
 * when later ones are SACKed. Timers run only for the segments the peer's
 * ack can report on (see scan). RTT samples skip any segment whose ack may
 * have been held up (see acked).
 */
#include <stddef.h>
#include <string.h>

#include "bytes.h"
#include "rel.h"

static int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void rel_init(struct rel *r, uint64_t now)
{
	memset(r, 0, sizeof(*r));
	r->rto_ns = REL_RTO_INIT;
	r->backoff_at = now;
}

/* ---- writing the stream into segments ----------------------------------- */

static size_t seg_limit(size_t seg_max)
{
	return seg_max > REL_SEG_MAX ? REL_SEG_MAX : seg_max;
}

/* Room left in the last segment if it was never sent (0: none). */
static size_t tail_room(const struct rel *r, size_t seg_max)
{
	size_t len;

	if (r->snd_end == r->snd_nxt)
		return 0;
	len = r->snd[(r->snd_end - 1) % REL_WINDOW].len;
	return len < seg_max ? seg_max - len : 0;
}

size_t rel_room(const struct rel *r, size_t seg_max)
{
	seg_max = seg_limit(seg_max);
	return (REL_WINDOW - (r->snd_end - r->snd_una)) * seg_max +
	       tail_room(r, seg_max);
}

/* now is not needed: a segment's clock starts when it is first sent. */
size_t rel_write(struct rel *r, const uint8_t *p, size_t len,
		 size_t seg_max, uint64_t now)
{
	struct rel_seg *s;
	size_t taken = 0, n;

	(void)now;
	seg_max = seg_limit(seg_max);
	while (taken < len && seg_max > 0) {
		if (!(n = tail_room(r, seg_max))) {
			if (r->snd_end - r->snd_una >= REL_WINDOW)
				break;
			s = &r->snd[r->snd_end++ % REL_WINDOW];
			memset(s, 0, offsetof(struct rel_seg, data));
			n = seg_max;
		}
		s = &r->snd[(r->snd_end - 1) % REL_WINDOW];
		if (n > len - taken)
			n = len - taken;
		memcpy(s->data + s->len, p + taken, n);
		s->len = (uint16_t)(s->len + n);
		taken += n;
	}
	return taken;
}

/* ---- timers ------------------------------------------------------------- */

/* When an unSACKed segment in flight is due again: at its deadline; or,
 * once in its life, about one srtt after its last sending when
 * REL_DUPTHRESH later ones are SACKed (fast retransmit). Only the timer,
 * which backs off, repeats: an outage must not become a storm. */
static uint64_t seg_due(const struct rel *r, const struct rel_seg *s,
			unsigned later_sacked)
{
	uint64_t fast = s->sent + r->srtt_ns +
			r->srtt_ns * REL_REORDER_PCT / 100;

	if (later_sacked >= REL_DUPTHRESH && !s->fast && r->srtt_ns &&
	    fast < s->deadline)
		return fast;
	return s->deadline;
}

/*
 * Walk the flight from newest to oldest, counting the SACKed segments
 * above each one. Returns the earliest due time (0: none) and sets *due
 * to the oldest segment due by now (r->snd_nxt: none).
 *
 * Only segments the peer's ack can report on have timers running: those
 * up to REL_SACK_BITS past snd_una. The peer cannot tell us about the ones
 * beyond before the hole at snd_una is filled, and to resend them all
 * whenever that takes one rto would turn every lost retransmission into
 * a go-back-N.
 */
static uint64_t scan(const struct rel *r, uint64_t now, uint32_t *due)
{
	uint64_t first = 0, t;
	unsigned sacked = 0;
	uint32_t seq = r->snd_nxt;

	if (seq - r->snd_una > REL_SACK_BITS + 1)
		seq = r->snd_una + REL_SACK_BITS + 1;
	*due = r->snd_nxt;
	while (seq != r->snd_una) {
		const struct rel_seg *s = &r->snd[--seq % REL_WINDOW];

		if (s->sacked) {
			sacked++;
			continue;
		}
		t = seg_due(r, s, sacked);
		if (!first || t < first)
			first = t;
		if (t <= now)
			*due = seq;
	}
	return first;
}

uint64_t rel_next_timeout(const struct rel *r)
{
	uint32_t none;

	return scan(r, 0, &none);
}

/* A timer expired: double the RTO, once per round. Segments sent before
 * the last doubling belong to the round that already paid for it. */
static void backoff(struct rel *r, const struct rel_seg *s, uint64_t now)
{
	if (s->sent < r->backoff_at)
		return;
	r->rto_ns = r->rto_ns >= REL_RTO_MAX / 2 ? REL_RTO_MAX : r->rto_ns * 2;
	r->backoff_at = now;
}

/* RFC 6298 section 2; samples beyond REL_RTO_MAX would not change the
 * outcome and are clamped so that the sums cannot overflow. */
static void rtt_sample(struct rel *r, uint64_t sent, uint64_t now)
{
	uint64_t rtt, err, rto;

	if (now < sent)
		return;
	rtt = now - sent;
	rtt = rtt < 1 ? 1 : rtt > REL_RTO_MAX ? REL_RTO_MAX : rtt;
	if (!r->srtt_ns) {
		r->srtt_ns = rtt;
		r->rttvar_ns = rtt / 2;
	} else {
		err = rtt > r->srtt_ns ? rtt - r->srtt_ns : r->srtt_ns - rtt;
		r->rttvar_ns = (3 * r->rttvar_ns + err) / 4;
		r->srtt_ns = (7 * r->srtt_ns + rtt) / 8;
	}
	rto = r->srtt_ns + (4 * r->rttvar_ns > REL_RTO_G ? 4 * r->rttvar_ns
							  : REL_RTO_G);
	r->rto_ns = rto < REL_RTO_MIN ? REL_RTO_MIN
		  : rto > REL_RTO_MAX ? REL_RTO_MAX : rto;
}

/* ---- output ------------------------------------------------------------- */

static uint32_t sack_bits(const struct rel *r)
{
	uint32_t bits = 0;
	unsigned i;

	for (i = 0; i < REL_SACK_BITS; i++)
		if (r->rcv[(r->rcv_nxt + 1 + i) % REL_WINDOW].len)
			bits |= 1u << i;
	return bits;
}

/* Segment s as seq (NULL: a pure ack), with our current ack and SACK. */
static size_t put_dgram(struct rel *r, uint32_t seq, const struct rel_seg *s,
			uint8_t *buf, size_t cap)
{
	size_t len = s ? s->len : 0;

	if (cap < REL_HDR + len)
		return 0;
	put32(buf, seq);
	put32(buf + 4, r->rcv_nxt);
	put32(buf + 8, sack_bits(r));
	if (len)
		memcpy(buf + REL_HDR, s->data, len);
	r->ack_owed = 0;
	return REL_HDR + len;
}

size_t rel_output(struct rel *r, uint64_t now, uint8_t *buf, size_t cap)
{
	struct rel_seg *s;
	uint32_t seq = r->snd_nxt;
	size_t n;

	if (seq != r->snd_end) {
		s = &r->snd[seq % REL_WINDOW];
		if ((n = put_dgram(r, seq, s, buf, cap))) {
			s->sent = now;
			s->deadline = now + r->rto_ns;
			r->snd_nxt++;
		}
		return n;
	}
	scan(r, now, &seq);
	if (seq != r->snd_nxt) {
		s = &r->snd[seq % REL_WINDOW];
		if ((n = put_dgram(r, seq, s, buf, cap))) {
			if (s->deadline <= now)
				backoff(r, s, now);
			else
				s->fast = 1;
			s->sent = now;
			s->deadline = now + r->rto_ns;
			s->retx = 1;
			r->retransmits++;
		}
		return n;
	}
	return r->ack_owed ? put_dgram(r, seq, NULL, buf, cap) : 0;
}

/* ---- input -------------------------------------------------------------- */

/* An ack or a SACK of a segment we never sent is a lie. An ack below
 * snd_una is merely old (a reordered datagram). */
static int ack_valid(const struct rel *r, uint32_t ack, uint32_t sack)
{
	unsigned i;

	if (seq_lt(r->snd_nxt, ack))
		return 0;
	for (i = 0; i < REL_SACK_BITS; i++)
		if ((sack >> i & 1) && !seq_lt(ack + 1 + i, r->snd_nxt))
			return 0;
	return 1;
}

/*
 * Segment seq is acknowledged. The newest first transmission among those
 * newly acknowledged gives the RTT sample, unless its ack may have been
 * held up: never one sent twice (Karn), nor one sent before the last
 * timeout (its acks may have been lost in the same silence), nor one that
 * was beyond the SACK bits (its ack waited for a hole to be filled).
 */
static void acked(struct rel *r, uint32_t seq, int reportable,
		  const struct rel_seg **sample)
{
	struct rel_seg *s = &r->snd[seq % REL_WINDOW];

	if (!s->sacked && !s->retx && reportable &&
	    s->sent >= r->backoff_at &&
	    (!*sample || s->sent > (*sample)->sent))
		*sample = s;
	s->sacked = 1;
}

static void take_ack(struct rel *r, uint32_t ack, uint32_t sack,
		     uint64_t now)
{
	const struct rel_seg *sample = NULL;
	uint32_t una = r->snd_una, seq;
	unsigned i;

	for (seq = una; seq_lt(seq, ack); seq++)
		acked(r, seq, seq - una <= REL_SACK_BITS, &sample);
	if (seq_lt(una, ack))
		r->snd_una = ack;
	for (i = 0; i < REL_SACK_BITS; i++) {
		seq = ack + 1 + i;
		if ((sack >> i & 1) && !seq_lt(seq, r->snd_una))
			acked(r, seq, 1, &sample);
	}
	if (sample)
		rtt_sample(r, sample->sent, now);
}

static void take_data(struct rel *r, uint32_t seq, const uint8_t *p,
		      size_t n, void (*deliver)(void *, const uint8_t *, size_t),
		      void *arg)
{
	struct rel_seg *s = &r->rcv[seq % REL_WINDOW];

	r->ack_owed = 1;	/* a duplicate too: our ack may have been lost */
	if (seq - r->rcv_nxt >= REL_WINDOW || s->len)
		return;		/* outside the window, or a duplicate */
	memcpy(s->data, p, n);
	s->len = (uint16_t)n;
	/* the slot is released before deliver runs: it may write and output */
	while ((s = &r->rcv[r->rcv_nxt % REL_WINDOW])->len) {
		n = s->len;
		s->len = 0;
		r->rcv_nxt++;
		deliver(arg, s->data, n);
	}
}

int rel_input(struct rel *r, const uint8_t *p, size_t len, uint64_t now,
	      void (*deliver)(void *arg, const uint8_t *p, size_t n),
	      void *arg)
{
	uint32_t ack, sack;

	if (len < REL_HDR || len - REL_HDR > REL_SEG_MAX)
		return -1;
	ack = get32(p + 4);
	sack = get32(p + 8);
	if (!ack_valid(r, ack, sack))
		return -1;
	take_ack(r, ack, sack, now);
	if (len > REL_HDR)
		take_data(r, get32(p), p + REL_HDR, len - REL_HDR, deliver,
			  arg);
	return 0;
}

int rel_idle(const struct rel *r)
{
	return r->snd_una == r->snd_end;
}
