/*
 * Classic CloudVPN configuration parser.
 *
 * The option table passed to conf_new() ends with an entry whose name is
 * NULL. Every value (defaults included) is parsed once, when it is read,
 * and kept with where it came from so later errors can point at it.
 *
 * Error lines, one per failure, on stderr:
 *	FILE:LINE: OPTION: REASON	(a value in a file)
 *	command line: OPTION: REASON
 *	FILE: REASON			(the file itself: too large, ...)
 *
 * Option names: '-' and '_' are the same letter ("status_file" is
 * "status-file"), as the classic names mix both; the table's spelling is
 * the one reports and the program's lookups use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "conf.h"
#include "log.h"

#define CONF_DEPTH_MAX	16		/* files open in the include stack */
#define CONF_LINE_MAX	4096		/* bytes per line, without newline */
#define CONF_FILE_MAX	(1 << 20)	/* bytes per file */
#define CONF_WHY	320		/* room for an error reason */
#define CONF_CMDLINE	"command line"
#define CONF_DEFAULT	"default"
#define CONF_INCLUDE	"@include"
#define CONF_NEAR_MAX	64		/* longest name a suggestion is sought for */
#define CONF_NO_EFFECT	"no effect here"	/* CONF_COMPAT, in -h */
#define CONF_OPEN_FLAGS	(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

#ifndef PACKAGE_VERSION			/* from configure (DEFS) */
#define PACKAGE_VERSION "unknown"
#endif

struct conf_slot {
	const struct conf_opt *opt;
	struct conf_val *def;		/* parsed default, or NULL */
	struct conf_val **vals;		/* values read, in order */
	size_t n, cap;
	int noticed;			/* CONF_COMPAT: its notice was printed */
};

struct conf_name {			/* owns the file names values point at */
	struct conf_name *next;
	char name[];
};

struct conf_open {			/* a file in the include stack */
	dev_t dev;
	ino_t ino;
};

struct conf {
	const char *prog;
	struct conf_slot *slots;
	size_t nslots;
	struct conf_name *names;
	struct conf_open stack[CONF_DEPTH_MAX];
	int depth;
	int (*open)(void *arg, const char *path, int flags);
	void *open_arg;
};

struct conf_src {			/* where the text being parsed is */
	const char *file;
	int line;			/* 0: no line number */
};

static const struct conf_src conf_cmdline = { CONF_CMDLINE, 0 };

static void conf_err(const struct conf_src *src, const char *opt,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conf_err(const struct conf_src *src, const char *opt,
		     const char *fmt, ...)
{
	va_list ap;

	if (src->line > 0)
		fprintf(stderr, "%s:%d: ", src->file, src->line);
	else
		fprintf(stderr, "%s: ", src->file);
	if (opt != NULL)
		fprintf(stderr, "%.200s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- value parsers: 0, or -1 with a reason in why ---------------------- */

/* n digits at s in base; -1 if not digits, -2 if more than max. */
static int conf_digits(const char *s, size_t n, unsigned base,
		       unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned d;

	if (n == 0)
		return -1;
	for (; n > 0; s++, n--) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (max - d) / base)
			return -2;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static int conf_int_parse(const char *s, long long *out, char *why)
{
	const char *s0 = s;
	unsigned long long v;
	unsigned base = 10;
	int r;

	if (s[0] == 'x' || s[0] == 'X') {
		s++;
		base = 16;
	} else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	}
	r = conf_digits(s, strlen(s), base, LLONG_MAX, &v);
	if (r == -2)
		snprintf(why, CONF_WHY, "integer too large \"%.200s\"", s0);
	if (r < 0)
		return -1;
	*out = (long long)v;
	return 0;
}

static int conf_bool_parse(const char *s, long long *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static uint64_t conf_unit(const char *u)
{
	if (*u == '\0' || strcmp(u, "us") == 0)
		return 1;
	if (strcmp(u, "ms") == 0)
		return 1000;
	if (strcmp(u, "s") == 0)
		return 1000000;
	if (strcmp(u, "m") == 0)
		return 60000000;
	if (strcmp(u, "h") == 0)
		return 3600000000ULL;
	return 0;
}

/*
 * "N[.F][unit]": bare numbers are microseconds (classic). A fraction is
 * kept down to the microsecond; finer digits are dropped.
 */
static int conf_dur_parse(const char *s, uint64_t *out, char *why)
{
	const char *p = s, *frac = NULL, *unit;
	unsigned long long whole;
	uint64_t mult, scale, us = 0;
	size_t n;

	while (*p >= '0' && *p <= '9')
		p++;
	n = (size_t)(p - s);
	if (*p == '.') {
		frac = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == frac)
			return -1;
	}
	unit = p;
	mult = conf_unit(unit);
	if (n == 0 || mult == 0)
		return -1;
	if (conf_digits(s, n, 10, UINT64_MAX / mult, &whole) < 0)
		goto big;
	for (scale = mult / 10; frac != NULL && *frac >= '0' &&
	     *frac <= '9' && scale > 0; frac++, scale /= 10)
		us += (uint64_t)(*frac - '0') * scale;
	if (us > UINT64_MAX - whole * mult)
		goto big;
	*out = whole * mult + us;
	return 0;
big:
	snprintf(why, CONF_WHY, "duration too large \"%.200s\"", s);
	return -1;
}

static int conf_mode_parse(const char *s, long long *out)
{
	unsigned long long v;

	if (conf_digits(s, strlen(s), 8, 07777, &v) < 0)
		return -1;
	*out = (long long)v;
	return 0;
}

static int conf_host_ok(const char *h)
{
	unsigned char tmp[16];
	size_t label = 0, len = strlen(h);

	if (strcmp(h, "*") == 0)
		return 1;
	if (strchr(h, ':') != NULL)
		return inet_pton(AF_INET6, h, tmp) == 1;
	if (len == 0 || len > 253 || h[0] == '.')
		return 0;
	for (; *h != '\0'; h++) {
		if (*h == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!(*h >= 'a' && *h <= 'z') && !(*h >= 'A' && *h <= 'Z') &&
		    !(*h >= '0' && *h <= '9') && *h != '-' && *h != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* Numeric 1..65535, or a service name (letters, digits, '-'). */
static int conf_port_ok(const char *p)
{
	unsigned long long v;
	size_t len = strlen(p);

	if (len == 0 || len >= sizeof(((struct conf_addr *)0)->port))
		return 0;
	if (*p >= '0' && *p <= '9')
		return conf_digits(p, len, 10, 65535, &v) == 0 && v > 0;
	for (; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-')
			return 0;
	return 1;
}

static int conf_addr_parse(const char *s, struct conf_addr *a, char *why)
{
	const char *sp = " \t";
	size_t hlen, plen;
	const char *port;

	memset(a, 0, sizeof(*a));
	if (strchr(s, '/') != NULL) {
		if (strlen(s) >= sizeof(a->path)) {
			snprintf(why, CONF_WHY,
				 "UNIX path too long (max %zu bytes)",
				 sizeof(a->path) - 1);
			return -1;
		}
		a->is_unix = 1;
		strcpy(a->path, s);
		return 0;
	}
	hlen = strcspn(s, sp);
	port = s + hlen + strspn(s + hlen, sp);
	plen = strcspn(port, sp);
	if (hlen == 0 || plen == 0 || port[plen] != '\0') {
		snprintf(why, CONF_WHY, "bad address \"%.200s\" (expected "
			 "\"host port\" or a UNIX path)", s);
		return -1;
	}
	if (s[0] == '[' && hlen > 2 && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
		if (memchr(s, ':', hlen) == NULL)
			return -1;
	}
	if (hlen >= sizeof(a->host))
		return -1;
	memcpy(a->host, s, hlen);
	a->host[hlen] = '\0';
	if (!conf_host_ok(a->host)) {
		snprintf(why, CONF_WHY, "bad host \"%.64s\"", a->host);
		return -1;
	}
	if (!conf_port_ok(port)) {
		snprintf(why, CONF_WHY, "bad port \"%.32s\"", port);
		return -1;
	}
	strcpy(a->port, port);
	return 0;
}

static const char *conf_type_name(enum conf_type t)
{
	switch (t) {
	case CONF_STR:
		return "string";
	case CONF_INT:
		return "integer";
	case CONF_BOOL:
		return "boolean";
	case CONF_DUR:
		return "duration";
	case CONF_ADDR:
		return "address";
	case CONF_MODE:
		return "mode";
	}
	return "value";
}

/* Parse s as o's type into v->v. why gets a reason on failure. */
static int conf_value(const struct conf_opt *o, const char *s,
		      struct conf_val *v, char *why)
{
	int r = -1;

	why[0] = '\0';
	switch (o->type) {
	case CONF_STR:
		r = *s != '\0' ? 0 : -1;
		break;
	case CONF_INT:
		r = conf_int_parse(s, &v->v.i, why);
		break;
	case CONF_BOOL:
		r = conf_bool_parse(s, &v->v.i);
		break;
	case CONF_DUR:
		r = conf_dur_parse(s, &v->v.us, why);
		break;
	case CONF_ADDR:
		r = conf_addr_parse(s, &v->v.addr, why);
		break;
	case CONF_MODE:
		r = conf_mode_parse(s, &v->v.i);
		break;
	}
	if (r < 0 && why[0] == '\0')
		snprintf(why, CONF_WHY, "bad %s \"%.200s\"",
			 conf_type_name(o->type), s);
	return r;
}

/* ---- the table of values ------------------------------------------------ */

/* '-' and '_' compare equal; nothing else folds. */
static char conf_fold(char ch)
{
	return ch == '_' ? '-' : ch;
}

static int conf_name_eq(const char *a, const char *b)
{
	for (; *a != '\0' && conf_fold(*a) == conf_fold(*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

static struct conf_slot *conf_slot(const struct conf *c, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < c->nslots; i++)
		if (conf_name_eq(c->slots[i].opt->name, name))
			return &c->slots[i];
	return NULL;
}

/*
 * Edit distance (insert, delete, replace, swap two neighbours) between a
 * and b, both at most CONF_NEAR_MAX bytes, '-' and '_' being equal.
 */
static size_t conf_distance(const char *a, const char *b)
{
	size_t d[3][CONF_NEAR_MAX + 1], la = strlen(a), lb = strlen(b);
	size_t i, j, best, *row, *prev, *prev2;

	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		row = d[i % 3];
		prev = d[(i - 1) % 3];
		prev2 = d[(i + 1) % 3];		/* i - 2 */
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			best = prev[j - 1] +
			       (conf_fold(a[i - 1]) != conf_fold(b[j - 1]));
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    conf_fold(a[i - 1]) == conf_fold(b[j - 2]) &&
			    conf_fold(a[i - 2]) == conf_fold(b[j - 1]) &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			row[j] = best;
		}
	}
	return d[la % 3][lb];
}

/* The known name nearest to name, if near enough to be a typo: at most
 * two edits, and fewer than a third of the name. */
static const char *conf_nearest(const struct conf *c, const char *name)
{
	const char *best = NULL, *cand;
	size_t i, d, bestd = 3, len = strlen(name);

	if (len > CONF_NEAR_MAX)
		return NULL;
	for (i = 0; i <= c->nslots; i++) {
		cand = i < c->nslots ? c->slots[i].opt->name : CONF_INCLUDE;
		if (strlen(cand) > CONF_NEAR_MAX)
			continue;
		d = conf_distance(name, cand);
		if (d < bestd && 3 * d < len) {
			best = cand;
			bestd = d;
		}
	}
	return best;
}

static void conf_unknown(const struct conf *c, const struct conf_src *src,
			 const char *name)
{
	const char *near = conf_nearest(c, name);

	if (near != NULL)
		conf_err(src, name, "unknown option (did you mean %s?)", near);
	else
		conf_err(src, name, "unknown option");
}

/* CONF_COMPAT: the value is kept, but the program ignores it. Once. */
static void conf_notice(struct conf_slot *sl, const struct conf_src *src)
{
	if (!(sl->opt->flags & CONF_COMPAT) || sl->noticed)
		return;
	sl->noticed = 1;
	if (src->line > 0)
		fprintf(stderr, "%s:%d: ", src->file, src->line);
	else
		fprintf(stderr, "%s: ", src->file);
	fprintf(stderr, "%s: accepted for compatibility, has " CONF_NO_EFFECT
		" (%s)\n", sl->opt->name, sl->opt->help ? sl->opt->help : "");
}

static void conf_val_free(struct conf_val *v)
{
	if (v == NULL)
		return;
	free((char *)v->raw);
	free(v);
}

/* A parsed value, or NULL (error printed). */
static struct conf_val *conf_val_new(const struct conf_opt *o,
				     const struct conf_src *src,
				     const char *s)
{
	char why[CONF_WHY];
	struct conf_val *v;

	v = calloc(1, sizeof(*v));
	if (v == NULL || (v->raw = strdup(s)) == NULL) {
		free(v);
		conf_err(src, o->name, "out of memory");
		return NULL;
	}
	v->file = src->file;
	v->line = src->line;
	if (conf_value(o, s, v, why) < 0) {
		conf_err(src, o->name, "%s", why);
		conf_val_free(v);
		return NULL;
	}
	return v;
}

static int conf_set(struct conf *c, const struct conf_src *src,
		    const char *name, const char *s)
{
	struct conf_slot *sl = conf_slot(c, name);
	struct conf_val *v, **nv;
	size_t cap;

	if (sl == NULL) {
		conf_unknown(c, src, name);
		return -1;
	}
	v = conf_val_new(sl->opt, src, s);
	if (v == NULL)
		return -1;
	conf_notice(sl, src);
	if (!(sl->opt->flags & CONF_LIST) && sl->n > 0) {
		conf_val_free(sl->vals[0]);
		sl->vals[0] = v;
		return 0;
	}
	if (sl->n == sl->cap) {
		cap = sl->cap ? sl->cap * 2 : 4;
		nv = reallocarray(sl->vals, cap, sizeof(*nv));
		if (nv == NULL) {
			conf_val_free(v);
			conf_err(src, name, "out of memory");
			return -1;
		}
		sl->vals = nv;
		sl->cap = cap;
	}
	sl->vals[sl->n++] = v;
	return 0;
}

struct conf *conf_new(const struct conf_opt *opts, const char *prog)
{
	static const struct conf_src def = { CONF_DEFAULT, 0 };
	struct conf *c;
	size_t i, n;

	for (n = 0; opts[n].name != NULL; n++)
		;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->prog = prog;
	c->slots = calloc(n ? n : 1, sizeof(*c->slots));
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (conf_slot(c, opts[i].name) != NULL) {
			fprintf(stderr, "conf: option %s defined twice\n",
				opts[i].name);
			abort();
		}
		c->slots[i].opt = &opts[i];
		c->nslots = i + 1;
		if (opts[i].def == NULL)
			continue;
		c->slots[i].def = conf_val_new(&opts[i], &def, opts[i].def);
		if (c->slots[i].def == NULL)
			abort();	/* the table itself is wrong */
	}
	return c;
}

void conf_free(struct conf *c)
{
	struct conf_name *nm;
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nslots; i++) {
		conf_val_free(c->slots[i].def);
		for (j = 0; j < c->slots[i].n; j++)
			conf_val_free(c->slots[i].vals[j]);
		free(c->slots[i].vals);
	}
	free(c->slots);
	while ((nm = c->names) != NULL) {
		c->names = nm->next;
		free(nm);
	}
	free(c);
}

/* ---- files -------------------------------------------------------------- */

/* A copy of name owned by c, so values can point at it. */
static const char *conf_intern(struct conf *c, const char *name)
{
	struct conf_name *nm;
	size_t len = strlen(name);

	for (nm = c->names; nm != NULL; nm = nm->next)
		if (strcmp(nm->name, name) == 0)
			return nm->name;
	nm = malloc(sizeof(*nm) + len + 1);
	if (nm == NULL)
		return NULL;
	memcpy(nm->name, name, len + 1);
	nm->next = c->names;
	c->names = nm;
	return nm->name;
}

/* Length of the line at buf (n bytes up to its newline), without a CR. */
static size_t conf_linelen(const char *buf, size_t n)
{
	return n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
}

/* Reject what a text config cannot hold before acting on any line. */
static int conf_check_text(const char *file, const char *buf, size_t len)
{
	struct conf_src src = { file, 1 };
	size_t i, start = 0;
	unsigned char ch;

	for (i = 0; i <= len; i++) {
		if (i == len || buf[i] == '\n') {
			if (conf_linelen(buf + start, i - start) >
			    CONF_LINE_MAX) {
				conf_err(&src, NULL,
					 "line too long (max %d bytes)",
					 CONF_LINE_MAX);
				return -1;
			}
			start = i + 1;
			src.line++;
			continue;
		}
		ch = (unsigned char)buf[i];
		if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
			conf_err(&src, NULL, "binary file");
			return -1;
		}
	}
	return 0;
}

static int conf_read(struct conf *c, const struct conf_src *from,
		     const char *path);

/* "@include FILE" in file dir/...: FILE relative to dir. */
static int conf_include(struct conf *c, const struct conf_src *src,
			const char *path)
{
	const char *slash = strrchr(src->file, '/');
	char *full;
	int r;

	if (path[0] == '/' || slash == NULL)
		return conf_read(c, src, path);
	if (asprintf(&full, "%.*s/%s", (int)(slash - src->file), src->file,
		     path) < 0) {
		conf_err(src, CONF_INCLUDE, "out of memory");
		return -1;
	}
	r = conf_read(c, src, full);
	free(full);
	return r;
}

static int conf_line(struct conf *c, const struct conf_src *src, char *line)
{
	const char *sp = " \t\r";
	char *name, *val, *end;

	name = line + strspn(line, sp);
	if (*name == '\0' || *name == '#')
		return 0;
	val = name + strcspn(name, sp);
	if (*val != '\0')
		*val++ = '\0';
	val += strspn(val, sp);
	end = val + strlen(val);
	while (end > val && strchr(sp, end[-1]) != NULL)
		*--end = '\0';
	if (strcmp(name, "-@include") == 0)
		name++;
	if (strcmp(name, CONF_INCLUDE) != 0 && conf_slot(c, name) == NULL) {
		conf_unknown(c, src, name);
		return -1;
	}
	if (*val == '\0') {
		conf_err(src, name, "missing value");
		return -1;
	}
	if (strcmp(name, CONF_INCLUDE) == 0)
		return conf_include(c, src, val);
	return conf_set(c, src, name, val);
}

static int conf_parse(struct conf *c, const char *file, const char *buf,
		      size_t len)
{
	struct conf_src src = { file, 0 };
	char line[CONF_LINE_MAX + 1];
	size_t start, n;
	const char *nl;

	if (conf_check_text(file, buf, len) < 0)
		return -1;
	for (start = 0; start < len; start += n + 1) {
		nl = memchr(buf + start, '\n', len - start);
		n = nl != NULL ? (size_t)(nl - buf - start) : len - start;
		memcpy(line, buf + start, conf_linelen(buf + start, n));
		line[conf_linelen(buf + start, n)] = '\0';
		src.line++;
		if (conf_line(c, &src, line) < 0)
			return -1;
	}
	return 0;
}

/* Read all of fd, at most CONF_FILE_MAX bytes. */
static char *conf_slurp(int fd, const struct conf_src *self, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	if (buf == NULL)
		goto nomem;
	for (;;) {
		if (len == cap) {
			cap = cap * 2 > CONF_FILE_MAX + 1 ? CONF_FILE_MAX + 1 :
							    cap * 2;
			nb = realloc(buf, cap);
			if (nb == NULL)
				goto nomem;
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			conf_err(self, NULL, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_FILE_MAX) {
			conf_err(self, NULL, "file too large (max %d bytes)",
				 CONF_FILE_MAX);
			goto fail;
		}
	}
	*lenp = len;
	return buf;
nomem:
	conf_err(self, NULL, "out of memory");
fail:
	free(buf);
	return NULL;
}

/* Open path (named from "from") and check what it is. */
static int conf_open(struct conf *c, const struct conf_src *from,
		     const struct conf_src *self, const char *path,
		     struct stat *st)
{
	const char *why = NULL;
	int fd, i;

	fd = c->open ? c->open(c->open_arg, path, CONF_OPEN_FLAGS)
		     : open(path, CONF_OPEN_FLAGS);
	if (fd < 0)
		why = strerror(errno);
	else if (fstat(fd, st) < 0)
		why = strerror(errno);
	else if (S_ISDIR(st->st_mode))
		why = "is a directory";
	else if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		why = "not a regular file";
	for (i = 0; why == NULL && i < c->depth; i++)
		if (c->stack[i].dev == st->st_dev &&
		    c->stack[i].ino == st->st_ino)
			why = "include cycle";
	if (why == NULL && fcntl(fd, F_SETFL, 0) < 0)
		why = strerror(errno);
	if (why == NULL)
		return fd;
	if (from != NULL)
		conf_err(from, CONF_INCLUDE, "\"%.200s\": %s", path, why);
	else
		conf_err(self, NULL, "%s", why);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int conf_read(struct conf *c, const struct conf_src *from,
		     const char *path)
{
	struct conf_src self = { path, 0 };
	struct stat st;
	size_t len;
	char *buf;
	int fd, r;

	if (c->depth >= CONF_DEPTH_MAX) {
		conf_err(from, CONF_INCLUDE,
			 "\"%.200s\": includes nested too deep (max %d)", path,
			 CONF_DEPTH_MAX);
		return -1;
	}
	fd = conf_open(c, from, &self, path, &st);
	if (fd < 0)
		return -1;
	self.file = conf_intern(c, path);
	if (self.file == NULL) {
		close(fd);
		conf_err(&self, NULL, "out of memory");
		return -1;
	}
	buf = conf_slurp(fd, &self, &len);
	close(fd);
	if (buf == NULL)
		return -1;
	c->stack[c->depth].dev = st.st_dev;
	c->stack[c->depth].ino = st.st_ino;
	c->depth++;
	r = conf_parse(c, self.file, buf, len);
	c->depth--;
	free(buf);
	return r;
}

int conf_file(struct conf *c, const char *path)
{
	return conf_read(c, NULL, path);
}

void conf_set_open(struct conf *c, int (*fn)(void *arg, const char *path,
					     int flags), void *arg)
{
	c->open = fn;
	c->open_arg = arg;
}

/* Every name interned is a file conf_read opened. */
void conf_each_file(const struct conf *c,
		    void (*fn)(void *arg, const char *path), void *arg)
{
	const struct conf_name *nm;

	for (nm = c->names; nm != NULL; nm = nm->next)
		fn(arg, nm->name);
}

/* ---- the command line --------------------------------------------------- */

static int conf_is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

static int conf_is_version(const char *a)
{
	return strcmp(a, "-V") == 0 || strcmp(a, "-version") == 0 ||
	       strcmp(a, "--version") == 0;
}

/* Option names at argv[1], argv[3], ...: is one of them a flag is()
 * knows? */
static int conf_want(int argc, char **argv, int (*is)(const char *))
{
	int i;

	for (i = 1; i < argc; i += 2)
		if (is(argv[i]))
			return 1;
	return 0;
}

void conf_version(const char *prog, FILE *f)
{
	fprintf(f, "%s (cloudvpn) %s\n", prog != NULL ? prog : "cloudvpn",
		PACKAGE_VERSION);
}

static int conf_arg(struct conf *c, const char *arg, const char *val)
{
	const char *name = arg;

	if (*arg == '\0') {
		conf_err(&conf_cmdline, "\"\"", "empty option name");
		return -1;
	}
	if (name[0] == '-')
		name += name[1] == '-' ? 2 : 1;
	if (arg[0] != '-' || *name == '\0') {
		conf_err(&conf_cmdline, arg, "not an option (expected -name)");
		return -1;
	}
	if (strcmp(name, CONF_INCLUDE) != 0 && conf_slot(c, name) == NULL) {
		conf_unknown(c, &conf_cmdline, name);
		return -1;
	}
	if (val == NULL) {
		conf_err(&conf_cmdline, name, "missing value");
		return -1;
	}
	if (*val == '\0') {
		conf_err(&conf_cmdline, name, "empty value");
		return -1;
	}
	if (strcmp(name, CONF_INCLUDE) == 0)
		return conf_read(c, &conf_cmdline, val);
	return conf_set(c, &conf_cmdline, name, val);
}

int conf_args(struct conf *c, int argc, char **argv)
{
	int i;

	if (conf_want(argc, argv, conf_is_help)) {
		conf_usage(c, stdout);
		return 1;
	}
	if (conf_want(argc, argv, conf_is_version)) {
		conf_version(c->prog, stdout);
		return 1;
	}
	for (i = 1; i < argc; i += 2)
		if (conf_arg(c, argv[i], i + 1 < argc ? argv[i + 1] : NULL) < 0)
			return -1;
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

size_t conf_count(const struct conf *c, const char *name)
{
	const struct conf_slot *sl = conf_slot(c, name);

	if (sl == NULL)
		return 0;
	return sl->n ? sl->n : sl->def != NULL;
}

/* Values read replace the default; a list's default is its only value. */
const struct conf_val *conf_get(const struct conf *c, const char *name,
				size_t i)
{
	const struct conf_slot *sl = conf_slot(c, name);

	if (sl == NULL)
		return NULL;
	if (sl->n == 0)
		return i == 0 ? sl->def : NULL;
	return i < sl->n ? sl->vals[i] : NULL;
}

const struct conf_val *conf_last(const struct conf *c, const char *name)
{
	const struct conf_slot *sl = conf_slot(c, name);

	if (sl == NULL)
		return NULL;
	return sl->n ? sl->vals[sl->n - 1] : sl->def;
}

/* The value a shorthand needs; a missing one is a programming error. */
static const struct conf_val *conf_must(const struct conf *c,
					const char *name, int ok_types)
{
	const struct conf_slot *sl = conf_slot(c, name);
	const struct conf_val *v = conf_last(c, name);

	if (v == NULL || !(ok_types & 1 << sl->opt->type)) {
		fprintf(stderr, "conf: %s: no value of that type\n", name);
		abort();
	}
	return v;
}

const char *conf_str(const struct conf *c, const char *name)
{
	return conf_must(c, name, ~0)->raw;
}

long long conf_int(const struct conf *c, const char *name)
{
	return conf_must(c, name, 1 << CONF_INT | 1 << CONF_BOOL |
			 1 << CONF_MODE)->v.i;
}

uint64_t conf_us(const struct conf *c, const char *name)
{
	return conf_must(c, name, 1 << CONF_DUR)->v.us;
}

const char *conf_where(const struct conf_val *v, const char *name, char *buf,
		       size_t size)
{
	if (size == 0)
		return buf;
	if (v == NULL)
		snprintf(buf, size, "%s: ", name);
	else if (v->line > 0)
		snprintf(buf, size, "%s:%d: %s: ", v->file, v->line, name);
	else
		snprintf(buf, size, "%s: %s: ", v->file, name);
	return buf;
}

int conf_fail(const struct conf *c, const struct conf_val *v,
	      const char *name, const char *fmt, ...)
{
	char where[512], why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conf_where(v ? v : conf_last(c, name), name, where, sizeof(where));
	log_errorx("%s%s", where, why);
	return -1;
}

int conf_range(const struct conf *c, const char *name, long long lo,
	       long long hi, long long *out)
{
	*out = conf_int(c, name);
	if (*out < lo || *out > hi)
		return conf_fail(c, NULL, name, "must be %lld..%lld", lo, hi);
	return 0;
}

const char *conf_gate(const struct conf *c)
{
	const struct conf_val *v = conf_last(c, "gate");

	if (v == NULL)
		conf_fail(c, NULL, "gate", "required (the daemon's socket)");
	else if (!v->v.addr.is_unix)
		conf_fail(c, v, "gate", "must be a UNIX socket path");
	else
		return v->v.addr.path;
	return NULL;
}

static const char *conf_short_type(const struct conf_opt *o)
{
	static const char *const t[] = { "str", "int", "bool", "dur", "addr",
					 "mode" };
	static const char *const l[] = { "str...", "int...", "bool...",
					 "dur...", "addr...", "mode..." };

	if ((unsigned)o->type >= sizeof(t) / sizeof(t[0]))
		return "?";
	return o->flags & CONF_LIST ? l[o->type] : t[o->type];
}

void conf_usage(const struct conf *c, FILE *f)
{
	int nw = (int)strlen(CONF_INCLUDE), dw = 7, w;
	const struct conf_opt *o;
	size_t i;

	for (i = 0; i < c->nslots; i++) {
		o = c->slots[i].opt;
		w = (int)strlen(o->name);
		nw = w > nw ? w : nw;
		w = o->def ? (int)strlen(o->def) + 2 : 1;
		dw = w > dw ? w : dw;
	}
	fprintf(f, "usage: %s [-name value]... [-@include FILE]...\n"
		"   -h this help, -V the version; in names '-' and '_' are "
		"the same\n", c->prog != NULL ? c->prog : "prog");
	fprintf(f, "   %-*s  %-7s  %-*s  %s\n", nw, "option", "type", dw,
		"default", "help");
	for (i = 0; i < c->nslots; i++) {
		o = c->slots[i].opt;
		fprintf(f, "  -%-*s  %-7s  %s%s%s%*s  %s%s\n", nw, o->name,
			conf_short_type(o), o->def ? "\"" : "-",
			o->def ? o->def : "", o->def ? "\"" : "",
			dw - (o->def ? (int)strlen(o->def) + 2 : 1), "",
			o->flags & CONF_COMPAT ? CONF_NO_EFFECT ": " : "",
			o->help != NULL ? o->help : "");
	}
	fprintf(f, "  -%-*s  %-7s  %-*s  %s\n", nw, CONF_INCLUDE, "file", dw,
		"-", "read options from FILE (\"name value\" lines)");
}
