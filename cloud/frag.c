/*
 * Fragments and their bounded reassembly.
 *
 * Messages in progress keep contiguous buffers in one arena of
 * REASM_BYTES, taken at its top; when the top runs out but the live bytes
 * leave room, the arena is compacted. When slots or bytes run out, the
 * oldest message in progress is evicted, so memory never grows past the
 * bound whatever a peer sends. A buffer is only ever completed from
 * pieces written for its own message: the bitmap is fresh for each.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "frag.h"

_Static_assert(FRAG_TOTAL_MAX <= REASM_BYTES, "a message must fit the arena");
_Static_assert(FRAG_COUNT_MAX <= 64, "the piece bitmap is a u64");
_Static_assert(FRAG_TOTAL_MAX < 1 << 24, "total is a u24");

struct slot {
	uint32_t	id;
	unsigned	count, got;
	uint64_t	have;		/* bitmap of the pieces received */
	size_t		total, off;	/* buffer: arena[off, off + total) */
	uint64_t	born;		/* now_ns of the first fragment */
	uint64_t	seq;		/* creation order; 0 for a free slot */
};

struct reasm {
	struct slot	slot[REASM_SLOTS];
	uint32_t	done[REASM_DONE];	/* a ring of finished ids */
	unsigned	ndone, donepos;
	size_t		top, live;	/* arena[0, top) taken, live in use */
	uint64_t	seq;
	struct reasm_stats st;
	uint8_t		arena[REASM_BYTES];
};

/* Where piece idx lies in the message; -1 if the triple is invalid. */
static int frag_piece(unsigned idx, unsigned count, size_t total,
    size_t *off, size_t *len)
{
	size_t chunk;

	if (count < FRAG_COUNT_MIN || count > FRAG_COUNT_MAX ||
	    idx >= count || total > FRAG_TOTAL_MAX)
		return -1;
	chunk = (total + count - 1) / count;
	if ((count - 1) * chunk >= total)	/* an empty last piece */
		return -1;
	*off = idx * chunk;
	*len = total - *off < chunk ? total - *off : chunk;
	return 0;
}

size_t frag_count(size_t total, size_t room)
{
	size_t piece, count;

	if (total < FRAG_COUNT_MIN || total > FRAG_TOTAL_MAX ||
	    room <= FRAG_HDR)
		return 0;
	piece = room - FRAG_HDR;
	count = total / piece + (total % piece != 0);
	if (count < FRAG_COUNT_MIN)
		count = FRAG_COUNT_MIN;
	return count <= FRAG_COUNT_MAX ? count : 0;
}

size_t frag_put(uint8_t *buf, uint32_t id, unsigned idx, unsigned count,
    const uint8_t *msg, size_t total)
{
	size_t off, len;

	if (frag_piece(idx, count, total, &off, &len) == -1)
		return 0;
	put32(buf, id);
	buf[4] = (uint8_t)idx;
	buf[5] = (uint8_t)count;
	put24(buf + 6, (uint32_t)total);
	memcpy(buf + FRAG_HDR, msg + off, len);
	return FRAG_HDR + len;
}

struct reasm *reasm_new(void)
{
	return calloc(1, sizeof(struct reasm));
}

void reasm_free(struct reasm *r)
{
	free(r);
}

void reasm_stats(const struct reasm *r, struct reasm_stats *st)
{
	const struct slot *s;

	*st = r->st;
	st->pending = 0;
	for (s = r->slot; s < r->slot + REASM_SLOTS; s++)
		st->pending += s->seq != 0;
	st->bytes = r->live;
}

static int done_has(const struct reasm *r, uint32_t id)
{
	unsigned i;

	for (i = 0; i < r->ndone; i++)
		if (r->done[i] == id)
			return 1;
	return 0;
}

/* Frees s and its bytes; later fragments of its id are ignored. */
static void slot_drop(struct reasm *r, struct slot *s)
{
	r->done[r->donepos] = s->id;
	r->donepos = (r->donepos + 1) % REASM_DONE;
	if (r->ndone < REASM_DONE)
		r->ndone++;
	r->live -= s->total;
	if (r->live == 0)
		r->top = 0;
	else if (s->off + s->total == r->top)
		r->top = s->off;
	s->seq = 0;
}

static struct slot *slot_by_id(struct reasm *r, uint32_t id)
{
	struct slot *s;

	for (s = r->slot; s < r->slot + REASM_SLOTS; s++)
		if (s->seq && s->id == id)
			return s;
	return NULL;
}

static struct slot *slot_free(struct reasm *r)
{
	struct slot *s;

	for (s = r->slot; s < r->slot + REASM_SLOTS; s++)
		if (s->seq == 0)
			return s;
	return NULL;
}

static struct slot *slot_oldest(struct reasm *r)
{
	struct slot *s, *old = NULL;

	for (s = r->slot; s < r->slot + REASM_SLOTS; s++)
		if (s->seq && (old == NULL || s->seq < old->seq))
			old = s;
	return old;
}

static void reasm_expire(struct reasm *r, uint64_t now)
{
	struct slot *s;

	for (s = r->slot; s < r->slot + REASM_SLOTS; s++) {
		if (s->seq && now >= s->born &&
		    now - s->born > REASM_TIMEOUT_NS) {
			slot_drop(r, s);
			r->st.timed_out++;
		}
	}
}

/* Moves the live buffers down to arena[0, live), lowest first. */
static void reasm_compact(struct reasm *r)
{
	struct slot *s, *next;
	size_t at = 0;

	for (;;) {
		next = NULL;
		for (s = r->slot; s < r->slot + REASM_SLOTS; s++)
			if (s->seq && s->off >= at &&
			    (next == NULL || s->off < next->off))
				next = s;
		if (next == NULL)
			break;
		memmove(r->arena + at, r->arena + next->off, next->total);
		next->off = at;
		at += next->total;
	}
	r->top = at;
}

static struct slot *slot_new(struct reasm *r, uint32_t id, unsigned count,
    size_t total, uint64_t now)
{
	struct slot *s;

	/* total <= REASM_BYTES: evicting everything always makes room */
	while ((s = slot_free(r)) == NULL || r->live + total > REASM_BYTES) {
		slot_drop(r, slot_oldest(r));
		r->st.evicted++;
	}
	if (r->top + total > REASM_BYTES)
		reasm_compact(r);
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->count = count;
	s->total = total;
	s->off = r->top;
	s->born = now;
	s->seq = ++r->seq;
	r->top += total;
	r->live += total;
	return s;
}

int reasm_input(struct reasm *r, const uint8_t *p, size_t len,
    uint64_t now_ns, const uint8_t **out, size_t *outlen)
{
	unsigned idx, count;
	size_t total, off, plen;
	uint32_t id;
	struct slot *s;

	reasm_expire(r, now_ns);
	if (len < FRAG_HDR)
		goto bad;
	id = get32(p);
	idx = p[4];
	count = p[5];
	total = get24(p + 6);
	if (frag_piece(idx, count, total, &off, &plen) == -1 ||
	    len - FRAG_HDR != plen)
		goto bad;
	if (done_has(r, id)) {
		r->st.late++;
		return 0;
	}
	s = slot_by_id(r, id);
	if (s != NULL && (s->count != count || s->total != total))
		goto bad;
	if (s != NULL && (s->have >> idx & 1))
		return 0;
	if (s == NULL)
		s = slot_new(r, id, count, total, now_ns);
	memcpy(r->arena + s->off + off, p + FRAG_HDR, plen);
	s->have |= 1ULL << idx;
	if (++s->got < s->count)
		return 0;
	*out = r->arena + s->off;
	*outlen = s->total;
	slot_drop(r, s);
	r->st.completed++;
	return 1;
bad:
	r->st.malformed++;
	return -1;
}
