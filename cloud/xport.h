/*
 * The seam between a link's state machine (link.c) and the transport that
 * carries it (tcp.c: TLS over TCP; udp.c: DTLS over UDP). A transport
 * authenticates the peer, then moves whole frames: the link's control
 * queue reliably and in order, its data queue best effort. Routing,
 * forwarding and gates never learn which transport a link uses.
 *
 * A transport calls back into the link with the link_* functions below;
 * the link calls the transport only through struct xport_ops.
 */
#ifndef CV_XPORT_H
#define CV_XPORT_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "proto.h"
#include "queue.h"

struct link;

/* Who is at the other end, as the handshake proved it. */
struct link_peer {
	int is_server;			/* we accepted the connection */
	struct node_id id;
	char name[NODE_NAME_MAX + 1];
};

/* The part of a link a transport reads and writes. */
struct link_io {
	struct queue ctrl;		/* whole frames, reliable, in order */
	struct queue data;		/* whole FR_DATA frames, best effort */
	struct link_peer peer;		/* valid once link_secured() ran */
	char addr[NET_ADDRSTRLEN];	/* the peer's address (a UDP link may
					 * roam: the transport updates it) */
	uint64_t bytes_in, bytes_out;	/* on the wire, after encryption */
	void *x;			/* the transport's own state */
};

/* What a transport reports for status lines. */
struct xport_fig {
	const char *name;		/* "tcp", "udp" */
	size_t mtu;			/* path MTU (UDP payload bytes), 0: n/a */
	uint64_t retransmits;		/* control retransmissions */
};

struct xport_ops {
	const char *name;
	/* Send as much of ctrl and data as the transport can now. */
	void (*flush)(struct link *l);
	/* Orderly close, best effort, no waiting (close_notify). */
	void (*bye)(struct link *l);
	/* Release the transport state (and its socket). */
	void (*free)(struct link *l);
	/* After a CA/CRL reload and at every keepalive tick (expiry): NULL
	 * if the peer still passes, else why. */
	const char *(*recheck)(struct link *l);
	/* Fresh keys (TLS 1.3 KeyUpdate; a new DTLS handshake). */
	void (*rekey)(struct link *l);
	/* Largest data frame payload carried in one piece; 0: unbounded. */
	size_t (*data_max)(const struct link *l);
	void (*figures)(const struct link *l, struct xport_fig *f);
};

/* ---- called by transports --------------------------------------------- */

struct link_io *link_io(struct link *l);
const struct link_io *link_io_c(const struct link *l);
/* Attach the transport: ops and state (the link frees it via ops->free). */
void link_attach(struct link *l, const struct xport_ops *ops, void *x);
/* The handshake verified the peer (link_io(l)->peer is filled in). */
void link_secured(struct link *l);
/* Something arrived from the peer (for the silence timeout). */
void link_heard(struct link *l);
/* One whole frame arrived; -1 if the link is now doomed. */
int link_rx_frame(struct link *l, uint8_t type, const uint8_t *p,
		  size_t len);
/* Consume every whole frame at the head of a byte stream; -1 if doomed. */
int link_rx_stream(struct link *l, struct queue *in);
/* The transport has output to send: flush before the loop sleeps. */
void link_mark(struct link *l);
/* 1 if a failure of l's handshake may be logged now: always for our own
 * links, within admit's limits for strangers' (a flood must not flood
 * the log). */
int link_log_early(struct link *l);
/* Close the link from the loop's next turn, logging why. */
void link_fail(struct link *l, const char *why);

/* Why a link ended before it was up: a link counts one, the first, when
 * it closes (metrics: cloudvpn_handshake_failures_total). */
enum link_hs {
	LINK_HS_OTHER,		/* anything else: a bad frame, the peer left */
	LINK_HS_REFUSED,	/* we refused the peer's certificate */
	LINK_HS_PEER_REFUSED,	/* the peer refused ours (its alert) */
	LINK_HS_CLOSED,		/* closed or reset during the handshake */
	LINK_HS_TLS,		/* another TLS error */
	LINK_HS_TIMEOUT,	/* not up in time */
	LINK_HS_HELLO,		/* a bad hello: version, node ID */
	LINK_HS_SELF,		/* it led to this very node */
	LINK_HS_UNEXPECTED,	/* a handed socket led to another node */
	LINK_HS_CROWDED,	/* the node holds max_links_per_node already */
	LINK_HS_EVICTED,	/* made room under max_connections */
	LINK_HS_N
};
/* link_fail, and why for a link not up yet. */
void link_hs_fail(struct link *l, enum link_hs why, const char *text);
int link_doomed(const struct link *l);

#endif
