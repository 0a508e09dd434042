/*
 * libFuzzer: arbitrary vnet header + frame into gso_split, twice (a full
 * scratch, then one as short as the input says), then into gso_split_mss
 * with a cap the input says. Every emitted frame must lie inside the
 * scratch or the input, fit the scratch, and be counted by the return
 * value; -1 must emit nothing; TCP segments must verify, carry at most
 * min(gso_size, cap) bytes after gso_hdr_len() of headers, and their
 * payloads laid end to end must be the input's.
 *
 * The same hostile headers go through gso_check, the gate for offload
 * metadata from the mesh: what it passes, gso_split must take with a full
 * scratch, in 1 to GSO_SEGS_MAX frames; what it refuses has a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/gso.c"
#include "fz_csum.h"

struct fz {
	const uint8_t	*in, *scratch;
	size_t		inlen, slen;
	int		count, tso;
	size_t		hlen, mss, off;	/* a TSO split's headers, payload */
};

/* An emitted TCP segment: IPv4 header and TCP checksums verify. */
static void fz_check_tcp(const uint8_t *f, size_t n)
{
	size_t l3 = 12, l4;
	uint8_t ph[4] = { 0, 6, 0, 0 };
	uint32_t s;

	while (get16(f + l3) == 0x8100 || get16(f + l3) == 0x88a8)
		l3 += 4;
	l3 += 2;
	if (get16(f + l3 - 2) == 0x86dd) {
		l4 = l3 + 40;
		s = fz_sum(f + l3 + 8, 32, 0);
	} else {
		l4 = l3 + (size_t)(f[l3] & 0x0f) * 4;
		if (fz_sum(f + l3, l4 - l3, 0) != 0xffff)
			abort();
		s = fz_sum(f + l3 + 12, 8, 0);
	}
	put16(ph + 2, (uint16_t)(n - l4));
	s = fz_sum(ph, 4, s);
	if (fz_sum(f + l4, n - l4, s) != 0xffff)
		abort();
}

/* A segment's payload is the input's next one, at most mss bytes. */
static void fz_check_payload(struct fz *z, const uint8_t *f, size_t n)
{
	const uint8_t *src = z->in + GSO_VNET_HDR_LEN + z->hlen + z->off;

	if (z->hlen == 0 || n < z->hlen || n - z->hlen > z->mss ||
	    z->off + n - z->hlen > z->inlen - GSO_VNET_HDR_LEN - z->hlen ||
	    memcmp(f + z->hlen, src, n - z->hlen) != 0)
		abort();
	z->off += n - z->hlen;
}

static void fz_emit(void *arg, const uint8_t *frame, size_t len)
{
	struct fz *z = arg;
	volatile uint8_t sink = 0;
	size_t i;

	if (len == 0 || len > GSO_FRAME_MAX)
		abort();
	if (frame == z->scratch) {
		if (len > z->slen)
			abort();
	} else if (frame != z->in + GSO_VNET_HDR_LEN ||
	    len != z->inlen - GSO_VNET_HDR_LEN) {
		abort();
	}
	for (i = 0; i < len; i++)
		sink ^= frame[i];
	(void)sink;
	if (z->tso) {
		fz_check_tcp(frame, len);
		fz_check_payload(z, frame, len);
	}
	z->count++;
}

static int fz_run(const uint8_t *buf, size_t len, uint8_t *scratch,
    size_t slen, size_t cap)
{
	struct fz z = { .in = buf, .inlen = len, .scratch = scratch,
	    .slen = slen };
	int r;

	z.tso = len >= GSO_VNET_HDR_LEN && buf[1] != GSO_TYPE_NONE;
	if (z.tso) {
		z.hlen = gso_hdr_len(buf, len);
		z.mss = get_le16(buf + 4);
		if (cap != 0 && cap < z.mss)
			z.mss = cap;
	}
	r = cap == 0 && len % 2 ?
	    gso_split(buf, len, scratch, slen, fz_emit, &z) :
	    gso_split_mss(buf, len, cap, scratch, slen, fz_emit, &z);
	if (r == -1 ? z.count != 0 : r < 1 || r != z.count)
		abort();
	if (cap != 0 && cap < GSO_MSS_MIN && r != -1)
		abort();
	/* every payload byte went out, once */
	if (z.tso && r > 0 && z.off != len - GSO_VNET_HDR_LEN - z.hlen)
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static uint8_t *scratch;
	const char *why = NULL;
	int r;

	if (scratch == NULL && (scratch = malloc(GSO_FRAME_MAX)) == NULL)
		abort();
	r = fz_run(buf, len, scratch, GSO_FRAME_MAX, 0);
	if (gso_check(buf, len, &why) == 0 ?
	    why != NULL || r < 1 || r > GSO_SEGS_MAX : why == NULL)
		abort();
	fz_run(buf, len, scratch, len > 3 ? buf[len - 1] * 16 + 20 : 0, 0);
	fz_run(buf, len, scratch, GSO_FRAME_MAX,
	    len > 3 ? (size_t)buf[len - 2] * 8 : 0);
	return 0;
}
