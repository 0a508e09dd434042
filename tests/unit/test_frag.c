/*
 * Fragmentation and bounded reassembly: round trips, any delivery order,
 * loss, timeouts, eviction, compaction, and every malformed fragment.
 *
 *   msg --frag_put--> [hdr|piece 0] [hdr|piece 1] ... --any order,
 *       dups, loss--> reasm_input --> msg (once), or nothing
 *
 * Fragments are fed as exact-size heap copies, so ASan sees an over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frag.h"

#define SEC	1000000000ULL
#define T0	(5 * SEC)

struct frags {
	unsigned	count;
	uint8_t		*f[FRAG_COUNT_MAX];
	size_t		n[FRAG_COUNT_MAX];
};

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint8_t *msg_new(size_t n, uint32_t seed)
{
	uint8_t *m = malloc(n ? n : 1);
	size_t i;

	assert_non_null(m);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		m[i] = (uint8_t)(seed >> 16);
	}
	return m;
}

/* Cuts msg to fit room; every fragment its own exact-size allocation. */
static void cut(struct frags *fs, const uint8_t *msg, size_t total,
    size_t room, uint32_t id)
{
	uint8_t buf[FRAG_HDR + FRAG_TOTAL_MAX];
	unsigned i;

	fs->count = (unsigned)frag_count(total, room);
	assert_true(fs->count >= 2);
	for (i = 0; i < fs->count; i++) {
		fs->n[i] = frag_put(buf, id, i, fs->count, msg, total);
		assert_true(fs->n[i] > FRAG_HDR && fs->n[i] <= room);
		fs->f[i] = malloc(fs->n[i]);
		assert_non_null(fs->f[i]);
		memcpy(fs->f[i], buf, fs->n[i]);
	}
}

static void frags_free(struct frags *fs)
{
	unsigned i;

	for (i = 0; i < fs->count; i++)
		free(fs->f[i]);
}

/* Feeds fragment i; asserts the result, and the message if completed. */
static void feed(struct reasm *r, const struct frags *fs, unsigned i,
    uint64_t now, int want, const uint8_t *msg, size_t total)
{
	const uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(reasm_input(r, fs->f[i], fs->n[i], now, &out,
	    &outlen), want);
	if (want == 1) {
		assert_int_equal(outlen, total);
		assert_memory_equal(out, msg, total);
	}
}

static void stats(const struct reasm *r, struct reasm_stats *st)
{
	reasm_stats(r, st);
	assert_true(st->pending <= REASM_SLOTS);
	assert_true(st->bytes <= REASM_BYTES);
}

/* total 10 in 4: chunk 3, pieces 3 3 3 1; the header byte by byte. */
static void test_layout(void **state)
{
	static const uint8_t msg[10] = "0123456789";
	static const uint8_t want[] = { 0xde, 0xad, 0xbe, 0xef, 3, 4,
	    0x00, 0x00, 0x0a, '9' };
	uint8_t b[32];

	(void)state;
	assert_int_equal(frag_put(b, 0xdeadbeef, 0, 4, msg, 10), 12);
	assert_memory_equal(b + FRAG_HDR, "012", 3);
	assert_int_equal(frag_put(b, 0xdeadbeef, 2, 4, msg, 10), 12);
	assert_memory_equal(b + FRAG_HDR, "678", 3);
	assert_int_equal(frag_put(b, 0xdeadbeef, 3, 4, msg, 10), 10);
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(frag_put(b, 1, 0, 2, msg, 2), FRAG_HDR + 1);
	assert_int_equal(frag_put(b, 1, 1, 2, msg, 2), FRAG_HDR + 1);
	assert_int_equal(b[FRAG_HDR], '1');
	/* 9 in 4 would leave piece 3 empty; 1 in 2 too */
	assert_int_equal(frag_put(b, 1, 0, 4, msg, 9), 0);
	assert_int_equal(frag_put(b, 1, 0, 2, msg, 1), 0);
	assert_int_equal(frag_put(b, 1, 2, 2, msg, 10), 0);
	assert_int_equal(frag_put(b, 1, 0, 1, msg, 10), 0);
	assert_int_equal(frag_put(b, 1, 0, FRAG_COUNT_MAX + 1, msg, 10), 0);
}

static void test_count(void **state)
{
	(void)state;
	assert_int_equal(frag_count(1000, 1009), 2);	/* fits: still 2 */
	assert_int_equal(frag_count(2000, 1009), 2);
	assert_int_equal(frag_count(2001, 1009), 3);
	assert_int_equal(frag_count(3000, 1009), 3);
	assert_int_equal(frag_count(2, 10), 2);
	assert_int_equal(frag_count(3, 10), 3);
	assert_int_equal(frag_count(64, 10), 64);
	assert_int_equal(frag_count(65, 10), 0);	/* too many */
	assert_int_equal(frag_count(100, FRAG_HDR), 0);	/* no room */
	assert_int_equal(frag_count(100, 0), 0);
	assert_int_equal(frag_count(1, 1000), 0);
	assert_int_equal(frag_count(0, 1000), 0);
	assert_int_equal(frag_count(FRAG_TOTAL_MAX, SIZE_MAX), 2);
	assert_int_equal(frag_count(FRAG_TOTAL_MAX + 1, SIZE_MAX), 0);
	assert_int_equal(frag_count(FRAG_TOTAL_MAX, 2100), 63);
}

/* In order: completes on the last piece, exactly the message. */
static void roundtrip(struct reasm *r, size_t total, size_t room,
    uint32_t id)
{
	uint8_t *msg = msg_new(total, id);
	struct frags fs;
	size_t sum = 0;
	unsigned i;

	if (frag_count(total, room) == 0) {
		free(msg);
		return;
	}
	cut(&fs, msg, total, room, id);
	/* as few pieces as fit, and they tile the message */
	assert_true(fs.count == 2 ||
	    (size_t)(fs.count - 1) * (room - FRAG_HDR) < total);
	for (i = 0; i < fs.count; i++) {
		sum += fs.n[i] - FRAG_HDR;
		feed(r, &fs, i, T0, i + 1 == fs.count, msg, total);
	}
	assert_int_equal(sum, total);
	frags_free(&fs);
	free(msg);
}

static void test_roundtrip(void **state)
{
	static const size_t rooms[] = { 10, 11, 17, 100, 576, 1200, 1391,
	    1472, 9000 };
	struct reasm *r = reasm_new();
	struct reasm_stats st;
	uint32_t id = 1;
	size_t t, k;

	(void)state;
	for (k = 0; k < sizeof(rooms) / sizeof(rooms[0]); k++) {
		for (t = 2; t < 600; t++)
			roundtrip(r, t, rooms[k], id++);
		for (t = 0; t < 20; t++)
			roundtrip(r, 2 + rnd() % (FRAG_TOTAL_MAX - 1),
			    rooms[k], id++);
		roundtrip(r, FRAG_TOTAL_MAX, rooms[k], id++);
	}
	stats(r, &st);
	assert_true(st.completed > 2000);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.malformed + st.evicted + st.timed_out, 0);
	reasm_free(r);
}

/* Random order, each fragment 1 to 3 times: one completion, exact. */
static void test_shuffled_dups(void **state)
{
	struct reasm *r = reasm_new();
	unsigned order[3 * FRAG_COUNT_MAX], n, i, j, tmp, left, round;
	unsigned char seen[FRAG_COUNT_MAX];
	struct reasm_stats st;
	struct frags fs;
	uint8_t *msg;
	size_t total;

	(void)state;
	for (round = 0; round < 200; round++) {
		total = 2 + rnd() % 65000;
		msg = msg_new(total, round);
		cut(&fs, msg, total, 1100 + rnd() % 400, 100 + round);
		for (n = 0, i = 0; i < fs.count; i++)
			for (j = rnd() % 3; j < 3; j++)
				order[n++] = i;
		for (i = n - 1; i > 0; i--) {
			j = rnd() % (i + 1);
			tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		memset(seen, 0, sizeof(seen));
		for (left = fs.count, i = 0; i < n; i++) {
			left -= !seen[order[i]];
			feed(r, &fs, order[i], T0, !seen[order[i]] &&
			    left == 0, msg, total);
			seen[order[i]] = 1;
		}
		frags_free(&fs);
		free(msg);
	}
	stats(r, &st);
	assert_int_equal(st.completed, 200);
	assert_int_equal(st.pending, 0);
	reasm_free(r);
}

/* One piece lost: no completion; it times out and its bytes are reused. */
static void test_loss_timeout(void **state)
{
	struct reasm *r = reasm_new();
	struct reasm_stats st;
	struct frags fs, big;
	size_t total = 50000;
	uint8_t *msg = msg_new(total, 7), *bmsg;
	unsigned i;

	(void)state;
	cut(&fs, msg, total, 1400, 7);
	for (i = 0; i < fs.count; i++)
		if (i != 17)
			feed(r, &fs, i, T0 + i, 0, msg, total);
	stats(r, &st);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.bytes, total);
	/* still alive at exactly the timeout */
	bmsg = msg_new(FRAG_TOTAL_MAX, 8);
	cut(&big, bmsg, FRAG_TOTAL_MAX, 2100, 8);
	feed(r, &big, 0, T0 + REASM_TIMEOUT_NS, 0, NULL, 0);
	stats(r, &st);
	assert_int_equal(st.pending, 2);
	assert_int_equal(st.timed_out, 0);
	/* one ns later it is gone, and the lost piece changes nothing */
	feed(r, &big, 1, T0 + REASM_TIMEOUT_NS + 1, 0, NULL, 0);
	stats(r, &st);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.bytes, FRAG_TOTAL_MAX);
	feed(r, &fs, 17, T0 + REASM_TIMEOUT_NS + 2, 0, NULL, 0);
	stats(r, &st);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.pending, 1);
	for (i = 2; i < big.count; i++)
		feed(r, &big, i, T0 + REASM_TIMEOUT_NS + 3, i + 1 == big.count,
		    bmsg, FRAG_TOTAL_MAX);
	stats(r, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.bytes, 0);
	frags_free(&fs);
	frags_free(&big);
	free(msg);
	free(bmsg);
	reasm_free(r);
}

/* Eight messages interleaved at random all complete, each intact. */
static void test_interleaved(void **state)
{
	struct reasm *r = reasm_new();
	struct frags fs[REASM_SLOTS];
	uint8_t *msg[REASM_SLOTS];
	size_t total[REASM_SLOTS];
	unsigned next[REASM_SLOTS] = { 0 }, left = REASM_SLOTS, m;
	struct reasm_stats st;

	(void)state;
	for (m = 0; m < REASM_SLOTS; m++) {
		total[m] = 1000 + rnd() % (REASM_BYTES / REASM_SLOTS - 1000);
		msg[m] = msg_new(total[m], 50 + m);
		cut(&fs[m], msg[m], total[m], 700 + 100 * m, 50 + m);
	}
	while (left > 0) {
		m = rnd() % REASM_SLOTS;
		if (next[m] == fs[m].count)
			continue;
		feed(r, &fs[m], next[m], T0, next[m] + 1 == fs[m].count,
		    msg[m], total[m]);
		left -= ++next[m] == fs[m].count;
	}
	stats(r, &st);
	assert_int_equal(st.completed, REASM_SLOTS);
	assert_int_equal(st.evicted, 0);
	for (m = 0; m < REASM_SLOTS; m++) {
		frags_free(&fs[m]);
		free(msg[m]);
	}
	reasm_free(r);
}

/*
 * Buffers A B C D (60000 each) fill the arena's top; B completes; E then
 * only fits once A, C, D move down. All four still complete intact.
 */
static void test_compaction(void **state)
{
	struct reasm *r = reasm_new();
	struct frags fs[5];
	uint8_t *msg[5];
	struct reasm_stats st;
	const size_t total = 60000;
	unsigned m, i;

	(void)state;
	for (m = 0; m < 5; m++) {
		msg[m] = msg_new(total, 200 + m);
		cut(&fs[m], msg[m], total, 1400, 200 + m);
	}
	for (m = 0; m < 4; m++)
		for (i = 0; i < fs[m].count / 2; i++)
			feed(r, &fs[m], i, T0, 0, NULL, 0);
	for (i = fs[1].count / 2; i < fs[1].count; i++)
		feed(r, &fs[1], i, T0, i + 1 == fs[1].count, msg[1], total);
	for (i = 0; i + 1 < fs[4].count; i++)
		feed(r, &fs[4], i, T0, 0, NULL, 0);
	stats(r, &st);
	assert_int_equal(st.pending, 4);
	assert_int_equal(st.bytes, 4 * total);
	assert_int_equal(st.evicted, 0);
	for (m = 0; m < 5; m++) {
		if (m == 1)
			continue;
		for (i = m == 4 ? fs[4].count - 1 : fs[m].count / 2;
		    i < fs[m].count; i++)
			feed(r, &fs[m], i, T0, i + 1 == fs[m].count, msg[m],
			    total);
		frags_free(&fs[m]);
	}
	frags_free(&fs[1]);
	for (m = 0; m < 5; m++)
		free(msg[m]);
	stats(r, &st);
	assert_int_equal(st.completed, 5);
	assert_int_equal(st.bytes, 0);
	reasm_free(r);
}

/*
 * A done below B leaves a hole too small for C: C must go above B (or B
 * move), never over it. B and C then complete intact.
 */
static void test_hole(void **state)
{
	static const size_t total[3] = { 10000, 10000, 15000 };
	struct reasm *r = reasm_new();
	struct frags fs[3];
	uint8_t *msg[3];
	unsigned m, i;

	(void)state;
	for (m = 0; m < 3; m++) {
		msg[m] = msg_new(total[m], 300 + m);
		cut(&fs[m], msg[m], total[m], 1000, 300 + m);
	}
	feed(r, &fs[0], 0, T0, 0, NULL, 0);
	for (i = 0; i + 1 < fs[1].count; i++)
		feed(r, &fs[1], i, T0, 0, NULL, 0);
	for (i = 1; i < fs[0].count; i++)
		feed(r, &fs[0], i, T0, i + 1 == fs[0].count, msg[0], total[0]);
	for (i = 0; i + 1 < fs[2].count; i++)
		feed(r, &fs[2], i, T0, 0, NULL, 0);
	feed(r, &fs[1], fs[1].count - 1, T0, 1, msg[1], total[1]);
	feed(r, &fs[2], fs[2].count - 1, T0, 1, msg[2], total[2]);
	for (m = 0; m < 3; m++) {
		frags_free(&fs[m]);
		free(msg[m]);
	}
	reasm_free(r);
}

/*
 * A flood of first pieces under fresh ids: never more than the bound in
 * use, the oldest evicted; the evicted never complete, with their own
 * late pieces or anyone's; a message sent whole afterwards still does.
 */
static void test_flood_bound(void **state)
{
	struct reasm *r = reasm_new();
	uint8_t b[FRAG_HDR + FRAG_TOTAL_MAX], *msg = msg_new(FRAG_TOTAL_MAX, 9);
	const uint8_t *out;
	struct reasm_stats st;
	struct frags fs;
	size_t outlen, total, n;
	uint32_t id;

	(void)state;
	for (id = 1000; id < 5000; id++) {
		total = 2 + rnd() % (FRAG_TOTAL_MAX - 1);
		n = frag_put(b, id, 0, 2, msg, total);
		assert_int_equal(reasm_input(r, b, n, T0 + id, &out, &outlen),
		    0);
		stats(r, &st);
		assert_true(st.pending >= 1);
	}
	assert_int_equal(st.evicted + st.pending, 4000);
	/* the second pieces of long-evicted ones start nothing whole */
	for (id = 1000; id < 1100; id++) {
		n = frag_put(b, id, 1, 2, msg, 2 + id);
		assert_int_equal(reasm_input(r, b, n, T0 + 30000, &out,
		    &outlen), 0);
	}
	stats(r, &st);
	assert_int_equal(st.completed, 0);
	cut(&fs, msg, FRAG_TOTAL_MAX, 2100, 5);
	for (n = 0; n < fs.count; n++)
		feed(r, &fs, (unsigned)n, T0 + 30000, n + 1 == fs.count, msg,
		    FRAG_TOTAL_MAX);
	frags_free(&fs);
	free(msg);
	reasm_free(r);
}

/*
 * A is evicted half-received; A's late pieces are ignored (a recent id),
 * and once its id has left that ring they start a new message that,
 * lacking A's first half, does not complete until that half is sent
 * again: then it is A, byte for byte.
 */
static void test_evicted_never_mixes(void **state)
{
	struct reasm *r = reasm_new();
	uint8_t *a = msg_new(100000, 1), *b = msg_new(100000, 2);
	struct frags fa, fb, fo;
	struct reasm_stats st;
	unsigned i, k;
	uint8_t *o = msg_new(1000, 3);

	(void)state;
	cut(&fa, a, 100000, 2000, 77);
	cut(&fb, b, 100000, 2000, 78);
	for (i = 0; i < fa.count / 2; i++)
		feed(r, &fa, i, T0, 0, NULL, 0);
	for (k = 0; k < REASM_SLOTS; k++) {	/* A evicted first */
		cut(&fo, o, 1000, 600, 1000 + k);
		feed(r, &fo, 0, T0, 0, NULL, 0);
		frags_free(&fo);
	}
	stats(r, &st);
	assert_int_equal(st.evicted, 1);
	for (i = 0; i < fb.count; i++)
		feed(r, &fb, i, T0, i + 1 == fb.count, b, 100000);
	for (i = fa.count / 2; i < fa.count; i++)
		feed(r, &fa, i, T0, 0, NULL, 0);
	for (k = 0; k < REASM_DONE; k++) {	/* push 77 out of the ring */
		cut(&fo, o, 1000, 600, 2000 + k);
		feed(r, &fo, 0, T0, 0, NULL, 0);
		feed(r, &fo, 1, T0, 1, o, 1000);
		frags_free(&fo);
	}
	for (i = fa.count / 2; i < fa.count; i++)
		feed(r, &fa, i, T0, 0, NULL, 0);
	stats(r, &st);
	assert_int_equal(st.completed, 1 + REASM_DONE);
	for (i = 0; i < fa.count / 2; i++)
		feed(r, &fa, i, T0, i + 1 == fa.count / 2, a, 100000);
	frags_free(&fa);
	frags_free(&fb);
	free(a);
	free(b);
	free(o);
	reasm_free(r);
}

static uint64_t rejected;

/* Feeds a copy of exactly len bytes of b; expects -1. */
static void reject(struct reasm *r, const uint8_t *b, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	const uint8_t *out;
	size_t outlen;

	assert_non_null(c);
	memcpy(c, b, len);
	assert_int_equal(reasm_input(r, c, len, T0, &out, &outlen), -1);
	free(c);
	rejected++;
}

/* A header (idx, count, total) with a piece of plen bytes. */
static size_t hdr(uint8_t *b, uint32_t id, unsigned idx, unsigned count,
    size_t total, size_t plen)
{
	b[0] = (uint8_t)(id >> 24);
	b[1] = (uint8_t)(id >> 16);
	b[2] = (uint8_t)(id >> 8);
	b[3] = (uint8_t)id;
	b[4] = (uint8_t)idx;
	b[5] = (uint8_t)count;
	b[6] = (uint8_t)(total >> 16);
	b[7] = (uint8_t)(total >> 8);
	b[8] = (uint8_t)total;
	memset(b + FRAG_HDR, 0x55, plen + 1);
	return FRAG_HDR + plen;
}

static void test_malformed(void **state)
{
	static uint8_t b[FRAG_HDR + 70000];
	struct reasm *r = reasm_new();
	uint8_t *msg = msg_new(1000, 4);
	struct reasm_stats st;
	struct frags fs;
	const uint8_t *out;
	size_t n, i;

	(void)state;
	n = hdr(b, 1, 0, 4, 10, 3);
	for (i = 0; i < n; i++)
		reject(r, b, i);
	reject(r, b, n + 1);
	reject(r, b, hdr(b, 1, 0, 0, 10, 10));		/* count 0, 1 */
	reject(r, b, hdr(b, 1, 0, 1, 10, 10));
	reject(r, b, hdr(b, 1, 0, FRAG_COUNT_MAX + 1, 65, 1));
	reject(r, b, hdr(b, 1, 0, 255, 255, 1));
	reject(r, b, hdr(b, 1, 4, 4, 10, 1));		/* idx >= count */
	reject(r, b, hdr(b, 1, 255, 4, 10, 1));
	reject(r, b, hdr(b, 1, 0, 2, 0, 0));		/* total 0, 1 */
	reject(r, b, hdr(b, 1, 1, 2, 1, 0));
	reject(r, b, hdr(b, 1, 0, 2, 1, 1));
	reject(r, b, hdr(b, 1, 3, 4, 9, 0));		/* empty last piece */
	reject(r, b, hdr(b, 1, 0, 4, 9, 3));
	reject(r, b, hdr(b, 1, 0, 2, FRAG_TOTAL_MAX + 1, 65569));
	reject(r, b, hdr(b, 1, 1, 2, 0xffffff, 0));
	reject(r, b, hdr(b, 1, 3, 4, 10, 2));		/* 3, 3, 3, 1 */
	reject(r, b, hdr(b, 1, 3, 4, 10, 0));
	reject(r, b, hdr(b, 1, 2, 4, 10, 2));
	reject(r, b, hdr(b, 1, 2, 4, 10, 4));
	/* the largest valid ones pass */
	assert_int_equal(reasm_input(r, b, hdr(b, 1, 3, 4, 10, 1), T0, &out,
	    &n), 0);
	assert_int_equal(reasm_input(r, b, hdr(b, 2, 0, 2, FRAG_TOTAL_MAX,
	    FRAG_TOTAL_MAX / 2), T0, &out, &n), 0);
	assert_int_equal(reasm_input(r, b, hdr(b, 3, FRAG_COUNT_MAX - 1,
	    FRAG_COUNT_MAX, FRAG_COUNT_MAX, 1), T0, &out, &n), 0);
	/* same id, other count or total: rejected, the first unharmed */
	cut(&fs, msg, 1000, 300, 9);
	assert_int_equal(fs.count, 4);
	feed(r, &fs, 0, T0, 0, NULL, 0);
	reject(r, b, hdr(b, 9, 1, 5, 1000, 200));
	reject(r, b, hdr(b, 9, 1, 4, 999, 250));
	reject(r, b, hdr(b, 9, 1, 4, 1001, 251));
	for (i = 1; i < 4; i++)
		feed(r, &fs, (unsigned)i, T0, i == 3, msg, 1000);
	stats(r, &st);
	assert_int_equal(st.malformed, rejected);
	assert_int_equal(rejected, FRAG_HDR + 3 + 18 + 3);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.pending, 3);
	frags_free(&fs);
	free(msg);
	reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_shuffled_dups),
		cmocka_unit_test(test_loss_timeout),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_hole),
		cmocka_unit_test(test_flood_bound),
		cmocka_unit_test(test_evicted_never_mixes),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
