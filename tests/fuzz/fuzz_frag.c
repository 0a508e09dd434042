/*
 * libFuzzer: fragments into one reassembler. The input is records
 *
 *   u8 clock | u16 len (big-endian) | len bytes of fragment
 *
 * clock < 250 moves the clock on by clock * 10 ms (timeouts happen);
 * above, it steps back (a clock that misbehaves must stay harmless).
 * Each fragment goes in as an exact-size heap copy. After every call the
 * arena's bookkeeping must hold: slots and bytes within the bound,
 * buffers disjoint and inside the arena, a bitmap per message that
 * matches its count; a completed message lies in the arena and is as
 * long as its header said.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cloud/frag.c"

static void fz_check(const struct reasm *r)
{
	const struct slot *s, *o;
	size_t live = 0;

	if (r->top > REASM_BYTES || r->live > r->top ||
	    r->ndone > REASM_DONE)
		abort();
	for (s = r->slot; s < r->slot + REASM_SLOTS; s++) {
		if (s->seq == 0)
			continue;
		live += s->total;
		if (s->off + s->total > r->top || s->got >= s->count ||
		    (unsigned)__builtin_popcountll(s->have) != s->got ||
		    (s->count < 64 && s->have >> s->count != 0))
			abort();
		for (o = s + 1; o < r->slot + REASM_SLOTS; o++)
			if (o->seq && o->off < s->off + s->total &&
			    s->off < o->off + o->total)
				abort();
	}
	if (live != r->live)
		abort();
}

static void fz_one(struct reasm *r, const uint8_t *p, size_t len,
    uint64_t now)
{
	uint8_t *c = malloc(len ? len : 1);
	const uint8_t *out = NULL;
	volatile uint8_t sink = 0;
	size_t outlen = 0, i;
	int ret;

	if (c == NULL)
		abort();
	memcpy(c, p, len);
	ret = reasm_input(r, c, len, now, &out, &outlen);
	if (ret == 1) {
		if (out < r->arena || outlen != get24(c + 6) ||
		    out + outlen > r->arena + REASM_BYTES)
			abort();
		for (i = 0; i < outlen; i++)
			sink ^= out[i];
		(void)sink;
	} else if (ret != 0 && ret != -1) {
		abort();
	}
	free(c);
	fz_check(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct reasm *r = reasm_new();
	uint64_t now = 1000000000ULL;
	size_t n;

	if (r == NULL)
		abort();
	while (len >= 3) {
		if (buf[0] < 250)
			now += buf[0] * 10000000ULL;
		else
			now -= (buf[0] - 249) * 100000000ULL;
		n = get16(buf + 1);
		buf += 3;
		len -= 3;
		if (n > len)
			n = len;
		fz_one(r, buf, n, now);
		buf += n;
		len -= n;
	}
	reasm_free(r);
	return 0;
}
