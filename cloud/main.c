/* cloud: the cloudvpn daemon. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dlfcn.h>
#include <sys/random.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "cloud.h"
#include "conf.h"
#include "fwd.h"
#include "gate.h"
#include "limit.h"
#include "link.h"
#include "log.h"
#include "mesh.h"
#include "metrics.h"
#include "origin.h"
#include "reload.h"
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
	{ "listen_backlog", CONF_INT, 0, "128",
	  "connections waiting to be accepted, per listening socket" },
	{ "tcp_nodelay", CONF_BOOL, 0, "yes",
	  "send each batch of TLS records at once on TCP links (TCP_NODELAY)" },
	{ "ip_tos", CONF_INT, 0, "0",
	  "IPv4 TOS / IPv6 traffic class of link packets (0: the system's)" },
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
	{ "max_waiting_data_size", CONF_INT, 0, "786432",
	  "bytes of packets a link queues for sending; more are dropped" },
	{ "report_ping_changes_above", CONF_DUR, 0, "0",
	  "re-announce routes only when a link's RTT moved more than this" },
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
	{ "route_hop_penalization", CONF_INT, 0, "0",
	  "percent added to the 1 ms every hop adds to a route's cost" },
	{ "status-file", CONF_STR, 0, NULL,
	  "write a status snapshot here (atomically)" },
	{ "status-interval", CONF_DUR, 0, "5s", "how often to write it" },
	{ "control", CONF_ADDR, 0, NULL,
	  "UNIX socket (mode 0600) where cloudctl -s reads the same snapshot" },
	{ "metrics", CONF_ADDR, 0, NULL,
	  "serve Prometheus metrics on HOST PORT: GET /metrics" },
	{ "user", CONF_STR, 0, NULL, "drop privileges to this user" },
	{ "group", CONF_STR, 0, NULL, "drop privileges to this group" },
	{ "chroot", CONF_STR, 0, NULL, "chroot here after opening sockets" },
	{ "loglevel", CONF_INT, 0, "2", "0 errors, 1 warnings, 2 info, 3 debug" },
	{ "syslog", CONF_BOOL, 0, "no", "also log to syslog" },
	{ "mlockall", CONF_BOOL, 0, "no",
	  "lock all the daemon's memory (keys too) in RAM, never swapped" },
	{ "tls_loglevel", CONF_INT, 0, "0",
	  "GnuTLS debug log level (0..99), logged at loglevel 3" },
	/* classic options with nothing to do here: the help says why */
	{ "heartbeat", CONF_STR, CONF_COMPAT, NULL,
	  "timers are events of the loop; there is no periodic tick" },
	{ "poll_interval", CONF_STR, CONF_COMPAT, NULL,
	  "the loop sleeps until an event; it does not poll" },
	{ "comm_close_timeout", CONF_STR, CONF_COMPAT, NULL,
	  "a link closes at once: its close_notify waits for no reply" },
	{ "conn-mtu", CONF_STR, CONF_COMPAT, NULL,
	  "TCP links carry every packet; UDP links size theirs by udp_mtu" },
	{ "max_input_queue_size", CONF_STR, CONF_COMPAT, NULL,
	  "a link reads one frame at a time into a buffer of one frame" },
	{ "packet_id_cache_size", CONF_STR, CONF_COMPAT, NULL,
	  "broadcast copies are caught by windows of sequence numbers" },
	{ "packet_id_cache_time", CONF_STR, CONF_COMPAT, NULL,
	  "broadcast copies are caught by windows of sequence numbers" },
	{ "status-verbose", CONF_INT, 0, "1",
	  "0: route lines are left out of the status snapshot; 1: all" },
	{ "shared_uplink", CONF_STR, CONF_COMPAT, NULL,
	  "broadcasts go on every link; copies are dropped where they meet" },
	{ "multipath", CONF_BOOL, 0, "no",
	  "spread traffic over every loop-free path near the best" },
	{ "multipath_ratio", CONF_STR, 0, "2",
	  "paths of up to this many times the best metric are used (1-100)" },
	{ "multipath_mode", CONF_STR, 0, "flow",
	  "flow: one flow keeps to one path; packet: packet by packet" },
	{ "uplimit-total", CONF_STR, 0, "0",
	  "data all links send, bytes/s or e.g. 10Mbit, 2MB (0: no limit)" },
	{ "uplimit-conn", CONF_STR, 0, "0",
	  "data one link sends, bytes/s or e.g. 10Mbit, 2MB (0: no limit)" },
	{ "uplimit-burst", CONF_STR, 0, "0",
	  "bytes sent at once after idle (0: 1/20 s of rate, 64 KiB least)" },
	{ "downlimit-total", CONF_STR, 0, "0",
	  "bytes all links read, bytes/s or e.g. 10Mbit (0: no limit)" },
	{ "downlimit-conn", CONF_STR, 0, "0",
	  "bytes one link reads, bytes/s or e.g. 10Mbit (0: no limit)" },
	{ "downlimit-burst", CONF_STR, 0, "0",
	  "bytes read at once after idle (0: 1/4 s of rate, 1 MiB least)" },
	{ "red-ratio", CONF_INT, 0, "50",
	  "percent of max_waiting_data_size where early drop starts" },
	{ NULL, 0, 0, NULL, NULL }
};

static int check_range(const struct conf *conf, const char *name,
		       long long lo, long long hi)
{
	const struct conf_val *v = conf_last(conf, name);
	char where[512];

	if (v->v.i >= lo && v->v.i <= hi)
		return 0;
	log_errorx("%sout of range (%lld..%lld): \"%s\"",
		   conf_where(v, name, where, sizeof(where)), lo, hi, v->raw);
	return -1;
}

static int check_dur(const struct conf *conf, const char *name,
		     uint64_t max_us)
{
	if (conf_us(conf, name) <= max_us)
		return 0;
	return conf_fail(conf, NULL, name, "at most %llu s",
			 (unsigned long long)(max_us / 1000000));
}

/* multipath, multipath_ratio, multipath_mode: the route table's ratio in
 * percent (0: off) and the forwarding mode; -1 after naming the option. */
static int multipath_conf(const struct conf *conf, uint32_t *pct,
			  enum fwd_mp *mode)
{
	const char *r = conf_str(conf, "multipath_ratio");
	const char *m = conf_str(conf, "multipath_mode");
	char *end;
	double x;

	errno = 0;
	x = strtod(r, &end);
	if (errno || end == r || *end || !(x >= 1 && x <= 100))
		return conf_fail(conf, NULL, "multipath_ratio", "expected a "
				 "number from 1 to 100, got \"%s\"", r);
	if (strcmp(m, "flow") && strcmp(m, "packet"))
		return conf_fail(conf, NULL, "multipath_mode", "expected flow "
				 "or packet, got \"%s\"", m);
	*pct = conf_int(conf, "multipath") ? (uint32_t)(x * 100 + 0.5) : 0;
	*mode = !*pct ? FWD_MP_OFF
		: strcmp(m, "packet") ? FWD_MP_FLOW : FWD_MP_PACKET;
	return 0;
}

static int check_multipath(const struct conf *conf)
{
	enum fwd_mp mode;
	uint32_t pct;

	return multipath_conf(conf, &pct, &mode);
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
	       check_range(conf, "loglevel", 0, 3) |
	       check_range(conf, "status-verbose", 0, 9) |
	       check_range(conf, "listen_backlog", 1, 65535) |
	       check_range(conf, "ip_tos", 0, 255) |
	       check_range(conf, "max_waiting_data_size", 65536, 1 << 30) |
	       check_range(conf, "route_hop_penalization", 0, 10000) |
	       check_range(conf, "tls_loglevel", 0, 99) |
	       check_dur(conf, "report_ping_changes_above", 60000000) |
	       check_range(conf, "red-ratio", 0, 100) |
	       lim_check_conf(conf) |
	       metrics_check_conf(conf) |
	       check_multipath(conf);
}

static void tls_log(int level, const char *msg)
{
	size_t n = strlen(msg);

	if (n > 0 && msg[n - 1] == '\n')
		n--;
	log_debug("gnutls %d: %.*s", level, (int)n, msg);
}

/* Before privileges go: locking memory needs them. */
static int cloud_mem_tls(const struct conf *conf)
{
	int lvl = (int)conf_int(conf, "tls_loglevel");
	char where[512];

	if (lvl > 0) {
		gnutls_global_set_log_function(tls_log);
		gnutls_global_set_log_level(lvl);
		if (log_level() < LOG_LVL_DEBUG)
			log_warnx("%sGnuTLS's messages show only with "
				  "loglevel 3", conf_where(conf_last(conf,
				  "tls_loglevel"), "tls_loglevel", where,
				  sizeof(where)));
	}
	if (conf_int(conf, "mlockall") && mlockall(MCL_CURRENT | MCL_FUTURE))
		return conf_fail(conf, NULL, "mlockall", "cannot lock memory: "
				 "%s (it needs root or CAP_IPC_LOCK, or a "
				 "memlock limit (ulimit -l) above the daemon's "
				 "size)", strerror(errno));
	return 0;
}

/* Sockets are open: now chroot and drop to user/group. */
static int drop_privileges(const struct conf *conf)
{
	const struct conf_val *u = conf_last(conf, "user");
	const struct conf_val *g = conf_last(conf, "group");
	const struct conf_val *r = conf_last(conf, "chroot");
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	char wu[512], wg[512], wr[512];

	conf_where(u, "user", wu, sizeof(wu));
	conf_where(g, "group", wg, sizeof(wg));
	conf_where(r, "chroot", wr, sizeof(wr));
	if (u && !(pw = getpwnam(u->raw)))
		return log_errorx("%sno such user \"%s\"", wu, u->raw), -1;
	if (g && !(gr = getgrnam(g->raw)))
		return log_errorx("%sno such group \"%s\"", wg, g->raw), -1;
	if (r && (chroot(r->raw) < 0 || chdir("/") < 0))
		return log_error("%scannot chroot to \"%s\"", wr, r->raw), -1;
	/* root can leave a chroot: alone it confines nothing */
	if (r && !pw)
		log_warnx("%s\"%s\" without user: the daemon stays root "
			  "inside it", wr, r->raw);
	if ((gr || pw) && setgroups(0, NULL) < 0)
		return log_error("%scannot drop supplementary groups",
				 pw ? wu : wg), -1;
	if (gr && setgid(gr->gr_gid) < 0)
		return log_error("%ssetgid %s", wg, g->raw), -1;
	if (!gr && pw && setgid(pw->pw_gid) < 0)
		return log_error("%ssetgid to the group of %s", wu, u->raw), -1;
	if (pw && setuid(pw->pw_uid) < 0)
		return log_error("%ssetuid %s", wu, u->raw), -1;
	return 0;
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (w->signum == SIGHUP) {
		reload_run(w->data, NULL, "SIGHUP");
		return;
	}
	log_info("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* systemd's Type=notify (cloud@.service): libsystemd's sd_notify, loaded
 * only when systemd asks ($NOTIFY_SOCKET), and before any chroot. A daemon
 * outside systemd does not map libsystemd and the libraries it pulls in:
 * 960 kB of RSS, an eighth of a daemon's at 100 nodes. Nothing without
 * libsystemd (--without-systemd). */
static void notify_load(struct cloud *c)
{
#ifdef HAVE_SYSTEMD
	if (!getenv("NOTIFY_SOCKET"))
		return;
	if (!(c->libsystemd = dlopen("libsystemd.so.0", RTLD_NOW)) ||
	    !(*(void **)&c->sd_notify = dlsym(c->libsystemd, "sd_notify")))
		log_warnx("NOTIFY_SOCKET is set, but sd_notify cannot be "
			  "loaded: %s", dlerror());
#else
	(void)c;
#endif
}

/* $NOTIFY_SOCKET is a path: after chroot it is gone, so READY=1 goes
 * before privileges are dropped. */
static void notify_systemd(struct cloud *c, const char *state)
{
	int r;

	if (c->sd_notify && (r = c->sd_notify(0, state)) < 0)
		log_debug("sd_notify %s: %s", state, strerror(-r));
}

static int cloud_start(struct cloud *c)
{
	struct route_conf rc;
	struct route_ops ops;
	enum fwd_mp mp;

	c->default_ttl = (uint8_t)conf_int(c->conf, "default_ttl");
	if (cloud_mem_tls(c->conf) < 0 || links_init(c) < 0)
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.max_remote_routes = (uint32_t)conf_int(c->conf, "max_remote_routes");
	rc.max_origin_routes = (uint32_t)conf_int(c->conf, "max_origin_routes");
	rc.max_hops = (uint8_t)conf_int(c->conf, "route_max_dist");
	/* classic: percent more per hop, here of the fixed hop cost */
	c->hop_cost = (uint32_t)(HOP_COST *
		(100 + conf_int(c->conf, "route_hop_penalization")) / 100);
	rc.hop_cost = c->hop_cost;
	if (multipath_conf(c->conf, &rc.mp_ratio_pct, &mp) < 0)
		return -1;
	if (getrandom(rc.hash_key, sizeof(rc.hash_key), 0) !=
	    sizeof(rc.hash_key) ||
	    getrandom(rc.chain_key, sizeof(rc.chain_key), 0) !=
	    sizeof(rc.chain_key))
		return log_warn("getrandom"), -1;
	if (!(c->origins = origins_new(c)))
		return -1;
	rframe_ops(c, &ops);
	if (!(c->rt = route_new(&c->self, &rc, &ops)) ||
	    !(c->fwd = fwd_new(mp)))
		return log_warnx("out of memory"), -1;
	if (mesh_init(c) < 0 || gate_init(c) < 0 || status_init(c) < 0)
		return -1;
	if (metrics_init(c) < 0)
		return -1;
	/* links listen and gates can attach */
	notify_systemd(c, "READY=1");
	if (drop_privileges(c->conf) < 0)
		return -1;
	return status_check(c);
}

static void cloud_stop(struct cloud *c)
{
	metrics_shutdown(c);
	status_shutdown(c);
	links_shutdown(c);
	mesh_free(c);
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
		if (ret != 1)
			log_errorx("bad configuration; exiting");
		conf_free(c.conf);
		return ret == 1 ? 0 : 1;
	}
	log_init("cloud", (int)conf_int(c.conf, "loglevel"),
		 (int)conf_int(c.conf, "syslog"));
	signal(SIGPIPE, SIG_IGN);
	notify_load(&c);
	c.loop = ev_default_loop(EVFLAG_AUTO);
	c.start_ns = now_ns();
	/* before start-up: systemd may send SIGTERM as soon as READY=1 */
	for (i = 0; i < 3; i++) {
		ev_signal_init(&sig[i], signal_cb, sigs[i]);
		sig[i].data = &c;
		ev_signal_start(c.loop, &sig[i]);
	}
	/* before the chroot: a reload reads the files again from there */
	ret = reload_init(&c, cloud_opts, check_conf, argc, argv);
	if (ret == 0)
		ret = cloud_start(&c);
	if (ret == 0) {
		log_info("node %s started", c.name);
		ev_run(c.loop, 0);
	}
	/* the watchers stay until the end: a second SIGTERM while we close
	 * everything must not kill us half way (it only marks the loop) */
	notify_systemd(&c, "STOPPING=1");
	cloud_stop(&c);
	reload_free(&c);
	for (i = 0; i < 3; i++)
		ev_signal_stop(c.loop, &sig[i]);
	if (ret != 0)
		log_errorx("start-up failed; exiting");
	ev_loop_destroy(c.loop);
	conf_free(c.conf);
	if (c.libsystemd)
		dlclose(c.libsystemd);
	return ret == 0 ? 0 : 1;
}
