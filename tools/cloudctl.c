/*
 * cloudctl: show a node's links, routes and gates, from its status file or
 * live from its control socket, as aligned text or as JSON.
 *
 *   cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] [-json]
 *            [links|routes|gates|nodes|origins|all]
 *
 * Every value is one word, but a note: key="text", with \" and \\ inside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"

#define LINE_MAX_LEN 8192	/* an origin line with 64 grants fits */

static void usage(FILE *f)
{
	fprintf(f, "usage: cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] "
		   "[-json] [links|routes|gates|nodes|origins|all]\n"
		   "  reads the file written by cloud's status-file option\n"
		   "  (default /run/cloudvpn/status), or asks the daemon\n"
		   "  itself through its control socket; -V: the version\n");
}

/* JSON's string: quote, backslash, controls and every byte past ASCII
 * escaped, so any input gives valid JSON (a byte >= 0x80 as U+0080..FF). */
static void json_str(FILE *out, const char *s, size_t n)
{
	size_t i;

	putc('"', out);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(out, "\\u%04x", ch);
		else
			putc(ch, out);
	}
	putc('"', out);
}

/* The next token of a status line: a word, or key="quoted text" (the
 * quotes dropped and the escapes undone, in place; an unterminated quote
 * ends with the line). NULL at the end. */
static char *next_tok(char **p)
{
	char *s = *p + strspn(*p, " "), *eq, *r, *w;

	if (!*s)
		return NULL;
	eq = s + strcspn(s, "= ");
	if (*eq != '=' || eq[1] != '"') {
		*p = s + strcspn(s, " ");
		if (**p)
			*(*p)++ = '\0';
		return s;
	}
	w = eq + 1;		/* over the opening quote */
	r = eq + 2;
	while (*r && *r != '"') {
		if (*r == '\\' && r[1])
			r++;
		*w++ = *r++;
	}
	*p = *r ? r + 1 : r;
	*w = '\0';
	return s;
}

/* Fields whose values are names, hex IDs or lists: strings even when
 * they are all digits (grants=8 is instance 8, not a count). */
static int text_key(const char *k, size_t n)
{
	static const char *const keys[] = { "id", "origin", "name", "peer",
		"via", "origin_name", "note", "addr", "grants", "paths",
		NULL };
	size_t i;

	for (i = 0; keys[i]; i++)
		if (strlen(keys[i]) == n && !strncmp(keys[i], k, n))
			return 1;
	return 0;
}

/* A decimal count (no sign, no leading zero, 20 digits at most). */
static int is_count(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n && !v[n] && n <= 20 && (v[0] != '0' || n == 1);
}

/* A value as JSON: "-" (none) is null, a count a number, the rest a
 * string. */
static void json_val(FILE *out, const char *k, size_t kn, const char *v)
{
	if (!strcmp(v, "-"))
		fputs("null", out);
	else if (!text_key(k, kn) && is_count(v))
		fputs(v, out);
	else
		json_str(out, v, strlen(v));
}

/* "kind k=v k=v" -> {"kind":"link","k":"v","n":1,...}; a word without
 * '=' is left out. */
static void print_json(FILE *out, char *line, int *first)
{
	char *tok, *p = line;

	if (!(tok = next_tok(&p)))
		return;
	fprintf(out, "%s\n  {\"kind\":", *first ? "" : ",");
	*first = 0;
	json_str(out, tok, strlen(tok));
	while ((tok = next_tok(&p))) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		putc(',', out);
		json_str(out, tok, (size_t)(eq - tok));
		putc(':', out);
		json_val(out, tok, (size_t)(eq - tok), eq + 1);
	}
	putc('}', out);
}

/* n bytes of s, each that is not printable ASCII as \\xHH: nothing
 * reaches the terminal that could drive it. */
static void put_safe(FILE *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			putc(ch, out);
		else
			fprintf(out, "\\x%02x", ch);
	}
}

/* The kind in a column, the rest as it is (a note keeps its spaces). */
static void print_text(FILE *out, const char *line)
{
	size_t n = strcspn(line, " ");

	put_safe(out, line, n);
	fprintf(out, "%*s", n < 6 ? (int)(6 - n) : 0, "");
	put_safe(out, line + n, strlen(line + n));
	putc('\n', out);
}

/* The daemon answers each connection with one snapshot, then closes. */
static FILE *open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	FILE *f;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "cloudctl: %s: path too long\n", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!(f = fdopen(fd, "r"))) {
		perror(path);
		close(fd);
	}
	return f;
}

static int wanted(const char *what, const char *line)
{
	size_t n = strcspn(line, " ");

	if (!strcmp(what, "all"))
		return 1;
	/* "links" selects "link" lines, and so on */
	return strlen(what) == n + 1 && !strncmp(what, line, n) &&
	       what[n] == 's';
}

/* Every record of in that what selects, to out as text or JSON. A line
 * that is no record (empty, no kind first, longer than LINE_MAX_LEN) is
 * passed over whole; a NUL ends the line's record, not the line. */
static void ctl_read(FILE *in, FILE *out, const char *what, int json)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int first = 1;

	if (json)
		fputs("[", out);
	while ((n = getline(&line, &cap, in)) >= 0) {
		if (n > LINE_MAX_LEN)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == ' ' || !wanted(what, line))
			continue;
		if (json)
			print_json(out, line, &first);
		else
			print_text(out, line);
	}
	free(line);
	if (json)
		fputs("\n]\n", out);
}

int main(int argc, char **argv)
{
	const char *path = "/run/cloudvpn/status", *what = "all";
	int sock = 0, json = 0, i;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") && i + 1 < argc)
			path = argv[++i], sock = 0;
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			path = argv[++i], sock = 1;
		else if (!strcmp(argv[i], "-json"))
			json = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout), 0;
		else if (!strcmp(argv[i], "-V") ||
			 !strcmp(argv[i], "-version") ||
			 !strcmp(argv[i], "--version"))
			return conf_version("cloudctl", stdout), 0;
		else if (argv[i][0] != '-' && !strcmp(what, "all"))
			what = argv[i];
		else
			return usage(stderr), 2;
	}
	if (strcmp(what, "all") && strcmp(what, "links") &&
	    strcmp(what, "routes") && strcmp(what, "gates") &&
	    strcmp(what, "nodes") && strcmp(what, "origins"))
		return usage(stderr), 2;
	f = sock ? open_socket(path) : fopen(path, "r");
	if (!f) {
		if (!sock)
			perror(path);
		return 1;
	}
	ctl_read(f, stdout, what, json);
	fclose(f);
	return 0;
}
