/*
 * stunproxy: direct UDP links between nodes behind NAT. The one context
 * (struct sp) and what its modules offer each other:
 *   main.c   options, the gate, the poll loop, signalling out
 *   cand.c   our candidates: local addresses, STUN-seen mappings, NAT kind
 *   punch.c  one punching session per remote node, hand-over to `cloud`
 *   rdv.c    the rendezvous client (-rendezvous), for nodes with no mesh path
 *   serve.c  answering STUN (-stun_listen) and the rendezvous server (-serve)
 * Timers and limits are in this header, each with where it came from.
 */
#ifndef SP_SP_H
#define SP_SP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proc.h"
#include "spmsg.h"
#include "stun.h"

struct conf;
struct cloudgate;
struct peer;
struct rdv;
struct serve;

/* ---- timers (ms) and limits -------------------------------------------- */
#define SP_TICK_MS 50		/* the loop's finest step */
#define SP_HERE_MS 60000	/* re-broadcast HERE (new nodes hear it sooner
				 * from the HERE they send at start) */
#define SP_STUN_MS 60000	/* refresh STUN mappings (NATs keep idle UDP
				 * mappings 30 s or more; cloud's keepalives
				 * hold the handed ones) */
#define SP_STUN_RETRY_MS 500	/* STUN retransmit, doubling (RFC 8489 §6.2.1) */
#define SP_STUN_TRIES 4
#define SP_CAND_WAIT_MS 2000	/* offer without STUN answers after this */
#define SP_ANSWER_MS 5000	/* an OFFER or GO unanswered this long fails */
#define SP_RESEND_MS 1000	/* an OFFER again: the mesh may have had no
				 * route to the peer's stunproxy yet */
#define SP_PROBE_MS 100		/* a round of probes to every pair */
#define SP_PUNCH_MS 10000	/* probing this long without an answer fails */
#define SP_SETTLE_MS 300	/* after the first answer, wait this long for
				 * better pairs before choosing */
#define SP_OPEN_TTL 2		/* opening packets pass our NAT, die after */
#define SP_OPEN_WAIT_MS 150	/* after opening, before probing */
#define SP_RETRY_MIN_MS 15000	/* backoff after a failure, doubling ... */
#define SP_RETRY_MAX_MS 600000	/* ... up to 10 minutes */
#define SP_RELINK_MS 3000	/* after a direct link ended: try again soon */
#define SP_LISTEN_MAX 4		/* -stun_listen sockets */
#define SP_STUN_MAX 4		/* -stun servers */
#define SP_REM_MAX (SP_CAND_MAX + 4)	/* remote candidates + peer reflexive */
#define SP_DGRAM_MAX 2048

/* How the node's NAT looks from outside, from STUN answers. */
struct cands {
	size_t n;
	struct sp_cand c[SP_CAND_MAX];
	uint8_t nat;			/* enum sp_nat */
	int answered;			/* STUN servers that answered */
	int asked;			/* STUN servers configured */
	int want;			/* answers to wait for: the servers,
					 * and the rendezvous */
	int ready;			/* worth offering: answers are in, or
					 * we waited SP_CAND_WAIT_MS for them */
};

struct sp {
	struct conf *conf;
	const char *gate_path;
	struct cloudgate *gate;		/* NULL in -serve mode */
	int connected;			/* the daemon is attached */
	int sigfd;
	struct proc_ids ids;		/* user and group to switch to */
	int fd;				/* the punching socket (AF_INET) */
	uint16_t port;			/* its local port, host order */
	char name[SP_NAME_MAX + 1];	/* our node */
	uint8_t id[SP_ID];
	uint8_t addr[SP_ADDR_LEN];	/* our address in SP_INSTANCE */
	int autoconn;			/* -auto yes */
	size_t max_peers;
	struct peer **peers;
	size_t npeers;
	struct cands cands;
	struct stunq *stunq;		/* cand.c: STUN queries in flight */
	uint64_t started;		/* ms */
	struct rdv *rdv;		/* -rendezvous, or NULL */
	struct serve *serve;		/* -stun_listen / -serve, or NULL */
	uint64_t next_here;
	uint8_t buf[SP_DGRAM_MAX];
};

int sp_resolve(const struct sp *sp, const char *name, size_t i,
	       struct sockaddr_storage *out);
/* "1.2.3.4:5" */
const char *sp_fmt(const struct sockaddr_storage *sa, char *buf, size_t size);
int sp_same_addr(const struct sockaddr_storage *a,
		 const struct sockaddr_storage *b);
/* Send a signalling message over the mesh to the stunproxy at address
 * dst (NULL: broadcast in SP_INSTANCE). */
void sp_mesh_send(struct sp *sp, const uint8_t *dst, const uint8_t *msg,
		  size_t len);
/* Send one datagram from the punching socket (ttl 0: the default). */
void sp_sendto(struct sp *sp, const uint8_t *buf, size_t len,
	       const struct sockaddr_storage *to, int ttl);

/* cand.c */
int cand_start(struct sp *sp);
void cand_free(struct sp *sp);
/* A datagram on the punching socket that may be a STUN answer: 1 if it
 * was one of ours. */
int cand_input(struct sp *sp, const uint8_t *buf, size_t len,
	       const struct sockaddr_storage *from);
/* A mapping learned another way (the rendezvous server's REGACK). */
void cand_learned(struct sp *sp, const struct sockaddr_storage *mapped,
		  const char *by);
void cand_tick(struct sp *sp, uint64_t now);
const char *cand_nat_name(uint8_t nat);

/* punch.c */
struct peer *peer_find(struct sp *sp, const char *name);
struct peer *peer_add(struct sp *sp, const char *name, int wanted);
void peer_free_all(struct sp *sp);
/* A signalling message from the mesh or the rendezvous. */
void punch_signal(struct sp *sp, const struct sp_sig *s);
/* A datagram on the punching socket that may be a probe: 1 if it was. */
int punch_input(struct sp *sp, const uint8_t *buf, size_t len,
		const struct sockaddr_storage *from);
void punch_tick(struct sp *sp, uint64_t now);
/* What `cloud` said of the link on a socket we handed it. */
void punch_link(struct sp *sp, const uint8_t id[SP_ID], int up,
		const char *why);
/* The gate came back: sessions that were handing over start again. */
void punch_gate_back(struct sp *sp);
/* The HERE we send: flags SP_F_REPLY asks everyone to answer. */
void punch_here(struct sp *sp, const struct peer *to, uint8_t flags);

/* rdv.c */
struct rdv *rdv_new(struct sp *sp);
void rdv_free(struct rdv *r);
int rdv_input(struct sp *sp, const uint8_t *buf, size_t len,
	      const struct sockaddr_storage *from);
/* Send a signalling message to the node named to (NULL: everyone) in our
 * rendezvous group, sealed with the group's key. */
void rdv_send(struct sp *sp, const char *to, const uint8_t *msg, size_t len);
void rdv_tick(struct sp *sp, uint64_t now);

/* serve.c */
struct serve *serve_new(struct sp *sp);
void serve_free(struct serve *s);
/* pollfds for the serve sockets: fills up to max, returns the count. */
size_t serve_fds(const struct serve *s, int *fds, size_t max);
void serve_input(struct serve *s, int fd);
void serve_tick(struct serve *s, uint64_t now);
/* Answer a STUN Binding request that arrived on fd; 1 if it was one. */
int serve_stun(int fd, const uint8_t *buf, size_t len,
	       const struct sockaddr_storage *from);

#endif
