/*
 * The UDP transport's private state, shared by udp.c (links, datagrams,
 * handshakes), udp_rekey.c (rekeying) and udpsock.c (sockets).
 */
#ifndef CV_UDP_INT_H
#define CV_UDP_INT_H

#include <ev.h>
#include <sys/socket.h>

#include "dgq.h"
#include "frag.h"
#include "pmtu.h"
#include "queue.h"
#include "rel.h"
#include "tls_sess.h"

struct connector;

/* At most n events per second (a window that restarts each second). */
struct rate {
	uint64_t at, left;
};

/* DTLS record header: u8 type, u16 version, u16 epoch, u48 seq, u16 len;
 * a handshake message starts with its u8 type (1: ClientHello) */
enum { REC_ALERT = 21, REC_HANDSHAKE = 22, REC_APPDATA = 23, REC_HDR = 13,
       HS_CLIENT_HELLO = 1, ALERT_FATAL = 2, ALERT_UNEXPECTED = 10 };

struct udp;
struct uep;

struct ulink {
	struct ulink *next;		/* on its socket */
	struct link *l;
	struct uep *ep;
	struct sockaddr_storage sa;	/* the peer, where we send */
	socklen_t salen;
	gnutls_session_t s;		/* what we send with */
	struct tls_peer tp;
	int secured;
	/* rekeying: a fresh handshake beside the running session */
	gnutls_session_t fresh;		/* the new session, NULL if none */
	struct tls_peer ntp;
	int fresh_done;			/* its handshake is complete */
	gnutls_session_t old;		/* the session before, still read */
	uint64_t old_until, hint_until;
	size_t overhead;		/* DTLS bytes per record */
	const uint8_t *rx;		/* the datagram GnuTLS may read */
	size_t rxlen;
	ev_timer timer;
	struct rel rel;
	struct reasm *ra;
	struct pmtu pm;
	struct queue in;		/* the control stream, in order */
	struct dgq down;		/* datagrams the downlimit holds */
	uint32_t frag_id;
	uint64_t doubt;			/* since when we ask whether the peer
					 * still has our session, 0 if not */
	uint16_t rx_epoch;		/* DTLS epoch and sequence number of */
	uint64_t rx_seq;		/* the last authenticated datagram */
	uint64_t confirm_at, confirmed;	/* path MTU confirmation probes */
};

struct uep {				/* one UDP socket */
	struct uep *next;
	struct udp *u;
	int fd;
	int listening;			/* strangers may start handshakes */
	ev_io io;
	struct ulink *links;
	char addr[NET_ADDRSTRLEN];
};

struct udp {
	struct cloud *c;
	struct tls *tls;
	gnutls_datum_t cookie_key;
	size_t fixed_mtu;		/* udp_mtu, 0: probe */
	struct uep *eps;
	uint64_t garbage, cookies;
	struct rate roam;		/* trial decryptions */
	struct rate reset;		/* ep_reset replies */
	struct uio *io;			/* batched datagram I/O */
	uint8_t pt[UDP_DGRAM_MAX];	/* one plaintext */
	uint8_t fpt[UDP_DGRAM_MAX];	/* one fragment's plaintext */
};

/* udp.c: links, their datagrams and handshakes */
void ul_out_flush(struct udp *u);
void ul_send(struct ulink *ul, const uint8_t *p, size_t n);
int ul_records(struct ulink *ul, gnutls_session_t s);
void ul_plain(struct ulink *ul, const uint8_t *p, size_t n, int whole);
void ul_handshake(struct ulink *ul);
void ul_input(struct ulink *ul, const uint8_t *p, size_t len);
struct ulink *ul_new(struct uep *ep, const struct sockaddr_storage *sa,
		     socklen_t salen, int is_server);
int us_new(struct ulink *ul, int is_server, gnutls_session_t *s,
	   struct tls_peer *tp);
void ul_note(struct ulink *ul, const uint8_t *p, size_t len);
int ul_doubt(struct ulink *ul);
int ul_plausible(const struct ulink *ul, const uint8_t *p, size_t len);

/* udp_rekey.c: a fresh session beside the running one */
void rk_promote(struct ulink *ul);
void rk_step(struct ulink *ul);
void rk_hint(struct ulink *ul);
void rk_input(struct ulink *ul);
void ul_rekey(struct link *l);
void rk_accept(struct ulink *ul, const struct sockaddr_storage *sa,
	       socklen_t salen, const uint8_t *p, size_t len);

/* udpsock.c: sockets, strangers, roaming */
void ep_close(struct uep *ep);
int ep_cookie_ok(struct uep *ep, const struct sockaddr_storage *sa,
		 socklen_t salen, const uint8_t *p, size_t len,
		 gnutls_dtls_prestate_st *ps);

#endif
