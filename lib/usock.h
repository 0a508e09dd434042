/* A listening UNIX socket at a path, made safely by root: the gate and
 * control sockets of the cloud daemon. */
#ifndef CV_USOCK_H
#define CV_USOCK_H

#include <sys/types.h>

/* An existing file at path: a stale socket (nobody answers) is removed, a
 * live one or anything that is not a socket is refused. 0, or -1 after
 * logging the error "WHAT PATH: reason" (what is a prefix such as
 * "FILE:LINE: gate: "); a directory that is missing or closed to us is
 * named in the reason. */
int usock_probe(const char *what, const char *path);
/* Probe, then bind with the umask that gives mode (no chmod by path), give
 * the file to uid/gid ((uid_t)-1, (gid_t)-1: keep) through an O_NOFOLLOW
 * handle on it, and listen. The listening fd (non-blocking, close-on-exec)
 * or -1 after logging; nothing is left at path on failure. */
int usock_listen(const char *what, const char *path, mode_t mode, uid_t uid,
		 gid_t gid, int backlog);

#endif
