/*
 * The listening UNIX sockets of the daemon (gate, control), made by root
 * in directories others may write to:
 *
 *   dir/sock     bind -> [swap: dir/sock -> victim (symlink)] -> owner?
 *   dir/victim   0644, must keep its mode and owner
 *
 * bind is wrapped (-Wl,--wrap=bind): with `swap` set, the socket file is
 * replaced by a symlink to victim right after the real bind, as a racing
 * local user would. Nothing may then be changed through that name, and
 * the mode must be the socket's from birth (no chmod by path). Also: a
 * stale socket is replaced, a live one and a non-socket are refused and
 * left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "usock.h"

static char dir[64], sock[128], victim[128];
static int swap;

int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int r = __real_bind(fd, sa, len);

	if (r == 0 && swap) {
		assert_int_equal(unlink(sock), 0);
		assert_int_equal(symlink(victim, sock), 0);
	}
	return r;
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/test_usock.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_non_null(f = fopen(victim, "w"));
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(chmod(victim, 0644), 0);
	swap = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock);
	unlink(victim);
	rmdir(dir);
	return 0;
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode;
}

static void test_mode(void **state)
{
	int fd;

	(void)state;
	fd = usock_listen("test ", sock, 0640, (uid_t)-1, (gid_t)-1, 4);
	assert_true(fd >= 0);
	assert_true(S_ISSOCK(mode_of(sock)));
	assert_int_equal(mode_of(sock) & 07777, 0640);
	close(fd);
}

/* swapped for a symlink after bind: refused, the target untouched */
static void test_swapped(void **state)
{
	int fd;

	(void)state;
	swap = 1;
	fd = usock_listen("test ", sock, 0600, getuid(), getgid(), 4);
	assert_int_equal(fd, -1);
	assert_int_equal(mode_of(victim) & 07777, 0644);
	assert_true(S_ISREG(mode_of(victim)));
}

/* the same without an owner to set: the mode never went by the path */
static void test_swapped_mode(void **state)
{
	int fd;

	(void)state;
	swap = 1;
	fd = usock_listen("test ", sock, 0600, (uid_t)-1, (gid_t)-1, 4);
	if (fd >= 0)
		close(fd);
	assert_int_equal(mode_of(victim) & 07777, 0644);
}

static void test_stale_live(void **state)
{
	int fd, fd2;

	(void)state;
	fd = usock_listen("test ", sock, 0600, (uid_t)-1, (gid_t)-1, 4);
	assert_true(fd >= 0);
	/* live: refused, still there */
	assert_int_equal(usock_listen("test ", sock, 0600, (uid_t)-1,
				      (gid_t)-1, 4), -1);
	assert_true(S_ISSOCK(mode_of(sock)));
	close(fd);
	/* stale (nobody listens): replaced */
	fd2 = usock_listen("test ", sock, 0600, (uid_t)-1, (gid_t)-1, 4);
	assert_true(fd2 >= 0);
	close(fd2);
}

/* not a socket (a file, a symlink): refused and left alone */
static void test_not_socket(void **state)
{
	(void)state;
	assert_int_equal(rename(victim, sock), 0);
	assert_int_equal(usock_probe("test ", sock), -1);
	assert_true(S_ISREG(mode_of(sock)));
	assert_int_equal(rename(sock, victim), 0);
	assert_int_equal(symlink(victim, sock), 0);
	assert_int_equal(usock_probe("test ", sock), -1);
	assert_true(S_ISLNK(mode_of(sock)));
	assert_true(S_ISREG(mode_of(victim)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_mode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_live, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_socket, setup,
						teardown),
	};

	log_init("test_usock", 0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
