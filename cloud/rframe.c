/* Route updates and seqno requests framed onto links: the routing codec
 * (route_codec.c) encodes entries, this cuts them into FR_ROUTE frames,
 * puts each origin's certificate (FR_CERT) ahead of its first route on a
 * link, and streams a new link's full table as its output drains. */
#include <string.h>

#include <gnutls/crypto.h>

#include "cloud.h"
#include "link.h"
#include "origin.h"
#include "rframe.h"
#include "route.h"
#include "wire.h"

#define ROUTE_FRAME 16384	/* payload bytes per FR_ROUTE frame */
#define SEQREQ_MAX 256
#define SYNC_CHUNK 256		/* entries of a full table per pull */
#define CTRL_HIGH (1024 * 1024)	/* above this, updates other than
					 * retractions give way to a resync:
					 * pongs wait behind what is queued */

/* The certificates l needs before the routes u[0..n): FR_CERT frames. */
static void send_certs(struct cloud *c, struct link *l,
		       const struct route_update *u, size_t n)
{
	const uint8_t *der;
	uint8_t *p;
	size_t i, len;

	for (i = 0; i < n; i++) {
		if (u[i].metric == ROUTE_INF ||
		    !(der = origins_cert_for(c->origins, link_peer(l),
					     &u[i].origin, &len)))
			continue;
		if (!(p = link_ctrl_frame(l, len)))
			return;
		memcpy(p, der, len);
		link_ctrl_commit(l, FR_CERT, len);
	}
}

/* u[0..n) as FR_ROUTE frames, each origin's certificate first. */
static void send_frames(struct cloud *c, struct link *l,
			const struct route_update *u, size_t n)
{
	while (n > 0) {
		uint8_t *p;
		size_t used = 0, len;

		send_certs(c, l, u, n);
		if (!(p = link_ctrl_frame(l, ROUTE_FRAME)))
			return;
		len = route_encode(u, n, p, ROUTE_FRAME, &used);
		if (used == 0) {
			link_fail(l, "route entry does not fit a frame");
			return;
		}
		link_ctrl_commit(l, FR_ROUTE, len);
		u += used;
		n -= used;
	}
}

/* Runs of updates that are (or are not) retractions: their length. */
static size_t run_of(const struct route_update *u, size_t n, int retraction)
{
	size_t i;

	for (i = 0; i < n && (u[i].metric == ROUTE_INF) == retraction; i++)
		;
	return i;
}

/*
 * A change that touches most of a big table (a link's cost moved every
 * route through it) must not overflow the control queue and take the
 * link down: past CTRL_HIGH the link gets only the retractions, and the
 * rest as its full table again, streamed as the queue drains.
 */
static void send_updates(void *ctx, uint32_t peer,
			 const struct route_update *u, size_t n)
{
	struct cloud *c = ctx;
	struct link *l = links_by_peer(c, peer);
	size_t k;
	int skipped = 0;

	while (l && n > 0) {
		k = run_of(u, n, 1);
		send_frames(c, l, u, k);
		u += k;
		n -= k;
		k = run_of(u, n, 0);
		if (link_ctrl_queued(l) > CTRL_HIGH) {
			skipped |= k > 0;
		} else {
			k = k < SYNC_CHUNK ? k : SYNC_CHUNK;
			send_frames(c, l, u, k);
		}
		u += k;
		n -= k;
	}
	if (skipped)
		link_resync(l);
}

static void send_seqreq(void *ctx, uint32_t peer,
			const struct route_seqreq *r)
{
	struct link *l = links_by_peer(ctx, peer);
	uint8_t *p;

	if (!l || !(p = link_ctrl_frame(l, SEQREQ_MAX)))
		return;
	link_ctrl_commit(l, FR_SEQREQ,
			 route_seqreq_encode(r, p, SEQREQ_MAX));
}

static int verify(void *ctx, uint32_t peer, const struct route_update *u)
{
	struct cloud *c = ctx;

	return origins_verify(c->origins, peer, u);
}

static int sign(void *ctx, struct route_update *u)
{
	struct cloud *c = ctx;

	return origins_sign(c->origins, u);
}

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return now_ns() / 1000000;
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cloud *c = w->data;

	(void)loop;
	(void)revents;
	route_tick(c->rt);
}

/* route_tick in ms, unless it is due sooner already (it computes its
 * next time itself: an early tick costs nothing, a late one delays). */
static void arm(void *ctx, uint64_t ms)
{
	struct cloud *c = ctx;

	if (ev_is_active(&c->route_tick) &&
	    ev_timer_remaining(c->loop, &c->route_tick) <= ms / 1e3)
		return;
	ev_timer_stop(c->loop, &c->route_tick);
	ev_timer_set(&c->route_tick, ms / 1e3, 0.);
	ev_timer_start(c->loop, &c->route_tick);
}

int rframe_sync(struct cloud *c, struct link *l)
{
	return route_sync(c->rt, link_peer(l), SYNC_CHUNK);
}

static int hash(void *ctx, const uint8_t *data, size_t len,
		uint8_t out[ROUTE_CHAIN_HASH])
{
	uint8_t d[32];

	(void)ctx;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) < 0)
		return -1;
	memcpy(out, d, ROUTE_CHAIN_HASH);
	return 0;
}

void rframe_ops(struct cloud *c, struct route_ops *ops)
{
	ops->ctx = c;
	ops->send_updates = send_updates;
	ops->send_seqreq = send_seqreq;
	ops->verify = verify;
	ops->sign = sign;
	ops->now_ms = now_ms;
	ops->arm = arm;
	ops->hash = hash;
	ev_init(&c->route_tick, tick_cb);
	c->route_tick.data = c;
}
