/*
 * The status file's writer thread (cloud/bgwrite.c): the file is replaced
 * whole, 0600, with no temp file left; bgw_put returns at once while a
 * rename takes long (rename is wrapped: it can be made slow or fail), the
 * newest snapshot wins over one the thread has not started, and failures
 * come back as results with their errno.
 *
 *   loop --put--> [slot] --thread--> mkstemp, write, rename --> path
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bgwrite.h"

#define SLOW_MS 300

static volatile int renames;	/* rename calls seen */
static volatile int slow;	/* each rename waits SLOW_MS */
static volatile int fail_eio;	/* each rename fails with EIO */
static char dir[] = "/tmp/test_bgwrite.XXXXXX";
static char path[256];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to)
{
	renames++;
	if (slow)
		usleep(SLOW_MS * 1000);
	if (fail_eio) {
		errno = EIO;
		return -1;
	}
	return __real_rename(from, to);
}

static void put(struct bgw *w, const char *s)
{
	char *b = strdup(s);

	assert_non_null(b);
	bgw_put(w, b, strlen(s));
}

static void assert_file(const char *want)
{
	char got[64] = { 0 };
	struct stat st;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_true(fread(got, 1, sizeof(got) - 1, f) == strlen(want));
	fclose(f);
	assert_string_equal(got, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* Files in the directory: the status file alone, no temp file. */
static int files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The thread's result once a write has finished (5 s at most). */
static enum bgw_result wait_result(struct bgw *w, int *err)
{
	uint64_t end = now_ms() + 5000;
	enum bgw_result r;

	while ((r = bgw_result(w, err)) == BGW_NONE && now_ms() < end)
		usleep(1000);
	return r;
}

static int setup(void **state)
{
	(void)state;
	renames = slow = fail_eio = 0;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/status", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/test_bgwrite.XXXXXX");
	return 0;
}

static void test_writes(void **state)
{
	struct bgw *w = bgw_new(path);
	int err = -1;

	(void)state;
	assert_non_null(w);
	put(w, "cloud name=a\n");
	assert_int_equal(wait_result(w, &err), BGW_OK);
	assert_int_equal(err, 0);
	assert_file("cloud name=a\n");
	put(w, "cloud name=b\n");
	bgw_free(w);
	assert_file("cloud name=b\n");
	assert_int_equal(files(), 1);
}

/* A rename of SLOW_MS: the loop's puts do not wait for it, the one put
 * while it ran is replaced by the next, and bgw_free writes the last. */
static void test_slow_disk(void **state)
{
	struct bgw *w = bgw_new(path);
	uint64_t t0, end;

	(void)state;
	assert_non_null(w);
	slow = 1;
	put(w, "first\n");
	end = now_ms() + 5000;
	while (renames == 0 && now_ms() < end)
		usleep(1000);
	assert_int_equal(renames, 1);
	t0 = now_ms();
	put(w, "second\n");
	put(w, "third\n");
	assert_true(now_ms() - t0 < SLOW_MS / 3);
	bgw_free(w);
	assert_int_equal(renames, 2);	/* first, third */
	assert_file("third\n");
	assert_int_equal(files(), 1);
}

static void test_no_dir(void **state)
{
	struct bgw *w;
	int err = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/gone/status", dir);
	w = bgw_new(path);
	assert_non_null(w);
	assert_int_equal(bgw_result(w, &err), BGW_NONE);
	put(w, "x\n");
	assert_int_equal(wait_result(w, &err), BGW_CREATE);
	assert_int_equal(err, ENOENT);
	bgw_free(w);
}

static void test_rename_fails(void **state)
{
	struct bgw *w = bgw_new(path);
	int err = 0;

	(void)state;
	assert_non_null(w);
	fail_eio = 1;
	put(w, "x\n");
	assert_int_equal(wait_result(w, &err), BGW_WRITE);
	assert_int_equal(err, EIO);
	assert_int_equal(files(), 0);	/* the temp file is gone */
	fail_eio = 0;
	put(w, "y\n");
	bgw_free(w);
	assert_file("y\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_disk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
