/*
 * cloudctl: show a node's links, routes, gates and the mesh it sees, from
 * its status file or live from its control socket, as aligned text or as
 * JSON; or the mesh as a Graphviz graph; or have the daemon reload its
 * configuration.
 *
 *   cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] [-json]
 *            [links|routes|gates|nodes|edges|origins|all]
 *   cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] graph
 *   cloudctl -s CONTROL_SOCKET [-json] reload
 *
 * Every value is one word, but a note or a why: key="text", with \" and
 * \\ inside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"

#define LINE_MAX_LEN 8192	/* an origin line with 64 grants fits */
#define GRAPH_MAX 65536		/* nodes, and edges, drawn at most */

static void usage(FILE *f)
{
	fprintf(f, "usage: cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] "
		   "[-json] [links|routes|gates|nodes|edges|origins|all]\n"
		   "       cloudctl [-f STATUS_FILE | -s CONTROL_SOCKET] "
		   "graph\n"
		   "       cloudctl -s CONTROL_SOCKET [-json] reload\n"
		   "  reads the file written by cloud's status-file option\n"
		   "  (default /run/cloudvpn/status), or asks the daemon\n"
		   "  itself through its control socket; graph prints the\n"
		   "  mesh as Graphviz DOT (cloudctl graph | dot -Tsvg);\n"
		   "  reload: the daemon reads its configuration again and\n"
		   "  says what changed;\n"
		   "  -V: the version\n");
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
		"version", "why", "from", "from_id", "to", "to_id", NULL };
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

/* The daemon answers each connection's request line ("status", "routes"
 * or "reload") with one answer, then closes. */
static FILE *open_socket(const char *path, const char *req)
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
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
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

/* ---- graph: the mesh as Graphviz DOT -------------------------------------- */

#define GF 96			/* bytes kept of a field (a why: 160) */

struct gnode {
	char id[17], name[GF], reach[16], via[GF], hops[8], version[GF];
	char why[2 * GF];
};

struct gedge {
	char from[17], to[17], transport[8], rtt[16], next_hop[12];
};

struct graph {
	char self[17], self_name[GF];
	struct gnode *n;
	struct gedge *e;
	size_t nn, ne, cn, ce;
};

/* The fields of a record a graph draws: key -> where it goes. */
struct gfield {
	const char *key;
	char *dst;
	size_t size;
};

static void graph_fields(char *p, const struct gfield *f)
{
	char *tok, *eq;
	size_t i;

	while ((tok = next_tok(&p))) {
		if (!(eq = strchr(tok, '=')))
			continue;
		*eq = '\0';
		for (i = 0; f[i].key; i++)
			if (!strcmp(f[i].key, tok))
				snprintf(f[i].dst, f[i].size, "%s", eq + 1);
	}
}

/* v (n used of *cap, each size bytes) with room for one more, moved if
 * it grew; NULL (v unchanged) at GRAPH_MAX or out of memory. */
static void *graph_room(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? 2 * *cap : 64;

	if (n < *cap)
		return v;
	if (n >= GRAPH_MAX || !(v = realloc(v, c * size)))
		return NULL;
	*cap = c;
	return v;
}

static void graph_node(struct graph *g, char *p)
{
	struct gnode n = { .id = "" }, *t;
	const struct gfield f[] = {
		{ "id", n.id, sizeof(n.id) },
		{ "name", n.name, sizeof(n.name) },
		{ "reach", n.reach, sizeof(n.reach) },
		{ "via", n.via, sizeof(n.via) },
		{ "hops", n.hops, sizeof(n.hops) },
		{ "version", n.version, sizeof(n.version) },
		{ "why", n.why, sizeof(n.why) },
		{ NULL, NULL, 0 } };

	graph_fields(p, f);
	if (n.id[0] && (t = graph_room(g->n, g->nn, &g->cn, sizeof(n)))) {
		g->n = t;
		g->n[g->nn++] = n;
	}
}

static void graph_edge(struct graph *g, char *p)
{
	struct gedge e = { .from = "" }, *t;
	const struct gfield f[] = {
		{ "from_id", e.from, sizeof(e.from) },
		{ "to_id", e.to, sizeof(e.to) },
		{ "transport", e.transport, sizeof(e.transport) },
		{ "rtt_us", e.rtt, sizeof(e.rtt) },
		{ "next_hop", e.next_hop, sizeof(e.next_hop) },
		{ NULL, NULL, 0 } };

	graph_fields(p, f);
	if (e.from[0] && e.to[0] &&
	    (t = graph_room(g->e, g->ne, &g->ce, sizeof(e)))) {
		g->e = t;
		g->e[g->ne++] = e;
	}
}

static void graph_cloud(struct graph *g, char *p)
{
	const struct gfield f[] = {
		{ "id", g->self, sizeof(g->self) },
		{ "name", g->self_name, sizeof(g->self_name) },
		{ NULL, NULL, 0 } };

	graph_fields(p, f);
}

/* The records a graph needs, from a snapshot (GRAPH_MAX nodes and
 * edges at most: more are left out). */
static void graph_read(FILE *in, struct graph *g)
{
	char *line = NULL, *p, *kind;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) >= 0) {
		if (n > LINE_MAX_LEN)
			continue;
		line[strcspn(line, "\n")] = '\0';
		p = line;
		if (line[0] == ' ' || !(kind = next_tok(&p)))
			continue;
		if (!strcmp(kind, "cloud"))
			graph_cloud(g, p);
		else if (!strcmp(kind, "node"))
			graph_node(g, p);
		else if (!strcmp(kind, "edge"))
			graph_edge(g, p);
	}
	free(line);
}

/* s inside a DOT string: quotes and backslashes escaped, anything not
 * printable ASCII as the text \xHH. */
static void dot_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(out, "\\\\x%02x", ch);
		else
			putc(ch, out);
	}
}

/* A node: its name, how it is reached, its version; why it is relayed. */
static void dot_node(FILE *out, const struct graph *g, const struct gnode *n)
{
	int self = !strcmp(n->reach, "self") || !strcmp(n->id, g->self);

	fputs("  \"", out);
	dot_str(out, n->id);
	fputs("\" [label=\"", out);
	dot_str(out, n->name);
	if (self)
		fputs("\\nthis node", out);
	else if (!strcmp(n->reach, "relayed")) {
		fputs("\\nvia ", out);
		dot_str(out, n->via);
		fputs(", ", out);
		dot_str(out, n->hops);
		fputs(" hops", out);
	} else if (n->reach[0]) {
		fputs("\\n", out);
		dot_str(out, strcmp(n->reach, "none") ? n->reach
						      : "unreachable");
	}
	if (n->version[0] && strcmp(n->version, "-")) {
		fputs("\\nv", out);
		dot_str(out, n->version);
	}
	if (!self && !strcmp(n->reach, "relayed") && n->why[0]) {
		fputs("\\n", out);
		dot_str(out, n->why);
	}
	fputs("\"", out);
	if (self)
		fputs(", fillcolor=\"#9ecae1\", penwidth=2", out);
	else if (!strcmp(n->reach, "relayed"))
		fputs(", fillcolor=\"#fdd0a2\"", out);
	else if (!strcmp(n->reach, "none"))
		fputs(", style=\"rounded,dashed\", fontcolor=\"#808080\"", out);
	fputs("];\n", out);
}

static int gnode_cmp(const void *x, const void *y)
{
	return strcmp(((const struct gnode *)x)->id,
		      ((const struct gnode *)y)->id);
}

/* Hops from this node to id (0: this node; unknown: far). */
static unsigned long graph_hops(const struct graph *g, const char *id)
{
	struct gnode key, *n;
	char *end;
	unsigned long h;

	snprintf(key.id, sizeof(key.id), "%s", id);
	n = g->nn ? bsearch(&key, g->n, g->nn, sizeof(*g->n), gnode_cmp)
		  : NULL;
	if (!n)
		return 1000;
	if (!strcmp(n->reach, "self") || !strcmp(n->id, g->self))
		return 0;
	h = strtoul(n->hops, &end, 10);
	return n->hops[0] && !*end && h < 1000 ? h : 1000;
}

/* A link, its RTT in ms and transport; ours that carry routes bold. Its
 * end nearer to this node first: dot ranks the mesh by hops from it. */
static void dot_edge(FILE *out, const struct graph *g, const struct gedge *e)
{
	char *end;
	unsigned long long rtt = strtoull(e->rtt, &end, 10);
	int used = e->next_hop[0] && strcmp(e->next_hop, "0");
	int swap = graph_hops(g, e->to) < graph_hops(g, e->from);

	fputs("  \"", out);
	dot_str(out, swap ? e->to : e->from);
	fputs("\" -- \"", out);
	dot_str(out, swap ? e->from : e->to);
	fputs("\" [label=\"", out);
	if (e->rtt[0] && !*end)	/* 0.42 ms, 12.3 ms */
		fprintf(out, "%.*f ms ", rtt < 10000 ? 2 : 1, rtt / 1000.);
	dot_str(out, e->transport);
	fputs("\"", out);
	if (used)
		fputs(", color=\"#2166ac\", fontcolor=\"#2166ac\", "
		      "penwidth=3", out);
	fputs("];\n", out);
}

/* The snapshot's node and edge records as an undirected graph. */
static void ctl_graph(FILE *in, FILE *out)
{
	struct graph g = { .nn = 0 };
	size_t i;

	graph_read(in, &g);
	fputs("graph cloudvpn {\n  label=\"cloudvpn mesh seen from ", out);
	dot_str(out, g.self_name[0] ? g.self_name : "?");
	fputs(" (bold: its next hops)\";\n  labelloc=t;\n"
	      "  fontname=\"Helvetica\";\n"
	      "  node [shape=box, style=\"rounded,filled\", "
	      "fillcolor=\"#f0f0f0\", fontname=\"Helvetica\"];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=10, "
	      "color=\"#808080\"];\n", out);
	if (g.nn)
		qsort(g.n, g.nn, sizeof(*g.n), gnode_cmp);
	for (i = 0; i < g.nn; i++)
		dot_node(out, &g, &g.n[i]);
	for (i = 0; i < g.ne; i++)
		dot_edge(out, &g, &g.e[i]);
	fputs("}\n", out);
	free(g.n);
	free(g.e);
}

/* The reload's answer, every line; 0 if it applied, 1 if not, -1 if the
 * daemon sent its status instead (it took no request: too slow, or too
 * old to know reload). */
static int ctl_reload(FILE *in, FILE *out, int json)
{
	char *line = NULL;
	size_t cap = 0;
	int first = 1, rc = 1, n = 0;

	while (getline(&line, &cap, in) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		if (n++ == 0 && !strncmp(line, "cloud ", 6)) {
			rc = -1;
			break;
		}
		if (!strcmp(line, "reload ok=1") ||
		    !strncmp(line, "reload ok=1 ", 12))
			rc = 0;
		if (json) {
			fputs(first ? "[" : "", out);
			print_json(out, line, &first);
		} else {
			print_text(out, line);
		}
	}
	if (json && !first)
		fputs("\n]\n", out);
	free(line);
	return rc;
}

static int reload(const char *path, int json)
{
	int tries, rc = 1;
	FILE *f;

	for (tries = 0; tries < 3; tries++) {
		if (!(f = open_socket(path, "reload\n")))
			return 1;
		rc = ctl_reload(f, stdout, json);
		fclose(f);
		if (rc >= 0)
			return rc;
	}
	fprintf(stderr, "cloudctl: %s: the daemon sent its status, not a "
		"reload's answer (is it older than cloudctl reload?)\n", path);
	return 1;
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
	if (!strcmp(what, "reload"))
		return sock ? reload(path, json) : (usage(stderr), 2);
	if (strcmp(what, "all") && strcmp(what, "links") &&
	    strcmp(what, "routes") && strcmp(what, "gates") &&
	    strcmp(what, "nodes") && strcmp(what, "edges") &&
	    strcmp(what, "origins") && strcmp(what, "graph"))
		return usage(stderr), 2;
	if (json && !strcmp(what, "graph"))
		return usage(stderr), 2;	/* DOT only */
	/* the daemon makes no mesh view for a routes request */
	f = !sock ? fopen(path, "r") :
	    open_socket(path, strcmp(what, "routes") ? "status\n" : "routes\n");
	if (!f) {
		if (!sock)
			perror(path);
		return 1;
	}
	if (!strcmp(what, "graph"))
		ctl_graph(f, stdout);
	else
		ctl_read(f, stdout, what, json);
	fclose(f);
	return 0;
}
