/*
 * libFuzzer target for the config parser. Each input is parsed three ways:
 * as a config file (written to in.cfg in a private temp directory, so
 * "@include" of in.cfg, inc.cfg, loop.cfg or a directory is reachable),
 * as a command line (one argument per line), and line by line through
 * every value parser. The parser reports errors on stderr: run with
 * -close_fd_mask=3 to keep the output short.
 *
 * clang -g -std=gnu11 -D_GNU_SOURCE -Ilib \
 *	-fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_conf.c \
 *	-o fuzz_conf && ./fuzz_conf -close_fd_mask=3 tests/fuzz/corpus/conf
 */
#include "../../lib/conf.c"

#define FUZZ_ARGS 64

static const struct conf_opt fuzz_opts[] = {
	{ "listen", CONF_ADDR, CONF_LIST, "* 5000", "" },
	{ "connect", CONF_ADDR, CONF_LIST, NULL, "" },
	{ "key", CONF_STR, 0, NULL, "" },
	{ "max_connections", CONF_INT, 0, "x40", "" },
	{ "multipath", CONF_BOOL, 0, "no", "" },
	{ "conn_timeout", CONF_DUR, 0, "10s", "" },
	{ "gate_mode", CONF_MODE, 0, "0660", "" },
	{ NULL, CONF_STR, 0, NULL, NULL },
};

/* in memory (tmpfs) where there is one: the input is written each run */
static char fuzz_dir[] = "/dev/shm/cvconf-fuzz.XXXXXX";
static int fuzz_cwd = -1;	/* where libFuzzer runs, to come back to */

static void fuzz_write(const char *name, const uint8_t *data, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	f = fopen(path, "w");

	if (f == NULL)
		abort();
	if (len > 0 && fwrite(data, 1, len, f) != len)
		abort();
	if (fclose(f) != 0)
		abort();
}

static void fuzz_cleanup(void)
{
	static const char *const names[] = { "in.cfg", "inc.cfg", "loop.cfg" };
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sub", fuzz_dir);
	rmdir(path);
	rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char inc[] = "key from-inc\n@include in.cfg\n";
	static const char loop[] = "@include loop.cfg\n";
	char path[64];

	(void)argc;
	(void)argv;
	fuzz_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fuzz_cwd < 0)
		abort();
	if (mkdtemp(fuzz_dir) == NULL) {
		memcpy(fuzz_dir, "/tmp/cvconf-fuzz.XXXXXX",
		       sizeof("/tmp/cvconf-fuzz.XXXXXX"));
		if (mkdtemp(fuzz_dir) == NULL)
			abort();
	}
	fuzz_write("inc.cfg", (const uint8_t *)inc, sizeof(inc) - 1);
	fuzz_write("loop.cfg", (const uint8_t *)loop, sizeof(loop) - 1);
	snprintf(path, sizeof(path), "%s/sub", fuzz_dir);
	if (mkdir(path, 0700) < 0)
		abort();
	atexit(fuzz_cleanup);
	return 0;
}

/* Keep the harness away from files that block or never end. */
static int fuzz_unsafe(const uint8_t *data, size_t len)
{
	static const char *const bad[] = { "/dev", "/proc", "/sys", "/run" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (memmem(data, len, bad[i], strlen(bad[i])) != NULL)
			return 1;
	return 0;
}

static void fuzz_file(const uint8_t *data, size_t len)
{
	struct conf *c = conf_new(fuzz_opts, "fuzz");
	char path[64];
	size_t i;

	if (c == NULL)
		abort();
	fuzz_write("in.cfg", data, len);
	snprintf(path, sizeof(path), "%s/in.cfg", fuzz_dir);
	(void)conf_file(c, path);
	for (i = 0; i < c->nslots; i++)
		(void)conf_count(c, c->slots[i].opt->name);
	conf_free(c);
}

static void fuzz_args(const uint8_t *data, size_t len)
{
	char *argv[FUZZ_ARGS + 1], *copy, *p, *nl;
	struct conf *c;
	int argc = 0;

	copy = malloc(len + 1);
	c = conf_new(fuzz_opts, "fuzz");
	if (copy == NULL || c == NULL)
		abort();
	memcpy(copy, data, len);
	copy[len] = '\0';
	argv[argc++] = "fuzz";
	for (p = copy; argc < FUZZ_ARGS && p != NULL; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	/* "-@include in.cfg" on the command line is relative to the cwd */
	if (chdir(fuzz_dir) < 0)
		abort();
	(void)conf_args(c, argc, argv);
	if (fchdir(fuzz_cwd) < 0)
		abort();
	conf_free(c);
	free(copy);
}

static void fuzz_values(const uint8_t *data, size_t len)
{
	char line[CONF_LINE_MAX + 1], why[CONF_WHY];
	struct conf_val v;
	size_t i, n;

	n = len < CONF_LINE_MAX ? len : CONF_LINE_MAX;
	memcpy(line, data, n);
	line[n] = '\0';
	for (i = 0; fuzz_opts[i].name != NULL; i++)
		(void)conf_value(&fuzz_opts[i], line, &v, why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (fuzz_unsafe(data, len))
		return 0;
	fuzz_file(data, len);
	fuzz_args(data, len);
	fuzz_values(data, len);
	return 0;
}
