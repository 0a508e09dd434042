/*
 * Live reload (SIGHUP, cloudctl reload): the configuration is read again
 * from the daemon's own arguments and checked as at start; what differs
 * from the running one is applied where it can be, links untouched:
 *
 *   connect, connect-udp   a new line starts a connector; a removed one
 *                          closes its link and stops reconnecting; an
 *                          unchanged one (word for word) keeps its link
 *   listen, listen-udp     a new line binds; a removed one closes its
 *                          listener (its links stay)
 *   gate, max_gates        a new gate socket opens, a removed one closes
 *                          (attached gates stay); not in a chroot
 *   uplimit-*, downlimit-*, red-ratio   every link, at once
 *   loglevel, conn_retry   at once
 *   ca, crl                the files are read again (as before)
 *
 * Any other option that differs from the running value is named in one
 * log line and keeps its value until a restart. A configuration that does
 * not parse or check changes nothing.
 *
 * The files are reached as at start even from a chroot, without
 * privileges: the directory of each file read at start is opened
 * (O_PATH) before the chroot, and a file is opened again by its name in
 * it, so an editor that replaces the file is seen. A file the daemon's
 * user may not read is read through the descriptor opened at start, if it
 * is still that file (edited in place). An include in another directory
 * is read only when the daemon is not in a chroot.
 */
#ifndef CV_RELOAD_H
#define CV_RELOAD_H

#include <stdio.h>

struct cloud;
struct conf;
struct conf_opt;

/* Before the chroot and the privilege drop: remember how the
 * configuration was given (argv stays the caller's) and open what a
 * reload needs. -1 after logging. */
int reload_init(struct cloud *c, const struct conf_opt *opts,
		int (*check)(const struct conf *), int argc, char **argv);
void reload_free(struct cloud *c);
/* Reload now, for who ("SIGHUP", "cloudctl reload"): one log line of what
 * changed, one of what could not. If out is not NULL, the same as
 * records for cloudctl: "reload ok=1 ...", "refused options=a,b",
 * "error text=\"FILE:LINE: ...\"". 0, or -1 if nothing changed because
 * the configuration has errors. */
int reload_run(struct cloud *c, FILE *out, const char *who);

#endif
