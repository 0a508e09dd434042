/* Live reload: read the configuration again, apply what can change (reload.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud.h"
#include "conf.h"
#include "gate.h"
#include "link.h"
#include "log.h"
#include "net.h"
#include "reload.h"

#define REFUSED_MAX 1024		/* the names of refused options */

struct rpath {				/* a directory or a file held open */
	char *path;
	int fd;
};

struct reload {
	const struct conf_opt *opts;
	int (*check)(const struct conf *);
	int argc;
	char **argv;
	int jailed;			/* the chroot option is set */
	struct rpath *dirs, *files;
	size_t ndirs, nfiles;
	struct conf *applied;		/* the last one applied, or NULL */
};

/* Options a reload applies (gate too, but not in a chroot). */
static const char *const live_opts[] = {
	"connect", "connect-udp", "listen", "listen-udp", "max_gates",
	"uplimit-total", "uplimit-conn", "uplimit-burst", "downlimit-total",
	"downlimit-conn", "downlimit-burst", "red-ratio", "loglevel",
	"conn_retry", NULL
};

static const char *const limit_opts[] = {
	"uplimit-total", "uplimit-conn", "uplimit-burst", "downlimit-total",
	"downlimit-conn", "downlimit-burst", "red-ratio", NULL
};

/* ---- the files, reached from a chroot ------------------------------------ */

static int rpath_add(struct rpath **v, size_t *n, const char *path, int fd)
{
	struct rpath *nv = reallocarray(*v, *n + 1, sizeof(**v));
	char *p = strdup(path);

	if (nv)
		*v = nv;
	if (!nv || !p) {
		free(p);
		return -1;
	}
	nv[*n].path = p;
	nv[(*n)++].fd = fd;
	return 0;
}

static const struct rpath *rpath_find(const struct rpath *v, size_t n,
				      const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].path, path))
			return &v[i];
	return NULL;
}

/* "a/b/c.cfg" -> "a/b", "c.cfg" -> ".", "/c.cfg" -> "/" */
static char *dir_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* conf_each_file(): hold path's directory (O_PATH) and the file itself
 * (opened with the privileges of the start). */
static void hold(void *arg, const char *path)
{
	struct reload *r = arg;
	char *dir = dir_name(path);
	int fd;

	if (dir && !rpath_find(r->dirs, r->ndirs, dir)) {
		fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			log_warn("reload: directory \"%s\" (of %s)", dir, path);
		else if (rpath_add(&r->dirs, &r->ndirs, dir, fd) < 0)
			close(fd);
	}
	free(dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0 && rpath_add(&r->files, &r->nfiles, path, fd) < 0)
		close(fd);
}

/* Whether path is under held directory d: *name is then path relative
 * to it, and *depth the length of d that matched. */
static int under(const char *d, const char *path, const char **name,
		 size_t *depth)
{
	size_t len = strlen(d);

	if (!strcmp(d, ".") && path[0] != '/') {
		*name = path;		/* any relative path, least deep */
		*depth = 0;
	} else if (!strcmp(d, "/") && path[0] == '/') {
		*name = path + 1;
		*depth = 1;
	} else if (!strncmp(path, d, len) && path[len] == '/') {
		*name = path + len + 1;
		*depth = len;
	} else {
		return 0;
	}
	return 1;
}

/* The deepest held directory path is under, and path's name in it;
 * NULL if none. */
static const struct rpath *dir_of(const struct reload *r, const char *path,
				  const char **name)
{
	const struct rpath *best = NULL;
	const char *n;
	size_t i, depth, best_depth = 0;

	for (i = 0; i < r->ndirs; i++) {
		if (!under(r->dirs[i].path, path, &n, &depth) ||
		    (best && depth <= best_depth))
			continue;
		best = &r->dirs[i];
		best_depth = depth;
		*name = n;
	}
	return best;
}

/* The file opened at start, if path (in dir d, as name) is still that
 * file: a file the daemon's user may not read, edited in place. */
static int held_file(const struct reload *r, const struct rpath *d,
		     const char *name, const char *path)
{
	const struct rpath *f = rpath_find(r->files, r->nfiles, path);
	struct stat held, now;
	int fd;

	if (!f || fstat(f->fd, &held) < 0)
		return -1;
	if (held.st_nlink == 0 ||
	    (fstatat(d->fd, name, &now, 0) == 0 &&
	     (now.st_dev != held.st_dev || now.st_ino != held.st_ino))) {
		log_warnx("reload: %s was replaced since the start and the "
			  "daemon's user may not read the new one", path);
		return -1;
	}
	if ((fd = dup(f->fd)) >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* conf_set_open(): path by its directory held since the start. */
static int reload_open(void *arg, const char *path, int flags)
{
	const struct reload *r = arg;
	const struct rpath *d;
	const char *name = path;
	int fd, err;

	if (!(d = dir_of(r, path, &name))) {
		if (!r->jailed)
			return open(path, flags);
		log_warnx("reload: %s is in no directory read at the start: "
			  "a chrooted daemon cannot reach it", path);
		errno = ENOENT;
		return -1;
	}
	fd = openat(d->fd, name, flags);
	if (fd >= 0 || (errno != EACCES && errno != EPERM))
		return fd;
	err = errno;
	if ((fd = held_file(r, d, name, path)) < 0)
		errno = err;
	return fd;
}

int reload_init(struct cloud *c, const struct conf_opt *opts,
		int (*check)(const struct conf *), int argc, char **argv)
{
	struct reload *r = calloc(1, sizeof(*r));

	if (!r)
		return log_warn("reload"), -1;
	r->opts = opts;
	r->check = check;
	r->argc = argc;
	r->argv = argv;
	r->jailed = conf_last(c->conf, "chroot") != NULL;
	conf_each_file(c->conf, hold, r);
	c->reload = r;
	return 0;
}

static void rpaths_free(struct rpath *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		close(v[i].fd);
		free(v[i].path);
	}
	free(v);
}

void reload_free(struct cloud *c)
{
	struct reload *r = c->reload;

	if (!r)
		return;
	rpaths_free(r->dirs, r->ndirs);
	rpaths_free(r->files, r->nfiles);
	conf_free(r->applied);
	free(r);
	c->reload = NULL;
}

/* ---- parsing, its errors caught for cloudctl ------------------------------- */

/* conf.c and log.c write to stderr: while parsing it is a memory stream,
 * so that the errors reach cloudctl too; they are passed on after. */
struct catch {
	FILE *real, *mem;
	char *buf;
	size_t len;
};

static void catch_start(struct catch *k)
{
	memset(k, 0, sizeof(*k));
	k->real = stderr;
	if ((k->mem = open_memstream(&k->buf, &k->len)))
		stderr = k->mem;
}

/* The text in double quotes, a quote or backslash in it escaped. */
static void put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (; n > 0; s++, n--) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Lines logged (already in syslog) go to stderr as they are; the parser's
 * own lines are logged now. With out, each as an error record. */
static void catch_end(struct catch *k, FILE *out)
{
	static const char logged[] = "cloud: ";
	const char *line, *nl, *text;
	size_t n;

	if (!k->mem)
		return;
	stderr = k->real;
	fclose(k->mem);
	for (line = k->buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		n = nl ? (size_t)(nl - line) : strlen(line);
		text = line;
		if (!strncmp(line, logged, sizeof(logged) - 1)) {
			fprintf(stderr, "%.*s\n", (int)n, line);
			text = strstr(line + sizeof(logged) - 1, ": ");
			text = text && text < line + n ? text + 2 : line;
		} else {
			log_warnx("reload: %.*s", (int)n, line);
		}
		if (out) {
			fputs("error text=", out);
			put_quoted(out, text, n - (size_t)(text - line));
			fputc('\n', out);
		}
	}
	free(k->buf);
}

static int check_lines(const struct conf *conf)
{
	const struct conf_val *v;
	char where[512];
	size_t i;
	int bad = net_check_conf(conf);

	for (i = 0; (v = conf_get(conf, "gate", i)); i++) {
		if (v->v.addr.is_unix)
			continue;
		log_errorx("%snot a UNIX socket path",
			   conf_where(v, "gate", where, sizeof(where)));
		bad = -1;
	}
	return bad;
}

/* The configuration as the arguments give it now; NULL if it has errors
 * (said on stderr, caught by k). */
static struct conf *reload_parse(struct reload *r, struct catch *k)
{
	struct conf *nc = conf_new(r->opts, "cloud");

	if (!nc)
		return log_warn("reload"), NULL;
	conf_set_open(nc, reload_open, r);
	catch_start(k);
	if (conf_args(nc, r->argc, r->argv) != 0 || r->check(nc) ||
	    check_lines(nc)) {
		conf_free(nc);
		return NULL;
	}
	return nc;
}

/* ---- what changed ------------------------------------------------------------ */

/* Equal but for runs of blanks. */
static int same_words(const char *a, const char *b)
{
	for (;;) {
		a += strspn(a, " \t");
		b += strspn(b, " \t");
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && *a == *b && *a != ' ' && *a != '\t')
			a++, b++;
		if ((*a && *a != ' ' && *a != '\t') ||
		    (*b && *b != ' ' && *b != '\t'))
			return 0;
	}
}

static int differs(const struct conf *a, const struct conf *b,
		   const char *name)
{
	size_t i, n = conf_count(a, name);

	if (n != conf_count(b, name))
		return 1;
	for (i = 0; i < n; i++)
		if (!same_words(conf_get(a, name, i)->raw,
				conf_get(b, name, i)->raw))
			return 1;
	return 0;
}

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return 1;
	return 0;
}

static int any_differs(const struct conf *a, const struct conf *b,
		       const char *const *list)
{
	for (; *list; list++)
		if (differs(a, b, *list))
			return 1;
	return 0;
}

/* The options that differ from the running ones but cannot change live,
 * into buf separated by sep; how many. */
static int refused(const struct reload *r, const struct conf *run,
		   const struct conf *nc, const char *sep, char *buf,
		   size_t size)
{
	const struct conf_opt *o;
	size_t len = 0;
	int n = 0;

	buf[0] = '\0';
	for (o = r->opts; o->name; o++) {
		if ((o->flags & CONF_COMPAT) || in_list(live_opts, o->name) ||
		    (!strcmp(o->name, "gate") && !r->jailed) ||
		    !differs(run, nc, o->name))
			continue;
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
						n ? sep : "", o->name);
		n++;
	}
	return n;
}

/* ---- applying it ---------------------------------------------------------------- */

struct reload_sum {
	struct net_diff net;
	struct gate_diff gate;
	int limits;			/* they changed */
	int closed;			/* links the CAs and CRLs closed, -1:
					 * those could not be read */
};

static void apply(struct cloud *c, const struct conf *was,
		  const struct conf *nc, struct reload_sum *s)
{
	struct reload *r = c->reload;
	int level = (int)conf_int(nc, "loglevel");

	memset(s, 0, sizeof(*s));
	if (level != log_level())
		log_init("cloud", level, (int)conf_int(c->conf, "syslog"));
	net_reload(links_net(c), nc, &s->net);
	gate_reload(c, nc, r->jailed ? NULL : &s->gate);
	s->limits = any_differs(was, nc, limit_opts);
	links_limits(c, nc);
	s->closed = links_reload(c);
}

static void report(FILE *out, const struct reload_sum *s, int nref,
		   const char *names)
{
	const struct net_diff *n = &s->net;
	const struct gate_diff *g = &s->gate;

	fprintf(out, "reload ok=1 connect_added=%u connect_removed=%u "
		"connect_kept=%u listen_added=%u listen_removed=%u "
		"listen_kept=%u listen_failed=%u gate_added=%u "
		"gate_removed=%u gate_kept=%u gate_failed=%u limits=%s "
		"cas=%s links_closed=%d refused=%d\n", n->cn_added,
		n->cn_removed, n->cn_kept, n->lis_added, n->lis_removed,
		n->lis_kept, n->lis_failed, g->added, g->removed, g->kept,
		g->failed, s->limits ? "changed" : "same",
		s->closed < 0 ? "kept" : "reloaded",
		s->closed < 0 ? 0 : s->closed, nref);
	if (nref)
		fprintf(out, "refused options=%s\n", names);
}

static void log_sum(const char *who, int jailed, const struct reload_sum *s)
{
	const struct net_diff *n = &s->net;
	const struct gate_diff *g = &s->gate;
	char cas[64], gates[128];

	if (s->closed < 0)
		snprintf(cas, sizeof(cas), "CAs and CRLs kept");
	else
		snprintf(cas, sizeof(cas), "CAs and CRLs reloaded, %d links "
			 "closed", s->closed);
	if (jailed)
		snprintf(gates, sizeof(gates), "unchanged in a chroot");
	else
		snprintf(gates, sizeof(gates), "%u added, %u removed, %u kept, "
			 "%u failed", g->added, g->removed, g->kept, g->failed);
	log_info("%s: %s; connect: %u added, %u removed, %u kept; listen: "
		 "%u added, %u removed, %u kept, %u failed; gate: %s; limits "
		 "%s", who, cas, n->cn_added, n->cn_removed, n->cn_kept,
		 n->lis_added, n->lis_removed, n->lis_kept, n->lis_failed,
		 gates, s->limits ? "changed" : "the same");
}

int reload_run(struct cloud *c, FILE *out, const char *who)
{
	struct reload *r = c->reload;
	char names[REFUSED_MAX], list[REFUSED_MAX];
	struct reload_sum s;
	struct catch k;
	struct conf *nc;
	int nref;

	if (!r)			/* not yet started */
		return -1;
	log_info("%s: reading the configuration again", who);
	if (!(nc = reload_parse(r, &k))) {
		if (out)
			fputs("reload ok=0\n", out);
		catch_end(&k, out);
		log_warnx("%s: the configuration has errors; nothing changed",
			  who);
		return -1;
	}
	catch_end(&k, NULL);
	nref = refused(r, c->conf, nc, ", ", names, sizeof(names));
	refused(r, c->conf, nc, ",", list, sizeof(list));
	apply(c, r->applied ? r->applied : c->conf, nc, &s);
	log_sum(who, r->jailed, &s);
	if (nref)
		log_warnx("reload: these options cannot change while running: "
			  "%s (restart to apply)", names);
	if (out)
		report(out, &s, nref, list);
	conf_free(r->applied);
	r->applied = nc;
	return 0;
}
