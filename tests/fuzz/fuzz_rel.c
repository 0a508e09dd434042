/*
 * libFuzzer: the reliable channel, as a link drives it. Two channels, a
 * sending to b, are driven by records of the input:
 *
 *   u8 op, u16 len, len bytes
 *   op 0 write the bytes into a (the first picks seg_max)
 *   op 1 hand the bytes to b as a datagram      op 2 the same to a
 *   op 3 pump a -> b, op 4 pump b -> a: each datagram is dropped,
 *        delivered, held back or delivered twice, as the bytes say
 *   op 5 deliver the held datagrams, newest first   op 6 the clock moves
 *
 * Every datagram crosses as an exact-size heap copy. The channels' bounds
 * are checked after every record, a refused datagram must change nothing,
 * and unless bytes of our own making were fed in (ops 1, 2), b delivers
 * exactly what a was given, in order, each accepts the other's datagrams,
 * and at the end a clean network delivers the rest in a few rounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cloud/rel.c"

#define HELD 8
#define STREAM_MAX (1 << 20)

struct dir {
	struct rel *from, *to;
	uint8_t *held[HELD];
	size_t held_len[HELD], nheld;
};

static struct rel ra, rb, snap;
static uint8_t stream[STREAM_MAX];	/* what a was given */
static size_t written, got;
static int forged;			/* b or a saw bytes not from its peer */
static uint64_t now;

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void to_b(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	if (!forged) {
		check(got + n <= written);
		check(memcmp(stream + got, p, n) == 0);
	}
	got += n;
}

static void to_a(void *arg, const uint8_t *p, size_t n)
{
	volatile uint8_t sink = 0;
	size_t i;

	(void)arg;
	for (i = 0; i < n; i++)
		sink ^= p[i];
	(void)sink;
}

static void bounds(const struct rel *r)
{
	check(r->snd_end - r->snd_una <= REL_WINDOW);
	check(r->snd_nxt - r->snd_una <= r->snd_end - r->snd_una);
	check(r->rto_ns >= REL_RTO_MIN && r->rto_ns <= REL_RTO_MAX);
}

/* An exact-size copy goes in; a refusal must leave r as it was. */
static int input(struct rel *r, const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	int rc;

	check(c != NULL);
	memcpy(c, p, len);
	memcpy(&snap, r, sizeof(snap));
	rc = rel_input(r, c, len, now, r == &rb ? to_b : to_a, NULL);
	if (rc)
		check(memcmp(&snap, r, sizeof(snap)) == 0);
	free(c);
	return rc;
}

static void deliver(struct dir *d, const uint8_t *p, size_t len)
{
	int rc = input(d->to, p, len);

	if (!forged)
		check(rc == 0);
}

static void pump(struct dir *d, const uint8_t *ctl, size_t nctl)
{
	uint8_t *b = malloc(REL_HDR + REL_SEG_MAX);
	size_t n, i = 0;
	uint64_t t;

	check(b != NULL);
	while ((n = rel_output(d->from, now, b, REL_HDR + REL_SEG_MAX))) {
		uint8_t c = i < nctl ? ctl[i] : 1;

		check(++i <= 2 * REL_WINDOW + 1);	/* runs dry */
		if (c % 4 == 2 && d->nheld < HELD) {
			d->held[d->nheld] = malloc(n);
			check(d->held[d->nheld] != NULL);
			memcpy(d->held[d->nheld], b, n);
			d->held_len[d->nheld++] = n;
		} else if (c % 4) {
			deliver(d, b, n);
			if (c % 4 == 3)
				deliver(d, b, n);
		}
	}
	t = rel_next_timeout(d->from);
	check(t == 0 || t > now);
	free(b);
}

static void release(struct dir *d)
{
	while (d->nheld > 0) {
		d->nheld--;
		deliver(d, d->held[d->nheld], d->held_len[d->nheld]);
		free(d->held[d->nheld]);
	}
}

static void write_a(const uint8_t *p, size_t len)
{
	size_t seg_max, room, n;

	if (len == 0)
		return;
	seg_max = (size_t)p[0] * 8;	/* 0 .. 2040: out of range too */
	room = rel_room(&ra, seg_max);
	n = rel_write(&ra, p + 1, len - 1, seg_max, now);
	check(n == (len - 1 < room ? len - 1 : room));
	if (written + n <= STREAM_MAX)
		memcpy(stream + written, p + 1, n);
	else
		forged = 1;	/* too long to check: stop checking */
	written += n;
}

/* Whatever happened before, a clean network delivers the rest: within a
 * few rounds of timeouts, b has everything and a nothing in flight. */
static void finish(struct dir *ab, struct dir *ba)
{
	int round;
	uint64_t t;

	release(ab);
	release(ba);
	for (round = 0; round < 64; round++) {
		pump(ab, NULL, 0);
		pump(ba, NULL, 0);
		if (rel_idle(&ra) && got == written)
			return;
		/* acks just taken in may have made a resend due at once */
		t = rel_next_timeout(&ra);
		check(t != 0);
		if (t > now)
			now = t;
	}
	check(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct dir ab = { &ra, &rb, { 0 }, { 0 }, 0 };
	struct dir ba = { &rb, &ra, { 0 }, { 0 }, 0 };

	now = 1000000000;
	written = got = 0;
	forged = 0;
	rel_init(&ra, now);
	rel_init(&rb, now);
	while (len >= 3) {
		uint8_t op = buf[0];
		size_t n = (size_t)buf[1] << 8 | buf[2];
		const uint8_t *p = buf + 3;

		n = n > len - 3 ? len - 3 : n;
		switch (op % 7) {
		case 0:
			write_a(p, n);
			break;
		case 1:
			forged = 1;
			input(&rb, p, n);
			break;
		case 2:
			forged = 1;
			input(&ra, p, n);
			break;
		case 3:
			pump(&ab, p, n);
			break;
		case 4:
			pump(&ba, p, n);
			break;
		case 5:
			release(&ab);
			release(&ba);
			break;
		case 6:	/* up to ~4.3 s, or to the next timeout */
			now += n >= 4 ? get32(p) : rel_next_timeout(&ra) > now
				? rel_next_timeout(&ra) - now : 1;
			break;
		}
		bounds(&ra);
		bounds(&rb);
		buf += 3 + n;
		len -= 3 + n;
	}
	if (!forged)
		finish(&ab, &ba);
	while (ab.nheld)
		free(ab.held[--ab.nheld]);
	while (ba.nheld)
		free(ba.held[--ba.nheld]);
	return 0;
}
