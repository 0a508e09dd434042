/*
 * Peer links: the state machine (handshake -> hello -> up), keepalive and
 * RTT, and the output queues (control ahead of data), over a transport
 * (xport.h: TLS over TCP, DTLS over UDP).
 */
#ifndef CV_LINK_H
#define CV_LINK_H

#include <stdint.h>
#include <stdio.h>

#include "pkt.h"
#include "xport.h"

struct cloud;
struct conf;
struct connector;
struct link;
struct tls;
struct udp;

/* Load TLS credentials (sets c->self, c->name), open the listeners and
 * schedule the outbound connections. -1 after logging. */
int links_init(struct cloud *c);
/* SIGHUP: reload CAs and CRLs, close links whose peer no longer passes.
 * Returns the number of links closed, or -1 if the reload failed. */
int links_reload(struct cloud *c);
/* A reload: uplimit-*, downlimit-* and red-ratio of conf for the totals
 * and every link, which stays up. -1 if a value does not parse. */
int links_limits(struct cloud *c, const struct conf *conf);
/* The sockets: listeners and connectors (net.h). */
struct net *links_net(struct cloud *c);
/* Say goodbye on every link, close everything. */
void links_shutdown(struct cloud *c);
struct tls *links_tls(struct cloud *c);
struct udp *links_udp(struct cloud *c);

struct link *links_by_peer(struct cloud *c, uint32_t peer);
uint32_t link_peer(const struct link *l);
/* Queue a data packet; 0, or -1 if it was dropped. */
int link_send_data(struct link *l, const struct pkt *p);
/* The same for a packet of a local gate: no early drop, dropped only if
 * the queue is full. The gate is to wait while link_busy (past half the
 * data queue), and may go on once link_drained (a quarter). */
int link_send_local(struct link *l, const struct pkt *p);
int link_busy(const struct link *l);
int link_drained(const struct link *l);
/* To every link that is up, except one (may be NULL). */
void links_broadcast(struct cloud *c, const struct link *except,
		     const struct pkt *p);
const char *links_peer_name(struct cloud *c, uint32_t peer);
unsigned links_count(struct cloud *c);

/* A new link at the handshake stage (a transport attaches to it). */
struct link *link_new(struct cloud *c, const char *addr, int is_server);
/* An outbound link: its connector retries when the link ends. */
void link_set_connector(struct link *l, struct connector *cn);
/* A link on a socket a gate handed over: it must lead to want, and the
 * gate (by ID) hears when it is up and when it ends (gate_link_event). */
void link_set_handed(struct link *l, const struct node_id *want,
		     uint32_t gate);
/* How many live links that gate handed over. */
unsigned links_handed(struct cloud *c, uint32_t gate);
/* Close and free at once (only from the top of a callback). */
void link_close_now(struct link *l, const char *why);

/* Room for a control frame of at most plen payload bytes: write the
 * payload at the returned pointer, then commit its type and the length
 * used. NULL if the link cannot take it. */
uint8_t *link_ctrl_frame(struct link *l, size_t plen);
/* Bytes waiting in the control queue. */
size_t link_ctrl_queued(const struct link *l);
/* Stream l's full table again (routing asked: route_resync). */
void link_resync(struct link *l);
void link_ctrl_commit(struct link *l, uint8_t type, size_t plen);

/* Walk every link. */
struct link *links_first(struct cloud *c);
struct link *link_next(const struct link *l);

/* Why a data packet was not queued on a link. */
enum link_drop {
	LINK_DROP_DOWN,		/* the link is not up */
	LINK_DROP_RED,		/* random early drop of a relayed packet */
	LINK_DROP_FULL,		/* the data queue is full */
	LINK_DROPS
};

/* A link as status lines and admission see it. */
struct link_info {
	int up, verified, doomed;
	int handed;			/* on a socket a gate handed over */
	const char *state;		/* handshake, hello, up */
	const struct link_peer *peer;	/* valid if verified */
	const char *addr;
	uint64_t t_start, srtt_us;
	uint32_t caps;			/* WIRE_CAP_* of the peer's hello */
	uint32_t cost;			/* its routes' link cost (metric) */
	uint64_t bytes_in, bytes_out, pkts_in, pkts_out, drops;
	uint64_t drop[LINK_DROPS];	/* drops, by reason */
	struct xport_fig fig;
};
void link_info(const struct link *l, struct link_info *i);
/* Links that ended before they were up, by reason (enum link_hs). */
void links_hs_failures(struct cloud *c, uint64_t n[LINK_HS_N]);

#endif
