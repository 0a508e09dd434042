/*
 * ether: the Ethernet gate. Bridges a TAP device to the cloud daemon.
 *
 *   [TAP] --frame--> ether --cg_send(dst MAC | broadcast, src MAC)--> cloud
 *   [TAP] <--frame-- ether <--handlers.packet (cg_run)-------------- cloud
 *
 * Addresses on the mesh are MAC addresses (6 bytes, plen 48) in one
 * instance. Group destinations (broadcast and multicast) go out as mesh
 * broadcasts. In bridge mode the source MACs of frames read from the TAP
 * are learned (and aged) and announced with our own. In hub mode every
 * frame goes out as a broadcast and the empty address is announced.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloudgate.h"
#include "conf.h"
#include "flow.h"
#include "gateproto.h"
#include "gro.h"
#include "gso.h"
#include "log.h"
#include "mac.h"
#include "mono.h"
#include "proc.h"
#include "sig.h"
#include "tap.h"

#define ETHER_FRAME_MAX (65535 + 18)	/* largest MTU, header, VLAN tag */
#define ETHER_READ_MAX (TAP_VNET_HDR + ETHER_FRAME_MAX)
#define ETHER_BATCH 256		/* frames per direction per loop turn */
#define ETHER_RETRY_LOG 60	/* log every 60th failed reconnect */
#define ETHER_ANNOUNCE_MS 100	/* at most 10 announces a second */
/* One ANNOUNCE carries the whole set: our MAC, maybe the empty address. */
#define ETHER_LEARN_MAX (GP_ANNOUNCE_MAX - 2)

static const struct conf_opt ether_opts[] = {
	{ "gate", CONF_ADDR, 0, NULL,
	  "UNIX path of the cloud daemon's gate socket (required)" },
	{ "instance", CONF_INT, 0, "0",
	  "virtual LAN on the mesh; gates of other instances never meet" },
	{ "proto", CONF_INT, 0, NULL,
	  "classic protocol number 0..65535: the mesh instance is then "
	  "proto * 65536 + instance" },
	{ "tunctl", CONF_STR, CONF_COMPAT, NULL,
	  "the TAP is always created through /dev/net/tun" },
	{ "iface_dev", CONF_STR, 0, "cvpn%d",
	  "TAP device name; %d lets the kernel number it" },
	{ "mac", CONF_STR, 0, NULL,
	  "MAC address of the TAP (default: random, locally administered)" },
	{ "mtu", CONF_INT, 0, "1500", "MTU of the TAP (68..65535)" },
	{ "iface_addr", CONF_STR, CONF_LIST, NULL,
	  "IPv4 or IPv6 address/prefix to put on the TAP (repeatable)" },
	{ "iface_persist", CONF_BOOL, 0, "no",
	  "keep the TAP after ether exits" },
	{ "promisc", CONF_BOOL, 0, "no",
	  "announce the empty address: receive every frame of the instance" },
	{ "bridge", CONF_BOOL, 0, "no",
	  "the TAP is in an OS bridge: learn and announce source MACs" },
	{ "hub", CONF_BOOL, 0, "no",
	  "send every frame to every gate of the instance; receive them all" },
	{ "bridge_age", CONF_DUR, 0, "300s",
	  "forget a learned MAC not seen for this long" },
	{ "iface_up_cmd", CONF_STR, 0, NULL,
	  "shell command run when the TAP is up ($IFACE is its name)" },
	{ "iface_down_cmd", CONF_STR, 0, NULL,
	  "shell command run before the TAP goes away" },
	{ "user", CONF_STR, 0, NULL,
	  "user to switch to once the TAP is configured" },
	{ "group", CONF_STR, 0, NULL,
	  "group to switch to (default: the user's primary group)" },
	{ "offload", CONF_BOOL, 0, "yes",
	  "segmentation offload: carry 64 KB TCP segments whole (vnet header)" },
	{ "loglevel", CONF_INT, 0, "2",
	  "0 errors, 1 warnings, 2 info, 3 debug" },
	{ NULL, CONF_STR, 0, NULL, NULL },
};

struct ether {
	uint8_t flow_key[SIPHASH_KEY_LEN];	/* flow hashes (multipath) */
	struct conf *conf;
	const char *gate_path;
	struct cloudgate *gate;
	int dirty;		/* the announced set must be sent again */
	int tap;
	unsigned tapflags;
	int vnet;		/* TAP reads and writes carry a vnet header */
	struct gro *gro;	/* with vnet: merges frames from the mesh */
	char ifname[IFNAMSIZ];
	int sigfd;
	int cmd_up;		/* iface_up_cmd ran: iface_down_cmd will */
	struct proc_ids ids;	/* user and group to switch to */
	uint32_t inst;
	uint8_t mac[MAC_LEN];
	unsigned mtu;
	int promisc;
	int hub;		/* every frame is a broadcast; implies promisc */
	struct mac_table *learned;	/* bridge mode only */
	unsigned age;
	uint64_t next_announce, next_expire;	/* ms */
	unsigned retries;	/* failed reconnects, as last logged */
	unsigned long long dropped;
	struct cg_addr *ann;
	uint8_t (*macs)[MAC_LEN];
	uint8_t *buf;
};

/* ---- configuration ------------------------------------------------- */

static int ether_conf_mac(struct ether *e)
{
	const struct conf_val *v = conf_last(e->conf, "mac");

	if (v != NULL) {
		if (mac_parse(v->raw, e->mac) < 0)
			return conf_fail(e->conf, NULL, "mac",
					 "expected xx:xx:xx:xx:xx:xx");
		if (mac_kind(e->mac) != MAC_UNICAST)
			return conf_fail(e->conf, NULL, "mac",
					 "a group address");
		if (memcmp(e->mac, "\0\0\0\0\0\0", MAC_LEN) == 0)
			return conf_fail(e->conf, NULL, "mac", "all zeroes");
		return 0;
	}
	if (getrandom(e->mac, MAC_LEN, 0) != MAC_LEN) {
		log_error("getrandom");
		return -1;
	}
	mac_make_local(e->mac);
	return 0;
}

/* Classic ether put its protocol number above a 16-bit instance in the
 * address's 32 bits; with proto set, so does this one, and two classic
 * configs with the same proto and instance meet. */
static int ether_conf_inst(struct ether *e)
{
	long long x, proto;

	if (conf_last(e->conf, "proto") == NULL) {
		if (conf_range(e->conf, "instance", 0, UINT32_MAX, &x) < 0)
			return -1;
		e->inst = (uint32_t)x;
		return 0;
	}
	if (conf_range(e->conf, "proto", 0, 65535, &proto) < 0 ||
	    conf_range(e->conf, "instance", 0, 65535, &x) < 0)
		return -1;
	e->inst = (uint32_t)proto << 16 | (uint32_t)x;
	return 0;
}

static int ether_conf(struct ether *e)
{
	const struct conf_val *v;
	size_t i, n;
	long long x;

	if ((e->gate_path = conf_gate(e->conf)) == NULL)
		return -1;
	if (ether_conf_inst(e) < 0)
		return -1;
	if (conf_range(e->conf, "mtu", 68, 65535, &x) < 0)
		return -1;
	e->mtu = (unsigned)x;
	if (strlen(conf_str(e->conf, "iface_dev")) >= IFNAMSIZ)
		return conf_fail(e->conf, NULL, "iface_dev", "name too long");
	n = conf_count(e->conf, "iface_addr");
	for (i = 0; i < n; i++) {
		v = conf_get(e->conf, "iface_addr", i);
		if (!tap_addr_valid(v->raw)) {
			char where[512];

			log_errorx("%sexpected ADDRESS[/PREFIX], got \"%s\"",
				   conf_where(v, "iface_addr", where,
					      sizeof(where)), v->raw);
			return -1;
		}
	}
	if (conf_us(e->conf, "bridge_age") < 1000000 ||
	    conf_us(e->conf, "bridge_age") > 86400ULL * 1000000)
		return conf_fail(e->conf, NULL, "bridge_age",
				 "must be 1s..24h");
	e->age = (unsigned)(conf_us(e->conf, "bridge_age") / 1000000);
	e->hub = (int)conf_int(e->conf, "hub");
	if (e->hub && conf_int(e->conf, "bridge"))
		return conf_fail(e->conf, NULL, "hub", "cannot be used with "
				 "bridge (a hub learns no addresses)");
	/* A hub also takes what switch-mode gates send to unknown MACs. */
	e->promisc = e->hub || conf_int(e->conf, "promisc");
	e->tapflags = conf_int(e->conf, "iface_persist") ? TAP_PERSIST : 0;
	if (conf_int(e->conf, "offload"))
		e->tapflags |= TAP_OFFLOAD;
	if (proc_ids(e->conf, &e->ids) < 0)
		return -1;
	/* it would run as that user, who can no longer touch the TAP */
	if (e->ids.setuid && e->ids.uid != 0 &&
	    conf_last(e->conf, "iface_down_cmd") != NULL)
		return conf_fail(e->conf, NULL, "iface_down_cmd",
				 "cannot be used with user (it would run "
				 "without root at exit)");
	return ether_conf_mac(e);
}

/* ---- commands and privileges ---------------------------------------- */

/* ---- the gate ------------------------------------------------------- */

static void set_addr(struct cg_addr *a, uint32_t inst, const uint8_t *mac)
{
	memset(a, 0, sizeof(*a));
	a->instance = inst;
	if (mac != NULL) {
		a->len = MAC_LEN;
		a->plen = MAC_LEN * 8;
		memcpy(a->bytes, mac, MAC_LEN);
	}
}

static int gate_announce(struct ether *e, uint64_t now)
{
	size_t n = 0, i, k = 0;

	set_addr(&e->ann[n++], e->inst, e->mac);
	if (e->promisc)
		set_addr(&e->ann[n++], e->inst, NULL);
	if (e->learned != NULL)
		k = mac_list(e->learned, e->macs, ETHER_LEARN_MAX);
	for (i = 0; i < k; i++)
		set_addr(&e->ann[n++], e->inst, e->macs[i]);
	e->dirty = 0;
	e->next_announce = now + ETHER_ANNOUNCE_MS;
	if (cg_announce(e->gate, e->ann, n) < 0) {
		/* A full queue: again later. A lost daemon gets the set
		 * from cg_run once it is back. */
		e->dirty = errno == EAGAIN;
		return -1;
	}
	log_debug("announced %zu address(es)", n);
	return 0;
}

/* The TAP stays while the daemon is away; cg_run reconnects and sends the
 * set we last announced (later changes left e->dirty set). */
static void gate_attached(void *arg, int up)
{
	struct ether *e = arg;

	if (up)
		log_info("gate %s: reconnected", e->gate_path);
	else
		log_warnx("gate %s: connection lost; retrying every second",
			  e->gate_path);
}

static void gate_retries(struct ether *e)
{
	int err;
	unsigned n = cg_retries(e->gate, &err);

	if (n != e->retries && n > 0 && n % ETHER_RETRY_LOG == 0) {
		errno = err;
		log_warn("gate %s: still unreachable after %u tries",
			 e->gate_path, n);
	}
	e->retries = n;
}

/* One frame to the TAP; vnet is its header, NULL if the TAP takes none. */
static void tap_write(struct ether *e, const uint8_t *vnet, const uint8_t *f,
		      size_t len)
{
	struct iovec iov[2] = {
		{ (void *)vnet, TAP_VNET_HDR },
		{ (void *)f, len },
	};
	int skip = vnet == NULL;

	if (writev(e->tap, iov + skip, 2 - skip) < 0) {
		if (errno != EAGAIN && errno != ENOBUFS && errno != EIO)
			log_debug("TAP %s: write: %s", e->ifname,
				  strerror(errno));
		e->dropped++;
	}
}

static void tap_emit(void *arg, const uint8_t *vnet, const uint8_t *f,
		     size_t len)
{
	tap_write(arg, vnet, f, len);
}

/* A frame from the mesh: to the TAP, whole. An offloaded one (vnet header
 * + up to 64 KB) only comes if we asked for it; with a vnet header on the
 * TAP, runs of plain TCP segments go through GRO to be written as one. */
static void frame_in(void *arg, const struct cg_packet *p)
{
	struct ether *e = arg;
	size_t hl = p->flags & CG_PKT_OFFLOAD ? TAP_VNET_HDR : 0;

	if (p->instance != e->inst || p->len < hl + MAC_HDR_LEN ||
	    p->len > hl + ETHER_FRAME_MAX || (hl && !e->vnet)) {
		e->dropped++;
		return;
	}
	/* the vnet header is a peer's choice: the kernel gets a sane one */
	if (hl && gso_check(p->data, p->len, NULL) < 0) {
		e->dropped++;
		return;
	}
	/* A source we learned here now talks from elsewhere: it moved. */
	if (e->learned != NULL &&
	    mac_forget(e->learned, p->data + hl + MAC_LEN))
		e->dirty = 1;
	if (hl) {
		gro_flush(e->gro);	/* what came before goes first */
		tap_write(e, p->data, p->data + hl, p->len - hl);
	} else if (e->vnet) {
		gro_frame(e->gro, p->data, p->len);
	} else {
		tap_write(e, NULL, p->data, p->len);
	}
}

static void gate_input(struct ether *e, short revents)
{
	cg_run(e->gate, revents, ETHER_BATCH);
	if (e->gro != NULL)
		gro_flush(e->gro);	/* a run never outlives its batch */
	gate_retries(e);
}

/* ---- the TAP -------------------------------------------------------- */

/* 1 to send, 0 to drop. Learns the source in bridge mode. */
static int frame_out(struct ether *e, struct cg_packet *p, const uint8_t *f,
		     size_t len, uint64_t now)
{
	int kind = mac_classify(f, len);

	if (kind < 0)
		return 0;
	if (e->learned != NULL) {
		/* Unicast between two hosts of this LAN: not for the mesh. */
		if (kind == MAC_UNICAST && (mac_known(e->learned, f) ||
		    memcmp(f, e->mac, MAC_LEN) == 0))
			return 0;
		if (memcmp(f + MAC_LEN, e->mac, MAC_LEN) != 0 &&
		    mac_learn(e->learned, f + MAC_LEN, now / 1000) == 1) {
			e->dirty = 1;
			if (log_level() >= LOG_LVL_DEBUG) {
				char m[18];

				log_debug("learned %s", mac_fmt(f + MAC_LEN,
					  m, sizeof(m)));
			}
		}
	}
	p->instance = e->inst;
	p->dlen = kind == MAC_UNICAST && !e->hub ? MAC_LEN : 0;
	p->dst = f;
	p->slen = MAC_LEN;
	p->src = f + MAC_LEN;
	p->data = f;
	p->len = len;
	p->flags = 0;
	return 1;
}

/* Does this vnet header leave work to do (segments, a checksum)? */
static int vnet_work(const uint8_t *h)
{
	return (h[0] & 1) || h[1] != 0;	/* NEEDS_CSUM, gso_type */
}

/* One read from the TAP into a packet: offloaded frames keep their vnet
 * header and travel whole; others lose it. 1 to send, 0 to drop. */
static int tap_frame(struct ether *e, struct cg_packet *p, size_t n,
		     uint64_t now)
{
	const uint8_t *b = e->buf;

	if (!e->vnet)
		return frame_out(e, p, b, n, now);
	if (n < TAP_VNET_HDR ||
	    !frame_out(e, p, b + TAP_VNET_HDR, n - TAP_VNET_HDR, now))
		return 0;
	if (vnet_work(b)) {
		p->data = b;
		p->len = n;
		p->flags = CG_PKT_OFFLOAD;
	}
	return 1;
}

/* The flow of the frame just read into e->buf, for the daemon's
 * multipath (0 if it is no IP packet). */
static uint32_t tap_flow(const struct ether *e, size_t n)
{
	size_t off = e->vnet ? TAP_VNET_HDR : 0;

	return n > off ? flow_eth(e->flow_key, e->buf + off, n - off) : 0;
}

static void tap_input(struct ether *e, uint64_t now)
{
	struct cg_packet p;
	ssize_t n;
	int i, sent = 0;

	for (i = 0; i < ETHER_BATCH; i++) {
		/* no room: the frame waits in the TAP's queue, not dropped */
		if (cg_attached(e->gate) &&
		    !cg_can_send(e->gate, ETHER_READ_MAX))
			break;
		n = read(e->tap, e->buf, ETHER_READ_MAX);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("TAP %s: read", e->ifname);
			break;
		}
		if (!cg_attached(e->gate) || !tap_frame(e, &p, (size_t)n, now))
			continue;
		if (cg_send_flow(e->gate, &p, tap_flow(e, (size_t)n)) < 0) {
			/* Queue full: let the kernel queue hold the rest. A
			 * lost daemon: cg_run sees to it. */
			e->dropped += errno == EAGAIN;
			break;
		}
		sent++;
	}
	if (sent > 0)
		cg_flush(e->gate);
}

/* ---- the loop ------------------------------------------------------- */

static void timers(struct ether *e, uint64_t now)
{
	if (e->learned != NULL && now >= e->next_expire) {
		e->next_expire = now + 1000;
		if (mac_expire(e->learned, now / 1000) > 0)
			e->dirty = 1;
	}
	if (cg_attached(e->gate) && e->dirty && now >= e->next_announce)
		gate_announce(e, now);
}

static int poll_timeout(const struct ether *e, uint64_t now)
{
	uint64_t next = now + (uint64_t)cg_poll_timeout(e->gate);

	if (e->learned != NULL && e->next_expire < next)
		next = e->next_expire;
	if (cg_attached(e->gate) && e->dirty && e->next_announce < next)
		next = e->next_announce;
	return next > now ? (int)(next - now) : 0;
}

static int ether_loop(struct ether *e)
{
	struct pollfd pfd[3];
	uint64_t now;
	short gev;

	for (;;) {
		now = mono_ms();
		gev = cg_poll_events(e->gate);
		pfd[0] = (struct pollfd){ .fd = e->sigfd, .events = POLLIN };
		/* While the gate is backed up, leave frames in the kernel. */
		pfd[1] = (struct pollfd){ .fd = e->tap,
			.events = gev & POLLOUT ? 0 : POLLIN };
		pfd[2] = (struct pollfd){ .fd = cg_poll_fd(e->gate),
			.events = gev };
		if (poll(pfd, 3, poll_timeout(e, now)) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		now = mono_ms();
		if ((pfd[0].revents & POLLIN) && sig_quit(e->sigfd))
			return 0;
		gate_input(e, pfd[2].revents);
		if (pfd[1].revents & (POLLIN | POLLERR))
			tap_input(e, now);
		timers(e, now);
	}
}

/* ---- setup ---------------------------------------------------------- */

static int ether_alloc(struct ether *e)
{
	size_t learn = conf_int(e->conf, "bridge") ? ETHER_LEARN_MAX : 0;

	e->buf = malloc(ETHER_READ_MAX);
	e->ann = calloc(learn + 2, sizeof(*e->ann));
	e->macs = calloc(learn + 1, sizeof(*e->macs));
	if (e->buf == NULL || e->ann == NULL || e->macs == NULL)
		return log_errorx("out of memory"), -1;
	if (learn > 0) {
		e->learned = mac_table_new(learn, e->age);
		if (e->learned == NULL)
			return log_errorx("out of memory"), -1;
	}
	return 0;
}

static int ether_tap(struct ether *e)
{
	struct tap_conf tc = { 0 };
	const char **addrs;
	char err[256];
	size_t i, n = conf_count(e->conf, "iface_addr");
	int r;

	e->tap = tap_open(conf_str(e->conf, "iface_dev"), &e->tapflags,
			  e->ifname, err, sizeof(err));
	if (e->tap < 0) {
		log_errorx("%s", err);
		return -1;
	}
	e->vnet = !!(e->tapflags & TAP_OFFLOAD);
	if (e->vnet && cg_set_offload(e->gate, 1) < 0) {
		log_error("gate %s: cannot declare offload", e->gate_path);
		return -1;
	}
	if (e->vnet) {
		e->gro = malloc(sizeof(*e->gro));
		if (e->gro == NULL) {
			log_error("TAP %s: GRO buffer", e->ifname);
			return -1;
		}
		gro_init(e->gro, tap_emit, e);
	}
	addrs = calloc(n + 1, sizeof(*addrs));
	if (addrs == NULL) {
		log_error("TAP %s", e->ifname);
		return -1;
	}
	for (i = 0; i < n; i++)
		addrs[i] = conf_get(e->conf, "iface_addr", i)->raw;
	tc.mac = e->mac;
	tc.mtu = e->mtu;
	tc.promisc = e->learned != NULL;
	tc.addrs = addrs;
	tc.naddr = n;
	/* a peer drops super-segments of more (gso_check) */
	tc.gso_max_segs = e->vnet ? GSO_SEGS_MAX : 0;
	r = tap_configure(e->ifname, &tc, err, sizeof(err));
	free(addrs);
	if (r < 0)
		log_errorx("%s", err);
	return r;
}

static int ether_start(struct ether *e)
{
	const struct cg_handlers h = { .packet = frame_in,
				       .attached = gate_attached };
	char err[256], mac[18], where[512];

	if (ether_conf(e) < 0 || ether_alloc(e) < 0 ||
	    (e->sigfd = sig_open()) < 0)
		return -1;
	if (getrandom(e->flow_key, sizeof(e->flow_key), 0) !=
	    sizeof(e->flow_key)) {
		log_error("getrandom");
		return -1;
	}
	e->gate = cg_start(e->gate_path, "ether", &h, e, err, sizeof(err));
	if (e->gate == NULL) {
		log_errorx("%s%s", conf_where(conf_last(e->conf, "gate"),
					      "gate", where, sizeof(where)),
			   err);
		return -1;
	}
	if (ether_tap(e) < 0)
		return -1;
	log_info("TAP %s up, MAC %s, MTU %u, instance %u%s%s", e->ifname,
		 mac_fmt(e->mac, mac, sizeof(mac)), e->mtu, e->inst,
		 e->hub ? ", hub" : e->promisc ? ", promiscuous" : "",
		 e->learned ? ", bridge" : "");
	proc_cmd(e->conf, "iface_up_cmd", e->ifname);
	e->cmd_up = 1;
	if (proc_drop(&e->ids, 0) < 0)
		return -1;
	/* A failure here is a lost daemon: the loop reconnects. */
	gate_announce(e, mono_ms());
	return 0;
}

static void ether_stop(struct ether *e)
{
	if (e->cmd_up)
		proc_cmd(e->conf, "iface_down_cmd", e->ifname);
	tap_close(e->tap, e->tapflags);
	if (e->gate != NULL)
		cg_close(e->gate);
	mac_table_free(e->learned);
	free(e->gro);
	free(e->macs);
	free(e->ann);
	free(e->buf);
	if (e->sigfd >= 0)
		close(e->sigfd);
	conf_free(e->conf);
}

int main(int argc, char **argv)
{
	struct ether e = { .tap = -1, .sigfd = -1 };
	long long lvl;
	int r;

	log_init("ether", LOG_LVL_INFO, 0);
	e.conf = conf_new(ether_opts, "ether");
	if (e.conf == NULL)
		fatal("conf");
	r = conf_args(e.conf, argc, argv);
	if (r != 0) {
		if (r < 0)
			log_errorx("bad configuration; exiting");
		conf_free(e.conf);
		return r > 0 ? 0 : 1;
	}
	if (conf_range(e.conf, "loglevel", 0, 3, &lvl) < 0) {
		log_errorx("bad configuration; exiting");
		conf_free(e.conf);
		return 1;
	}
	log_init("ether", (int)lvl, 0);
	if (ether_start(&e) < 0) {
		ether_stop(&e);
		log_errorx("start-up failed; exiting");
		return 1;
	}
	r = ether_loop(&e);
	if (e.dropped > 0)
		log_info("%llu frame(s) dropped", e.dropped);
	if (e.gro != NULL && e.gro->supers > 0)
		log_info("%llu frame(s) from the mesh merged into %llu",
			 e.gro->merged, e.gro->supers);
	ether_stop(&e);
	return r < 0 ? 1 : 0;
}
