/*
 * Fragmentation of messages too big for one datagram, and their bounded
 * reassembly. I/O-free: the caller prefixes its own 1-byte datagram type.
 *
 * A fragment is FRAG_HDR bytes of header, big-endian, then one piece:
 *
 *   u32 id | u8 idx | u8 count | u24 total | piece idx of the message
 *
 * A message of total bytes is cut into count pieces of
 * chunk = ceil(total / count) bytes; piece idx covers
 * [idx * chunk, min(total, (idx + 1) * chunk)), and none may be empty.
 * Ids must not repeat within one session (one reasm per session).
 */
#ifndef CV_FRAG_H
#define CV_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define FRAG_HDR	9		/* id, idx, count, total: see above */
#define FRAG_COUNT_MIN	2		/* one piece is no fragmentation */
#define FRAG_COUNT_MAX	64		/* pieces per message (u64 bitmap) */
/* A FRAME_MAX message (a 64 KB TSO super-segment fits) plus headers. */
#define FRAG_TOTAL_MAX	(128 * 1024 + 64)

#define REASM_SLOTS	8		/* messages in progress at once */
/* Their buffers, all together: three 64 KB TSO messages, one of 128 KB. */
#define REASM_BYTES	(256 * 1024)
#define REASM_TIMEOUT_NS (1000000000ULL) /* a message older is dropped */
/*
 * Ids of messages recently completed, timed out or evicted: their late
 * fragments (duplicates, or the rest of a dropped message) are ignored
 * instead of starting a message that could only time out.
 */
#define REASM_DONE	32

/*
 * Pieces needed so that each, with FRAG_HDR, fits room bytes: at least
 * FRAG_COUNT_MIN (a caller sends a message that fits whole unfragmented).
 * 0 if total is < 2 or > FRAG_TOTAL_MAX, or FRAG_COUNT_MAX are not enough.
 */
size_t frag_count(size_t total, size_t room);

/*
 * Writes the header and piece idx of msg (total bytes, cut in count) into
 * buf; returns the bytes written (FRAG_HDR + piece), 0 if idx, count and
 * total do not make a valid piece.
 */
size_t frag_put(uint8_t *buf, uint32_t id, unsigned idx, unsigned count,
    const uint8_t *msg, size_t total);

struct reasm;

struct reasm_stats {
	uint64_t	completed;
	uint64_t	timed_out;	/* dropped after REASM_TIMEOUT_NS */
	uint64_t	evicted;	/* dropped to make room */
	uint64_t	malformed;	/* fragments rejected (-1) */
	uint64_t	late;		/* fragments of a finished message */
	size_t		pending;	/* messages in progress */
	size_t		bytes;		/* buffer bytes they hold */
};

/* One allocation of REASM_BYTES and change; NULL if out of memory. */
struct reasm *reasm_new(void);
void reasm_free(struct reasm *r);

/*
 * One fragment p (header + piece, len bytes) received at now_ns (a
 * monotonic clock). Returns 1 when it completed a message: *out and
 * *outlen then hold it, valid until the next call on r. Returns 0 if the
 * fragment was kept, or dropped as a duplicate or late; -1 if malformed
 * (bad count, idx or total, a piece length other than they imply) or
 * inconsistent with the message of the same id (other count or total).
 */
int reasm_input(struct reasm *r, const uint8_t *p, size_t len,
    uint64_t now_ns, const uint8_t **out, size_t *outlen);

void reasm_stats(const struct reasm *r, struct reasm_stats *st);

#endif
