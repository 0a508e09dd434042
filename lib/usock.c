/* Listening UNIX sockets: see usock.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "usock.h"

/* Every failure here stops the program that asked: these are errors. */
static int usock_addr(const char *what, const char *path,
		      struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		log_errorx("%s%s: path too long", what, path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* "cannot create the socket" names the directory the user must make or
 * open to us: bind's "No such file or directory" alone does not say
 * which. */
static void usock_bind_failed(const char *what, const char *path, int e)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;

	errno = e;
	if (e == ENOENT || e == EACCES || e == EROFS || e == ENOTDIR)
		log_error("%s%s: cannot create the socket in directory "
			  "\"%.*s\"", what, path, slash == path ? 1 : dirlen,
			  slash ? path : ".");
	else
		log_error("%s%s: cannot create the socket", what, path);
}

int usock_probe(const char *what, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, r, e;

	if (usock_addr(what, path, &sun) < 0)
		return -1;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		usock_bind_failed(what, path, errno);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_errorx("%s%s: exists and is not a socket", what, path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("%s%s: socket", what, path);
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		log_errorx("%s%s: another daemon is listening", what, path);
		return -1;
	}
	if (e != ECONNREFUSED && e != ENOENT) {
		errno = e;
		log_error("%s%s: connect", what, path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error("%s%s: removing the stale socket", what, path);
		return -1;
	}
	log_info("%s%s: replaced a stale socket file", what, path);
	return 0;
}

/* The owner is changed through a handle on the file itself, opened with
 * O_NOFOLLOW, and only if it is a socket that we own with the mode bind
 * gave it: a name swapped for a symlink or another file after bind is
 * refused, never followed. */
static int usock_chown(const char *what, const char *path, mode_t mode,
		       uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, r = -1;

	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("%s%s", what, path);
		goto out;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != mode) {
		log_errorx("%s%s: replaced after bind, not changing its owner",
			  what, path);
		goto out;
	}
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
		log_error("%s%s: chown", what, path);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int usock_listen(const char *what, const char *path, mode_t mode, uid_t uid,
		 gid_t gid, int backlog)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r, e;

	if (usock_addr(what, path, &sun) < 0 || usock_probe(what, path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("%s%s: socket", what, path);
		return -1;
	}
	/* bind creates the file with 0777 & ~umask: the mode from birth */
	old = umask(~mode & 0777);
	r = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(old);
	if (r < 0) {
		usock_bind_failed(what, path, e);
		goto err_close;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    usock_chown(what, path, mode & 0777, uid, gid) < 0)
		goto err_unlink;
	if (listen(fd, backlog) < 0) {
		log_error("%s%s: listen", what, path);
		goto err_unlink;
	}
	return fd;
err_unlink:
	unlink(path);
err_close:
	close(fd);
	return -1;
}
