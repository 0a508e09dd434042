/*
 * libFuzzer target for stunproxy's messages (stunproxy/spmsg.c). The first
 * byte picks a decoder, the rest is the datagram, decoded from an
 * exact-size copy. Whatever decodes must encode back to the same bytes.
 * Tags are also made right before a second try, so mutations reach the
 * checks behind the tag (the seeds are tagged with fz_key).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../stunproxy/spmsg.c"

static const uint8_t fz_key[SP_KEY] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

static uint8_t fz_out[2 * SP_MSG_MAX];

/* The n-byte message decoded, was at most max bytes, and encoded back
 * (m bytes in fz_out) to the same bytes. */
static void fz_same(const uint8_t *msg, size_t n, size_t m, size_t max)
{
	if (n > max || m != n || memcmp(fz_out, msg, n) != 0)
		abort();
}

static void fz_sig(const uint8_t *buf, size_t len)
{
	struct sp_sig s;

	if (sp_sig_decode(buf, len, &s) == 0)
		fz_same(buf, len, sp_sig_encode(fz_out, sizeof(fz_out), &s),
			SP_MSG_MAX);
}

static void fz_probe(const uint8_t *buf, size_t len)
{
	struct sp_probe p;
	uint64_t sid;

	if (sp_probe_decode(buf, len, fz_key, &p) != 0)
		return;
	if (!sp_probe_peek(buf, len, &sid) || sid != p.sid)
		abort();
	fz_same(buf, len, sp_probe_encode(fz_out, sizeof(fz_out), &p, fz_key),
		SP_MSG_MAX);
}

static void fz_rv(const uint8_t *buf, size_t len)
{
	volatile uint8_t sink = 0;
	struct sp_rv m;
	size_t i;

	if (sp_rv_decode(buf, len, &m) != 0)
		return;
	if (!sp_rv_is(buf, len))
		abort();
	for (i = 0; i < m.body_len; i++)	/* touch what the view claims */
		sink ^= m.body[i];
	(void)sink;
	fz_same(buf, len, sp_rv_encode(fz_out, sizeof(fz_out), &m),
		SP_MSG_MAX);
}

static void fz_env(const uint8_t *buf, size_t len)
{
	char to[SP_NAME_MAX + 1];
	const uint8_t *msg;
	size_t n;

	if (sp_env_decode(buf, len, to, &msg, &n) != 0)
		return;
	if (msg + n != buf + len)
		abort();
	fz_same(buf, len, sp_env_encode(fz_out, sizeof(fz_out), to, msg, n),
		sizeof(fz_out));
	fz_sig(msg, n);		/* a signalling message */
}

static void fz_unseal(const uint8_t *buf, size_t len)
{
	size_t n;

	if (sp_unseal(buf, len, fz_key, &n) != 0)
		return;
	fz_same(buf, len, sp_seal(fz_out, sizeof(fz_out), buf, n, fz_key),
		sizeof(fz_out));
	fz_env(buf, n);		/* an envelope, as in a FWD */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const dec[])(const uint8_t *, size_t) = {
		fz_sig, fz_probe, fz_rv, fz_unseal, fz_env,
	};
	size_t len, pick;
	uint8_t *c;

	if (size < 1 || size - 1 > sizeof(fz_out))
		return 0;
	pick = data[0] % (sizeof(dec) / sizeof(dec[0]));
	len = size - 1;
	c = malloc(len ? len : 1);	/* exact size: ASan sees over-reads */
	if (c == NULL)
		return 0;
	memcpy(c, data + 1, len);
	dec[pick](c, len);
	if ((pick == 1 || pick == 3) && len >= SP_TAG) {
		sp_tag_put(fz_key, c, len - SP_TAG);
		dec[pick](c, len);
	}
	free(c);
	return 0;
}
