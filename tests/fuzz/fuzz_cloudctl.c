/*
 * libFuzzer target for cloudctl's reading of a status file (tools/
 * cloudctl.c): any bytes, read as the file, printed as text and as JSON
 * for each selection. Neither output may carry a control byte but the
 * newline, nor a byte past ASCII, and the JSON must hold a NUL-free,
 * balanced array (a bracket for each opened, quotes even).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main cloudctl_main
#include "../../tools/cloudctl.c"
#undef main

static void fz_clean(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\n') || ch > 0x7e)
			abort();
	}
}

/* Outside strings, braces and brackets balance; strings close. */
static void fz_json(const char *s, size_t n)
{
	int depth = 0, in_str = 0;
	size_t i;

	if (n < 3 || s[0] != '[' || memcmp(s + n - 2, "]\n", 2))
		abort();
	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '[' || s[i] == '{')
			depth++;
		else if ((s[i] == ']' || s[i] == '}') && --depth < 0)
			abort();
	}
	if (in_str || depth)
		abort();
}

static void fz_run(const uint8_t *data, size_t size, const char *what,
		   int json)
{
	FILE *in = fmemopen((void *)data, size, "r"), *out;
	char *buf = NULL;
	size_t len = 0;

	if (!in)
		return;
	if (!(out = open_memstream(&buf, &len))) {
		fclose(in);
		return;
	}
	ctl_read(in, out, what, json);
	fclose(in);
	fclose(out);
	fz_clean(buf, len);
	if (json)
		fz_json(buf, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *whats[] = { "all", "links", "nodes" };
	uint8_t *copy;
	size_t i;

	if (size == 0)
		return 0;	/* fmemopen wants a buffer */
	copy = malloc(size);	/* exact size: ASan sees an over-read */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	for (i = 0; i < sizeof(whats) / sizeof(whats[0]); i++) {
		fz_run(copy, size, whats[i], 0);
		fz_run(copy, size, whats[i], 1);
	}
	free(copy);
	return 0;
}
