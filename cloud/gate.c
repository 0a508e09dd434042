/*
 * The gate socket server. Local applications (gates) connect to a UNIX
 * socket, exchange hellos, announce the addresses they own and exchange
 * packets with the daemon. The codec is lib/gateproto.c, shared with
 * libcloudgate.
 *
 * A gate is freed only from its own top-level callbacks (read, write,
 * timer) or at shutdown; gate_deliver and gate_link_event only queue, so
 * forwarding a packet from one gate to another, or a link's end, can never
 * free a gate under its caller.
 *
 * A gate may hand over connected UDP sockets (SOCKET, SCM_RIGHTS) for
 * links to a given node (udp_handed); the links outlive the gate, whose
 * LINK events are sent by gate ID while it stays attached.
 *
 * A gate may subscribe to instances (SUBSCRIBE): the route table reports
 * changed prefixes as it flushes, they are collected for the loop turn,
 * and the flusher sends each subscriber its PREFIX messages (gatesub.c)
 * before it writes the queues.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "cloud.h"
#include "conf.h"
#include "esc.h"
#include "fwd.h"
#include "gate.h"
#include "gatenote.h"
#include "gateproto.h"
#include "gatesub.h"
#include "gso.h"
#include "link.h"
#include "log.h"
#include "origin.h"
#include "proc.h"
#include "route.h"
#include "udp.h"
#include "usock.h"

#define GATE_INBUF (2 * GP_MSG_MAX)	/* a whole message always fits */
#define GATE_OUTBUF (2048 * 1024)	/* per gate; full means drop: 32
					 * super-segments, as a link's TCP
					 * window delivers them at once */
#define GATE_SOCKBUF (1024 * 1024)	/* the socket's, each way */
#define GATE_READS 8			/* reads per wakeup, for fairness */
#define GATE_ACCEPTS 16			/* accepts per wakeup */
#define GATE_BACKLOG 16
#define GATE_DEF_MAX 64
#define GATE_DEF_MODE 0660
#define GATE_TICK (GP_KEEPALIVE_MS / 2000.0)	/* seconds */
#define GATE_FDS_MAX 2			/* descriptors received, not taken */
#define GATE_HANDED_MAX 32		/* live links a gate handed over */
#define NOROUTE_PER_S 10		/* GP_NOROUTE to one gate, a second */

/* A descriptor, and the stream bytes [from, to) of the read that carried
 * it: the kernel ends a read with the part that carries descriptors, so
 * the SOCKET message it rides on starts in that range. */
struct gate_fd {
	int fd;
	uint64_t from, to;
};

struct gate {
	struct gate *next;
	struct gate *dirty_next;	/* output waiting for the flusher */
	int dirty;
	struct cloud *c;
	uint32_t id;
	int fd;
	int hello;		/* the gate's hello arrived */
	int announced;		/* it has a set in the route table */
	uint32_t caps;		/* GP_CAP_* the gate declared */
	char name[GP_NAME_MAX + 1];
	ev_io rio, wio;
	ev_timer timer;
	ev_tstamp born, last_rx, last_tx;
	struct addr *addrs;
	size_t naddrs;
	uint8_t *in;		/* unparsed: in[ihead..itail) */
	size_t ihead, itail;
	uint64_t rxpos;		/* stream offset of in[ihead] */
	struct gate_fd fds[GATE_FDS_MAX];
	size_t nfds;
	struct gnotes notes;	/* what it said about remote nodes */
	struct gsubs subs;	/* instances whose prefixes it follows */
	int notes_full;		/* dropped notes were logged */
	uint8_t *out;		/* queued: out[ohead..otail) */
	size_t ohead, otail;
	uint64_t pkts_in, pkts_out, drops;
	unsigned inst_refused;		/* packets of an instance not granted */
	uint32_t wait_peer;		/* paced: waits for this link, 0 */
	uint64_t noroute_sec;		/* GP_NOROUTE: the second, and */
	unsigned noroute_n;		/* how many were sent in it */
};

struct gate_listener {
	struct gate_listener *next;
	struct cloud *c;
	int fd;
	int mark;			/* gate_reload: its line is kept */
	ev_io io;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct gates {
	struct cloud *c;
	struct gate_listener *ls;
	struct gate *list;
	size_t count, max;
	uint32_t next_id;
	uint32_t from;		/* the gate whose packet is being forwarded */
	uint8_t *split;		/* one segment, for gates without offload */
	struct gate *dirty;	/* gates with output to write */
	ev_prepare flusher;
	ev_timer pace;		/* looks at paced gates' links */
	struct addr scratch[GP_ANNOUNCE_MAX];
	struct gchanges changes;	/* this turn's, for subscribers */
	struct gp_prefix chunk[GP_PREFIX_MAX];
};

static void gate_close(struct gate *g)
{
	struct gates *gs = g->c->gates;
	struct gate **pp;

	ev_io_stop(g->c->loop, &g->rio);
	ev_io_stop(g->c->loop, &g->wio);
	ev_timer_stop(g->c->loop, &g->timer);
	for (pp = &gs->dirty; *pp != NULL; pp = &(*pp)->dirty_next) {
		if (*pp == g) {
			*pp = g->dirty_next;
			break;
		}
	}
	close(g->fd);
	if (g->announced && g->c->rt != NULL)
		route_local_set(g->c->rt, g->id, NULL, 0);
	for (pp = &gs->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	gs->count--;
	while (g->nfds > 0)
		close(g->fds[--g->nfds].fd);
	gnotes_free(&g->notes);
	free(g->addrs);
	free(g->in);
	free(g->out);
	free(g);
}

/* Room for need bytes at the queue's tail, or NULL when full. */
static uint8_t *gate_room(struct gate *g, size_t need)
{
	if (GATE_OUTBUF - g->otail < need && g->ohead > 0) {
		memmove(g->out, g->out + g->ohead, g->otail - g->ohead);
		g->otail -= g->ohead;
		g->ohead = 0;
	}
	if (GATE_OUTBUF - g->otail < need)
		return NULL;
	return g->out + g->otail;
}

/* Output is written once per loop turn, before the loop sleeps, so a
 * burst of packets leaves in one write. */
static void gate_queued(struct gate *g, size_t n)
{
	struct gates *gs = g->c->gates;

	g->otail += n;
	if (g->dirty || ev_is_active(&g->wio))
		return;
	g->dirty = 1;
	g->dirty_next = gs->dirty;
	gs->dirty = g;
}

static void gate_send_hello(struct gate *g)
{
	uint8_t *b = gate_room(g, GP_HDR + 3 + GP_NAME_MAX);
	size_t n;

	n = gp_hello_encode(b, GP_HDR + 3 + GP_NAME_MAX, GP_VERSION,
			    g->c->name);
	if (n == 0)	/* a node name unfit for the protocol */
		n = gp_hello_encode(b, GP_HDR + 3 + GP_NAME_MAX, GP_VERSION,
				    "cloud");
	gate_queued(g, n);
	/* the node ID goes with the hello, in the same write */
	b = gate_room(g, GP_HDR + GP_ID_LEN);
	gate_queued(g, gp_node_encode(b, GP_HDR + GP_ID_LEN, g->c->self.b));
}

static void gate_send_keepalive(struct gate *g)
{
	uint8_t *b = gate_room(g, GP_HDR);

	if (b != NULL)
		gate_queued(g, gp_keepalive_encode(b, GP_HDR));
}

/* Logs one line naming the gate; the caller closes it. */
static int gate_bad(struct gate *g, const char *why)
{
	log_warnx("gate %u (%s): %s, closing", (unsigned)g->id, g->name,
		  why);
	return -1;
}

static int gate_on_hello(struct gate *g, const uint8_t *pl, size_t plen)
{
	uint16_t version = 0;
	char name[GP_NAME_MAX + 1];
	int r;

	if (g->hello)
		return gate_bad(g, "second hello");
	r = gp_hello_decode(pl, plen, &version, name);
	if (plen >= 2 && version != GP_VERSION) {
		log_warnx("gate %u: speaks gate protocol version %u, this "
			  "daemon speaks %u, closing", (unsigned)g->id,
			  (unsigned)version, (unsigned)GP_VERSION);
		/* best effort: let the gate read our version too */
		if (send(g->fd, g->out + g->ohead, g->otail - g->ohead,
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("gate %u: hello: %s", (unsigned)g->id,
				  strerror(errno));
		return -1;
	}
	if (r < 0)
		return gate_bad(g, "malformed hello");
	if (name[0] != '\0')	/* the gate chooses it: escaped (esc.h) */
		esc_name(name, g->name, sizeof(g->name));
	g->hello = 1;
	log_info("gate %u (%s): attached", (unsigned)g->id, g->name);
	return 0;
}

/* A gate may use only the instances our certificate grants (any, if it
 * has no grants and require_grants is off): say so once per gate. */
static int gate_inst_ok(struct gate *g, uint32_t inst)
{
	if (origins_self_inst(g->c->origins, inst))
		return 1;
	if (!g->inst_refused++)
		log_warnx("gate %u (%s): instance %u is not granted by this "
			  "node's certificate: its addresses are not announced "
			  "and its packets are dropped", (unsigned)g->id,
			  g->name, (unsigned)inst);
	return 0;
}

/* Keep the addresses of granted instances; the new count. */
static size_t gate_granted(struct gate *g, struct addr *a, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (gate_inst_ok(g, a[i].inst))
			a[k++] = a[i];
	return k;
}

static int gate_on_announce(struct gate *g, const uint8_t *pl, size_t plen)
{
	struct gates *gs = g->c->gates;
	struct addr *set = NULL;
	size_t n;

	if (gp_announce_decode(pl, plen, gs->scratch, GP_ANNOUNCE_MAX,
			       &n) < 0)
		return gate_bad(g, "malformed announce");
	n = gate_granted(g, gs->scratch, n);
	if (n > 0) {
		set = malloc(n * sizeof(*set));
		if (set == NULL) {
			log_warn("gate %u (%s): announce", (unsigned)g->id,
				 g->name);
			return -1;
		}
		memcpy(set, gs->scratch, n * sizeof(*set));
	}
	free(g->addrs);
	g->addrs = set;
	g->naddrs = n;
	g->announced = 1;
	if (g->c->rt != NULL &&
	    route_local_set(g->c->rt, g->id, set, n) < 0)
		log_warnx("gate %u (%s): route table refused its %zu "
			  "addresses", (unsigned)g->id, g->name, n);
	log_debug("gate %u (%s): announced %zu addresses", (unsigned)g->id,
		  g->name, n);
	return 0;
}

/*
 * Backpressure: a packet of ours filled its link past half: read no more
 * from this gate (its socket fills, then the gate stops reading its TAP
 * or TUN, and the kernel slows the senders) until the link has drained to
 * a quarter. Relayed traffic meets random early drop instead; a gate's
 * own is never dropped early. The links are looked at every millisecond
 * while a gate waits.
 */
#define PACE_S 0.001

static void gate_pace(struct gate *g, uint32_t peer)
{
	struct gates *gs = g->c->gates;

	g->wait_peer = peer;
	ev_io_stop(g->c->loop, &g->rio);
	if (!ev_is_active(&gs->pace))
		ev_timer_start(g->c->loop, &gs->pace);
}

/* 1 if the packet is queued and its link is full: parse no further. */
static int gate_on_packet(struct gate *g, const uint8_t *pl, size_t plen,
			  int offload, int flow)
{
	struct gates *gs = g->c->gates;
	struct gp_packet gp;
	struct pkt p;
	uint32_t busy;

	if ((flow ? gp_fpacket_decode(pl, plen, &gp)
		  : gp_packet_decode(pl, plen, &gp)) < 0)
		return gate_bad(g, "malformed packet");
	if (!gate_inst_ok(g, gp.inst)) {
		g->drops++;
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.inst = gp.inst;
	p.flags = offload ? PKT_OFFLOAD : 0;
	p.ttl = g->c->default_ttl;
	p.dlen = gp.dlen;
	p.slen = gp.slen;
	p.dst = gp.dst;
	p.src = gp.src;
	p.data = gp.data;
	p.len = gp.len;
	p.flow = gp.flow;
	g->pkts_in++;
	gs->from = g->id;
	busy = fwd_from_gate(g->c, g->id, &p);
	gs->from = 0;
	if (busy)
		gate_pace(g, busy);
	return busy ? 1 : 0;
}

/* The descriptor that came with the message at stream offset at. */
static int gate_take_fd(struct gate *g, uint64_t at)
{
	int fd;

	if (g->nfds == 0 || g->fds[0].from > at)
		return -1;
	fd = g->fds[0].fd;
	g->nfds--;
	memmove(g->fds, g->fds + 1, g->nfds * sizeof(g->fds[0]));
	return fd;
}

/* A connected UDP socket of IPv4 or IPv6, and its peer; else -1. */
static int gate_udp_peer(int fd, struct sockaddr_storage *ss, socklen_t *sl)
{
	static const int opt[3] = { SO_TYPE, SO_PROTOCOL, SO_DOMAIN };
	int v[3] = { 0 }, i;
	socklen_t l;

	for (i = 0; i < 3; i++) {
		l = sizeof(v[i]);
		if (getsockopt(fd, SOL_SOCKET, opt[i], &v[i], &l) < 0)
			return -1;
	}
	if (v[0] != SOCK_DGRAM || v[1] != IPPROTO_UDP ||
	    (v[2] != AF_INET && v[2] != AF_INET6))
		return -1;
	memset(ss, 0, sizeof(*ss));
	*sl = sizeof(*ss);
	return getpeername(fd, (struct sockaddr *)ss, sl);
}

/* Start a link on a handed socket: NULL, or why not (fd is closed). */
static const char *gate_hand(struct gate *g, int fd,
			     const struct node_id *want)
{
	struct sockaddr_storage ss;
	const char *why = NULL;
	socklen_t sl;

	if (gate_udp_peer(fd, &ss, &sl) < 0)
		why = "not a connected UDP socket";
	else if (!memcmp(want->b, g->c->self.b, NODE_ID_LEN))
		why = "the expected node is this node";
	else if (links_handed(g->c, g->id) >= GATE_HANDED_MAX)
		why = "too many";
	if (why != NULL) {
		close(fd);
		log_warnx("gate %u (%s): handed socket refused: %s",
			  (unsigned)g->id, g->name, why);
		return why;
	}
	log_info("gate %u (%s): handed a socket", (unsigned)g->id, g->name);
	if (udp_handed(g->c, fd, &ss, sl, want, g->id) < 0)
		return "cannot start a link";
	return NULL;
}

static int gate_on_socket(struct gate *g, const uint8_t *pl, size_t plen,
			  uint64_t at)
{
	struct node_id want;
	const char *why;
	int fd = gate_take_fd(g, at);

	if (fd < 0)
		return gate_bad(g, "socket message without a descriptor");
	if (gp_socket_decode(pl, plen, want.b) < 0) {
		close(fd);
		return gate_bad(g, "malformed socket message");
	}
	why = gate_hand(g, fd, &want);
	if (why != NULL)
		gate_link_event(g->c, g->id, 0, &want, why);
	return 0;
}

static int gate_on_note(struct gate *g, const uint8_t *pl, size_t plen)
{
	struct gp_note n;
	int r;

	if (gp_note_decode(pl, plen, &n) < 0)
		return gate_bad(g, "malformed note");
	r = gnotes_set(&g->notes, &n);
	if (r < 0)
		log_warn("gate %u (%s): note", (unsigned)g->id, g->name);
	if (r > 0 && !g->notes_full++)
		log_warnx("gate %u (%s): notes on more than %d nodes are "
			  "dropped", (unsigned)g->id, g->name, GATE_NOTES_MAX);
	return 0;
}

static int gate_on_subscribe(struct gate *g, const uint8_t *pl,
			     size_t plen)
{
	uint32_t inst;

	if (gp_subscribe_decode(pl, plen, &inst) < 0)
		return gate_bad(g, "malformed subscribe");
	if (gsubs_add(&g->subs, inst) < 0)
		return gate_bad(g, "more than 16 subscriptions");
	log_debug("gate %u (%s): subscribed to instance %u", (unsigned)g->id,
		  g->name, (unsigned)inst);
	return 0;
}

static int gate_dispatch(struct gate *g, uint8_t type, const uint8_t *pl,
			 size_t plen, uint64_t at)
{
	if (type == GP_HELLO)
		return gate_on_hello(g, pl, plen);
	if (!g->hello)
		return gate_bad(g, "message before hello");
	switch (type) {
	case GP_ANNOUNCE:
		return gate_on_announce(g, pl, plen);
	case GP_PACKET:
	case GP_OFFLOAD:
		return gate_on_packet(g, pl, plen, type == GP_OFFLOAD, 0);
	case GP_FPACKET:
	case GP_FOFFLOAD:
		return gate_on_packet(g, pl, plen, type == GP_FOFFLOAD, 1);
	case GP_CAPS:
		if (gp_caps_decode(pl, plen, &g->caps) < 0)
			return gate_bad(g, "malformed capabilities");
		return 0;
	case GP_KEEPALIVE:
		return 0;
	case GP_SOCKET:
		return gate_on_socket(g, pl, plen, at);
	case GP_NOTE:
		return gate_on_note(g, pl, plen);
	case GP_SUBSCRIBE:
		return gate_on_subscribe(g, pl, plen);
	default:
		return gate_bad(g, "unexpected message");
	}
}

/* Act on every whole message buffered; -1 when the gate must close. */
static int gate_parse(struct gate *g)
{
	const uint8_t *pl;
	size_t plen;
	uint64_t at;
	uint8_t type;
	long n;

	for (;;) {
		/* its read is behind us: it came with another message */
		if (g->nfds > 0 && g->fds[0].to <= g->rxpos)
			return gate_bad(g, "descriptor with a non-socket "
				       "message");
		n = gp_frame(g->in + g->ihead, g->itail - g->ihead, &type, &pl,
			     &plen);
		if (n < 0)
			return gate_bad(g, "bad message type or length");
		if (n == 0)
			return 0;
		at = g->rxpos;
		g->ihead += (size_t)n;
		g->rxpos += (uint64_t)n;
		n = gate_dispatch(g, type, pl, plen, at);
		if (n != 0)
			return n < 0 ? -1 : 0;	/* > 0: paced */
	}
}

/* Queue the descriptors of one read; -1 (logged) if there are too many
 * or the kernel cut some off. */
static int gate_take_fds(struct gate *g, struct msghdr *mh, uint64_t from,
			 uint64_t to)
{
	struct cmsghdr *c;
	size_t i, k;
	int fd, bad = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (g->nfds == GATE_FDS_MAX) {
				close(fd);
				bad = 1;
				continue;
			}
			g->fds[g->nfds++] = (struct gate_fd){ fd, from, to };
		}
	}
	return bad ? gate_bad(g, "too many descriptors") : 0;
}

/* read(), but descriptors passed along are queued. -2: close the gate. */
static ssize_t gate_recv(struct gate *g, size_t room)
{
	union {
		char buf[CMSG_SPACE(GATE_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = g->in + g->itail, .iov_len = room };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	uint64_t from = g->rxpos + (g->itail - g->ihead);
	ssize_t n = recvmsg(g->fd, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0 || mh.msg_controllen == 0)
		return n;
	return gate_take_fds(g, &mh, from, from + (uint64_t)n) < 0 ? -2 : n;
}

static void gate_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gate *g = w->data;
	size_t room;
	ssize_t n;
	int i;

	(void)revents;
	for (i = 0; i < GATE_READS; i++) {
		if (g->ihead > 0) {
			memmove(g->in, g->in + g->ihead, g->itail - g->ihead);
			g->itail -= g->ihead;
			g->ihead = 0;
		}
		room = GATE_INBUF - g->itail;
		n = gate_recv(g, room);
		if (n == -2) {
			gate_close(g);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (n < 0)
				log_warn("gate %u (%s): read",
					 (unsigned)g->id, g->name);
			else
				log_info("gate %u (%s): detached",
					 (unsigned)g->id, g->name);
			gate_close(g);
			return;
		}
		g->itail += (size_t)n;
		g->last_rx = ev_now(loop);
		if (gate_parse(g) < 0) {
			gate_close(g);
			return;
		}
		if (g->wait_peer)
			return;
		if ((size_t)n < room)	/* drained */
			return;
	}
}

/* Write what is queued; wait for POLLOUT only when the socket is full. */
static void gate_flush(struct gate *g)
{
	struct ev_loop *loop = g->c->loop;
	ssize_t n;

	while (g->ohead < g->otail) {
		n = send(g->fd, g->out + g->ohead, g->otail - g->ohead,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(loop, &g->wio);
			return;
		}
		if (n < 0) {
			log_warn("gate %u (%s): write", (unsigned)g->id,
				 g->name);
			gate_close(g);
			return;
		}
		g->ohead += (size_t)n;
		g->last_tx = ev_now(loop);
	}
	g->ohead = g->otail = 0;
	ev_io_stop(loop, &g->wio);
}

static void gate_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	gate_flush(w->data);
}

/* A prefix of the route table changed (route_on_change). */
static void gate_route_changed(void *arg, const struct addr *a)
{
	struct gates *gs = arg;
	struct gate *g;

	for (g = gs->list; g != NULL; g = g->next) {
		if (gsubs_has(&g->subs, a->inst)) {
			gchanges_add(&gs->changes, a);
			return;
		}
	}
}

static uint8_t *gate_sink_room(void *arg, size_t need)
{
	return gate_room(arg, need);
}

static void gate_sink_queued(void *arg, size_t n)
{
	gate_queued(arg, n);
}

/* Every subscriber's PREFIX messages of this turn. */
static void gate_send_prefixes(struct gates *gs, const struct route_table *rt)
{
	struct gsub_sink k = { .room = gate_sink_room,
			       .queued = gate_sink_queued };
	struct gate *g;

	gchanges_settle(&gs->changes);
	for (g = gs->list; g != NULL; g = g->next) {
		if (g->subs.n == 0)
			continue;
		k.arg = g;
		gsubs_send(&g->subs, rt, &gs->changes, &k,
			   !ev_is_active(&g->wio), GATE_OUTBUF, gs->chunk,
			   g->id, g->name);
	}
	gchanges_clear(&gs->changes);
}

static void gate_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gates *gs = w->data;
	struct gate *g;

	(void)loop;
	(void)revents;
	if (gs->c->rt != NULL)
		gate_send_prefixes(gs, gs->c->rt);
	while ((g = gs->dirty) != NULL) {
		gs->dirty = g->dirty_next;
		g->dirty = 0;
		gate_flush(g);
	}
}

static void gate_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gate *g = w->data;
	ev_tstamp now = ev_now(loop);

	(void)revents;
	if (!g->hello && now - g->born >= GP_HELLO_TIMEOUT_MS / 1000.0) {
		gate_bad(g, "no hello in time");
		gate_close(g);
		return;
	}
	if (now - g->last_rx >= GP_DEAD_MS / 1000.0) {
		gate_bad(g, "silent too long");
		gate_close(g);
		return;
	}
	/* half a tick early, so ticks that straddle the mark do not
	 * stretch the interval to 1.5 keepalive periods */
	if (now - g->last_tx >= GP_KEEPALIVE_MS / 1000.0 - GATE_TICK / 2 &&
	    g->ohead == g->otail)
		gate_send_keepalive(g);
}

static uint32_t gate_new_id(struct gates *gs)
{
	struct gate *g;

	for (;;) {
		if (++gs->next_id == 0)
			continue;
		for (g = gs->list; g != NULL; g = g->next)
			if (g->id == gs->next_id)
				break;
		if (g == NULL)
			return gs->next_id;
	}
}

static void gate_attach(struct cloud *c, int fd)
{
	struct gates *gs = c->gates;
	struct gate *g;

	g = calloc(1, sizeof(*g));
	if (g == NULL || (g->in = malloc(GATE_INBUF)) == NULL ||
	    (g->out = malloc(GATE_OUTBUF)) == NULL) {
		log_warn("gate: new connection");
		if (g != NULL)
			free(g->in);
		free(g);
		close(fd);
		return;
	}
	g->c = c;
	g->fd = fd;
	g->id = gate_new_id(gs);
	strcpy(g->name, "-");
	g->born = g->last_rx = g->last_tx = ev_now(c->loop);
	ev_io_init(&g->rio, gate_read_cb, fd, EV_READ);
	ev_io_init(&g->wio, gate_write_cb, fd, EV_WRITE);
	ev_timer_init(&g->timer, gate_timer_cb, GATE_TICK, GATE_TICK);
	g->rio.data = g->wio.data = g->timer.data = g;
	g->next = gs->list;
	gs->list = g;
	gs->count++;
	ev_io_start(c->loop, &g->rio);
	ev_timer_start(c->loop, &g->timer);
	gate_send_hello(g);
}

/* A bigger socket buffer than the default 208 KiB: a gate that is slow
 * for a moment (its TAP write blocks) loses nothing. Best effort: the
 * kernel caps it at net.core.wmem_max unless we are root. */
static void gate_sockbuf(int fd)
{
	int n = GATE_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &n, sizeof(n)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
}

static void gate_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gate_listener *l = w->data;
	struct gates *gs = l->c->gates;
	int fd, i;

	(void)loop;
	(void)revents;
	for (i = 0; i < GATE_ACCEPTS; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("gate %s: accept", l->path);
			return;
		}
		if (gs->count >= gs->max) {
			log_warnx("gate %s: max_gates (%zu) reached, closing "
				  "a new gate", l->path, gs->max);
			close(fd);
			continue;
		}
		gate_sockbuf(fd);
		gate_attach(l->c, fd);
	}
}

/* The socket is born with gate_mode (umask around bind) and given to
 * user/group through a handle on it, before listen(): nobody can connect
 * in between, and no name swapped in after bind is followed. */
static int gate_listen(struct cloud *c, const struct conf_val *v)
{
	const struct conf_val *mode = conf_last(c->conf, "gate_mode");
	const char *path = v->v.addr.path;
	struct gates *gs = c->gates;
	struct gate_listener *l;
	struct proc_ids ids;
	char where[512];
	uid_t uid;
	gid_t gid;

	conf_where(v, "gate", where, sizeof(where));
	if (strlen(path) >= sizeof(l->path)) {
		log_errorx("%s%s: path too long", where, path);
		return -1;
	}
	if (proc_ids(c->conf, &ids) < 0)
		return -1;
	uid = ids.setuid ? ids.uid : (uid_t)-1;
	gid = conf_last(c->conf, "group") ? ids.gid : (gid_t)-1;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_error("%s%s", where, path);
		return -1;
	}
	l->c = c;
	strcpy(l->path, path);
	l->fd = usock_listen(where, path,
			     mode ? (mode_t)mode->v.i : GATE_DEF_MODE, uid, gid,
			     GATE_BACKLOG);
	if (l->fd < 0) {
		free(l);
		return -1;
	}
	ev_io_init(&l->io, gate_accept_cb, l->fd, EV_READ);
	l->io.data = l;
	ev_io_start(c->loop, &l->io);
	l->next = gs->ls;
	gs->ls = l;
	log_info("gate %s: listening", path);
	return 0;
}

/* A paced gate goes on once its link drained (or is gone): what it had
 * sent is parsed, then its socket read again. */
static void gate_pace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gates *gs = w->data;
	struct gate *g, *next;
	struct link *l;
	int waiting = 0;

	(void)revents;
	for (g = gs->list; g != NULL; g = next) {
		next = g->next;
		if (!g->wait_peer)
			continue;
		l = links_by_peer(gs->c, g->wait_peer);
		if (l != NULL && !link_drained(l)) {
			waiting++;
			continue;
		}
		g->wait_peer = 0;
		if (gate_parse(g) < 0) {
			gate_close(g);
			continue;
		}
		if (g->wait_peer)
			waiting++;
		else
			ev_io_start(loop, &g->rio);
	}
	if (!waiting)
		ev_timer_stop(loop, w);
}

int gate_init(struct cloud *c)
{
	const struct conf_val *v;
	char where[512];
	size_t i, n;

	if ((c->gates = calloc(1, sizeof(*c->gates))) == NULL) {
		log_warn("gate");
		return -1;
	}
	c->gates->c = c;
	v = conf_last(c->conf, "max_gates");
	c->gates->max = v ? (size_t)v->v.i : GATE_DEF_MAX;
	ev_prepare_init(&c->gates->flusher, gate_flush_cb);
	c->gates->flusher.data = c->gates;
	ev_timer_init(&c->gates->pace, gate_pace_cb, PACE_S, PACE_S);
	c->gates->pace.data = c->gates;
	ev_prepare_start(c->loop, &c->gates->flusher);
	if (c->rt != NULL)
		route_on_change(c->rt, gate_route_changed, c->gates);
	n = conf_count(c->conf, "gate");
	for (i = 0; i < n; i++) {
		v = conf_get(c->conf, "gate", i);
		if (!v->v.addr.is_unix) {
			log_errorx("%snot a UNIX socket path",
				   conf_where(v, "gate", where, sizeof(where)));
			goto err;
		}
		if (gate_listen(c, v) < 0)
			goto err;
	}
	return 0;
err:
	gate_shutdown(c);
	return -1;
}

static void gate_unlisten(struct gate_listener *l)
{
	ev_io_stop(l->c->loop, &l->io);
	close(l->fd);
	if (unlink(l->path) < 0)
		log_debug("gate %s: unlink: %s", l->path, strerror(errno));
	free(l);
}

/* Whether gate line v matches a listener not yet matched (marked). */
static int gate_keep(struct gates *gs, const struct conf_val *v)
{
	struct gate_listener *l;

	for (l = gs->ls; l; l = l->next)
		if (!l->mark && !strcmp(l->path, v->v.addr.path)) {
			l->mark = 1;
			return 1;
		}
	return 0;
}

void gate_reload(struct cloud *c, const struct conf *conf,
		 struct gate_diff *d)
{
	struct gates *gs = c->gates;
	struct gate_listener *l, **pp;
	const struct conf_val *v;
	size_t i;

	gs->max = (size_t)conf_int(conf, "max_gates");
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	for (l = gs->ls; l; l = l->next)
		l->mark = 0;
	for (i = 0; (v = conf_get(conf, "gate", i)); i++)
		d->kept += gate_keep(gs, v);
	for (pp = &gs->ls; (l = *pp);) {
		if (l->mark) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		log_info("gate %s: removed from the configuration (attached "
			 "gates stay)", l->path);
		gate_unlisten(l);
		d->removed++;
	}
	for (i = 0; (v = conf_get(conf, "gate", i)); i++) {
		for (l = gs->ls; l && strcmp(l->path, v->v.addr.path);)
			l = l->next;
		if (l)
			continue;
		if (gate_listen(c, v) < 0)
			d->failed++;
		else
			d->added++;
	}
}

void gate_shutdown(struct cloud *c)
{
	struct gates *gs = c->gates;
	struct gate_listener *l;

	if (gs == NULL)
		return;
	ev_prepare_stop(c->loop, &gs->flusher);
	ev_timer_stop(c->loop, &gs->pace);
	if (c->rt != NULL)
		route_on_change(c->rt, NULL, NULL);
	while (gs->list != NULL)
		gate_close(gs->list);
	while ((l = gs->ls) != NULL) {
		gs->ls = l->next;
		gate_unlisten(l);
	}
	free(gs->split);
	gchanges_free(&gs->changes);
	free(gs);
	c->gates = NULL;
}

static int gate_wants(const struct gate *g, const struct pkt *p)
{
	size_t i;

	for (i = 0; i < g->naddrs; i++) {
		if (p->dlen == 0 ? g->addrs[i].inst == p->inst :
		    addr_match(&g->addrs[i], p->inst, p->dst, p->dlen))
			return 1;
	}
	return 0;
}

static void gate_put_one(struct gate *g, const struct pkt *p)
{
	struct gp_packet gp = {
		.inst = p->inst, .dlen = p->dlen, .slen = p->slen,
		.dst = p->dst, .src = p->src, .data = p->data, .len = p->len,
		.offload = !!(p->flags & PKT_OFFLOAD),
	};
	size_t need = GP_HDR + GP_PACKET_FIXED + p->dlen + p->slen + p->len;
	uint8_t *b = gate_room(g, need);

	if (b == NULL || gp_packet_encode(b, need, &gp) != need) {
		g->drops++;
		return;
	}
	g->pkts_out++;
	gate_queued(g, need);
}

struct gate_seg {
	struct gate *g;
	const struct pkt *p;
};

static void gate_put_seg(void *arg, const uint8_t *frame, size_t len)
{
	struct gate_seg *s = arg;
	struct pkt q = *s->p;

	q.flags = 0;
	q.data = frame;
	q.len = len;
	gate_put_one(s->g, &q);
}

/* A gate that did not ask for offloaded packets gets ordinary frames:
 * the super-segment is cut in software here. */
static void gate_put(struct gate *g, const struct pkt *p)
{
	struct gates *gs = g->c->gates;
	struct gate_seg s = { g, p };

	if (!(p->flags & PKT_OFFLOAD) || (g->caps & GP_CAP_OFFLOAD)) {
		gate_put_one(g, p);
		return;
	}
	if (!gs->split && !(gs->split = malloc(GSO_FRAME_MAX))) {
		g->drops++;
		return;
	}
	if (gso_split(p->data, p->len, gs->split, GSO_FRAME_MAX, gate_put_seg,
		      &s) < 0)
		g->drops++;
}

void gate_deliver(struct cloud *c, const struct pkt *p)
{
	struct gate *g;

	if (c->gates == NULL || !origins_self_inst(c->origins, p->inst))
		return;
	for (g = c->gates->list; g != NULL; g = g->next)
		if (g->hello && g->id != c->gates->from && gate_wants(g, p))
			gate_put(g, p);
}

void gate_status(struct cloud *c, FILE *f)
{
	struct gate *g;

	if (c->gates == NULL)
		return;
	for (g = c->gates->list; g != NULL; g = g->next)
		fprintf(f, "gate id=%u name=%s addrs=%zu pkts_in=%llu "
			"pkts_out=%llu drops=%llu subs=%zu\n", (unsigned)g->id,
			g->name, g->naddrs, (unsigned long long)g->pkts_in,
			(unsigned long long)g->pkts_out,
			(unsigned long long)g->drops, g->subs.n);
}

void gate_notes(struct cloud *c, void (*fn)(void *arg, const struct gnote *n),
		void *arg)
{
	struct gate *g;
	size_t i;

	if (c->gates == NULL)
		return;
	for (g = c->gates->list; g != NULL; g = g->next)
		for (i = 0; i < g->notes.n; i++)
			fn(arg, &g->notes.v[i]);
}

void gates_foreach(struct cloud *c,
		   void (*fn)(void *arg, const struct gate_info *gi),
		   void *arg)
{
	struct gate_info gi;
	struct gate *g;

	for (g = c->gates ? c->gates->list : NULL; g != NULL; g = g->next) {
		gi.id = g->id;
		gi.name = g->name;
		gi.addrs = g->naddrs;
		gi.subs = g->subs.n;
		gi.pkts_in = g->pkts_in;
		gi.pkts_out = g->pkts_out;
		gi.drops = g->drops;
		fn(arg, &gi);
	}
}

static struct gate *gate_by_id(struct cloud *c, uint32_t id)
{
	struct gate *g;

	if (c->gates == NULL)
		return NULL;
	for (g = c->gates->list; g != NULL && g->id != id; g = g->next)
		;
	return g != NULL && g->hello ? g : NULL;
}

/* NOROUTE_PER_S a second at most: a gate sending to nowhere in a loop
 * hears of it, without us writing as much as it sends. */
void gate_noroute(struct cloud *c, uint32_t gate, const struct pkt *p)
{
	struct gate *g = gate_by_id(c, gate);
	struct gp_noroute nr = { .inst = p->inst, .dlen = p->dlen };
	uint64_t sec = now_ns() / 1000000000ull;
	uint8_t *b;
	size_t n;

	if (g == NULL || !(g->caps & GP_CAP_NOROUTE))
		return;
	if (sec != g->noroute_sec) {
		g->noroute_sec = sec;
		g->noroute_n = 0;
	}
	if (g->noroute_n >= NOROUTE_PER_S)
		return;
	memcpy(nr.dst, p->dst, p->dlen);
	b = gate_room(g, GP_HDR + GP_NOROUTE_BYTES);
	if (b == NULL ||
	    !(n = gp_noroute_encode(b, GP_HDR + GP_NOROUTE_BYTES, &nr)))
		return;
	g->noroute_n++;
	gate_queued(g, n);
}

void gate_link_event(struct cloud *c, uint32_t gate, int up,
		     const struct node_id *id, const char *why)
{
	struct gp_link lk = { .up = up };
	struct gate *g = gate_by_id(c, gate);
	uint8_t *b;
	size_t i, n;

	if (g == NULL)
		return;
	memcpy(lk.id, id->b, GP_ID_LEN);
	for (i = 0; why[i] != '\0' && i < GP_WHY_MAX; i++)
		lk.why[i] = why[i] >= 0x20 && why[i] <= 0x7e ? why[i] : '?';
	lk.why[i] = '\0';
	b = gate_room(g, GP_HDR + GP_LINK_BYTES);
	if (b == NULL || !(n = gp_link_encode(b, GP_HDR + GP_LINK_BYTES, &lk)))
		return;
	gate_queued(g, n);
	/* a link may end after this loop turn's flush: write when we can */
	ev_io_start(c->loop, &g->wio);
}
