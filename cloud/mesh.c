/*
 * Node records on links (doc/PROTOCOL.md 2.7): FR_NODE frames go only to
 * peers whose HELLO has WIRE_CAP_NODE, each after the certificate of its
 * origin (FR_CERT, once per link, as routes do), so the receiver can check
 * the signature. This file is the daemon's side of nodes.c: links, keys,
 * the clock and a timer.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cloud.h"
#include "link.h"
#include "log.h"
#include "mesh.h"
#include "nodes.h"
#include "origin.h"
#include "wire.h"

#ifndef PACKAGE_VERSION			/* from configure (DEFS) */
#define PACKAGE_VERSION "unknown"
#endif

#define DOWN_MAX 64		/* direct links whose end we remember */
#define DOWN_WHY_MAX 96
#define REFUSED_LOG_NS (60 * 1000000000ull)	/* log refusals this often */

struct down {
	struct node_id id;
	uint64_t at_ns;
	char why[DOWN_WHY_MAX];
};

struct mesh {
	struct cloud *c;
	struct nodes *nodes;
	ev_timer timer;
	struct down down[DOWN_MAX];	/* the oldest is replaced */
	size_t ndown;
	uint64_t refused_log;
};

/* A link's RTT in its record is the one its routes cost (the windowed
 * minimum, 10 us units): a smoothed RTT moves with load and CPU waits,
 * and each move past the threshold floods a record (12 idle nodes on a
 * busy machine sent 2 KB/s a node so). */
void mesh_link_of(const struct link_info *i, struct node_link *out)
{
	uint64_t rtt = (uint64_t)i->cost * 10;

	out->peer = i->peer->id;
	out->rtt_us = !i->srtt_us ? NODE_RTT_NONE
		      : rtt >= NODE_RTT_NONE ? NODE_RTT_NONE - 1
		      : (uint32_t)rtt;
	out->transport = !strcmp(i->fig.name, "tcp") ? NODE_XP_TCP
			 : !strcmp(i->fig.name, "udp") ? NODE_XP_UDP
			 : NODE_XP_OTHER;
}

static size_t links_op(void *ctx, struct node_link *out, size_t max)
{
	struct mesh *m = ctx;
	struct link_info i;
	struct link *l;
	size_t k = 0;

	for (l = links_first(m->c); l && k < max; l = link_next(l)) {
		link_info(l, &i);
		if (i.up && !i.doomed)
			mesh_link_of(&i, &out[k++]);
	}
	return k;
}

static int sign_op(void *ctx, const uint8_t *data, size_t len, uint8_t *sig,
		   size_t *siglen)
{
	struct mesh *m = ctx;

	if (origins_sign_data(m->c->origins, data, len, sig, NODE_SIG_MAX,
			      siglen) == 0)
		return 0;
	log_warnx("node record: cannot sign it");
	return -1;
}

static char *hex8(const uint8_t *b, char out[17])
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return out;
}

static int verify_op(void *ctx, uint32_t peer, const struct node_id *origin,
		     const uint8_t *data, size_t len, const uint8_t *sig,
		     size_t siglen)
{
	struct mesh *m = ctx;
	char id[17];

	if (origins_verify_data(m->c->origins, origin, data, len, sig,
				siglen) == 0)
		return 0;
	if (now_ns() - m->refused_log > REFUSED_LOG_NS || !m->refused_log) {
		m->refused_log = now_ns();
		log_warnx("link %s: node record of origin id %s: bad signature "
			  "or no valid certificate of it; refused (logged at "
			  "most once a minute)", links_peer_name(m->c, peer),
			  hex8(origin->b, id));
	}
	return -1;
}

/* The origin's certificate if l lacks it, then the record. */
static void send_to(struct mesh *m, struct link *l,
		    const struct node_id *origin, const uint8_t *rec,
		    size_t len)
{
	struct link_info i;
	const uint8_t *der;
	uint8_t *p;
	size_t dlen;

	link_info(l, &i);
	if (!i.up || i.doomed || !(i.caps & WIRE_CAP_NODE))
		return;
	der = origins_cert_for(m->c->origins, link_peer(l), origin, &dlen);
	if (der) {
		if (!(p = link_ctrl_frame(l, dlen)))
			return;
		memcpy(p, der, dlen);
		link_ctrl_commit(l, FR_CERT, dlen);
	}
	if (!(p = link_ctrl_frame(l, len)))
		return;
	memcpy(p, rec, len);
	link_ctrl_commit(l, FR_NODE, len);
}

static void send_op(void *ctx, uint32_t peer, const struct node_id *origin,
		    const uint8_t *rec, size_t len)
{
	struct mesh *m = ctx;
	struct link *l = links_by_peer(m->c, peer);

	if (l)
		send_to(m, l, origin, rec, len);
}

static void flood_op(void *ctx, uint32_t except,
		     const struct node_id *origin, const uint8_t *rec,
		     size_t len)
{
	struct mesh *m = ctx;
	struct link *l;

	for (l = links_first(m->c); l; l = link_next(l))
		if (link_peer(l) != except)
			send_to(m, l, origin, rec, len);
}

static uint64_t now_ms_op(void *ctx)
{
	(void)ctx;
	return now_ns() / 1000000;
}

static void arm_op(void *ctx, uint64_t ms)
{
	struct mesh *m = ctx;

	ev_timer_stop(m->c->loop, &m->timer);
	ev_timer_set(&m->timer, ms / 1e3, 0.);
	ev_timer_start(m->c->loop, &m->timer);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mesh *m = w->data;

	(void)loop;
	(void)revents;
	nodes_tick(m->nodes);
}

int mesh_init(struct cloud *c)
{
	static const struct nodes_ops ops0 = {
		.links = links_op, .sign = sign_op, .verify = verify_op,
		.send = send_op, .flood = flood_op, .now_ms = now_ms_op,
		.arm = arm_op };
	struct nodes_ops ops = ops0;
	struct mesh *m = calloc(1, sizeof(*m));
	uint8_t key[16];

	if (!m || getrandom(key, sizeof(key), 0) != sizeof(key)) {
		free(m);
		return log_warnx("mesh: out of memory or randomness"), -1;
	}
	m->c = c;
	ops.ctx = m;
	ev_init(&m->timer, timer_cb);
	m->timer.data = m;
	/* seconds since 1970: past any seqno an earlier run sent, as an
	 * origin sends one record a second at most */
	m->nodes = nodes_new(&c->self, c->name, PACKAGE_VERSION,
			     (uint32_t)time(NULL), key, &ops);
	if (!m->nodes) {
		free(m);
		return log_warnx("mesh: out of memory"), -1;
	}
	c->mesh = m;
	arm_op(m, 0);
	return 0;
}

void mesh_free(struct cloud *c)
{
	struct mesh *m = c->mesh;

	if (!m)
		return;
	ev_timer_stop(c->loop, &m->timer);
	nodes_free(m->nodes);
	free(m);
	c->mesh = NULL;
}

void mesh_link_up(struct cloud *c, struct link *l)
{
	if (!c->mesh)
		return;
	nodes_sync(c->mesh->nodes, link_peer(l));
	nodes_moved(c->mesh->nodes);
}

void mesh_link_down(struct cloud *c, const struct node_id *peer,
		    const char *why)
{
	struct mesh *m = c->mesh;
	struct down *d;
	size_t i, old = 0;

	if (!m)
		return;
	for (i = 0; i < m->ndown; i++) {
		if (!memcmp(m->down[i].id.b, peer->b, NODE_ID_LEN))
			break;
		if (m->down[i].at_ns < m->down[old].at_ns)
			old = i;
	}
	if (i == m->ndown && m->ndown == DOWN_MAX)
		i = old;
	else if (i == m->ndown)
		m->ndown++;
	d = &m->down[i];
	d->id = *peer;
	d->at_ns = now_ns();
	snprintf(d->why, sizeof(d->why), "%s", why);
	nodes_moved(m->nodes);
}

void mesh_link_rtt(struct cloud *c)
{
	if (c->mesh)
		nodes_check(c->mesh->nodes);
}

int mesh_recv(struct cloud *c, uint32_t peer, const uint8_t *p, size_t len)
{
	return c->mesh ? nodes_recv(c->mesh->nodes, peer, p, len) : 0;
}

const struct nodes *mesh_nodes(const struct cloud *c)
{
	return c->mesh ? c->mesh->nodes : NULL;
}

uint64_t mesh_last_down(const struct cloud *c, const struct node_id *id,
			const char **why)
{
	const struct mesh *m = c->mesh;
	size_t i;

	for (i = 0; m && i < m->ndown; i++)
		if (!memcmp(m->down[i].id.b, id->b, NODE_ID_LEN)) {
			*why = m->down[i].why;
			return m->down[i].at_ns;
		}
	return 0;
}
