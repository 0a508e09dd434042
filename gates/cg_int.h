/*
 * libcloudgate's inside, shared by its two halves: cloudgate.c (the gate
 * protocol client) and cgrun.c (the runtime). Not installed. The library
 * exports only ^cg_ names, so what the two halves share is called cgi_.
 */
#ifndef CG_INT_H
#define CG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "cloudgate.h"
#include "gateproto.h"

#define CG_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct cloudgate {
	int fd;
	int blocked;		/* a write met EAGAIN: wait for POLLOUT */
	int eof;		/* the daemon closed; drain what is buffered */
	int broken;		/* garbage or a dead socket: only reconnect */
	int announced;		/* re-announce on reconnect */
	uint32_t caps;		/* GP_CAP_* declared, re-sent on reconnect */
	char path[CG_PATH_MAX];
	char name[GP_NAME_MAX + 1];
	char daemon[GP_NAME_MAX + 1];
	uint8_t node[GP_ID_LEN];	/* the daemon's node ID (NODE) */
	void (*on_link)(void *arg, const struct cg_link_event *ev);
	void *on_link_arg;
	void (*on_noroute)(void *arg, const struct cg_noroute *nr);
	void *on_noroute_arg;
	struct cg_handlers h;	/* cg_start's (all NULL after cg_open) */
	void *harg;
	int more;		/* input may be left: cg_run reads on */
	uint64_t next_retry;	/* while fd < 0: cg_run's next connect */
	unsigned retries;	/* failed connects since the daemon went */
	int retry_err;		/* errno of the last one */
	uint32_t subs[CG_SUBSCRIBE_MAX];	/* re-sent on reconnect */
	size_t nsubs;
	struct gp_prefix *pfx;	/* PREFIX decoding, once subscribed */
	struct addr *ann;	/* the remembered announced set */
	size_t nann;
	uint8_t *out;		/* queued bytes are out[ohead..otail) */
	size_t ohead, otail;
	uint8_t *in;		/* unparsed bytes are in[ihead..itail) */
	size_t ihead, itail;
	uint64_t last_rx, last_tx;	/* monotonic ms */
};

/* What cgrun.c needs of cloudgate.c; a failure sets broken or errno. */
/* Write what is queued: 0 all written, 1 some left, -1 the socket is dead. */
int cgi_write_out(struct cloudgate *g);
/* Read until EAGAIN: bytes read, or -1 at EOF or on error. */
long cgi_fill(struct cloudgate *g);
int cgi_queue_keepalive(struct cloudgate *g);
/* Parse buffered messages until a packet: 1, 0 (none buffered), -1. */
int cgi_next_packet(struct cloudgate *g, struct cg_packet *p);
/* Connect and exchange hellos; on failure the socket is closed. */
int cgi_dial(struct cloudgate *g, char *err, size_t errsize);
/* Re-send the announced set, capabilities and subscriptions. */
int cgi_resend(struct cloudgate *g);

#endif
