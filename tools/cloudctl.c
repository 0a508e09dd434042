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

#define LINE_MAX_LEN 8192	/* an origin line with 64 grants fits */

static void usage(FILE *f)
{
	fprintf(f, "usage: cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] "
		   "[-json] [links|routes|gates|nodes|origins|all]\n"
		   "  reads the file written by cloud's status-file option\n"
		   "  (default /run/cloudvpn/status), or asks the daemon\n"
		   "  itself through its control socket\n");
}

static void json_str(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* The next token of a status line: a word, or key="quoted text" (the
 * quotes dropped and the escapes undone, in place). NULL at the end. */
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

/* "kind k=v k=v" -> {"kind":"link","k":"v",...} */
static void print_json(char *line, int *first)
{
	char *tok, *p = line;

	printf("%s\n  {", *first ? "" : ",");
	*first = 0;
	tok = next_tok(&p);
	printf("\"kind\":");
	json_str(tok, strlen(tok));
	while ((tok = next_tok(&p))) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		putchar(',');
		json_str(tok, (size_t)(eq - tok));
		putchar(':');
		json_str(eq + 1, strlen(eq + 1));
	}
	putchar('}');
}

/* The kind in a column, the rest as it is (a note keeps its spaces). */
static void print_text(const char *line)
{
	int n = (int)strcspn(line, " ");

	printf("%-6.*s%s\n", n, line, line + n);
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

int main(int argc, char **argv)
{
	const char *path = "/run/cloudvpn/status", *what = "all";
	int sock = 0;
	char line[LINE_MAX_LEN];
	int json = 0, first = 1, i;
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
	if (json)
		printf("[");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || !wanted(what, line))
			continue;
		if (json)
			print_json(line, &first);
		else
			print_text(line);
	}
	if (json)
		printf("\n]\n");
	fclose(f);
	return 0;
}
