/*
 * stunproxy: a gate that sets up direct UDP links between nodes behind
 * NAT. It finds other nodes' stunproxies through the mesh (or a
 * rendezvous server), agrees on candidates and a probe key with them,
 * punches through both NATs from one UDP socket, and hands a connected
 * copy of that socket to its `cloud`, which runs a DTLS link on it.
 * This file: options, the gate, the punching socket and the poll loop.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cloudgate.h"
#include "conf.h"
#include "gateproto.h"
#include "log.h"
#include "mono.h"
#include "proc.h"
#include "sig.h"
#include "sp.h"

static const struct conf_opt sp_opts[] = {
	{ "gate", CONF_ADDR, 0, NULL,
	  "UNIX path of the cloud daemon's gate socket (required but with -serve)" },
	{ "peer", CONF_STR, CONF_LIST, NULL,
	  "a node to link to directly, by its certificate name (repeatable)" },
	{ "auto", CONF_BOOL, 0, "no",
	  "link directly to every node whose stunproxy answers" },
	{ "max_peers", CONF_INT, 0, "32",
	  "most nodes to keep sessions with (1..1024)" },
	{ "stun", CONF_ADDR, CONF_LIST, NULL,
	  "STUN server \"host port\" (repeatable; two tell the NAT's kind)" },
	{ "stun_listen", CONF_ADDR, CONF_LIST, NULL,
	  "answer STUN Binding requests on \"host port\" (repeatable)" },
	{ "port", CONF_INT, 0, "0",
	  "local UDP port to punch from (0: any)" },
	{ "open_ttl", CONF_INT, 0, "2",
	  "TTL that opens our own NAT and dies before the far one (1..32)" },
	{ "rendezvous", CONF_ADDR, 0, NULL,
	  "meet nodes at a `stunproxy -serve` server \"host port\"" },
	{ "key", CONF_STR, 0, NULL,
	  "the rendezvous secret shared by the nodes that meet there" },
	{ "serve", CONF_ADDR, 0, NULL,
	  "run a rendezvous server and STUN responder on \"host port\"" },
	{ "user", CONF_STR, 0, NULL, "user to switch to once sockets are open" },
	{ "group", CONF_STR, 0, NULL, "group to switch to" },
	{ "loglevel", CONF_INT, 0, "2", "0 errors, 1 warnings, 2 info, 3 debug" },
	{ NULL, CONF_STR, 0, NULL, NULL },
};

const char *sp_fmt(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

	if (sa->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(v6->sin6_port));
	} else {
		inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(v4->sin_port));
	}
	return buf;
}

int sp_same_addr(const struct sockaddr_storage *a,
		 const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, 16);
}

/* ---- configuration ------------------------------------------------------- */

/* Resolve the i-th value of an address option to one IPv4 address. */
int sp_resolve(const struct sp *sp, const char *name, size_t i,
	       struct sockaddr_storage *out)
{
	const struct conf_val *v = conf_get(sp->conf, name, i);
	const struct conf_addr *a = &v->v.addr;
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_PASSIVE }, *res;
	const char *host = a->host;
	int err;

	if (a->is_unix)
		return conf_fail(sp->conf, v, name,
				 "needs \"host port\", not a path");
	if (!host[0] || !strcmp(host, "*"))
		host = NULL;
	if ((err = getaddrinfo(host, a->port, &hints, &res)))
		return conf_fail(sp->conf, v, name,
				 "cannot resolve \"%s %s\": %s", a->host,
				 a->port, gai_strerror(err));
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int sp_conf(struct sp *sp)
{
	const struct conf_val *v;
	long long x;
	size_t i;

	if (conf_last(sp->conf, "serve") == NULL &&
	    (sp->gate_path = conf_gate(sp->conf)) == NULL)
		return -1;
	if (conf_range(sp->conf, "max_peers", 1, 1024, &x) < 0)
		return -1;
	sp->max_peers = (size_t)x;
	if (conf_range(sp->conf, "port", 0, 65535, &x) < 0 ||
	    conf_range(sp->conf, "open_ttl", 1, 32, &x) < 0)
		return -1;
	sp->autoconn = (int)conf_int(sp->conf, "auto");
	/* Meeting at a rendezvous with no -peer: everyone of the group. */
	if (conf_last(sp->conf, "rendezvous") && !conf_count(sp->conf, "peer"))
		sp->autoconn = 1;
	if (conf_count(sp->conf, "stun") > SP_STUN_MAX)
		return conf_fail(sp->conf, NULL, "stun",
				 "at most %d STUN servers", SP_STUN_MAX);
	if (conf_count(sp->conf, "stun_listen") > SP_LISTEN_MAX)
		return conf_fail(sp->conf, NULL, "stun_listen",
				 "at most %d addresses", SP_LISTEN_MAX);
	if ((conf_last(sp->conf, "rendezvous") != NULL) !=
	    (conf_last(sp->conf, "key") != NULL))
		return conf_fail(sp->conf, NULL, "rendezvous",
				 "needs -key, and -key needs -rendezvous");
	for (i = 0; i < conf_count(sp->conf, "peer"); i++) {
		v = conf_get(sp->conf, "peer", i);
		if (!gp_name_valid(v->raw, strlen(v->raw)))
			return conf_fail(sp->conf, v, "peer", "not a node "
					 "name (printable, no spaces, at most "
					 "64 bytes)");
	}
	return proc_ids(sp->conf, &sp->ids);
}

/* ---- the gate ------------------------------------------------------------ */

void sp_mesh_send(struct sp *sp, const uint8_t *dst, const uint8_t *msg,
		  size_t len)
{
	struct cg_packet p = {
		.instance = SP_INSTANCE, .dlen = dst ? SP_ADDR_LEN : 0,
		.slen = SP_ADDR_LEN, .dst = dst, .src = sp->addr,
		.data = msg, .len = len,
	};

	if (!sp->connected)
		return;
	if (cg_send(sp->gate, &p) < 0 && errno != EAGAIN)
		return;		/* the daemon is gone: cg_run sees to it */
	cg_flush(sp->gate);
}

static void on_link(void *arg, const struct cg_link_event *ev)
{
	punch_link(arg, ev->id, ev->up, ev->why);
}

static int gate_announce(struct sp *sp)
{
	struct cg_addr a = { .instance = SP_INSTANCE, .len = SP_ADDR_LEN,
			     .plen = SP_ADDR_LEN * 8 };

	memcpy(a.bytes, sp->addr, SP_ADDR_LEN);
	return cg_announce(sp->gate, &a, 1);
}

/* The daemon went (its links with it), or came back: sessions that were
 * handing over start again, and the mesh hears we are here. */
static void on_attached(void *arg, int up)
{
	struct sp *sp = arg;

	sp->connected = up;
	if (!up) {
		log_warnx("gate %s: connection lost; retrying every second",
			  sp->gate_path);
		return;
	}
	if (memcmp(cg_node_id(sp->gate), sp->id, SP_ID))
		log_warnx("gate %s: the daemon's node ID changed", sp->gate_path);
	memcpy(sp->id, cg_node_id(sp->gate), SP_ID);
	log_info("gate %s: reconnected", sp->gate_path);
	punch_gate_back(sp);
	punch_here(sp, NULL, SP_F_REPLY);
}

static void on_packet(void *arg, const struct cg_packet *p)
{
	struct sp *sp = arg;
	struct sp_sig s;

	if (p->instance != SP_INSTANCE)
		return;
	if (sp_sig_decode(p->data, p->len, &s) < 0) {
		log_debug("mesh: malformed signalling message (%zu bytes)",
			  p->len);
		return;
	}
	if (!memcmp(s.id, sp->id, SP_ID))
		return;		/* our own broadcast */
	punch_signal(sp, &s);
}

static int gate_open(struct sp *sp)
{
	const struct cg_handlers h = { .packet = on_packet, .link = on_link,
				       .attached = on_attached };
	char err[256], where[512];

	sp->gate = cg_start(sp->gate_path, "stunproxy", &h, sp, err,
			    sizeof(err));
	if (sp->gate == NULL) {
		log_errorx("%s%s", conf_where(conf_last(sp->conf, "gate"),
					      "gate", where, sizeof(where)),
			   err);
		return -1;
	}
	snprintf(sp->name, sizeof(sp->name), "%s", cg_node_name(sp->gate));
	memcpy(sp->id, cg_node_id(sp->gate), SP_ID);
	sp_addr_of(sp->name, sp->addr);
	if (gate_announce(sp) < 0) {
		log_error("gate %s: announce", sp->gate_path);
		return -1;
	}
	sp->connected = 1;
	return 0;
}

/* ---- the punching socket ------------------------------------------------- */

void sp_sendto(struct sp *sp, const uint8_t *buf, size_t len,
	       const struct sockaddr_storage *to, int ttl)
{
	int def = 64;
	socklen_t sl = to->ss_family == AF_INET6 ?
		       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (to->ss_family != AF_INET)
		return;		/* the punching socket is IPv4 */
	if (ttl > 0)
		setsockopt(sp->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	if (sendto(sp->fd, buf, len, 0, (const struct sockaddr *)to, sl) < 0)
		log_debug("sendto: %s", strerror(errno));
	if (ttl > 0)
		setsockopt(sp->fd, IPPROTO_IP, IP_TTL, &def, sizeof(def));
}

static int punch_socket(struct sp *sp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)conf_int(sp->conf, "port")) };
	socklen_t sl = sizeof(sin);
	char where[512];
	int one = 1;

	sp->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sp->fd < 0) {
		log_error("socket");
		return -1;
	}
	/* The sockets handed to cloud share this port (same NAT mapping);
	 * being connected, they take their peer's datagrams from us. */
	setsockopt(sp->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(sp->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(sp->fd, (struct sockaddr *)&sin, &sl) < 0) {
		log_error("%scannot bind UDP port %u",
			  conf_where(conf_last(sp->conf, "port"), "port", where,
				     sizeof(where)), ntohs(sin.sin_port));
		return -1;
	}
	sp->port = ntohs(sin.sin_port);
	return 0;
}

static void punch_read(struct sp *sp)
{
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	int i;

	for (i = 0; i < 256; i++) {
		fl = sizeof(from);
		n = recvfrom(sp->fd, sp->buf, sizeof(sp->buf), 0,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (stun_is_stun(sp->buf, (size_t)n)) {
			cand_input(sp, sp->buf, (size_t)n, &from);
			continue;
		}
		if (sp_rv_is(sp->buf, (size_t)n) &&
		    rdv_input(sp, sp->buf, (size_t)n, &from))
			continue;
		punch_input(sp, sp->buf, (size_t)n, &from);
	}
}

/* ---- the loop ------------------------------------------------------------ */

static void timers(struct sp *sp, uint64_t now)
{
	if (sp->gate == NULL) {
		serve_tick(sp->serve, now);
		return;
	}
	if (sp->connected && now >= sp->next_here) {
		sp->next_here = now + SP_HERE_MS;
		punch_here(sp, NULL, SP_F_REPLY);
	}
	cand_tick(sp, now);
	rdv_tick(sp, now);
	punch_tick(sp, now);
	serve_tick(sp->serve, now);
}

static size_t loop_fds(struct sp *sp, struct pollfd *pfd, size_t max)
{
	int fds[SP_LISTEN_MAX + 1];
	size_t n = 0, i, k;

	pfd[n++] = (struct pollfd){ .fd = sp->sigfd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = sp->fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = -1 };
	if (sp->gate != NULL) {
		pfd[2].fd = cg_poll_fd(sp->gate);
		pfd[2].events = cg_poll_events(sp->gate);
	}
	k = serve_fds(sp->serve, fds, SP_LISTEN_MAX + 1);
	for (i = 0; i < k && n < max; i++)
		pfd[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	return n;
}

static int sp_loop(struct sp *sp)
{
	struct pollfd pfd[SP_LISTEN_MAX + 4];
	size_t n, i;
	int wait;

	for (;;) {
		n = loop_fds(sp, pfd, sizeof(pfd) / sizeof(pfd[0]));
		wait = sp->gate != NULL ? cg_poll_timeout(sp->gate) : SP_TICK_MS;
		if (poll(pfd, n, wait < SP_TICK_MS ? wait : SP_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		if ((pfd[0].revents & POLLIN) && sig_quit(sp->sigfd))
			return 0;
		if (pfd[1].revents & POLLIN)
			punch_read(sp);
		if (sp->gate != NULL)
			cg_run(sp->gate, pfd[2].revents, 256);
		for (i = 3; i < n; i++)
			if (pfd[i].revents & POLLIN)
				serve_input(sp->serve, pfd[i].fd);
		timers(sp, mono_ms());
	}
}

/* ---- setup --------------------------------------------------------------- */

static int sp_start(struct sp *sp)
{
	size_t i;

	if (sp_conf(sp) < 0 || (sp->sigfd = sig_open()) < 0)
		return -1;
	if (conf_count(sp->conf, "stun_listen") > 0 ||
	    conf_last(sp->conf, "serve") != NULL)
		if ((sp->serve = serve_new(sp)) == NULL)
			return -1;
	if (sp->gate_path == NULL)
		return proc_drop(&sp->ids, 0);	/* -serve only */
	if (punch_socket(sp) < 0 || gate_open(sp) < 0 || cand_start(sp) < 0)
		return -1;
	if (conf_last(sp->conf, "rendezvous") && !(sp->rdv = rdv_new(sp)))
		return -1;
	for (i = 0; i < conf_count(sp->conf, "peer"); i++)
		if (!peer_add(sp, conf_get(sp->conf, "peer", i)->raw, 1))
			return -1;
	log_info("node %s: punching from UDP port %u, %zu peer(s)%s",
		 sp->name, sp->port, sp->npeers,
		 sp->autoconn ? ", and every stunproxy that answers" : "");
	return proc_drop(&sp->ids, 0);
}

static void sp_stop(struct sp *sp)
{
	peer_free_all(sp);
	rdv_free(sp->rdv);
	serve_free(sp->serve);
	cand_free(sp);
	if (sp->gate != NULL)
		cg_close(sp->gate);
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->sigfd >= 0)
		close(sp->sigfd);
	conf_free(sp->conf);
}

int main(int argc, char **argv)
{
	struct sp sp = { .fd = -1, .sigfd = -1 };
	long long lvl;
	int r;

	log_init("stunproxy", LOG_LVL_INFO, 0);
	if ((sp.conf = conf_new(sp_opts, "stunproxy")) == NULL)
		fatal("conf");
	r = conf_args(sp.conf, argc, argv);
	if (r != 0 || conf_range(sp.conf, "loglevel", 0, 3, &lvl) < 0) {
		if (r <= 0)
			log_errorx("bad configuration; exiting");
		conf_free(sp.conf);
		return r > 0 ? 0 : 1;
	}
	log_init("stunproxy", (int)lvl, 0);
	if (sp_start(&sp) < 0) {
		sp_stop(&sp);
		log_errorx("start-up failed; exiting");
		return 1;
	}
	r = sp_loop(&sp);
	sp_stop(&sp);
	return r < 0 ? 1 : 0;
}
