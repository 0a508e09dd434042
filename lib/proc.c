/* Process chores of the gate programs: see proc.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "conf.h"
#include "log.h"
#include "proc.h"

extern char **environ;

int proc_ids(const struct conf *c, struct proc_ids *ids)
{
	const struct conf_val *u = conf_last(c, "user");
	const struct conf_val *g = conf_last(c, "group");
	const struct passwd *pw = u ? getpwnam(u->raw) : NULL;
	const struct group *gr = g ? getgrnam(g->raw) : NULL;

	memset(ids, 0, sizeof(*ids));
	if (u != NULL && pw == NULL)
		return conf_fail(c, u, "user", "no such user \"%s\"", u->raw);
	if (g != NULL && gr == NULL)
		return conf_fail(c, g, "group", "no such group \"%s\"", g->raw);
	ids->setuid = pw != NULL;
	ids->setgid = pw != NULL || gr != NULL;
	if (pw != NULL) {
		ids->uid = pw->pw_uid;
		ids->gid = pw->pw_gid;
	}
	if (gr != NULL)
		ids->gid = gr->gr_gid;
	return 0;
}

/* CAP_NET_ADMIN alone, also as an ambient capability, so the commands we
 * run (iface_down_cmd) can act on the interface as we can. */
static int keep_net_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].inheritable =
		CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &h, d) < 0) {
		log_warn("cannot keep CAP_NET_ADMIN");
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0L,
		  0L) < 0)
		log_warn("commands will run without CAP_NET_ADMIN");
	return 0;
}

int proc_drop(const struct proc_ids *ids, int keep_net)
{
	if (!ids->setgid)
		return 0;
	if (setgroups(1, &ids->gid) < 0 || setgid(ids->gid) < 0) {
		log_warn("cannot switch to group %u", (unsigned)ids->gid);
		return -1;
	}
	if (!ids->setuid)
		return 0;
	if ((keep_net && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) ||
	    setuid(ids->uid) < 0) {
		log_warn("cannot switch to user %u", (unsigned)ids->uid);
		return -1;
	}
	if (!keep_net)
		return 0;
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	return keep_net_admin();
}

void proc_cmd(const struct conf *c, const char *name, const char *ifname)
{
	const struct conf_val *v = conf_last(c, name);
	char *argv[] = { "sh", "-c", NULL, NULL };
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	pid_t pid;
	int r, st;

	if (v == NULL)
		return;
	argv[2] = (char *)v->raw;
	setenv("IFACE", ifname, 1);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGHUP);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		errno = r;
		log_warn("%s: cannot run \"%s\"", name, v->raw);
		return;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		log_warnx("%s: \"%s\" failed (status %d)", name, v->raw, st);
}
