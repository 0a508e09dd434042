/*
 * cloudctl: show a node's links, routes and gates, from its status file or
 * live from its control socket, as aligned text or as JSON.
 *
 *   cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] [-json] [links|routes|gates|all]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

static void usage(FILE *f)
{
	fprintf(f, "usage: cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] "
		   "[-json] [links|routes|gates|all]\n"
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

/* "kind k=v k=v" -> {"kind":"link","k":"v",...} */
static void print_json(char *line, int *first)
{
	char *tok, *save = NULL;

	printf("%s\n  {", *first ? "" : ",");
	*first = 0;
	tok = strtok_r(line, " ", &save);
	printf("\"kind\":");
	json_str(tok, strlen(tok));
	while ((tok = strtok_r(NULL, " ", &save))) {
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

static void print_text(char *line)
{
	char *tok, *save = NULL;

	tok = strtok_r(line, " ", &save);
	printf("%-6s", tok);
	while ((tok = strtok_r(NULL, " ", &save)))
		printf(" %s", tok);
	putchar('\n');
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
	    strcmp(what, "routes") && strcmp(what, "gates"))
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
