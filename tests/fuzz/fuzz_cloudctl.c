/*
 * libFuzzer target for cloudctl's reading of a status file (tools/
 * cloudctl.c): any bytes, read as the file, printed as text or as JSON
 * for a selection, or as a graph (DOT), as the input's last byte chooses.
 * No output may carry a control byte but the newline, nor a byte past
 * ASCII; the JSON must hold a NUL-free, balanced array (a bracket for
 * each opened, quotes even), and the graph one graph whose strings all
 * close.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main cloudctl_main
#include "../../tools/cloudctl.c"
#undef main

#include "fz_quiet.h"

FZ_QUIET static void fz_clean(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\n') || ch > 0x7e)
			abort();
	}
}

/* Outside strings, braces and brackets balance; strings close. */
FZ_QUIET static void fz_json(const char *s, size_t n)
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

/* One graph: its strings close (a quote only as \" inside), its braces
 * are the graph's and the attribute lists' brackets balance. */
FZ_QUIET static void fz_dot(const char *s, size_t n)
{
	static const char head[] = "graph cloudvpn {\n";
	int in_str = 0, depth = 0;
	size_t i;

	if (n < sizeof(head) + 1 || memcmp(s, head, sizeof(head) - 1) ||
	    memcmp(s + n - 2, "}\n", 2))
		abort();
	for (i = sizeof(head) - 1; i < n - 2; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == '{' || s[i] == '}') {
			abort();
		} else if (s[i] == '[') {
			depth++;
		} else if (s[i] == ']' && --depth < 0) {
			abort();
		}
	}
	if (in_str || depth)
		abort();
}

/* data as the file, printed as what selects, as JSON or not; "graph":
 * the graph. */
static void fz_run(const uint8_t *data, size_t size, const char *what,
		   int json)
{
	FILE *in = fmemopen((void *)data, size, "r"), *out;
	int graph = !strcmp(what, "graph");
	char *buf = NULL;
	size_t len = 0;

	if (!in)
		return;
	if (!(out = open_memstream(&buf, &len))) {
		fclose(in);
		return;
	}
	if (graph)
		ctl_graph(in, out);
	else
		ctl_read(in, out, what, json);
	fclose(in);
	fclose(out);
	fz_clean(buf, len);
	if (graph)
		fz_dot(buf, len);
	else if (json)
		fz_json(buf, len);
	free(buf);
}

/* One reading per input, chosen by its last byte (a status file's last
 * byte is a newline, so the seeds start on "all" as JSON): the nine readings of
 * each input took nine times as long and found no more. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *whats[] = { "all", "links", "nodes", "edges" };
	uint8_t *copy;
	unsigned k;

	if (size == 0)
		return 0;	/* fmemopen wants a buffer */
	copy = malloc(size);	/* exact size: ASan sees an over-read */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	k = data[size - 1] % 9u;
	if (k == 8)
		fz_run(copy, size, "graph", 0);
	else
		fz_run(copy, size, whats[k / 2], (int)(k % 2));
	free(copy);
	return 0;
}
