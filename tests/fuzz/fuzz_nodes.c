/*
 * libFuzzer: node records (cloud/nodes.c). The decoder on an exact-size
 * copy of the input: what it takes must encode back to the same bytes
 * (one encoding per record), and every field it fills must be in bounds.
 * Then the input, cut into frames (u16 length, bytes), goes into a table
 * whose signature check takes a record whose first signature byte is
 * even: newest-wins, the bound and the views run on whatever comes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cloud/nodes.c"

static uint64_t fz_clock;

static size_t fz_links(void *ctx, struct node_link *out, size_t max)
{
	(void)ctx;
	memset(out, 0x42, max ? sizeof(*out) : 0);
	return max ? 1 : 0;
}

static int fz_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig,
		   size_t *siglen)
{
	(void)ctx;
	(void)data;
	(void)len;
	sig[0] = 0;
	*siglen = 1;
	return 0;
}

static int fz_verify(void *ctx, uint32_t peer, const struct node_id *origin,
		     const uint8_t *data, size_t len, const uint8_t *sig,
		     size_t siglen)
{
	(void)ctx;
	(void)peer;
	(void)origin;
	if (len < sizeof(NODE_SIG_LABEL) - 1 || len > NODE_SIG_DATA_MAX ||
	    memcmp(data, NODE_SIG_LABEL, sizeof(NODE_SIG_LABEL) - 1) ||
	    siglen < 1 || siglen > NODE_SIG_MAX)
		abort();
	return sig[0] & 1 ? -1 : 0;
}

static void fz_send(void *ctx, uint32_t peer, const struct node_id *origin,
		    const uint8_t *rec, size_t len)
{
	struct node_rec r;
	size_t body;

	(void)ctx;
	(void)peer;
	(void)origin;
	if (nrec_decode(rec, len, &r, &body) < 0)	/* we only pass on */
		abort();				/* what decodes */
}

static void fz_flood(void *ctx, uint32_t except, const struct node_id *origin,
		     const uint8_t *rec, size_t len)
{
	fz_send(ctx, except, origin, rec, len);
}

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return fz_clock;
}

static void fz_arm(void *ctx, uint64_t ms)
{
	(void)ctx;
	(void)ms;
}

static void fz_view(void *arg, const struct node_view *v)
{
	volatile size_t *sum = arg;
	size_t i;

	if (v->nlinks > NODE_LINKS_MAX || strlen(v->name) > NODE_NAME_MAX ||
	    strlen(v->version) > NODE_VERSION_MAX)
		abort();
	for (i = 0; i < v->nlinks; i++)
		*sum += v->links[i].rtt_us;
}

static void fz_decode(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);	/* exact size: ASan sees */
	uint8_t again[NODE_REC_MAX];
	struct node_rec r;
	size_t body;

	memcpy(copy, buf, len);
	if (nrec_decode(copy, len, &r, &body) == 0) {
		if (body >= len || nrec_encode(&r, again, sizeof(again)) !=
		    len || memcmp(again, copy, len))
			abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const struct nodes_ops ops = { .links = fz_links,
		.sign = fz_sign, .verify = fz_verify, .send = fz_send,
		.flood = fz_flood, .now_ms = fz_now, .arm = fz_arm };
	static const uint8_t key[16];
	struct node_id self;
	struct nodes *n;
	volatile size_t sum = 0;
	size_t flen;
	unsigned k = 0;

	fz_decode(buf, len);
	memset(self.b, 0x42, NODE_ID_LEN);
	fz_clock = 1000;
	if (!(n = nodes_new(&self, "self", "1", 7, key, &ops)))
		return 0;
	nodes_tick(n);
	while (len >= 2) {
		uint8_t *frame;

		flen = (size_t)buf[0] << 8 | buf[1];
		buf += 2;
		len -= 2;
		if (flen > len)
			flen = len;
		frame = malloc(flen ? flen : 1);
		memcpy(frame, buf, flen);
		nodes_recv(n, 1, frame, flen);
		free(frame);
		buf += flen;
		len -= flen;
		/* every 4th frame, time moves on and records heard 8 frames
		 * ago expire (the walk of the buckets is most of a run) */
		if (++k % 4 == 0)
			fz_clock += NODE_EXPIRE_MS;
		nodes_check(n);
		nodes_tick(n);
	}
	nodes_foreach(n, fz_view, (void *)&sum);
	nodes_sync(n, 1);
	nodes_free(n);
	return 0;
}
