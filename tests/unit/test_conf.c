/*
 * Config parser: every rule of DESIGN.md section 3 and every error, with
 * the exact error line. Files live in a fresh /tmp/cvconf.XXXXXX per test.
 * The golden files in tests/unit/conf/ are "X.cfg -> X.out" (stderr, the
 * return code, then every value with where it came from); run with
 * CONF_GOLDEN_UPDATE=1 to rewrite the .out files, then read the diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

static const struct conf_opt opts[] = {
	{ "listen", CONF_ADDR, CONF_LIST, NULL, "accept links here" },
	{ "connect", CONF_ADDR, CONF_LIST, NULL, "link to this peer" },
	{ "gate", CONF_ADDR, CONF_LIST, "/run/cvconf.sock", "gate socket" },
	{ "key", CONF_STR, 0, NULL, "private key file" },
	{ "max_connections", CONF_INT, 0, "1024", "most peer links" },
	{ "multipath", CONF_BOOL, 0, "no", "scatter over paths" },
	{ "conn_timeout", CONF_DUR, 0, "10s", "handshake timeout" },
	{ "conn_retry", CONF_DUR, 0, "5000000", "reconnect after" },
	{ "gate_mode", CONF_MODE, 0, "0660", "gate socket mode" },
	{ "uplimit-total", CONF_INT, 0, "0", "bytes per second" },
	{ "status-file", CONF_STR, 0, NULL, "status snapshot" },
	{ "heartbeat", CONF_INT, CONF_COMPAT, NULL,
	  "the keepalive does this" },
	{ NULL, CONF_STR, 0, NULL, NULL },
};

#ifndef PACKAGE_VERSION
#error "PACKAGE_VERSION comes from configure"
#endif

struct t {
	char dir[64];
	struct conf *c;
	char err[8192];		/* what the last call printed on stderr */
};

/* ---- helpers ------------------------------------------------------------ */

/* Run fn(c, ...) with fd `which` captured into out. */
struct cap {
	int which, saved, fd;
};

static void cap_start(struct cap *k, int which)
{
	char path[] = "/tmp/cvconf_capXXXXXX";

	fflush(which == 1 ? stdout : stderr);
	k->which = which;
	k->fd = mkstemp(path);
	assert_true(k->fd >= 0);
	unlink(path);
	k->saved = dup(which);
	assert_true(k->saved >= 0);
	assert_true(dup2(k->fd, which) >= 0);
}

static void cap_end(struct cap *k, char *out, size_t size)
{
	ssize_t n;

	fflush(k->which == 1 ? stdout : stderr);
	assert_true(dup2(k->saved, k->which) >= 0);
	close(k->saved);
	n = pread(k->fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(k->fd);
}

/* conf_args on a NULL-terminated list, stderr into t->err. */
static int args(struct t *t, ...)
{
	char *argv[64] = { "cvconf-test" };
	struct cap k;
	va_list ap;
	int argc = 1, r;

	va_start(ap, t);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	cap_start(&k, 2);
	r = conf_args(t->c, argc, argv);
	cap_end(&k, t->err, sizeof(t->err));
	return r;
}

static int file(struct t *t, const char *path)
{
	struct cap k;
	int r;

	cap_start(&k, 2);
	r = conf_file(t->c, path);
	cap_end(&k, t->err, sizeof(t->err));
	return r;
}

/* Write name (under t->dir) with len bytes of text; the path into out. */
static char *wfile_n(struct t *t, const char *name, const char *text,
		     size_t len, char *out)
{
	FILE *f;

	snprintf(out, PATH_MAX, "%s/%s", t->dir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return out;
}

static char *wfile(struct t *t, const char *name, const char *text,
		   char *out)
{
	return wfile_n(t, name, text, strlen(text), out);
}

static void rm_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/cvconf.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	t->c = conf_new(opts, "cvconf-test");
	if (t->c == NULL)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	conf_free(t->c);
	rm_tree(t->dir);
	free(t);
	return 0;
}

/* ---- defaults and lookups ----------------------------------------------- */

static void test_defaults(void **state)
{
	struct t *t = *state;
	const struct conf_val *v;
	char buf[128];

	assert_int_equal(conf_int(t->c, "max_connections"), 1024);
	assert_int_equal(conf_int(t->c, "multipath"), 0);
	assert_int_equal(conf_us(t->c, "conn_timeout"), 10000000);
	assert_int_equal(conf_us(t->c, "conn_retry"), 5000000);
	assert_int_equal(conf_int(t->c, "gate_mode"), 0660);
	assert_int_equal(conf_count(t->c, "gate"), 1);
	assert_int_equal(conf_count(t->c, "listen"), 0);
	assert_int_equal(conf_count(t->c, "key"), 0);
	assert_int_equal(conf_count(t->c, "no-such"), 0);
	assert_null(conf_last(t->c, "key"));
	assert_null(conf_get(t->c, "listen", 0));
	assert_null(conf_get(t->c, "no-such", 0));
	v = conf_get(t->c, "gate", 0);
	assert_non_null(v);
	assert_true(v->v.addr.is_unix);
	assert_string_equal(v->v.addr.path, "/run/cvconf.sock");
	assert_null(conf_get(t->c, "gate", 1));
	assert_string_equal(conf_where(v, "gate", buf, sizeof(buf)),
			    "default: gate: ");
	assert_string_equal(conf_str(t->c, "conn_timeout"), "10s");
}

static void test_args_ok(void **state)
{
	struct t *t = *state;
	const struct conf_val *v;
	char buf[128];

	assert_int_equal(args(t, "-listen", "* 5000", "--listen", "::1 http",
			      "-max_connections", "7", "-max_connections",
			      "x1F", "-gate", "/tmp/g1", "-gate", "/tmp/g2",
			      "-uplimit-total", "0x10", NULL), 0);
	assert_string_equal(t->err, "");
	assert_int_equal(conf_count(t->c, "listen"), 2);
	v = conf_get(t->c, "listen", 0);
	assert_string_equal(v->raw, "* 5000");
	assert_string_equal(v->file, "command line");
	assert_int_equal(v->line, 0);
	assert_string_equal(v->v.addr.host, "*");
	assert_string_equal(v->v.addr.port, "5000");
	v = conf_get(t->c, "listen", 1);
	assert_string_equal(v->v.addr.host, "::1");
	assert_string_equal(v->v.addr.port, "http");
	assert_null(conf_get(t->c, "listen", 2));
	/* last one wins */
	assert_int_equal(conf_count(t->c, "max_connections"), 1);
	assert_int_equal(conf_int(t->c, "max_connections"), 31);
	assert_int_equal(conf_int(t->c, "uplimit-total"), 16);
	/* list values replace the default */
	assert_int_equal(conf_count(t->c, "gate"), 2);
	assert_string_equal(conf_get(t->c, "gate", 0)->v.addr.path, "/tmp/g1");
	assert_string_equal(conf_get(t->c, "gate", 1)->v.addr.path, "/tmp/g2");
	assert_string_equal(conf_where(conf_last(t->c, "max_connections"),
				       "max_connections", buf, sizeof(buf)),
			    "command line: max_connections: ");
	assert_int_equal(args(t, NULL), 0);
}

static void test_args_errors(void **state)
{
	static const struct {
		const char *a, *b, *err;
	} cases[] = {
		{ "-bogus", "1", "command line: bogus: unknown option\n" },
		{ "-bogus", NULL, "command line: bogus: unknown option\n" },
		{ "--bogus", "1", "command line: bogus: unknown option\n" },
		{ "-key", NULL, "command line: key: missing value\n" },
		{ "-key", "", "command line: key: empty value\n" },
		{ "", "x", "command line: \"\": empty option name\n" },
		{ "key", "x",
		  "command line: key: not an option (expected -name)\n" },
		{ "-", "x", "command line: -: not an option (expected -name)\n" },
		{ "--", "x",
		  "command line: --: not an option (expected -name)\n" },
		{ "-@include", NULL, "command line: @include: missing value\n" },
		{ "-@include", "", "command line: @include: empty value\n" },
	};
	struct t *t = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(args(t, cases[i].a, cases[i].b, NULL), -1);
		assert_string_equal(t->err, cases[i].err);
	}
	/* the first error stops the parse */
	assert_int_equal(args(t, "-key", "k", "-x", "1", "-y", "2", NULL), -1);
	assert_string_equal(t->err, "command line: x: unknown option\n");
}

/* ---- types -------------------------------------------------------------- */

struct tcase {
	const char *opt, *val;
	long long want;		/* i, or us for durations */
	const char *err;	/* NULL: must parse */
};

static const struct tcase type_cases[] = {
	{ "max_connections", "0", 0, NULL },
	{ "max_connections", "0010", 10, NULL },
	{ "max_connections", "x1F", 31, NULL },
	{ "max_connections", "0x1f", 31, NULL },
	{ "max_connections", "0XFF", 255, NULL },
	{ "max_connections", "9223372036854775807", LLONG_MAX, NULL },
	{ "max_connections", "0x7fffffffffffffff", LLONG_MAX, NULL },
	{ "max_connections", "9223372036854775808", 0,
	  "integer too large \"9223372036854775808\"" },
	{ "max_connections", "0x8000000000000000", 0,
	  "integer too large \"0x8000000000000000\"" },
	{ "max_connections", "-1", 0, "bad integer \"-1\"" },
	{ "max_connections", "+1", 0, "bad integer \"+1\"" },
	{ "max_connections", "12a", 0, "bad integer \"12a\"" },
	{ "max_connections", "x", 0, "bad integer \"x\"" },
	{ "max_connections", "0x", 0, "bad integer \"0x\"" },
	{ "max_connections", "1 2", 0, "bad integer \"1 2\"" },
	{ "multipath", "yes", 1, NULL },
	{ "multipath", "No", 0, NULL },
	{ "multipath", "true", 1, NULL },
	{ "multipath", "false", 0, NULL },
	{ "multipath", "1", 1, NULL },
	{ "multipath", "0", 0, NULL },
	{ "multipath", "on", 1, NULL },
	{ "multipath", "off", 0, NULL },
	{ "multipath", "maybe", 0, "bad boolean \"maybe\"" },
	{ "multipath", "2", 0, "bad boolean \"2\"" },
	{ "conn_timeout", "250", 250, NULL },
	{ "conn_timeout", "250us", 250, NULL },
	{ "conn_timeout", "250ms", 250000, NULL },
	{ "conn_timeout", "10s", 10000000, NULL },
	{ "conn_timeout", "1m", 60000000, NULL },
	{ "conn_timeout", "2h", 7200000000LL, NULL },
	{ "conn_timeout", "1.5s", 1500000, NULL },
	{ "conn_timeout", "0.25m", 15000000, NULL },
	{ "conn_timeout", "1.0005ms", 1000, NULL },
	{ "conn_timeout", "0", 0, NULL },
	{ "conn_timeout", "10x", 0, "bad duration \"10x\"" },
	{ "conn_timeout", "s", 0, "bad duration \"s\"" },
	{ "conn_timeout", ".5s", 0, "bad duration \".5s\"" },
	{ "conn_timeout", "1.s", 0, "bad duration \"1.s\"" },
	{ "conn_timeout", "10 s", 0, "bad duration \"10 s\"" },
	{ "conn_timeout", "-1s", 0, "bad duration \"-1s\"" },
	{ "conn_timeout", "5124095577h", 0,
	  "duration too large \"5124095577h\"" },
	{ "conn_timeout", "18446744073709551616", 0,
	  "duration too large \"18446744073709551616\"" },
	{ "conn_timeout", "000000000000000000000000000000001s", 1000000,
	  NULL },
	{ "gate_mode", "0660", 0660, NULL },
	{ "gate_mode", "7777", 07777, NULL },
	{ "gate_mode", "0", 0, NULL },
	{ "gate_mode", "10000", 0, "bad mode \"10000\"" },
	{ "gate_mode", "0668", 0, "bad mode \"0668\"" },
	{ "gate_mode", "rw", 0, "bad mode \"rw\"" },
};

static void test_types(void **state)
{
	struct t *t = *state;
	const struct tcase *tc;
	const struct conf_val *v;
	char want[512], opt[64];
	size_t i;

	for (i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++) {
		tc = &type_cases[i];
		snprintf(opt, sizeof(opt), "-%s", tc->opt);
		if (tc->err != NULL) {
			assert_int_equal(args(t, opt, tc->val, NULL), -1);
			snprintf(want, sizeof(want), "command line: %s: %s\n",
				 tc->opt, tc->err);
			assert_string_equal(t->err, want);
			continue;
		}
		assert_int_equal(args(t, opt, tc->val, NULL), 0);
		assert_string_equal(t->err, "");
		v = conf_last(t->c, tc->opt);
		assert_string_equal(v->raw, tc->val);
		if (strcmp(tc->opt, "conn_timeout") == 0)
			assert_int_equal(v->v.us, (uint64_t)tc->want);
		else
			assert_int_equal(v->v.i, tc->want);
	}
}

struct acase {
	const char *val;
	int is_unix;
	const char *host, *port, *path;
	const char *err;
};

static const struct acase addr_cases[] = {
	{ "* 5000", 0, "*", "5000", "", NULL },
	{ "0.0.0.0 1", 0, "0.0.0.0", "1", "", NULL },
	{ "10.1.2.3\t\t65535", 0, "10.1.2.3", "65535", "", NULL },
	{ "::1 5000", 0, "::1", "5000", "", NULL },
	{ "[fe80::1] 5000", 0, "fe80::1", "5000", "", NULL },
	{ "example.com https", 0, "example.com", "https", "", NULL },
	{ "node-1.mesh. 5000", 0, "node-1.mesh.", "5000", "", NULL },
	{ "/run/cloud.sock", 1, "", "", "/run/cloud.sock", NULL },
	{ "./gate sock", 1, "", "", "./gate sock", NULL },
	{ "5000", 0, NULL, NULL, NULL,
	  "bad address \"5000\" (expected \"host port\" or a UNIX path)" },
	{ "a b c", 0, NULL, NULL, NULL,
	  "bad address \"a b c\" (expected \"host port\" or a UNIX path)" },
	{ "::1:: 5000", 0, NULL, NULL, NULL, "bad host \"::1::\"" },
	{ "[nothex] 5000", 0, NULL, NULL, NULL,
	  "bad address \"[nothex] 5000\"" },
	{ "a..b 5000", 0, NULL, NULL, NULL, "bad host \"a..b\"" },
	{ "bad!host 5000", 0, NULL, NULL, NULL, "bad host \"bad!host\"" },
	{ "* 0", 0, NULL, NULL, NULL, "bad port \"0\"" },
	{ "* 65536", 0, NULL, NULL, NULL, "bad port \"65536\"" },
	{ "* 12ab", 0, NULL, NULL, NULL, "bad port \"12ab\"" },
	{ "* we!rd", 0, NULL, NULL, NULL, "bad port \"we!rd\"" },
	{ "* 0000000000000000000000000000000000000080", 0, NULL, NULL, NULL,
	  "bad port \"00000000000000000000000000000000\"" },
	{ "* 00080", 0, "*", "00080", "", NULL },
	{ "/0123456789012345678901234567890123456789012345678901234567890"
	  "12345678901234567890123456789012345678901234567", 0, NULL, NULL,
	  NULL, "UNIX path too long (max 107 bytes)" },
};

static void test_addr(void **state)
{
	struct t *t = *state;
	const struct acase *ac;
	const struct conf_val *v;
	char want[512];
	size_t i;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		ac = &addr_cases[i];
		if (ac->err != NULL) {
			assert_int_equal(args(t, "-connect", ac->val, NULL),
					 -1);
			snprintf(want, sizeof(want), "command line: connect: "
				 "%s\n", ac->err);
			assert_string_equal(t->err, want);
			continue;
		}
		assert_int_equal(args(t, "-connect", ac->val, NULL), 0);
		v = conf_last(t->c, "connect");
		assert_int_equal(v->v.addr.is_unix, ac->is_unix);
		assert_string_equal(v->v.addr.host, ac->host);
		assert_string_equal(v->v.addr.port, ac->port);
		assert_string_equal(v->v.addr.path, ac->path);
	}
	/* 107 bytes is the most a sun_path holds with its NUL */
	memset(want, 'a', 107);
	want[0] = '/';
	want[107] = '\0';
	assert_int_equal(args(t, "-connect", want, NULL), 0);
	assert_string_equal(conf_last(t->c, "connect")->v.addr.path, want);
}

/* ---- help --------------------------------------------------------------- */

static void test_help(void **state)
{
	struct t *t = *state;
	char out[8192], *line, *save;
	const char *col = NULL;
	struct cap k;
	size_t i;
	int r, helpcol = -1, n = 0;

	cap_start(&k, 1);
	r = args(t, "-key", "k", "--help", NULL);
	cap_end(&k, out, sizeof(out));
	assert_int_equal(r, 1);
	assert_string_equal(t->err, "");
	assert_non_null(strstr(out, "usage: cvconf-test "));
	assert_non_null(strstr(out, "-V the version"));
	/* an option without effect says so */
	assert_non_null(strstr(out, "no effect here: the keepalive does this"));
	for (i = 0; opts[i].name != NULL; i++) {
		line = strstr(out, opts[i].name);
		assert_non_null(line);
		assert_non_null(strstr(out, opts[i].help));
	}
	assert_non_null(strstr(out, "\"10s\""));
	assert_non_null(strstr(out, "addr..."));
	/* one line per option plus header, usage and @include; aligned */
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (n < 2)
			continue;
		for (i = 0; opts[i].name != NULL; i++)
			if ((col = strstr(line, opts[i].help)) != NULL)
				break;
		if (opts[i].name == NULL)
			continue;
		if (opts[i].flags & CONF_COMPAT)
			col -= strlen("no effect here: ");
		if (helpcol < 0)
			helpcol = (int)(col - line);
		assert_int_equal(col - line, helpcol);
	}
	/* usage, how to get the version, header, options, @include */
	assert_int_equal(n, 4 + (int)(sizeof(opts) / sizeof(opts[0])) - 1);
	cap_start(&k, 1);
	r = args(t, "-h", NULL);
	cap_end(&k, out, sizeof(out));
	assert_int_equal(r, 1);
	/* "-h" as a value is just a value */
	assert_int_equal(args(t, "-key", "-h", NULL), 0);
	assert_string_equal(conf_str(t->c, "key"), "-h");
}

/* ---- files -------------------------------------------------------------- */

static void test_file_ok(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX], want[PATH_MAX + 64];
	const struct conf_val *v;

	wfile(t, "a.cfg",
	      "#!/usr/sbin/cloud -@include\n"
	      "# comment\n"
	      "\n"
	      "   \t\n"
	      "  # indented comment\n"
	      "listen  * 5000  \n"
	      "\tlisten\t::1   5001\t\r\n"
	      "key my key file.pem # not a comment\n"
	      "multipath yes\n"
	      "multipath no\n"
	      "conn_timeout 250ms", p);
	assert_int_equal(file(t, p), 0);
	assert_string_equal(t->err, "");
	assert_int_equal(conf_count(t->c, "listen"), 2);
	v = conf_get(t->c, "listen", 0);
	assert_string_equal(v->raw, "* 5000");
	assert_string_equal(v->file, p);
	assert_int_equal(v->line, 6);
	v = conf_get(t->c, "listen", 1);
	assert_string_equal(v->raw, "::1   5001");
	assert_string_equal(v->v.addr.port, "5001");
	assert_int_equal(v->line, 7);
	assert_string_equal(conf_str(t->c, "key"),
			    "my key file.pem # not a comment");
	assert_int_equal(conf_int(t->c, "multipath"), 0);
	assert_int_equal(conf_last(t->c, "multipath")->line, 10);
	assert_int_equal(conf_us(t->c, "conn_timeout"), 250000);
	snprintf(want, sizeof(want), "%s:11: conn_timeout: ", p);
	assert_string_equal(conf_where(conf_last(t->c, "conn_timeout"),
				       "conn_timeout", p, sizeof(p)), want);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "key k\nbogus 1\n", "%s:2: bogus: unknown option\n" },
		{ "-key k\n",
		  "%s:1: -key: unknown option (did you mean key?)\n" },
		{ "bogus\n", "%s:1: bogus: unknown option\n" },
		{ "stauts_file\n", "%s:1: stauts_file: unknown option "
		  "(did you mean status-file?)\n" },
		{ "\n\nkey\n", "%s:3: key: missing value\n" },
		{ "key   \t \n", "%s:1: key: missing value\n" },
		{ "conn_timeout 10x\n",
		  "%s:1: conn_timeout: bad duration \"10x\"\n" },
		{ "max_connections  twelve \n",
		  "%s:1: max_connections: bad integer \"twelve\"\n" },
		{ "multipath maybe\n",
		  "%s:1: multipath: bad boolean \"maybe\"\n" },
		{ "gate_mode 999\n", "%s:1: gate_mode: bad mode \"999\"\n" },
		{ "listen nohost\n", "%s:1: listen: bad address \"nohost\" "
		  "(expected \"host port\" or a UNIX path)\n" },
		{ "@include\n", "%s:1: @include: missing value\n" },
		{ "key a\x01" "b\n", "%s:1: binary file\n" },
		{ "key k\n\nkey a\x7f\n", "%s:3: binary file\n" },
		{ "key k\x1b[0m\n", "%s:1: binary file\n" },
	};
	struct t *t = *state;
	char p[PATH_MAX], want[PATH_MAX + 128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wfile(t, "e.cfg", cases[i].text, p);
		assert_int_equal(file(t, p), -1);
		snprintf(want, sizeof(want), cases[i].err, p);
		assert_string_equal(t->err, want);
	}
	/* a NUL byte */
	wfile_n(t, "nul.cfg", "key a\0b\n", 8, p);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s:1: binary file\n", p);
	assert_string_equal(t->err, want);
	/* binary anywhere rejects the file before any line acts */
	wfile_n(t, "nul2.cfg", "bogus 1\nkey \0\n", 14, p);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s:2: binary file\n", p);
	assert_string_equal(t->err, want);
}

static void test_file_open_errors(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX], want[PATH_MAX + 128];

	snprintf(p, sizeof(p), "%s/nope.cfg", t->dir);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory\n", p);
	assert_string_equal(t->err, want);
	assert_int_equal(args(t, "-@include", p, NULL), -1);
	snprintf(want, sizeof(want), "command line: @include: \"%s\": No such "
		 "file or directory\n", p);
	assert_string_equal(t->err, want);
	/* a directory */
	assert_int_equal(args(t, "-@include", t->dir, NULL), -1);
	snprintf(want, sizeof(want), "command line: @include: \"%s\": is a "
		 "directory\n", t->dir);
	assert_string_equal(t->err, want);
	assert_int_equal(file(t, t->dir), -1);
	snprintf(want, sizeof(want), "%s: is a directory\n", t->dir);
	assert_string_equal(t->err, want);
	/* a device */
	assert_int_equal(file(t, "/dev/null"), -1);
	assert_string_equal(t->err, "/dev/null: not a regular file\n");
	/* unreadable (root reads everything, so only when not root) */
	if (geteuid() != 0) {
		wfile(t, "ro.cfg", "key k\n", p);
		chmod(p, 0);
		assert_int_equal(file(t, p), -1);
		snprintf(want, sizeof(want), "%s: Permission denied\n", p);
		assert_string_equal(t->err, want);
	}
	/* an empty file is fine */
	wfile(t, "empty.cfg", "", p);
	assert_int_equal(file(t, p), 0);
}

static void test_file_limits(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX], want[PATH_MAX + 128];
	size_t big = 1 << 20;
	char *text = malloc(big + 2);

	if (text == NULL)
		fail_msg("out of memory");
	/* 4096 bytes on a line is the most */
	memcpy(text, "key ", 4);
	memset(text + 4, 'k', 4092);
	memcpy(text + 4096, "\r\n", 3);
	wfile(t, "l.cfg", text, p);
	assert_int_equal(file(t, p), 0);
	assert_int_equal(strlen(conf_str(t->c, "key")), 4092);
	memcpy(text + 4096, "k\n", 3);
	wfile(t, "l.cfg", text, p);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s:1: line too long (max 4096 bytes)\n",
		 p);
	assert_string_equal(t->err, want);
	/* a 1 MB line, on line 2 */
	memcpy(text, "key k\n", 6);
	/* a loop, not memset: gcc 12 -O1 + ASan sees false bounds here */
	for (size_t i = 6; i < big; i++)
		text[i] = 'x';
	wfile_n(t, "big.cfg", text, big, p);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s:2: line too long (max 4096 bytes)\n",
		 p);
	assert_string_equal(t->err, want);
	/* 1 MB of short lines is fine, one byte more is not */
	memset(text, '\n', big + 1);
	memcpy(text, "key k", 5);
	wfile_n(t, "big.cfg", text, big, p);
	assert_int_equal(file(t, p), 0);
	wfile_n(t, "big.cfg", text, big + 1, p);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s: file too large (max 1048576 "
		 "bytes)\n", p);
	assert_string_equal(t->err, want);
	free(text);
}

static void test_include(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX], sub[PATH_MAX], main_[PATH_MAX], q[PATH_MAX];
	const struct conf_val *v;

	snprintf(sub, sizeof(sub), "%s/sub", t->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	wfile(t, "sub/leaf.cfg", "listen * 3\n", p);
	/* relative to the including file's directory */
	wfile(t, "sub/mid.cfg", "listen * 2\n@include leaf.cfg\n"
	      "-@include ../last.cfg\n", p);
	wfile(t, "last.cfg", "listen * 4\nkey last\n", p);
	wfile(t, "main.cfg", "listen * 1\n  @include   sub/mid.cfg  \n"
	      "listen * 5\n", main_);
	assert_int_equal(args(t, "-key", "first", "-@include", main_,
			      "--listen", "* 6", NULL), 0);
	assert_string_equal(t->err, "");
	assert_int_equal(conf_count(t->c, "listen"), 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(atoi(conf_get(t->c, "listen", (size_t)i)
				      ->v.addr.port), i + 1);
	v = conf_get(t->c, "listen", 2);
	snprintf(q, sizeof(q), "%s/sub/leaf.cfg", t->dir);
	assert_string_equal(v->file, q);
	assert_int_equal(v->line, 1);
	v = conf_get(t->c, "listen", 3);
	snprintf(q, sizeof(q), "%s/sub/../last.cfg", t->dir);
	assert_string_equal(v->file, q);
	assert_string_equal(conf_str(t->c, "key"), "last");
	/* the same file twice, not nested, is no cycle */
	wfile(t, "twice.cfg", "@include last.cfg\n@include last.cfg\n", p);
	assert_int_equal(file(t, p), 0);
	/* an error in an included file names that file */
	wfile(t, "sub/leaf.cfg", "\nlisten *\n", p);
	assert_int_equal(file(t, main_), -1);
	snprintf(q, sizeof(q), "%s/sub/leaf.cfg:2: listen: bad address \"*\" "
		 "(expected \"host port\" or a UNIX path)\n", t->dir);
	assert_string_equal(t->err, q);
	wfile(t, "sub/mid.cfg", "\n\n@include nope.cfg\n", p);
	assert_int_equal(file(t, main_), -1);
	snprintf(q, sizeof(q), "%s/sub/mid.cfg:3: @include: \"%s/sub/nope.cfg"
		 "\": No such file or directory\n", t->dir, t->dir);
	assert_string_equal(t->err, q);
}

/* conf_set_open(): a hook that counts and logs what it opens. */
struct opener {
	int calls;
	char seen[1024];
};

static int open_hook(void *arg, const char *path, int flags)
{
	struct opener *o = arg;
	size_t n = strlen(o->seen);

	o->calls++;
	snprintf(o->seen + n, sizeof(o->seen) - n, "%s;", path);
	if (strstr(path, "denied"))
		return errno = EACCES, -1;
	return open(path, flags);
}

static void add_name(void *arg, const char *path)
{
	char *out = arg;
	const char *base = strrchr(path, '/');

	strcat(out, base ? base + 1 : path);
	strcat(out, ";");
}

/* Every file, includes too, goes through the hook (the daemon reads its
 * files again from a chroot), and conf_each_file names them all. */
static void test_open_hook(void **state)
{
	struct t *t = *state;
	struct opener o = { 0, "" };
	char p[PATH_MAX], q[PATH_MAX], names[256] = "";

	wfile(t, "inc.cfg", "listen * 2\n", p);
	wfile(t, "main.cfg", "listen * 1\n@include inc.cfg\n", p);
	conf_set_open(t->c, open_hook, &o);
	assert_int_equal(file(t, p), 0);
	assert_int_equal(o.calls, 2);
	snprintf(q, sizeof(q), "%s/main.cfg;%s/inc.cfg;", t->dir, t->dir);
	assert_string_equal(o.seen, q);
	assert_int_equal(conf_count(t->c, "listen"), 2);
	conf_each_file(t->c, add_name, names);
	assert_true(strstr(names, "main.cfg;") && strstr(names, "inc.cfg;"));
	assert_int_equal(strlen(names), strlen("main.cfg;inc.cfg;"));
	/* the hook's errno is the error, with the including line */
	wfile(t, "main.cfg", "\n@include denied.cfg\n", p);
	assert_int_equal(file(t, p), -1);
	snprintf(q, sizeof(q), "%s/main.cfg:2: @include: \"%s/denied.cfg\": "
		 "Permission denied\n", t->dir, t->dir);
	assert_string_equal(t->err, q);
}

static void test_include_cycle(void **state)
{
	struct t *t = *state;
	char a[PATH_MAX], b[PATH_MAX], want[3 * PATH_MAX];

	wfile(t, "self.cfg", "key k\n@include self.cfg\n", a);
	assert_int_equal(file(t, a), -1);
	snprintf(want, sizeof(want), "%s:2: @include: \"%s/self.cfg\": "
		 "include cycle\n", a, t->dir);
	assert_string_equal(t->err, want);
	wfile(t, "a.cfg", "@include b.cfg\n", a);
	wfile(t, "b.cfg", "key k\n\n@include a.cfg\n", b);
	assert_int_equal(args(t, "-@include", a, NULL), -1);
	snprintf(want, sizeof(want), "%s:3: @include: \"%s/a.cfg\": include "
		 "cycle\n", b, t->dir);
	assert_string_equal(t->err, want);
	/* through a symlink: the same file is the same file */
	snprintf(b, sizeof(b), "%s/link.cfg", t->dir);
	assert_int_equal(symlink("a.cfg", b), 0);
	wfile(t, "b.cfg", "@include link.cfg\n", b);
	assert_int_equal(file(t, a), -1);
	snprintf(want, sizeof(want), "%s:1: @include: \"%s/link.cfg\": "
		 "include cycle\n", b, t->dir);
	assert_string_equal(t->err, want);
}

static void test_include_depth(void **state)
{
	struct t *t = *state;
	char name[32], text[64], p[PATH_MAX], want[2 * PATH_MAX];
	int i;

	/* f0 -> f1 -> ... -> f16: 16 files open is the most */
	for (i = 0; i < 17; i++) {
		snprintf(name, sizeof(name), "f%d.cfg", i);
		snprintf(text, sizeof(text), "listen * %d\n@include f%d.cfg\n",
			 i + 1, i + 1);
		wfile(t, name, i == 15 ? "listen * 16\n" : text, p);
	}
	snprintf(p, sizeof(p), "%s/f0.cfg", t->dir);
	assert_int_equal(file(t, p), 0);
	assert_int_equal(conf_count(t->c, "listen"), 16);
	snprintf(p, sizeof(p), "%s/f15.cfg", t->dir);
	wfile(t, "f15.cfg", "listen * 16\n@include f16.cfg\n", p);
	wfile(t, "f16.cfg", "listen * 17\n", p);
	snprintf(p, sizeof(p), "%s/f0.cfg", t->dir);
	assert_int_equal(file(t, p), -1);
	snprintf(want, sizeof(want), "%s/f15.cfg:2: @include: \"%s/f16.cfg\": "
		 "includes nested too deep (max 16)\n", t->dir, t->dir);
	assert_string_equal(t->err, want);
}

/* A pipe works, e.g. cloud -@include <(gen-config) */
static void test_pipe(void **state)
{
	struct t *t = *state;
	char p[64];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "key piped\n", 10), 10);
	close(fds[1]);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fds[0]);
	assert_int_equal(file(t, p), 0);
	assert_string_equal(conf_str(t->c, "key"), "piped");
	close(fds[0]);
}

/* conf_new(table) in a child must abort: the table itself is wrong. */
static void assert_table_aborts(const struct conf_opt *table)
{
	pid_t pid;
	int st;

	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		conf_new(table, "x");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void test_bad_default_aborts(void **state)
{
	static const struct conf_opt bad[] = {
		{ "t", CONF_DUR, 0, "10 parsecs", "" },
		{ NULL, CONF_STR, 0, NULL, NULL },
	};

	(void)state;
	assert_table_aborts(bad);
}

/* ---- names: '-' is '_', typos, the version ----------------------------- */

static void test_names(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX];

	assert_int_equal(args(t, "-status_file", "/tmp/s", "--max-connections",
			      "9", "-uplimit_total", "3", "-conn-timeout",
			      "2s", NULL), 0);
	assert_string_equal(t->err, "");
	/* the program looks up the table's spelling */
	assert_string_equal(conf_str(t->c, "status-file"), "/tmp/s");
	assert_int_equal(conf_int(t->c, "max_connections"), 9);
	assert_int_equal(conf_int(t->c, "uplimit-total"), 3);
	assert_int_equal(conf_us(t->c, "conn_timeout"), 2000000);
	/* one option, whichever the spelling: last one wins, lists grow */
	assert_int_equal(args(t, "-max_connections", "1", "-max-connections",
			      "2", "-gate", "/a", "-gate", "/b", NULL), 0);
	assert_int_equal(conf_count(t->c, "max_connections"), 1);
	assert_int_equal(conf_int(t->c, "max_connections"), 2);
	assert_int_equal(conf_count(t->c, "gate"), 2);
	wfile(t, "n.cfg", "status_file /f\ngate-mode 0600\n", p);
	assert_int_equal(file(t, p), 0);
	assert_string_equal(conf_str(t->c, "status-file"), "/f");
	assert_int_equal(conf_last(t->c, "status-file")->line, 1);
	assert_int_equal(conf_int(t->c, "gate_mode"), 0600);
	/* errors name the table's spelling for values */
	assert_int_equal(args(t, "-gate-mode", "999", NULL), -1);
	assert_string_equal(t->err, "command line: gate_mode: bad mode "
			    "\"999\"\n");
}

static void test_did_you_mean(void **state)
{
	static const struct {
		const char *name, *err;
	} cases[] = {
		{ "stauts-file", "stauts-file: unknown option (did you mean "
		  "status-file?)" },
		{ "status-fiel", "status-fiel: unknown option (did you mean "
		  "status-file?)" },
		{ "conn_timout", "conn_timout: unknown option (did you mean "
		  "conn_timeout?)" },
		{ "conn-timeuot", "conn-timeuot: unknown option (did you mean "
		  "conn_timeout?)" },
		{ "lisen", "lisen: unknown option (did you mean listen?)" },
		{ "max_conections", "max_conections: unknown option (did you "
		  "mean max_connections?)" },
		{ "@inclde", "@inclde: unknown option (did you mean "
		  "@include?)" },
		/* too far, or too short to guess */
		{ "bogus", "bogus: unknown option" },
		{ "x", "x: unknown option" },
		{ "ky", "ky: unknown option" },
		{ "sttsfl", "sttsfl: unknown option" },
		{ "conn_tmt", "conn_tmt: unknown option" },
	};
	struct t *t = *state;
	char want[256], opt[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(opt, sizeof(opt), "-%s", cases[i].name);
		snprintf(want, sizeof(want), "command line: %s\n",
			 cases[i].err);
		assert_int_equal(args(t, opt, "1", NULL), -1);
		assert_string_equal(t->err, want);
		/* without a value it is still unknown, not "missing value" */
		assert_int_equal(args(t, opt, NULL), -1);
		assert_string_equal(t->err, want);
	}
	/* a long name is no trouble */
	memset(want, 'a', 200);
	want[0] = '-';
	want[200] = '\0';
	assert_int_equal(args(t, want, "1", NULL), -1);
}

/* stdout of conf_args on argv, and its return code */
static int args_out(struct t *t, char *out, size_t size, char **argv,
		    int argc)
{
	struct cap k;
	int r;

	cap_start(&k, 1);
	r = conf_args(t->c, argc, argv);
	cap_end(&k, out, size);
	return r;
}

static void test_version(void **state)
{
	static const char *const flags[] = { "-V", "-version", "--version" };
	struct t *t = *state;
	char out[256], want[256];
	char *argv[4] = { "cvconf-test" };
	struct cap k;
	size_t i;

	snprintf(want, sizeof(want), "cvconf-test (cloudvpn) %s\n",
		 PACKAGE_VERSION);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		argv[1] = (char *)flags[i];
		assert_int_equal(args_out(t, out, sizeof(out), argv, 2), 1);
		assert_string_equal(out, want);
	}
	/* anywhere an option name may be, even after a bad value */
	argv[1] = "-max_connections";
	argv[2] = "x";
	argv[3] = "-V";
	assert_int_equal(args_out(t, out, sizeof(out), argv, 4), 1);
	assert_string_equal(out, want);
	/* as a value it is just a value */
	assert_int_equal(args(t, "-key", "-V", NULL), 0);
	assert_string_equal(conf_str(t->c, "key"), "-V");
	/* what cloudctl and cloudcat print, having no table */
	cap_start(&k, 1);
	conf_version("cloudctl", stdout);
	cap_end(&k, out, sizeof(out));
	snprintf(want, sizeof(want), "cloudctl (cloudvpn) %s\n",
		 PACKAGE_VERSION);
	assert_string_equal(out, want);
}

static void test_compat(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX], want[PATH_MAX + 128];

	assert_int_equal(args(t, "-heartbeat", "5", "-heartbeat", "6", NULL),
			 0);
	assert_string_equal(t->err, "command line: heartbeat: accepted for "
			    "compatibility, has no effect here (the keepalive "
			    "does this)\n");
	assert_int_equal(conf_int(t->c, "heartbeat"), 6);
	/* once per run, wherever it comes from */
	wfile(t, "c.cfg", "heartbeat 7\n", p);
	assert_int_equal(file(t, p), 0);
	assert_string_equal(t->err, "");
	/* its value is still checked */
	assert_int_equal(args(t, "-heartbeat", "soon", NULL), -1);
	assert_string_equal(t->err, "command line: heartbeat: bad integer "
			    "\"soon\"\n");
	conf_free(t->c);
	t->c = conf_new(opts, "cvconf-test");
	wfile(t, "c.cfg", "\nheartbeat 7\nheartbeat 8\n", p);
	assert_int_equal(file(t, p), 0);
	snprintf(want, sizeof(want), "%s:2: heartbeat: accepted for "
		 "compatibility, has no effect here (the keepalive does "
		 "this)\n", p);
	assert_string_equal(t->err, want);
}

/* Two spellings of one name in a table is a bug in the table. */
static void test_twice_aborts(void **state)
{
	static const struct conf_opt twice[] = {
		{ "status-file", CONF_STR, 0, NULL, "" },
		{ "status_file", CONF_STR, 0, NULL, "" },
		{ NULL, CONF_STR, 0, NULL, NULL },
	};

	(void)state;
	assert_table_aborts(twice);
}

/* ---- golden files ------------------------------------------------------- */

static void dump_val(FILE *f, const struct conf_opt *o,
		     const struct conf_val *v)
{
	char where[PATH_MAX + 64];

	fputs(conf_where(v, o->name, where, sizeof(where)), f);
	switch (o->type) {
	case CONF_STR:
		fprintf(f, "\"%s\"\n", v->raw);
		break;
	case CONF_INT:
	case CONF_BOOL:
		fprintf(f, "%lld\n", v->v.i);
		break;
	case CONF_MODE:
		fprintf(f, "0%llo\n", v->v.i);
		break;
	case CONF_DUR:
		fprintf(f, "%llu us\n", (unsigned long long)v->v.us);
		break;
	case CONF_ADDR:
		if (v->v.addr.is_unix)
			fprintf(f, "unix \"%s\"\n", v->v.addr.path);
		else
			fprintf(f, "host \"%s\" port \"%s\"\n",
				v->v.addr.host, v->v.addr.port);
		break;
	}
}

static void golden_one(struct t *t, const char *dir, const char *name)
{
	char *got = NULL, want[16384], path[PATH_MAX];
	size_t gotlen = 0, i, j;
	FILE *f;
	int r, fd;
	ssize_t n;

	r = file(t, name);
	f = open_memstream(&got, &gotlen);
	assert_non_null(f);
	fprintf(f, "%src %d\n", t->err, r);
	for (i = 0; opts[i].name != NULL; i++)
		for (j = 0; j < conf_count(t->c, opts[i].name); j++)
			dump_val(f, &opts[i], conf_get(t->c, opts[i].name, j));
	fclose(f);
	snprintf(path, sizeof(path), "%.*s.out", (int)(strlen(name) - 4),
		 name);
	if (getenv("CONF_GOLDEN_UPDATE") != NULL) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		assert_int_equal(fclose(f), 0);
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_msg("%s/%s: missing; got:\n%s", dir, path, got);
	n = read(fd, want, sizeof(want) - 1);
	close(fd);
	want[n > 0 ? n : 0] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("%s/%s: want:\n%sgot:\n%s", dir, name, want, got);
	free(got);
}

static void test_golden(void **state)
{
	struct t *t = *state;
	const char *top = getenv("top_srcdir");
	char dir[PATH_MAX], cwd[PATH_MAX];
	struct dirent *de;
	size_t len;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/unit/conf", top ? top : ".");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	d = opendir(dir);
	if (d == NULL)
		fail_msg("%s: %s (set top_srcdir)", dir, strerror(errno));
	assert_int_equal(chdir(dir), 0);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0)
			continue;
		conf_free(t->c);
		t->c = conf_new(opts, "cvconf-test");
		golden_one(t, dir, de->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(chdir(cwd), 0);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_open_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_limits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_include, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_hook, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_include_cycle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_include_depth, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pipe, setup, teardown),
		cmocka_unit_test(test_bad_default_aborts),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_did_you_mean, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat, setup, teardown),
		cmocka_unit_test(test_twice_aborts),
		cmocka_unit_test_setup_teardown(test_golden, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
