/* Route updates and seqno requests framed onto links: the routing codec
 * (route.c) encodes entries, this cuts them into FR_ROUTE frames. */
#include "cloud.h"
#include "link.h"
#include "rframe.h"
#include "route.h"
#include "wire.h"

#define ROUTE_FRAME 16384	/* payload bytes per FR_ROUTE frame */
#define SEQREQ_MAX 256

static void send_updates(void *ctx, uint32_t peer,
			 const struct route_update *u, size_t n)
{
	struct link *l = links_by_peer(ctx, peer);

	while (l && n > 0) {
		uint8_t *p = link_ctrl_frame(l, ROUTE_FRAME);
		size_t used = 0, len;

		if (!p)
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

void rframe_ops(struct cloud *c, struct route_ops *ops)
{
	ops->ctx = c;
	ops->send_updates = send_updates;
	ops->send_seqreq = send_seqreq;
}
