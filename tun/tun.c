/*
 * tun: the IP gate. Bridges a TUN device to the cloud daemon.
 *
 *   [TUN] --IP--> tun --cg_send(dst IP, src IP, [eth | IP])--> cloud
 *   [TUN] <--IP-- tun <--strip, check, filter----------------- cloud
 *                 tun <--prefixes of the instance------------- cloud
 *                  '--> kernel routes through the TUN (protocol 77)
 *
 * Addresses on the mesh are IPv4 (4 bytes) and IPv6 (16 bytes) prefixes
 * of one instance: each iface_addr as a host, each route as given. Every
 * packet crosses the mesh behind a pseudo-Ethernet header (tunpkt.h), so
 * the daemon segments and checks offloaded ones as it does ether's.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cloudgate.h"
#include "conf.h"
#include "flow.h"
#include "gateproto.h"
#include "gso.h"
#include "log.h"
#include "mono.h"
#include "proc.h"
#include "sig.h"
#include "tap.h"
#include "troute.h"
#include "tunpkt.h"

#define TUN_PKT_MAX 65536	/* the largest IP packet, with TSO too */
#define TUN_HEAD (TAP_VNET_HDR + TUNPKT_ETH_LEN)	/* before a packet */
#define TUN_BATCH 256		/* packets per direction per loop turn */
#define TUN_SWEEP_MS 1000	/* a whole set of prefixes has come by then */
#define TUN_REPORT_MS 60000	/* drop counters, if they moved */

/* virtio_net_hdr (linux/virtio_net.h): u16 fields little-endian */
#define VNET_NEEDS_CSUM 0x01
#define VNET_HDR_LEN 2
#define VNET_CSUM_START 6

static const struct conf_opt tun_opts[] = {
	{ "gate", CONF_ADDR, 0, NULL,
	  "UNIX path of the cloud daemon's gate socket (required)" },
	{ "instance", CONF_INT, 0, "0",
	  "instance on the mesh; gates of other instances never meet" },
	{ "iface_addr", CONF_STR, CONF_LIST, NULL,
	  "IPv4 or IPv6 address/prefix of the TUN, announced as a host "
	  "(required, repeatable)" },
	{ "route", CONF_STR, CONF_LIST, NULL,
	  "a network behind this node, announced as is (repeatable)" },
	{ "allow_port", CONF_STR, CONF_LIST, NULL,
	  "PORT[/tcp|/udp]: from the mesh pass only ICMP and these ports "
	  "(repeatable)" },
	{ "iface_dev", CONF_STR, 0, "cvtun%d",
	  "TUN device name; %d lets the kernel number it" },
	{ "mtu", CONF_INT, 0, "1500", "MTU of the TUN (68..65535)" },
	{ "offload", CONF_BOOL, 0, "yes",
	  "TSO on the TUN (vnet header): TCP crosses in 64 KB segments" },
	{ "user", CONF_STR, 0, NULL,
	  "run as this user after setup, keeping CAP_NET_ADMIN for routes" },
	{ "group", CONF_STR, 0, NULL,
	  "run as this group after setup (default: the user's)" },
	{ "iface_up_cmd", CONF_STR, 0, NULL,
	  "/bin/sh -c this once the TUN is up, as root ($IFACE: the TUN)" },
	{ "iface_down_cmd", CONF_STR, 0, NULL,
	  "/bin/sh -c this at exit, routes gone, TUN not yet ($IFACE)" },
	{ "loglevel", CONF_INT, 0, "2",
	  "0 errors, 1 warnings, 2 info, 3 debug (routes, announcements)" },
	{ NULL, CONF_STR, 0, NULL, NULL },
};

struct tun_counts {
	unsigned long long filtered;	/* from the mesh, by the port filter */
	unsigned long long bad_mesh;	/* malformed, from the mesh */
	unsigned long long bad_tun;	/* malformed, from the TUN */
	unsigned long long unsent;	/* gate queue full or daemon gone */
	unsigned long long unwritten;	/* the TUN refused */
};

struct tun {
	uint8_t flow_key[SIPHASH_KEY_LEN];	/* flow hashes (multipath) */
	struct conf *conf;
	const char *gate_path;
	struct cloudgate *gate;
	int blocked;		/* the gate queue was full */
	int fd;
	unsigned flags;		/* TAP_* */
	int vnet;		/* TUN reads and writes carry a vnet header */
	char ifname[IFNAMSIZ];
	int sigfd;
	int cmd_up;		/* iface_up_cmd ran: iface_down_cmd will */
	struct proc_ids ids;	/* user and group to switch to */
	uint32_t inst;
	unsigned mtu;
	struct cg_addr *ann;
	size_t nann;
	struct troute *routes;
	uint64_t sweep_at;	/* ms; 0: no whole set pending */
	uint64_t next_report;
	unsigned retries_said;	/* failed reconnects last logged */
	struct tun_counts cnt, said;
	struct tunpkt_filter filter;
	uint8_t *buf;		/* TUN_HEAD + TUN_PKT_MAX */
};

/* ---- configuration ------------------------------------------------- */

static void ann_put(struct tun *t, const struct tap_ip *ip, unsigned plen)
{
	struct cg_addr *a = &t->ann[t->nann++];

	memset(a, 0, sizeof(*a));
	a->instance = t->inst;
	a->len = ip->family == AF_INET ? 4 : 16;
	a->plen = (uint16_t)plen;
	memcpy(a->bytes, ip->b, a->len);
}

/* Are bits of ip set past its prefix length? */
static int host_bits(const struct tap_ip *ip)
{
	unsigned len = ip->family == AF_INET ? 4 : 16, i;

	for (i = ip->plen; i < 8 * len; i++)
		if (ip->b[i / 8] & (0x80u >> (i % 8)))
			return 1;
	return 0;
}

/* Each iface_addr as a host, each route as a network: the announced set. */
static int conf_addrs(struct tun *t)
{
	size_t na = conf_count(t->conf, "iface_addr");
	size_t nr = conf_count(t->conf, "route"), i;
	const struct conf_val *v;
	struct tap_ip ip;

	if (na == 0)
		return conf_fail(t->conf, NULL, "iface_addr",
				 "required (at least one address of the TUN)");
	if (na + nr > GP_ANNOUNCE_MAX)
		return conf_fail(t->conf, NULL, "route",
				 "more than %d addresses and routes",
				 GP_ANNOUNCE_MAX);
	t->ann = calloc(na + nr, sizeof(*t->ann));
	if (t->ann == NULL)
		return conf_fail(t->conf, NULL, "route", "out of memory");
	for (i = 0; i < na; i++) {
		v = conf_get(t->conf, "iface_addr", i);
		if (tap_parse_ip(v->raw, &ip) < 0)
			return conf_fail(t->conf, v, "iface_addr",
					 "expected ADDRESS[/PREFIX], got "
					 "\"%s\"", v->raw);
		ann_put(t, &ip, ip.family == AF_INET ? 32 : 128);
	}
	for (i = 0; i < nr; i++) {
		v = conf_get(t->conf, "route", i);
		if (tap_parse_ip(v->raw, &ip) < 0)
			return conf_fail(t->conf, v, "route",
					 "expected NETWORK/PREFIX, got "
					 "\"%s\"", v->raw);
		if (host_bits(&ip))
			return conf_fail(t->conf, v, "route",
					 "\"%s\" has bits set past its prefix "
					 "length", v->raw);
		ann_put(t, &ip, ip.plen);
	}
	return 0;
}

static int conf_ports(struct tun *t)
{
	size_t n = conf_count(t->conf, "allow_port"), i;
	const struct conf_val *v;
	unsigned protos;
	uint16_t port;

	for (i = 0; i < n; i++) {
		v = conf_get(t->conf, "allow_port", i);
		if (tunpkt_port_parse(v->raw, &port, &protos) < 0)
			return conf_fail(t->conf, v, "allow_port",
					 "expected PORT[/tcp|/udp] with PORT "
					 "1..65535, got \"%s\"", v->raw);
		tunpkt_filter_add(&t->filter, port, protos);
	}
	return 0;
}

/* Checked now, user and group too, so a typo fails before the TUN exists. */
static int tun_conf(struct tun *t)
{
	long long x;

	if ((t->gate_path = conf_gate(t->conf)) == NULL)
		return -1;
	if (conf_range(t->conf, "instance", 0, UINT32_MAX, &x) < 0)
		return -1;
	t->inst = (uint32_t)x;
	if (conf_range(t->conf, "mtu", 68, 65535, &x) < 0)
		return -1;
	t->mtu = (unsigned)x;
	if (strlen(conf_str(t->conf, "iface_dev")) >= IFNAMSIZ)
		return conf_fail(t->conf, NULL, "iface_dev",
				 "longer than %d bytes", IFNAMSIZ - 1);
	t->flags = TAP_TUN;
	if (conf_int(t->conf, "offload"))
		t->flags |= TAP_OFFLOAD;
	if (conf_addrs(t) < 0 || conf_ports(t) < 0)
		return -1;
	return proc_ids(t->conf, &t->ids);
}

/* ---- commands and privileges ---------------------------------------- */

/* ---- the vnet header ------------------------------------------------ */

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static void set_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Does this vnet header leave work to do (segments, a checksum)? */
static int vnet_work(const uint8_t *h)
{
	return (h[0] & VNET_NEEDS_CSUM) || h[1] != 0;
}

/* Its offsets count from the IP header on the TUN, from the Ethernet
 * header on the mesh: move them by delta. -1 if the checksum would start
 * before the packet. */
static int vnet_shift(uint8_t *h, int delta)
{
	int hl = (int)le16(h + VNET_HDR_LEN) + delta;
	int cs = (int)le16(h + VNET_CSUM_START) + delta;

	if ((h[0] & VNET_NEEDS_CSUM) && cs < 0)
		return -1;
	set_le16(h + VNET_HDR_LEN, (unsigned)(hl < 0 ? 0 : hl));
	set_le16(h + VNET_CSUM_START, (unsigned)(cs < 0 ? 0 : cs));
	return 0;
}

/* ---- from the mesh -------------------------------------------------- */

static void tun_write(struct tun *t, uint8_t *vnet, const uint8_t *ip,
		      size_t len)
{
	uint8_t none[TAP_VNET_HDR] = { 0 };
	struct iovec iov[2] = {
		{ vnet ? vnet : none, TAP_VNET_HDR },
		{ (void *)ip, len },
	};
	int skip = !t->vnet;

	if (writev(t->fd, iov + skip, 2 - skip) < 0) {
		if (errno != EAGAIN && errno != ENOBUFS && errno != EIO)
			log_debug("TUN %s: write: %s", t->ifname,
				  strerror(errno));
		t->cnt.unwritten++;
	}
}

/* A packet from the mesh: [vnet header] pseudo-Ethernet header, IP. */
static void on_packet(void *arg, const struct cg_packet *p)
{
	struct tun *t = arg;
	size_t hl = p->flags & CG_PKT_OFFLOAD ? TAP_VNET_HDR : 0;
	uint8_t vnet[TAP_VNET_HDR];
	const uint8_t *ip;
	struct tunpkt pk;

	/* the vnet header is a peer's choice: checked (lib/gso.h) in its
	 * mesh form, counted from the pseudo-Ethernet header */
	if (p->instance != t->inst || (hl && !t->vnet) || p->len < hl ||
	    (hl && gso_check(p->data, p->len, NULL) < 0) ||
	    tunpkt_eth_strip(p->data + hl, p->len - hl) < 0) {
		t->cnt.bad_mesh++;
		return;
	}
	ip = p->data + hl + TUNPKT_ETH_LEN;
	if (tunpkt_parse(ip, p->len - hl - TUNPKT_ETH_LEN, &pk) < 0) {
		t->cnt.bad_mesh++;
		return;
	}
	if (!tunpkt_allow(&t->filter, &pk)) {
		t->cnt.filtered++;
		return;
	}
	if (hl) {
		memcpy(vnet, p->data, TAP_VNET_HDR);
		if (vnet_shift(vnet, -TUNPKT_ETH_LEN) < 0) {
			t->cnt.bad_mesh++;
			return;
		}
	}
	tun_write(t, hl ? vnet : NULL, ip, pk.len);
}

/* ---- prefixes ------------------------------------------------------- */

/* A remote prefix gets a route through the TUN; a local one (ours, or
 * another gate's on this node) none. A whole set makes every route stale
 * until confirmed; those left are swept TUN_SWEEP_MS later. */
static void on_prefix(void *arg, const struct cg_prefix *p, int full)
{
	struct tun *t = arg;

	if (full && p->addr.instance == t->inst) {
		troute_stale(t->routes);
		t->sweep_at = mono_ms() + TUN_SWEEP_MS;
	}
	if (p->addr.instance != t->inst)
		return;
	troute_set(t->routes, p->addr.len, p->addr.bytes, p->addr.plen,
		   p->up && !p->local);
}

static void on_attached(void *arg, int up)
{
	struct tun *t = arg;

	if (up)
		log_info("gate %s: reconnected", t->gate_path);
	else
		log_warnx("gate %s: connection lost; retrying every second "
			  "(the TUN and its routes stay)", t->gate_path);
}

/* ---- from the TUN --------------------------------------------------- */

/* n bytes read after the vnet header (if any): the IP packet at
 * buf + TUN_HEAD. Fills p; 0 to drop. */
static int tun_packet(struct tun *t, struct cg_packet *p, size_t n)
{
	uint8_t *vnet = t->buf, *eth = t->buf + TAP_VNET_HDR;
	struct tunpkt pk;

	if (tunpkt_parse(t->buf + TUN_HEAD, n, &pk) < 0) {
		t->cnt.bad_tun++;
		return 0;
	}
	tunpkt_eth_put(eth, pk.version);
	p->instance = t->inst;
	p->dlen = p->slen = pk.alen;
	p->dst = pk.dst;
	p->src = pk.src;
	p->data = eth;
	p->len = TUNPKT_ETH_LEN + pk.len;
	p->flags = 0;
	if (t->vnet && vnet_work(vnet)) {
		vnet_shift(vnet, TUNPKT_ETH_LEN);
		p->data = vnet;
		p->len += TAP_VNET_HDR;
		p->flags = CG_PKT_OFFLOAD;
	}
	return 1;
}

static ssize_t tun_read(struct tun *t)
{
	struct iovec iov[2] = {
		{ t->buf, TAP_VNET_HDR },
		{ t->buf + TUN_HEAD, TUN_PKT_MAX },
	};
	int skip = !t->vnet;
	ssize_t n;

	do
		n = readv(t->fd, iov + skip, 2 - skip);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN)
		log_warn("TUN %s: read", t->ifname);
	if (n >= 0 && t->vnet && n < TAP_VNET_HDR)
		return 0;	/* nothing after the header: malformed */
	return n < 0 ? -1 : n - (t->vnet ? TAP_VNET_HDR : 0);
}

static void tun_input(struct tun *t)
{
	struct cg_packet p;
	ssize_t n;
	int i;

	for (i = 0; i < TUN_BATCH; i++) {
		/* no room: the packet waits in the TUN's queue, not dropped */
		if (cg_attached(t->gate) &&
		    !cg_can_send(t->gate, TUN_HEAD + TUN_PKT_MAX)) {
			t->blocked = 1;
			break;
		}
		if ((n = tun_read(t)) < 0)
			break;
		if (!tun_packet(t, &p, (size_t)n))
			continue;
		if (cg_send_flow(t->gate, &p, flow_ip(t->flow_key,
						      t->buf + TUN_HEAD,
						      (size_t)n)) == 0)
			continue;
		t->cnt.unsent++;
		if (errno == EAGAIN) {
			/* Queue full: let the kernel queue hold the rest. */
			t->blocked = 1;
			break;
		}
	}
	if (cg_attached(t->gate))
		cg_flush(t->gate);
}

/* ---- the loop ------------------------------------------------------- */

static void report(struct tun *t, int always)
{
	const struct tun_counts *c = &t->cnt, *s = &t->said;

	if (!always && memcmp(c, s, sizeof(*c)) == 0)
		return;
	if (always ? c->filtered : c->filtered != s->filtered)
		log_info("%llu packet(s) from the mesh dropped by the port "
			 "filter", c->filtered);
	if (always ? c->bad_mesh : c->bad_mesh != s->bad_mesh)
		log_info("%llu malformed packet(s) from the mesh dropped",
			 c->bad_mesh);
	if (always ? c->bad_tun : c->bad_tun != s->bad_tun)
		log_info("%llu malformed packet(s) from %s dropped",
			 c->bad_tun, t->ifname);
	if (always ? c->unsent : c->unsent != s->unsent)
		log_info("%llu packet(s) from %s dropped: no daemon or its "
			 "queue full", c->unsent, t->ifname);
	if (always ? c->unwritten : c->unwritten != s->unwritten)
		log_info("%llu packet(s) from the mesh refused by %s",
			 c->unwritten, t->ifname);
	t->said = *c;
}

/* A daemon still away: say why after the first failed reconnect, then
 * every 60th. */
static void still_away(struct tun *t)
{
	int err;
	unsigned n = cg_retries(t->gate, &err);

	if (n == 0 || n == t->retries_said || (n != 1 && n % 60 != 0))
		return;
	t->retries_said = n;
	log_warnx("gate %s: still unreachable after %u tr%s: %s",
		  t->gate_path, n, n == 1 ? "y" : "ies", strerror(err));
}

static void timers(struct tun *t, uint64_t now)
{
	still_away(t);
	if (t->sweep_at != 0 && now >= t->sweep_at) {
		t->sweep_at = 0;
		troute_sweep(t->routes);
	}
	if (now >= t->next_report) {
		t->next_report = now + TUN_REPORT_MS;
		report(t, 0);
	}
}

static int loop_timeout(const struct tun *t, uint64_t now)
{
	uint64_t next = t->next_report;
	int gate = cg_poll_timeout(t->gate), ms;

	if (t->sweep_at != 0 && t->sweep_at < next)
		next = t->sweep_at;
	ms = next > now ? (int)(next - now) : 0;
	return gate < ms ? gate : ms;
}

static int tun_loop(struct tun *t)
{
	struct pollfd pfd[3];

	for (;;) {
		short ev = cg_poll_events(t->gate);

		/* While the gate is backed up, leave packets in the kernel. */
		if (!(ev & POLLOUT))
			t->blocked = 0;
		pfd[0] = (struct pollfd){ .fd = t->sigfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = t->fd,
			.events = t->blocked ? 0 : POLLIN };
		pfd[2] = (struct pollfd){ .fd = cg_poll_fd(t->gate),
			.events = ev };
		if (poll(pfd, 3, loop_timeout(t, mono_ms())) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		if ((pfd[0].revents & POLLIN) && sig_quit(t->sigfd))
			return 0;
		cg_run(t->gate, pfd[2].revents, TUN_BATCH);
		if (pfd[1].revents & (POLLIN | POLLERR))
			tun_input(t);
		timers(t, mono_ms());
	}
}

/* ---- setup ---------------------------------------------------------- */

static int tun_device(struct tun *t)
{
	struct tap_conf tc = { .mtu = t->mtu };
	size_t n = conf_count(t->conf, "iface_addr"), i;
	const char **addrs = calloc(n, sizeof(*addrs));
	char err[256];
	int r = -1;

	if (addrs == NULL) {
		log_error("TUN");
		return -1;
	}
	t->fd = tap_open(conf_str(t->conf, "iface_dev"), &t->flags,
			 t->ifname, err, sizeof(err));
	if (t->fd < 0)
		goto out;
	t->vnet = !!(t->flags & TAP_OFFLOAD);
	for (i = 0; i < n; i++)
		addrs[i] = conf_get(t->conf, "iface_addr", i)->raw;
	tc.addrs = addrs;
	tc.naddr = n;
	/* a peer drops super-segments of more (gso_check) */
	tc.gso_max_segs = t->vnet ? GSO_SEGS_MAX : 0;
	r = tap_configure(t->ifname, &tc, err, sizeof(err));
out:
	if (r < 0)
		log_errorx("%s", err);
	free(addrs);
	return r;
}

/* Routes through the TUN; its own subnets need none. */
static int tun_routes(struct tun *t)
{
	size_t n = conf_count(t->conf, "iface_addr"), i;
	int ifindex = (int)if_nametoindex(t->ifname);
	struct tap_ip ip;

	if (ifindex == 0) {
		log_error("TUN %s", t->ifname);
		return -1;
	}
	t->routes = troute_open(ifindex);
	if (t->routes == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		tap_parse_ip(conf_get(t->conf, "iface_addr", i)->raw, &ip);
		if (troute_connected(t->routes, ip.family == AF_INET ? 4 : 16,
				     ip.b, ip.plen) < 0) {
			log_errorx("routes: out of memory");
			return -1;
		}
	}
	return 0;
}

static int tun_gate(struct tun *t)
{
	const struct cg_handlers h = {
		.packet = on_packet,
		.prefix = on_prefix,
		.attached = on_attached,
	};
	char err[256], where[512];

	if (getrandom(t->flow_key, sizeof(t->flow_key), 0) !=
	    sizeof(t->flow_key)) {
		log_error("getrandom");
		return -1;
	}
	t->gate = cg_start(t->gate_path, "tun", &h, t, err, sizeof(err));
	if (t->gate == NULL) {
		log_errorx("%s%s", conf_where(conf_last(t->conf, "gate"),
					      "gate", where, sizeof(where)),
			   err);
		return -1;
	}
	if ((t->vnet && cg_set_offload(t->gate, 1) < 0) ||
	    cg_announce(t->gate, t->ann, t->nann) < 0 ||
	    cg_subscribe(t->gate, t->inst) < 0) {
		log_error("gate %s", t->gate_path);
		return -1;
	}
	return 0;
}

static int tun_start(struct tun *t)
{
	if (tun_conf(t) < 0 || (t->sigfd = sig_open()) < 0)
		return -1;
	t->buf = malloc(TUN_HEAD + TUN_PKT_MAX);
	if (t->buf == NULL) {
		log_error("TUN buffer");
		return -1;
	}
	if (tun_device(t) < 0 || tun_routes(t) < 0 || tun_gate(t) < 0)
		return -1;
	log_info("TUN %s up, MTU %u, instance %u, %zu prefix(es) announced"
		 "%s%s", t->ifname, t->mtu, t->inst, t->nann,
		 t->vnet ? ", offload" : "",
		 t->filter.on ? ", port filter" : "");
	proc_cmd(t->conf, "iface_up_cmd", t->ifname);
	t->cmd_up = 1;
	t->next_report = mono_ms() + TUN_REPORT_MS;
	return proc_drop(&t->ids, 1);
}

/* Routes first, so the down command sees the TUN as tun found it. */
static void tun_stop(struct tun *t)
{
	troute_close(t->routes);
	if (t->cmd_up)
		proc_cmd(t->conf, "iface_down_cmd", t->ifname);
	if (t->fd >= 0)
		tap_close(t->fd, t->flags);
	if (t->sigfd >= 0)
		close(t->sigfd);
	if (t->gate != NULL)
		cg_close(t->gate);
	free(t->buf);
	free(t->ann);
	conf_free(t->conf);
}

/* 0 to run, 1 when -h was all, -1 on a bad option (said). */
static int tun_args(struct tun *t, int argc, char **argv)
{
	long long lvl;
	int r;

	log_init("tun", LOG_LVL_INFO, 0);
	if ((t->conf = conf_new(tun_opts, "tun")) == NULL)
		fatal("conf");
	r = conf_args(t->conf, argc, argv);
	if (r == 0 && conf_range(t->conf, "loglevel", 0, 3, &lvl) < 0)
		r = -1;
	if (r == 0)
		log_init("tun", (int)lvl, 0);
	return r;
}

int main(int argc, char **argv)
{
	struct tun t = { .fd = -1, .sigfd = -1 };
	const char *fail = "bad configuration";
	int r = tun_args(&t, argc, argv);

	if (r == 0) {
		fail = "start-up failed";
		r = tun_start(&t);
	}
	if (r == 0) {
		fail = NULL;
		r = tun_loop(&t);
		report(&t, 1);
		log_info("removing %zu route(s) and %s",
			 troute_count(t.routes), t.ifname);
	}
	tun_stop(&t);
	if (r < 0 && fail)
		log_errorx("%s; exiting", fail);
	return r < 0 ? 1 : 0;
}
