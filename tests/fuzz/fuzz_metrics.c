/*
 * libFuzzer: what the metrics server reads, and the label escaping
 * (cloud/metrics.c). The first byte picks:
 *
 *   even: the rest is a request head, parsed from an exact-size copy.
 *         An answer other than METRICS_MORE needs an empty line in the
 *         head, is the same for the head cut just after that line, and
 *         METRICS_GET / METRICS_HEAD need "GET /metrics" / "HEAD
 *         /metrics" at the start.
 *   odd:  the rest, cut at its first NUL, is a label value escaped into
 *         a buffer of (first byte / 2) bytes: no raw newline, every
 *         backslash starts \\, \" or \n, and unescaped it is a prefix of
 *         the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cloud/metrics.c"

static size_t fz_end(const char *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void fz_parse(const uint8_t *data, size_t len)
{
	char *b = malloc(len ? len : 1);
	enum metrics_req r;
	size_t end;

	if (!b)
		return;
	memcpy(b, data, len);
	r = metrics_parse(b, len);
	end = fz_end(b, len);
	if (r > METRICS_BAD || (r == METRICS_MORE) != (end == 0))
		abort();
	if (end && metrics_parse(b, end) != r)
		abort();
	if (r == METRICS_GET && (len < 12 || memcmp(b, "GET /metrics", 12)))
		abort();
	if (r == METRICS_HEAD && (len < 13 || memcmp(b, "HEAD /metrics", 13)))
		abort();
	free(b);
}

static void fz_esc(const uint8_t *data, size_t len, size_t cap)
{
	char *in = malloc(len + 1), *out = malloc(cap), *un = malloc(cap);
	size_t n, i, k = 0;

	if (!in || !out || !un)
		abort();
	memcpy(in, data, len);
	in[len] = '\0';
	n = metrics_esc(out, cap, in);
	if (n >= cap || out[n] != '\0' || strlen(out) != n)
		abort();
	for (i = 0; i < n; i++) {
		if (out[i] == '\n')
			abort();
		if (out[i] != '\\') {
			un[k++] = out[i];
			continue;
		}
		if (++i == n || !strchr("\\\"n", out[i]))
			abort();
		un[k++] = out[i] == 'n' ? '\n' : out[i];
	}
	if (k > strlen(in) || memcmp(un, in, k))
		abort();
	free(in);
	free(out);
	free(un);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	if (data[0] % 2 == 0)
		fz_parse(data + 1, len - 1);
	else
		fz_esc(data + 1, len - 1, data[0] / 2 + 1u);
	return 0;
}
