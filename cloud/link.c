/*
 * The link state machine: handshake (the transport's) -> hello -> up,
 * keepalive and RTT, frame dispatch, rekeying, and the output queues
 * (control ahead of data). How bytes cross the network is the transport's
 * business (xport.h). A link is closed only from the loop's prepare
 * callback (link_fail marks it), so no callback ever runs on a freed link.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "admit.h"
#include "bytes.h"
#include "cloud.h"
#include "conf.h"
#include "fwd.h"
#include "gate.h"
#include "gso.h"
#include "limit.h"
#include "link.h"
#include "log.h"
#include "mesh.h"
#include "net.h"
#include "origin.h"
#include "rframe.h"
#include "route.h"
#include "tcp.h"
#include "tls.h"
#include "udp.h"
#include "winmin.h"
#include "wire.h"
#include "xport.h"

#define CTRL_CAP (8 * 1024 * 1024)	/* routes are never dropped; a full
					 * table of ~150k routes fits, and
					 * only touched pages cost memory */
/* data is dropped past max_waiting_data_size, early from half of it */
#define SYNC_LOW (256 * 1024)		/* a full table is streamed into the
					 * control queue while below this */
#define SYNC_ROUNDS 1024		/* chunks per loop iteration at most */
/* After the hello, a few pings come quickly: the first RTT is often taken
 * while the machine is busy with handshakes, and a link's cost (and its
 * node record) should not wait 8 keepalives to learn better. */
#define PROBES 4
#define PROBE_US 250000
#define ROUTES_PER_FRAME (FRAME_MAX / ROUTE_ENTRY_FIXED)
#define SEG_MIN_PAYLOAD 536		/* smaller segments: fragment instead */
#define LINK_REASON_MAX 192

enum link_state { LS_HANDSHAKE, LS_HELLO, LS_UP };

static const char *state_name[] = { "handshake", "hello", "up" };

struct link {
	struct link *next, *dirty_next;
	struct links *ls;
	struct connector *conn;		/* outbound: retried when we die */
	const struct xport_ops *xo;
	struct link_io io;
	uint32_t id;
	enum link_state st;
	int dirty;
	const char *doomed;		/* why it must close, or NULL */
	ev_timer timer;
	uint64_t t_start, last_rx, srtt_us, rekey_at;
	uint64_t ping_sent;		/* the ping in flight, 0 if none */
	int late;			/* srtt raised by an unanswered ping */
	int probes;			/* quick pings still to send */
	struct winmin minrtt;		/* the path's delay: its cost */
	uint32_t peer_caps;		/* WIRE_CAP_* of its hello */
	uint32_t cost_told;		/* cost the routes were last told */
	uint64_t pkts_in, pkts_out;
	uint64_t drops[LINK_DROPS];
	enum link_hs hs_why;		/* if it ends before it is up */
	int syncing;			/* its full table is on its way */
	uint64_t refused_log;		/* when we last logged refusals */
	uint32_t gate;			/* handed by this gate, 0 if not */
	struct node_id want;		/* handed: the node it must lead to */
	char reason[LINK_REASON_MAX];	/* a refusal's words (l->doomed) */
	struct lim_conn up, down;	/* bandwidth limits (limit.h) */
	ev_timer lim_timer;		/* wakes a link its limits held */
};

struct links {
	struct cloud *c;
	struct tls *tls;
	struct net *net;
	struct udp *udp;
	struct link *list, *dirty;
	struct link **by_id;		/* peer id - 1 -> link */
	uint32_t nids;
	unsigned count;
	unsigned nsyncing;		/* links with syncing set */
	uint64_t hs_failed[LINK_HS_N];	/* links that ended before up */
	uint64_t keepalive_us, timeout_us, rekey_us;
	uint64_t report_us;		/* report_ping_changes_above */
	size_t data_cap;		/* max_waiting_data_size */
	size_t red_min;			/* red-ratio percent of it */
	struct lim_total up_total, down_total;
	uint64_t up_rate, up_burst, down_rate, down_burst;
	ev_prepare flusher;
	struct route_update *scratch;	/* decoded routes of one frame */
	uint8_t *seg;			/* one segment being cut (GSO) */
	uint64_t rng;
};

static void link_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void link_lim_init(struct link *l);

/* xorshift64*: for early drops and jitter only, never for identities. */
static uint32_t links_rand(struct links *ls)
{
	ls->rng ^= ls->rng >> 12;
	ls->rng ^= ls->rng << 25;
	ls->rng ^= ls->rng >> 27;
	return (uint32_t)((ls->rng * 2685821657736338717ull) >> 32);
}

void link_mark(struct link *l)
{
	if (l->dirty)
		return;
	l->dirty = 1;
	l->dirty_next = l->ls->dirty;
	l->ls->dirty = l;
}

void link_fail(struct link *l, const char *why)
{
	if (!l->doomed)
		l->doomed = why;
	link_mark(l);
}

void link_hs_fail(struct link *l, enum link_hs why, const char *text)
{
	if (!l->doomed)
		l->hs_why = why;
	link_fail(l, text);
}

int link_doomed(const struct link *l)
{
	return l->doomed != NULL;
}

struct link_io *link_io(struct link *l)
{
	return &l->io;
}

const struct link_io *link_io_c(const struct link *l)
{
	return &l->io;
}

void link_heard(struct link *l)
{
	l->last_rx = now_ns();
}

/*
 * Metric units of 10 us; a link never costs less than 1. The cost is the
 * least RTT of the last 8 to 16 pings, the path's delay without its
 * queues: a loaded link would otherwise look longer, its routes would
 * turn infeasible, and traffic would swing from path to path with the
 * load. A link whose ping is late costs what it has kept us waiting.
 * Before its first pong a link costs HOP_COST. (Its handshake's time as
 * the first sample cut the seqno moves of a busy mesh's start, 1564 to
 * 91 at 100 nodes, but raised the idle traffic of 12 nodes under ASan in
 * CI: not kept, see issue 15.)
 */
static uint32_t link_cost(const struct link *l)
{
	uint64_t rtt = l->late ? l->srtt_us : winmin_get(&l->minrtt);
	uint64_t cost = rtt ? rtt / 10 : HOP_COST;

	return cost ? (uint32_t)(cost > 1000000 ? 1000000 : cost) : 1;
}

/* A new RTT: the routes hear of it when the cost moved by more than
 * report_ping_changes_above (microseconds, as classic), so RTT noise does
 * not re-announce every route at every ping. */
static void link_cost_update(struct link *l)
{
	uint32_t cost = link_cost(l);
	uint64_t moved = cost > l->cost_told ? cost - l->cost_told :
					       l->cost_told - cost;

	if (moved == 0 || moved * 10 <= l->ls->report_us)
		return;
	if (l->ls->report_us)	/* (without one, every move: too many) */
		log_debug("link %s: cost %u told to the routes (was %u%s)",
			  l->io.peer.name, cost, l->cost_told,
			  l->late ? ", late" : "");
	l->cost_told = cost;
	route_peer_cost(l->ls->c->rt, l->id, cost);
}

/* ---- id table ---------------------------------------------------------- */

static int link_take_id(struct links *ls, struct link *l)
{
	uint32_t i, n;
	struct link **t;

	for (i = 0; i < ls->nids; i++)
		if (!ls->by_id[i])
			goto found;
	n = ls->nids ? ls->nids * 2 : 16;
	t = realloc(ls->by_id, n * sizeof(*t));
	if (!t)
		return -1;
	memset(t + ls->nids, 0, (n - ls->nids) * sizeof(*t));
	ls->by_id = t;
	i = ls->nids;
	ls->nids = n;
found:
	ls->by_id[i] = l;
	l->id = i + 1;
	return 0;
}

struct link *links_by_peer(struct cloud *c, uint32_t peer)
{
	struct links *ls = c->links;

	if (peer == 0 || peer > ls->nids)
		return NULL;
	return ls->by_id[peer - 1];
}

uint32_t link_peer(const struct link *l)
{
	return l->id;
}

const char *links_peer_name(struct cloud *c, uint32_t peer)
{
	struct link *l = links_by_peer(c, peer);

	return l ? l->io.peer.name : "?";
}

unsigned links_count(struct cloud *c)
{
	return c->links->count;
}

struct link *links_first(struct cloud *c)
{
	return c->links->list;
}

struct link *link_next(const struct link *l)
{
	return l->next;
}

/* ---- life and death ------------------------------------------------------ */

struct link *link_new(struct cloud *c, const char *addr, int is_server)
{
	struct links *ls = c->links;
	struct link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->ls = ls;
	l->io.peer.is_server = is_server;
	snprintf(l->io.addr, sizeof(l->io.addr), "%s", addr);
	l->t_start = l->last_rx = now_ns();
	winmin_init(&l->minrtt);
	if (queue_init(&l->io.ctrl, CTRL_CAP) ||
	    queue_init(&l->io.data, ls->data_cap) || link_take_id(ls, l)) {
		queue_free(&l->io.ctrl);
		queue_free(&l->io.data);
		free(l);
		return NULL;
	}
	ev_timer_init(&l->timer, link_timer_cb, HANDSHAKE_TIMEOUT_US / 1e6,
		      ls->keepalive_us / 1e6);
	l->timer.data = l;
	/* after the sockets' watchers of the same loop iteration: when the
	 * loop was held up for longer than the timeout (a big table under
	 * ASan), what the peer sent meanwhile is read before we look */
	ev_set_priority(&l->timer, -1);
	ev_timer_start(c->loop, &l->timer);
	link_lim_init(l);
	l->next = ls->list;
	ls->list = l;
	ls->count++;
	return l;
}

void link_attach(struct link *l, const struct xport_ops *ops, void *x)
{
	l->xo = ops;
	l->io.x = x;
}

void link_set_connector(struct link *l, struct connector *cn)
{
	l->conn = cn;
}

void link_set_handed(struct link *l, const struct node_id *want,
		     uint32_t gate)
{
	l->want = *want;
	l->gate = gate;
}

unsigned links_handed(struct cloud *c, uint32_t gate)
{
	struct link *l;
	unsigned n = 0;

	for (l = c->links->list; l; l = l->next)
		n += l->gate == gate && !l->doomed;
	return n;
}

static void link_unlist(struct link *l)
{
	struct links *ls = l->ls;
	struct link **pp;

	for (pp = &ls->list; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	for (pp = &ls->dirty; *pp; pp = &(*pp)->dirty_next)
		if (*pp == l) {
			*pp = l->dirty_next;
			break;
		}
	ls->by_id[l->id - 1] = NULL;
	ls->count--;
	ls->nsyncing -= l->syncing;
}

/* Inbound, not handed by a gate, not authenticated: anyone at all. */
static int link_stranger(const struct link *l)
{
	return l->io.peer.is_server && !l->gate && l->st == LS_HANDSHAKE;
}

void link_close_now(struct link *l, const char *why)
{
	struct links *ls = l->ls;
	int was_up = l->st == LS_UP;

	if (was_up)
		log_info("link %s (%s) down: %s", l->io.peer.name, l->io.addr,
			 why);
	else if (link_stranger(l))	/* its failure, if any, was logged */
		log_debug("link %s: closed: %s", l->io.addr, why);
	else
		log_info("link %s: closed: %s", l->io.addr, why);
	ev_timer_stop(ls->c->loop, &l->timer);
	ev_timer_stop(ls->c->loop, &l->lim_timer);
	lim_conn_leave(&l->up);
	lim_conn_leave(&l->down);
	link_unlist(l);
	if (!was_up)
		ls->hs_failed[l->hs_why]++;
	/* only now: the route module may call back with updates */
	if (was_up) {
		route_peer_down(ls->c->rt, l->id);
		origins_peer_reset(ls->c->origins, l->id);
		mesh_link_down(ls->c, &l->io.peer.id, why);
	}
	if (l->xo)
		l->xo->free(l);
	if (l->conn)
		net_link_down(l->conn, was_up);
	if (l->gate)
		gate_link_event(ls->c, l->gate, 0, &l->want, why);
	queue_free(&l->io.ctrl);
	queue_free(&l->io.data);
	free(l);
}

/* ---- output ------------------------------------------------------------- */

uint8_t *link_ctrl_frame(struct link *l, size_t plen)
{
	uint8_t *p;

	if (l->st == LS_HANDSHAKE || l->doomed)
		return NULL;
	if (!(p = queue_reserve(&l->io.ctrl, FRAME_HDR + plen))) {
		link_fail(l, "control queue overflow (peer too slow)");
		return NULL;
	}
	link_mark(l);	/* the header is written by link_ctrl_commit */
	return p + FRAME_HDR;
}

size_t link_ctrl_queued(const struct link *l)
{
	return queue_len(&l->io.ctrl);
}

void link_resync(struct link *l)
{
	route_resync(l->ls->c->rt, l->id);
	if (l->syncing)
		return;
	l->syncing = 1;
	l->ls->nsyncing++;
}

void link_ctrl_commit(struct link *l, uint8_t type, size_t plen)
{
	uint8_t *p = l->io.ctrl.buf + l->io.ctrl.tail;

	wire_put_hdr(p, type, plen);
	queue_commit(&l->io.ctrl, FRAME_HDR + plen);
}

static void send_ping(struct link *l, uint8_t type, uint64_t stamp)
{
	uint8_t *p = link_ctrl_frame(l, 8);

	if (!p)
		return;
	put64(p, stamp);
	link_ctrl_commit(l, type, 8);
}

static void send_hello(struct link *l)
{
	struct cloud *c = l->ls->c;
	struct wire_hello h = { .version = PROTO_VERSION,
				.caps = WIRE_CAP_FLOW | WIRE_CAP_NODE };
	uint8_t *p = link_ctrl_frame(l, WIRE_HELLO_MAX);

	if (!p)
		return;
	h.id = c->self;
	snprintf(h.name, sizeof(h.name), "%s", c->name);
	link_ctrl_commit(l, FR_HELLO,
			 wire_hello_encode(&h, p, WIRE_HELLO_MAX));
}

static int queue_data(struct link *l, const struct pkt *p)
{
	uint8_t *b = queue_reserve(&l->io.data, WIRE_DATA_HDR_MAX + p->len);
	size_t h;

	if (!b)
		return -1;
	h = wire_data_hdr(p, b);
	memcpy(b + h, p->data, p->len);
	queue_commit(&l->io.data, h + p->len);
	l->pkts_out++;
	return 0;
}

struct seg_ctx {
	struct link *l;
	const struct pkt *p;
	int dropped;
};

static void queue_seg(void *arg, const uint8_t *frame, size_t len)
{
	struct seg_ctx *s = arg;
	struct pkt seg = *s->p;

	seg.flags &= (uint8_t)~PKT_OFFLOAD;
	seg.data = frame;
	seg.len = len;
	if (queue_data(s->l, &seg) < 0)
		s->dropped++;
}

/* An offloaded super-segment the transport cannot carry whole is cut
 * here, into segments that each fit one datagram. */
static int queue_cut(struct link *l, const struct pkt *p, size_t max)
{
	struct seg_ctx s = { l, p, 0 };
	size_t hl = gso_hdr_len(p->data, p->len);
	size_t hdr = wire_data_fixed(p) + p->dlen + p->slen + hl;

	if (!hl || max < hdr + SEG_MIN_PAYLOAD ||
	    gso_split_mss(p->data, p->len, max - hdr, l->ls->seg,
			  GSO_FRAME_MAX, queue_seg, &s) < 0)
		return queue_data(l, p);	/* the transport fragments it */
	return s.dropped ? -1 : 0;
}

/* Relayed packets meet random early drop past half the data queue; a
 * local gate's do not: the gate is paced instead (link_busy). */
static int link_send(struct link *l, const struct pkt *p, int red)
{
	struct links *ls = l->ls;
	size_t max = l->xo->data_max(l);
	struct pkt bare;
	int r;

	if (l->st != LS_UP)
		return l->drops[LINK_DROP_DOWN]++, -1;
	if (red && queue_red_drop(&l->io.data, ls->red_min, links_rand(ls)))
		return l->drops[LINK_DROP_RED]++, -1;
	if (p->flow && !(l->peer_caps & WIRE_CAP_FLOW)) {
		bare = *p;	/* a peer from before flows */
		bare.flow = 0;
		p = &bare;
	}
	if (max && (p->flags & PKT_OFFLOAD) &&
	    wire_data_fixed(p) + p->dlen + p->slen + p->len > max)
		r = queue_cut(l, p, max);
	else
		r = queue_data(l, p);
	if (r < 0)
		return l->drops[LINK_DROP_FULL]++, -1;
	link_mark(l);
	return 0;
}

int link_send_data(struct link *l, const struct pkt *p)
{
	return link_send(l, p, 1);
}

int link_send_local(struct link *l, const struct pkt *p)
{
	return link_send(l, p, 0);
}

int link_busy(const struct link *l)
{
	return queue_len(&l->io.data) > l->ls->data_cap / 2;
}

int link_drained(const struct link *l)
{
	return queue_len(&l->io.data) <= l->ls->data_cap / 4;
}

void links_broadcast(struct cloud *c, const struct link *except,
		     const struct pkt *p)
{
	struct link *l;

	for (l = c->links->list; l; l = l->next)
		if (l != except && l->st == LS_UP)
			link_send_data(l, p);
}

/* ---- input -------------------------------------------------------------- */

/* The link timer's period, in seconds: quick while probing. */
static double link_tick_s(const struct link *l)
{
	return (l->probes ? PROBE_US : l->ls->keepalive_us) / 1e6;
}

static int frame_hello(struct link *l, const uint8_t *p, size_t len)
{
	struct cloud *c = l->ls->c;
	struct wire_hello h;
	uint64_t hs_us;

	if (l->st != LS_HELLO || wire_hello_decode(p, len, &h) < 0)
		return link_hs_fail(l, LINK_HS_HELLO, "malformed hello"), -1;
	if (h.version != PROTO_VERSION) {
		log_warnx("link %s: peer speaks protocol version %u, we speak %u",
			  l->io.addr, h.version, PROTO_VERSION);
		return link_hs_fail(l, LINK_HS_HELLO,
				    "protocol version mismatch"), -1;
	}
	if (memcmp(h.id.b, l->io.peer.id.b, NODE_ID_LEN))
		return link_hs_fail(l, LINK_HS_HELLO,
				    "hello id does not match certificate"), -1;
	if (!memcmp(h.id.b, c->self.b, NODE_ID_LEN))
		return link_hs_fail(l, LINK_HS_SELF, "connected to itself"), -1;
	l->st = LS_UP;
	l->peer_caps = h.caps;
	l->ping_sent = now_ns();
	hs_us = (l->ping_sent - l->t_start) / 1000 + 1;
	log_info("link %s (%s) up over %s, handshake %llu us",
		 l->io.peer.name, l->io.addr, l->xo->name,
		 (unsigned long long)hs_us);
	ev_timer_stop(c->loop, &l->timer);
	l->probes = l->ls->keepalive_us > PROBE_US ? PROBES : 0;
	ev_timer_set(&l->timer, link_tick_s(l), link_tick_s(l));
	ev_timer_start(c->loop, &l->timer);
	l->rekey_at = l->ping_sent + l->ls->rekey_us * 1000;
	send_ping(l, FR_PING, l->ping_sent);
	origins_peer_reset(c->origins, l->id);
	l->cost_told = link_cost(l);
	route_peer_up(c->rt, l->id, l->cost_told);
	l->syncing = 1;
	l->ls->nsyncing++;
	mesh_link_up(c, l);
	if (l->gate)
		gate_link_event(c, l->gate, 1, &l->want, "");
	return 0;
}

static void frame_pong(struct link *l, const uint8_t *p, size_t len)
{
	uint64_t sent, rtt;

	if (len != 8)
		return;
	sent = get64(p);
	if (sent != l->ping_sent || !sent)
		return;
	rtt = (now_ns() - sent) / 1000;
	/* a guess raised by lateness gives way to the first real sample */
	l->srtt_us = l->srtt_us && !l->late ? (7 * l->srtt_us + rtt) / 8 : rtt;
	l->late = 0;
	l->ping_sent = 0;
	winmin_add(&l->minrtt, rtt);
	link_cost_update(l);
	mesh_link_rtt(l->ls->c);
}

static int frame_route(struct link *l, const uint8_t *p, size_t len)
{
	struct links *ls = l->ls;
	size_t n;
	int refused;

	if (route_decode(p, len, ls->scratch, ROUTES_PER_FRAME, &n) < 0)
		return link_fail(l, "malformed route update"), -1;
	refused = route_recv(ls->c->rt, l->id, ls->scratch, n);
	if (refused > 0 && now_ns() - l->refused_log > 60000000000ull) {
		l->refused_log = now_ns();
		log_warnx("link %s: refused %d routes (limits, grants or "
			  "signatures; logged at most once a minute)",
			  l->io.peer.name, refused);
	}
	return 0;
}

static int frame_cert(struct link *l, const uint8_t *p, size_t len)
{
	if (origins_recv_cert(l->ls->c->origins, l->id, p, len) < 0)
		return link_fail(l, "malformed certificate frame"), -1;
	return 0;
}

static int frame_seqreq(struct link *l, const uint8_t *p, size_t len)
{
	struct route_seqreq r;

	if (route_seqreq_decode(p, len, &r) < 0)
		return link_fail(l, "malformed seqno request"), -1;
	route_recv_seqreq(l->ls->c->rt, l->id, &r);
	return 0;
}

static int frame_data(struct link *l, const uint8_t *p, size_t len)
{
	struct pkt pk;

	if (wire_data_decode(p, len, &pk) < 0)
		return link_fail(l, "malformed data frame"), -1;
	l->pkts_in++;
	fwd_from_link(l->ls->c, l, &pk);
	return 0;
}

int link_rx_frame(struct link *l, uint8_t type, const uint8_t *p,
		  size_t len)
{
	if (l->doomed)
		return -1;
	if (type != FR_HELLO && l->st != LS_UP)
		return link_fail(l, "frame before hello"), -1;
	switch (type) {
	case FR_HELLO:
		return frame_hello(l, p, len);
	case FR_PING:
		if (len == 8)
			send_ping(l, FR_PONG, get64(p));
		return 0;
	case FR_PONG:
		frame_pong(l, p, len);
		return 0;
	case FR_ROUTE:
		return frame_route(l, p, len);
	case FR_SEQREQ:
		return frame_seqreq(l, p, len);
	case FR_CERT:
		return frame_cert(l, p, len);
	case FR_NODE:
		if (mesh_recv(l->ls->c, l->id, p, len) < 0)
			return link_fail(l, "malformed node record"), -1;
		return 0;
	case FR_DATA:
		return frame_data(l, p, len);
	case FR_BYE:
		return link_fail(l, "closed by peer"), -1;
	}
	return link_fail(l, "unknown frame type"), -1;
}

int link_rx_stream(struct link *l, struct queue *in)
{
	while (queue_len(in)) {
		const uint8_t *p = in->buf + in->head;
		size_t len = queue_len(in), plen;
		uint8_t type;
		int r = wire_frame(p, len, FRAME_MAX, &type, &plen);

		if (r < 0)
			return link_fail(l, "frame too large"), -1;
		if (r == 0 || len < FRAME_HDR + plen)
			return 0;
		if (link_rx_frame(l, type, p + FRAME_HDR, plen) < 0)
			return -1;
		queue_consume(in, FRAME_HDR + plen);
	}
	return 0;
}

static void hex8(const uint8_t *b, char *out)
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* A handed socket leads where the gate said, or nowhere. */
static int link_unexpected(struct link *l)
{
	char got[17], want[17];

	if (!l->gate || !memcmp(l->io.peer.id.b, l->want.b, NODE_ID_LEN))
		return 0;
	hex8(l->io.peer.id.b, got);
	hex8(l->want.b, want);
	snprintf(l->reason, sizeof(l->reason),
		 "node %s (id %s) is not the expected node %s",
		 l->io.peer.name, got, want);
	log_warnx("link %s: refused: %s", l->io.addr, l->reason);
	l->xo->bye(l);	/* the peer hears it now, not at its timeout */
	link_hs_fail(l, LINK_HS_UNEXPECTED, l->reason);
	return 1;
}

int link_log_early(struct link *l)
{
	return !link_stranger(l) || admit_log_ok(l->ls->c);
}

/* One certified node holds max_links_per_node links at most, so a stolen
 * or rogue certificate cannot fill max_connections by itself. */
static int link_crowded(struct link *l)
{
	if (admit_node(l->ls->c, l) == 0)
		return 0;
	snprintf(l->reason, sizeof(l->reason),
		 "node %s already holds max_links_per_node links",
		 l->io.peer.name);
	if (admit_log_ok(l->ls->c))
		log_warnx("link %s: refused: %s", l->io.addr, l->reason);
	l->xo->bye(l);
	link_hs_fail(l, LINK_HS_CROWDED, l->reason);
	return 1;
}

void link_secured(struct link *l)
{
	if (link_unexpected(l) || link_crowded(l))
		return;
	l->st = LS_HELLO;
	l->last_rx = now_ns();
	log_debug("link %s: %s up with %s", l->io.addr, l->xo->name,
		  l->io.peer.name);
	send_hello(l);
}

/* Each tick also asks the transport whether the peer's certificate still
 * holds (tls_recheck: its expiry, cheaply), so a link outlives it by one
 * conn_keepalive at most. */
static void link_keepalive(struct link *l, uint64_t now)
{
	const char *bad;

	if ((bad = l->xo->recheck(l))) {
		log_warnx("link %s (%s): %s", l->io.peer.name, l->io.addr,
			  bad);
		link_fail(l, bad);
		return;
	}
	if (l->ls->rekey_us && now >= l->rekey_at) {
		l->rekey_at = now + l->ls->rekey_us * 1000;
		l->xo->rekey(l);
	}
	if (l->ping_sent) {
		/* still unanswered: the link is at least this slow, so routes
		 * move away from a silent link long before conn_timeout */
		uint64_t waited = (now - l->ping_sent) / 1000;

		if (waited > l->srtt_us) {
			l->srtt_us = waited;
			l->late = 1;
			link_cost_update(l);
		}
		/* the pong may wait behind a big table the peer is sending us;
		 * a ping of its own keeps the peer hearing from us meanwhile
		 * (its pong does not match ping_sent and is ignored) */
		send_ping(l, FR_PING, now);
		return;
	}
	l->ping_sent = now;
	send_ping(l, FR_PING, now);
}

/* A quick ping after the hello: one at a time, never taken for late;
 * after the last, the timer goes back to conn_keepalive. */
static void link_probe(struct link *l, uint64_t now)
{
	if (!l->ping_sent) {
		l->ping_sent = now;
		send_ping(l, FR_PING, now);
	}
	if (--l->probes == 0) {
		l->timer.repeat = link_tick_s(l);
		ev_timer_again(l->ls->c->loop, &l->timer);
	}
}

static void link_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct link *l = w->data;
	uint64_t now = now_ns();

	(void)loop;
	(void)revents;
	if (l->st != LS_UP)
		link_hs_fail(l, LINK_HS_TIMEOUT, "handshake timed out");
	else if (now - l->last_rx > l->ls->timeout_us * 1000)
		link_fail(l, "timed out (no data from peer)");
	else if (l->probes)
		link_probe(l, now);
	else
		link_keepalive(l, now);
}

/*
 * Stream l's full table while its control queue is short: pull a chunk,
 * flush, again. The loop stops where the transport cannot take more (it
 * then waits for the socket, or the peer's acknowledgements, and the next
 * loop iteration goes on from here).
 */
static void link_sync(struct link *l)
{
	int rounds = 0;

	while (l->syncing && !l->doomed && rounds++ < SYNC_ROUNDS &&
	       queue_len(&l->io.ctrl) < SYNC_LOW) {
		if (!rframe_sync(l->ls->c, l)) {
			l->syncing = 0;
			l->ls->nsyncing--;
		}
		l->xo->flush(l);
	}
}

/* Before the loop sleeps: stream full tables, close doomed links, flush
 * the rest, batching every packet of one loop iteration into as few
 * records as fit. */
static void links_prepare_cb(struct ev_loop *loop, ev_prepare *w, int rev)
{
	struct links *ls = w->data;
	struct link *l;

	(void)loop;
	(void)rev;
	for (l = ls->nsyncing ? ls->list : NULL; l; l = l->next)
		link_sync(l);
	while ((l = ls->dirty)) {
		ls->dirty = l->dirty_next;
		l->dirty = 0;
		if (!l->doomed && l->xo)
			l->xo->flush(l);
		if (!queue_len(&l->io.data))
			lim_idle(&l->up);
		if (l->doomed)
			link_close_now(l, l->doomed);
	}
}

/* ---- setup, teardown, status ---------------------------------------------- */

static void link_lim_set(struct link *l, uint64_t now);

/* uplimit-*, downlimit-*: at start, or live (a reload), when every link
 * takes the new rates and none is dropped. */
static int links_lim_conf(struct links *ls, const struct conf *conf,
			  int live)
{
	uint64_t up_total, down_total, now = now_ns();
	struct link *l;

	if (lim_conf(conf, "uplimit-total", &up_total) < 0 ||
	    lim_conf(conf, "uplimit-conn", &ls->up_rate) < 0 ||
	    lim_conf(conf, "uplimit-burst", &ls->up_burst) < 0 ||
	    lim_conf(conf, "downlimit-total", &down_total) < 0 ||
	    lim_conf(conf, "downlimit-conn", &ls->down_rate) < 0 ||
	    lim_conf(conf, "downlimit-burst", &ls->down_burst) < 0)
		return -1;
	if (!live) {
		lim_total_init(&ls->up_total, up_total, ls->up_burst, now);
		lim_total_init(&ls->down_total, down_total, ls->down_burst ?
			       ls->down_burst : lim_down_burst(down_total),
			       now);
		return 0;
	}
	lim_bucket_set(&ls->up_total.b, up_total, ls->up_burst, now);
	lim_bucket_set(&ls->down_total.b, down_total, ls->down_burst ?
		       ls->down_burst : lim_down_burst(down_total), now);
	for (l = ls->list; l; l = l->next)
		link_lim_set(l, now);
	return 0;
}

int links_limits(struct cloud *c, const struct conf *conf)
{
	struct links *ls = c->links;

	ls->red_min = ls->data_cap * (size_t)conf_int(conf, "red-ratio") / 100;
	return links_lim_conf(ls, conf, 1);
}

struct net *links_net(struct cloud *c)
{
	return c->links->net;
}

static int links_conf(struct links *ls, const struct conf *conf)
{
	ls->keepalive_us = conf_us(conf, "conn_keepalive");
	ls->timeout_us = conf_us(conf, "conn_timeout");
	ls->rekey_us = conf_us(conf, "rekey_interval");
	ls->report_us = conf_us(conf, "report_ping_changes_above");
	ls->data_cap = (size_t)conf_int(conf, "max_waiting_data_size");
	ls->red_min = ls->data_cap * (size_t)conf_int(conf, "red-ratio") / 100;
	if (links_lim_conf(ls, conf, 0) < 0)
		return -1;
	if (ls->keepalive_us < 10000)
		ls->keepalive_us = 10000;
	if (getrandom(&ls->rng, sizeof(ls->rng), 0) != sizeof(ls->rng) ||
	    !ls->rng)
		ls->rng = now_ns() | 1;
	ls->scratch = calloc(ROUTES_PER_FRAME, sizeof(*ls->scratch));
	ls->seg = malloc(GSO_FRAME_MAX);
	return ls->scratch && ls->seg ? 0 : -1;
}

/* A connect line is gone: its link closes, and nothing reconnects it. */
static void links_unlink(struct cloud *c, struct connector *cn,
			 const char *why)
{
	struct link *l;

	for (l = c->links->list; l; l = l->next)
		if (l->conn == cn) {
			l->conn = NULL;
			link_fail(l, why);
		}
}

int links_init(struct cloud *c)
{
	static const struct net_ops nops = { tcp_accepted, tcp_connected,
					     udp_bound, udp_connected,
					     udp_unbound, links_unlink };
	struct links *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -1;
	c->links = ls;
	ls->c = c;
	if (links_conf(ls, c->conf) < 0 || admit_init(c) < 0 ||
	    !(ls->tls = tls_new(c->conf)))
		return -1;
	c->self = *tls_self_id(ls->tls);
	snprintf(c->name, sizeof(c->name), "%s", tls_self_name(ls->tls));
	ev_prepare_init(&ls->flusher, links_prepare_cb);
	ls->flusher.data = ls;
	ev_prepare_start(c->loop, &ls->flusher);
	if (!(ls->udp = udp_new(c, ls->tls)) ||
	    !(ls->net = net_new(c, &nops)))
		return -1;
	return 0;
}

struct tls *links_tls(struct cloud *c)
{
	return c->links->tls;
}

struct udp *links_udp(struct cloud *c)
{
	return c->links->udp;
}

int links_reload(struct cloud *c)
{
	struct links *ls = c->links;
	struct link *l;
	const char *bad;
	int closed = 0;

	if (tls_reload(ls->tls, c->conf) < 0)
		return -1;
	origins_recheck(c->origins);
	for (l = ls->list; l; l = l->next) {
		if (l->st < LS_HELLO || l->doomed)
			continue;
		if ((bad = l->xo->recheck(l))) {
			log_warnx("link %s (%s): refused after reload: %s",
				  l->io.peer.name, l->io.addr, bad);
			link_fail(l, "certificate no longer accepted");
			closed++;
		}
	}
	return closed;
}

void links_shutdown(struct cloud *c)
{
	struct links *ls = c->links;
	struct link *l;

	if (!ls)
		return;
	for (l = ls->list; l; l = l->next) {
		if (l->st == LS_UP && !l->doomed) {
			/* best effort: one try, we do not wait for slow peers */
			if (link_ctrl_frame(l, 0))
				link_ctrl_commit(l, FR_BYE, 0);
			l->xo->flush(l);
			l->xo->bye(l);
		}
		l->conn = NULL;
	}
	while (ls->list)
		link_close_now(ls->list, "shutting down");
	net_free(ls->net);
	udp_free(ls->udp);
	ev_prepare_stop(c->loop, &ls->flusher);
	tls_free(ls->tls);
	admit_free(c);
	free(ls->scratch);
	free(ls->seg);
	free(ls->by_id);
	free(ls);
	c->links = NULL;
}

void link_info(const struct link *l, struct link_info *i)
{
	int k;

	memset(i, 0, sizeof(*i));
	i->up = l->st == LS_UP;
	i->verified = l->st >= LS_HELLO;
	i->state = state_name[l->st];
	i->peer = &l->io.peer;
	i->handed = l->gate != 0;
	i->addr = l->io.addr;
	i->t_start = l->t_start;
	i->doomed = l->doomed != NULL;
	i->srtt_us = l->srtt_us;
	i->caps = l->peer_caps;
	i->cost = link_cost(l);
	i->bytes_in = l->io.bytes_in;
	i->bytes_out = l->io.bytes_out;
	i->pkts_in = l->pkts_in;
	i->pkts_out = l->pkts_out;
	for (k = 0; k < LINK_DROPS; k++) {
		i->drop[k] = l->drops[k];
		i->drops += l->drops[k];
	}
	i->fig.name = "-";
	if (l->xo)
		l->xo->figures(l, &i->fig);
}

void links_hs_failures(struct cloud *c, uint64_t n[LINK_HS_N])
{
	memcpy(n, c->links->hs_failed, sizeof(c->links->hs_failed));
}

/* ---- bandwidth limits (limit.h) -------------------------------------------- */

static void link_lim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	link_mark(w->data);
}

/* Downloads are paused by not reading, which also holds back the peer's
 * pings: never longer than a quarter of conn_keepalive at a time. */
static void link_lim_init(struct link *l)
{
	struct links *ls = l->ls;
	uint64_t now = now_ns();

	lim_conn_init(&l->up, &ls->up_total, ls->up_rate, ls->up_burst, 0,
		      now);
	lim_conn_init(&l->down, &ls->down_total, ls->down_rate,
		      ls->down_burst ? ls->down_burst
				     : lim_down_burst(ls->down_rate),
		      ls->keepalive_us * 1000 / 4, now);
	ev_timer_init(&l->lim_timer, link_lim_cb, 0., 0.);
	l->lim_timer.data = l;
}

/* New rates: a link its old limits held is woken to ask again. */
static void link_lim_set(struct link *l, uint64_t now)
{
	struct links *ls = l->ls;

	lim_bucket_set(&l->up.b, ls->up_rate, ls->up_burst, now);
	lim_bucket_set(&l->down.b, ls->down_rate, ls->down_burst ?
		       ls->down_burst : lim_down_burst(ls->down_rate), now);
	ev_timer_stop(ls->c->loop, &l->lim_timer);
	link_mark(l);
}

static int link_lim_may(struct link *l, struct lim_conn *c)
{
	struct ev_loop *loop = l->ls->c->loop;
	uint64_t wait;

	if (!lim_active(c) || lim_may(c, now_ns(), &wait))
		return 1;
	if (ev_is_active(&l->lim_timer) &&
	    ev_timer_remaining(loop, &l->lim_timer) <= wait / 1e9)
		return 0;
	ev_timer_stop(loop, &l->lim_timer);
	ev_timer_set(&l->lim_timer, wait / 1e9, 0.);
	ev_timer_start(loop, &l->lim_timer);
	return 0;
}

int link_up_may(struct link *l)
{
	return link_lim_may(l, &l->up);
}

void link_up_used(struct link *l, size_t n)
{
	lim_used(&l->up, n);
}

int link_down_may(struct link *l)
{
	return link_lim_may(l, &l->down);
}

void link_down_used(struct link *l, size_t n)
{
	lim_used(&l->down, n);
}

void link_down_dropped(struct link *l, size_t n)
{
	l->down.dropped += n;
}

uint64_t link_down_rate(const struct link *l)
{
	return lim_rate(&l->down);
}

static void lim_info_of(const struct lim_conn *c, struct lim_info *i)
{
	int64_t tokens = lim_tokens(c, now_ns());

	i->rate = c->b.rate;
	i->total = c->t ? c->t->b.rate : 0;
	i->tokens = tokens > 0 ? (uint64_t)tokens : 0;
	i->limited = c->limited;
	i->dropped = c->dropped;
}

void link_lim_info(const struct link *l, struct lim_info *up,
		   struct lim_info *down)
{
	lim_info_of(&l->up, up);
	lim_info_of(&l->down, down);
}
