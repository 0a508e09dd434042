/* What the gate programs (ether, tun, stunproxy) do as processes: switch
 * to the configured user and group once set up, and run the operator's
 * iface_up_cmd / iface_down_cmd. */
#ifndef CV_PROC_H
#define CV_PROC_H

#include <sys/types.h>

struct conf;

struct proc_ids {
	int setuid, setgid;	/* "user" / "group" (or the user's) given */
	uid_t uid;
	gid_t gid;
};

/* Resolve the "user" and "group" options now, so a typo fails at start
 * ("FILE:LINE: user: no such user"); -1 after logging. */
int proc_ids(const struct conf *c, struct proc_ids *ids);
/* Switch to them (no-op if none). keep_net_admin: keep CAP_NET_ADMIN, and
 * no other capability, across the switch, for us and the commands we run
 * (an ambient capability). 0 or -1 after logging. */
int proc_drop(const struct proc_ids *ids, int keep_net_admin);
/* Run option name's shell command, if given, with $IFACE set to ifname,
 * default signal dispositions and nothing blocked; wait for it. */
void proc_cmd(const struct conf *c, const char *name, const char *ifname);

#endif
