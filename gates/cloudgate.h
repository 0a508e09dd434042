/*
 * libcloudgate: the client side of the cloudvpn gate socket.
 * A gate connects to the local `cloud` daemon, announces the addresses it
 * owns, and sends and receives packets. The protocol is in doc/PROTOCOL.md.
 */
#ifndef CLOUDGATE_H
#define CLOUDGATE_H

#include <stddef.h>
#include <stdint.h>

/* The API's version: MAJOR changes when a program built against an older
 * header may break (it is also the shared library's soname number), MINOR
 * when something is added. 1.0: cg_open .. cg_parse_hex; 1.1: the
 * runtime (cg_start .. cg_attached, cg_retries), prefix subscriptions
 * and cg_version; 1.2: cg_on_noroute; 1.3: cg_send_flow, cg_can_send. */
#define CG_VERSION_MAJOR 1
#define CG_VERSION_MINOR 3
#define CG_VERSION (CG_VERSION_MAJOR * 1000 + CG_VERSION_MINOR)

/* The library's CG_VERSION (MAJOR * 1000 + MINOR), as it was built: a
 * program can check that the copy it runs with is at least the one its
 * header promised. */
int cg_version(void);

#define CG_ADDR_MAX 16
#define CG_PAYLOAD_MAX (96 * 1024)

struct cg_addr {
	uint32_t instance;
	uint8_t len;		/* bytes; 0 with plen 0: promiscuous */
	uint16_t plen;		/* prefix length in bits */
	uint8_t bytes[CG_ADDR_MAX];
};

#define CG_PKT_OFFLOAD 0x1	/* data = virtio_net_hdr + frame (see cg_set_offload) */

struct cg_packet {
	uint32_t instance;
	uint8_t dlen, slen;	/* dlen 0: broadcast in the instance */
	const uint8_t *dst, *src;
	const uint8_t *data;
	size_t len;
	unsigned flags;		/* CG_PKT_* */
};

struct cloudgate;

/* Connect and exchange hellos. NULL on failure, with errno set and a
 * reason in err (if err is not NULL). */
struct cloudgate *cg_open(const char *path, const char *name, char *err,
			  size_t errsize);
void cg_close(struct cloudgate *g);
/* The socket, for poll/epoll/libev; it is non-blocking. */
int cg_fd(const struct cloudgate *g);
/* Replace the set of announced addresses (remembered for cg_reconnect). */
int cg_announce(struct cloudgate *g, const struct cg_addr *a, size_t n);
/* Queue a packet; call cg_flush after a batch (a quarter-full queue is
 * written at once). 0, or -1 with errno EAGAIN when the queue is full
 * (the packet was dropped). */
int cg_send(struct cloudgate *g, const struct cg_packet *p);
/* cg_send with a flow hash (0: none): the daemon's multipath keeps the
 * packets of one flow (e.g. one TCP connection: a hash of its addresses
 * and ports) on one path, so they are not reordered. Needs a daemon of
 * gate API 1.3 or later. */
int cg_send_flow(struct cloudgate *g, const struct cg_packet *p,
		 uint32_t flow);
/* Is there room for a packet of len data bytes now? 1, or 0 (the queue
 * is full: cg_poll_events asks for POLLOUT until it has drained). A gate
 * asks before it reads its device, so the packet waits in the device's
 * queue (where the kernel slows the sender) instead of being dropped. */
int cg_can_send(struct cloudgate *g, size_t len);
/* Write what is queued. 0 all written, 1 some left (wait for POLLOUT), -1. */
int cg_flush(struct cloudgate *g);
/* Next packet: 1 and p filled (views valid until the next cg_ call),
 * 0 if none within timeout_ms (0: don't wait, -1: forever), -1 when the
 * daemon is gone or spoke garbage. Keepalives are answered inside. */
int cg_recv(struct cloudgate *g, struct cg_packet *p, int timeout_ms);
/* Declare that this gate takes CG_PKT_OFFLOAD packets: data that starts
 * with a 10-byte virtio_net_hdr (TAP IFF_VNET_HDR) and may be a TCP
 * super-segment of up to 64 KB. Without it the daemon hands this gate only
 * ordinary frames, segmenting in software. Kept across cg_reconnect. */
int cg_set_offload(struct cloudgate *g, int on);
/* Reconnect to the same path and re-announce; 0 or -1. */
int cg_reconnect(struct cloudgate *g);
/* ---- the daemon's node, and links made from handed sockets ------------ */

#define CG_NODE_ID 32		/* a node ID: SHA-256 of its key */

/* The daemon's node name and node ID, as its hello said them (the ID is
 * all zero until the daemon's NODE message has been read by cg_open). */
const char *cg_node_name(const struct cloudgate *g);
const uint8_t *cg_node_id(const struct cloudgate *g);

/* Hand the daemon a connected UDP socket (SCM_RIGHTS) to run a DTLS link
 * on, to the node whose ID is id: the link is refused unless the peer's
 * certificate has that ID. The lower node ID is the DTLS client. The
 * daemon gets its own copy: the caller still owns fd (the daemon sets
 * O_NONBLOCK, a flag both copies share). 0, or -1 with errno (EAGAIN:
 * packets are still queued; cg_flush and try again). LINK events come
 * through cg_on_link. */
int cg_hand_socket(struct cloudgate *g, int fd, const uint8_t id[CG_NODE_ID]);

/* What became of the link on a handed socket. */
struct cg_link_event {
	uint8_t id[CG_NODE_ID];	/* the node ID the socket was handed for */
	int up;			/* 1: up and verified; 0: ended or refused */
	const char *why;	/* NUL-terminated; "" when up */
};

/* cb runs inside cg_recv for each link event (NULL: ignore them). */
void cg_on_link(struct cloudgate *g,
		void (*cb)(void *arg, const struct cg_link_event *ev),
		void *arg);

/* A packet this gate sent was dropped: no route to dst in instance. */
struct cg_noroute {
	uint32_t instance;
	size_t dlen;
	const uint8_t *dst;	/* valid during the callback only */
};

/* cb runs inside cg_recv (or cg_run) when the daemon drops a packet of
 * ours for want of a route; the daemon says so 10 times a second at
 * most. Setting a callback asks the daemon for these reports (a daemon
 * that predates them sends none); NULL stops them. 0 or -1 (the request
 * could not be queued; it is re-sent on reconnect all the same). */
int cg_on_noroute(struct cloudgate *g,
		  void (*cb)(void *arg, const struct cg_noroute *nr),
		  void *arg);

/* Tell the daemon how this gate sees a remote node (name: its certificate
 * CN), e.g. "direct" or "relayed: symmetric NAT on both sides"; shown by
 * the status file and cloudctl until replaced or the gate detaches. An
 * empty text forgets the node. 0 or -1. */
int cg_note(struct cloudgate *g, const uint8_t id[CG_NODE_ID],
	    const char *name, const char *text);

/* ---- prefixes the daemon knows ------------------------------------------ */

/* One route of a subscribed instance (IP gates install kernel routes from
 * these): reachable (new or changed) or gone. */
struct cg_prefix {
	struct cg_addr addr;
	int up;			/* 1 reachable, 0 gone */
	int local;		/* owned by a gate of this node */
	uint32_t metric;
};

#define CG_SUBSCRIBE_MAX 16	/* instances one gate can subscribe to */

/* Ask for the prefixes of instance: the daemon sends the whole set, then
 * each change; the subscription is renewed after a reconnect (the set
 * arrives whole again). They reach the gate through cg_handlers.prefix.
 * 0, or -1: ENOSPC past CG_SUBSCRIBE_MAX instances; ENOTCONN while the
 * daemon is gone (remembered all the same, sent when it is back). */
int cg_subscribe(struct cloudgate *g, uint32_t instance);

/* ---- the runtime: what every gate's loop needs, for any event loop ------ */

/* What a gate gives cg_start; any callback may be NULL. They run inside
 * cg_run, never elsewhere. */
struct cg_handlers {
	void (*packet)(void *arg, const struct cg_packet *p);
	void (*link)(void *arg, const struct cg_link_event *ev);
	/* full: the first of a whole set for its instance; forget the rest */
	void (*prefix)(void *arg, const struct cg_prefix *p, int full);
	/* 0: the daemon is gone (cg_run reconnects every second); 1: it is
	 * back, addresses, capabilities and subscriptions already re-sent */
	void (*attached)(void *arg, int up);
};

/* cg_open, with handlers: the gate's runtime. A daemon that cannot be
 * reached at start is an error (NULL, err says why); one lost later is
 * reconnected by cg_run every second, forever, the set re-announced. */
struct cloudgate *cg_start(const char *path, const char *name,
			   const struct cg_handlers *h, void *arg, char *err,
			   size_t errsize);
/* For poll(): the socket (-1 while the daemon is gone), the events to
 * wait for (POLLIN, and POLLOUT while output is queued), and how long at
 * most to wait, in ms, before cg_run has timers to run. */
int cg_poll_fd(const struct cloudgate *g);
short cg_poll_events(const struct cloudgate *g);
int cg_poll_timeout(const struct cloudgate *g);
/* Do what is due: read and dispatch up to max packets, write what is
 * queued, keepalives, reconnecting. revents: what poll() said of
 * cg_poll_fd (0 if nothing). The number of packets dispatched (max <= 0:
 * no limit). */
int cg_run(struct cloudgate *g, short revents, int max);
/* 1 while the daemon is attached. */
int cg_attached(const struct cloudgate *g);
/* While the daemon is gone: how many reconnects have failed since it went
 * (0 while attached), and in *error (if not NULL) the errno of the last
 * failure; a gate may log every so many. */
unsigned cg_retries(const struct cloudgate *g, int *error);

/* "01:02:ff" / "0102ff" / "" -> bytes; length or -1. */
int cg_parse_hex(const char *s, uint8_t *out, size_t cap);

#endif
