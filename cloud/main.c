/* cloud: the cloudvpn daemon. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cloud.h"
#include "conf.h"
#include "fwd.h"
#include "gate.h"
#include "link.h"
#include "log.h"
#include "origin.h"
#include "rframe.h"
#include "route.h"
#include "status.h"

static const struct conf_opt cloud_opts[] = {
	{ "listen", CONF_ADDR, CONF_LIST, NULL,
	  "accept peer links on HOST PORT (* for any address)" },
	{ "connect", CONF_STR, CONF_LIST, NULL,
	  "link to the peer at HOST PORT [NODEID], reconnecting forever" },
	{ "listen-udp", CONF_ADDR, CONF_LIST, NULL,
	  "accept peer links over UDP (DTLS) on HOST PORT (* for any)" },
	{ "connect-udp", CONF_STR, CONF_LIST, NULL,
	  "link to the peer at HOST PORT [NODEID] over UDP (DTLS), forever" },
	{ "udp_mtu", CONF_INT, 0, "0",
	  "UDP payload size of UDP links; 0 probes the path MTU" },
	{ "rekey_interval", CONF_DUR, 0, "1h",
	  "fresh session keys this often (0: never)" },
	{ "key", CONF_STR, 0, NULL, "this node's private key (PEM)" },
	{ "cert", CONF_STR, 0, NULL,
	  "this node's certificate (PEM); its CN is the node name" },
	{ "ca", CONF_STR, CONF_LIST, NULL,
	  "CA certificates that peers must chain to (PEM)" },
	{ "crl", CONF_STR, CONF_LIST, NULL, "certificate revocation lists" },
	{ "dh", CONF_STR, 0, NULL, "DH parameters (PEM), for TLS 1.2 DHE" },
	{ "tls_prio_str", CONF_STR, 0, "NORMAL:-VERS-ALL:+VERS-TLS1.3",
	  "GnuTLS priority string" },
	{ "max_connections", CONF_INT, 0, "256",
	  "peer connections at most (unauthenticated ones are evicted first)" },
	{ "max_handshakes_per_source", CONF_INT, 0, "4",
	  "inbound connections one address may have not yet authenticated" },
	{ "accept_rate", CONF_INT, 0, "64",
	  "new inbound connections accepted per second, from all sources" },
	{ "accept_rate_per_source", CONF_INT, 0, "8",
	  "new inbound connections accepted per second from one address" },
	{ "max_links_per_node", CONF_INT, 0, "8",
	  "links one authenticated node may hold at most" },
	{ "conn_retry", CONF_DUR, 0, "10s",
	  "longest wait between reconnection attempts" },
	{ "conn_timeout", CONF_DUR, 0, "30s",
	  "close a link silent for this long" },
	{ "conn_keepalive", CONF_DUR, 0, "5s", "ping interval on a link" },
	{ "gate", CONF_ADDR, CONF_LIST, NULL,
	  "UNIX socket path where gates attach" },
	{ "gate_mode", CONF_MODE, 0, "0660", "mode of the gate sockets" },
	{ "max_gates", CONF_INT, 0, "64", "gates attached at most" },
	{ "max_remote_routes", CONF_INT, 0, "100000",
	  "routes accepted from one peer at most" },
	{ "max_origin_routes", CONF_INT, 0, "10000",
	  "routes of one origin accepted from one peer at most" },
	{ "require_grants", CONF_BOOL, 0, "no",
	  "a certificate without grants may announce nothing" },
	{ "route_max_dist", CONF_INT, 0, "64",
	  "hops a route may travel at most" },
	{ "default_ttl", CONF_INT, 0, "64", "hops a packet may travel at most" },
	{ "status-file", CONF_STR, 0, NULL,
	  "write a status snapshot here (atomically)" },
	{ "status-interval", CONF_DUR, 0, "5s", "how often to write it" },
	{ "control", CONF_ADDR, 0, NULL,
	  "UNIX socket (mode 0600) where cloudctl -s reads the same snapshot" },
	{ "user", CONF_STR, 0, NULL, "drop privileges to this user" },
	{ "group", CONF_STR, 0, NULL, "drop privileges to this group" },
	{ "chroot", CONF_STR, 0, NULL, "chroot here after opening sockets" },
	{ "loglevel", CONF_INT, 0, "2", "0 errors, 1 warnings, 2 info, 3 debug" },
	{ "syslog", CONF_BOOL, 0, "no", "also log to syslog" },
	{ NULL, 0, 0, NULL, NULL }
};

static int check_range(const struct conf *conf, const char *name,
		       long long lo, long long hi)
{
	const struct conf_val *v = conf_last(conf, name);
	char where[512];

	if (v->v.i >= lo && v->v.i <= hi)
		return 0;
	fprintf(stderr, "%sout of range (%lld..%lld): \"%s\"\n",
		conf_where(v, name, where, sizeof(where)), lo, hi, v->raw);
	return -1;
}

static int check_conf(const struct conf *conf)
{
	return check_range(conf, "max_connections", 1, 65536) |
	       check_range(conf, "max_handshakes_per_source", 1, 65536) |
	       check_range(conf, "accept_rate", 1, 1000000) |
	       check_range(conf, "accept_rate_per_source", 1, 1000000) |
	       check_range(conf, "max_links_per_node", 1, 65536) |
	       check_range(conf, "max_gates", 1, 4096) |
	       check_range(conf, "max_remote_routes", 0, 1000000) |
	       check_range(conf, "max_origin_routes", 0, 1000000) |
	       check_range(conf, "route_max_dist", 1, 255) |
	       check_range(conf, "default_ttl", 1, 255) |
	       check_range(conf, "udp_mtu", 0, 65507) |
	       check_range(conf, "loglevel", 0, 3);
}

/* Sockets are open: now chroot and drop to user/group. */
static int drop_privileges(const struct conf *conf)
{
	const struct conf_val *u = conf_last(conf, "user");
	const struct conf_val *g = conf_last(conf, "group");
	const struct conf_val *r = conf_last(conf, "chroot");
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	char where[512];

	if (u && !(pw = getpwnam(u->raw)))
		return log_warnx("user: unknown user \"%s\"", u->raw), -1;
	if (g && !(gr = getgrnam(g->raw)))
		return log_warnx("group: unknown group \"%s\"", g->raw), -1;
	if (r && (chroot(r->raw) < 0 || chdir("/") < 0))
		return log_warn("chroot: \"%s\"", r->raw), -1;
	/* root can leave a chroot: alone it confines nothing */
	if (r && !pw)
		log_warnx("%s\"%s\" without user: the daemon stays root "
			  "inside it", conf_where(r, "chroot", where,
						  sizeof(where)), r->raw);
	if ((gr || pw) && setgroups(0, NULL) < 0)
		return log_warn("setgroups"), -1;
	if (gr && setgid(gr->gr_gid) < 0)
		return log_warn("group: setgid %s", g->raw), -1;
	if (!gr && pw && setgid(pw->pw_gid) < 0)
		return log_warn("user: setgid"), -1;
	if (pw && setuid(pw->pw_uid) < 0)
		return log_warn("user: setuid %s", u->raw), -1;
	return 0;
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	int closed;

	(void)revents;
	if (w->signum == SIGHUP) {
		closed = links_reload(w->data);
		if (closed >= 0)
			log_info("SIGHUP: CAs and CRLs reloaded, %d links closed",
				 closed);
		return;
	}
	log_info("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static int cloud_start(struct cloud *c)
{
	struct route_conf rc;
	struct route_ops ops;

	c->default_ttl = (uint8_t)conf_int(c->conf, "default_ttl");
	if (links_init(c) < 0)
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.max_remote_routes = (uint32_t)conf_int(c->conf, "max_remote_routes");
	rc.max_origin_routes = (uint32_t)conf_int(c->conf, "max_origin_routes");
	rc.max_hops = (uint8_t)conf_int(c->conf, "route_max_dist");
	rc.hop_cost = HOP_COST;
	if (getrandom(rc.hash_key, sizeof(rc.hash_key), 0) !=
	    sizeof(rc.hash_key))
		return log_warn("getrandom"), -1;
	if (!(c->origins = origins_new(c)))
		return -1;
	rframe_ops(c, &ops);
	if (!(c->rt = route_new(&c->self, &rc, &ops)) ||
	    !(c->fwd = fwd_new()))
		return log_warnx("out of memory"), -1;
	if (gate_init(c) < 0 || status_init(c) < 0)
		return -1;
	return drop_privileges(c->conf);
}

static void cloud_stop(struct cloud *c)
{
	status_shutdown(c);
	links_shutdown(c);
	gate_shutdown(c);
	route_free(c->rt);
	ev_timer_stop(c->loop, &c->route_tick);
	origins_free(c->origins);
	fwd_free(c->fwd);
}

int main(int argc, char **argv)
{
	struct cloud c = { 0 };
	ev_signal sig[3];
	int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	int i, ret;

	if (!(c.conf = conf_new(cloud_opts, "cloud")))
		return 1;
	ret = conf_args(c.conf, argc, argv);
	if (ret != 0 || check_conf(c.conf)) {
		conf_free(c.conf);
		return ret == 1 ? 0 : 1;
	}
	log_init("cloud", (int)conf_int(c.conf, "loglevel"),
		 (int)conf_int(c.conf, "syslog"));
	signal(SIGPIPE, SIG_IGN);
	c.loop = ev_default_loop(EVFLAG_AUTO);
	c.start_ns = now_ns();
	ret = cloud_start(&c);
	if (ret == 0) {
		for (i = 0; i < 3; i++) {
			ev_signal_init(&sig[i], signal_cb, sigs[i]);
			sig[i].data = &c;
			ev_signal_start(c.loop, &sig[i]);
		}
		log_info("node %s started", c.name);
		ev_run(c.loop, 0);
		for (i = 0; i < 3; i++)
			ev_signal_stop(c.loop, &sig[i]);
	}
	cloud_stop(&c);
	ev_loop_destroy(c.loop);
	conf_free(c.conf);
	return ret == 0 ? 0 : 1;
}
