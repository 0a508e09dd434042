/*
 * Our candidates: the addresses a peer may reach our punching socket at.
 * Local interface addresses (host), and what each STUN server saw
 * (server reflexive). Two servers that saw different ports mean a NAT that
 * maps per destination ("symmetric"), which punching cannot beat from the
 * other side's guess of our port.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "conf.h"
#include "log.h"
#include "mono.h"
#include "sp.h"

#define CAND_SLOTS (SP_STUN_MAX + 1)	/* servers, and the rendezvous */

struct stunq {
	size_t n;			/* slots in use; the last may be the
					 * rendezvous (no queries) */
	struct {
		struct sockaddr_storage server;
		char label[64];
		uint8_t txid[STUN_TXID];
		int tries;		/* 0: idle until next_send */
		uint64_t next_send, wait;
		int have;		/* mapped is valid */
		struct sockaddr_storage mapped;
	} q[CAND_SLOTS];
	size_t nhost;
	struct sp_cand host[SP_CAND_MAX];
};

const char *cand_nat_name(uint8_t nat)
{
	switch (nat) {
	case SP_NAT_NONE:
		return "no NAT";
	case SP_NAT_EIM:
		return "NAT with one port for all destinations";
	case SP_NAT_EDM:
		return "symmetric NAT (a port per destination)";
	default:
		return "NAT of unknown kind";
	}
}

/* A TUN or TAP device (ether's, tun's) leads into the mesh itself: a link
 * over it would ride on the links it is meant to replace. */
static int is_tun(const char *ifname)
{
	char path[IF_NAMESIZE + 32];

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
	return access(path, F_OK) == 0;
}

static void host_cands(struct sp *sp, struct stunq *q)
{
	struct ifaddrs *ifa, *i;
	struct sockaddr_in *sin;

	if (getifaddrs(&ifa) < 0) {
		log_warn("getifaddrs");
		return;
	}
	for (i = ifa; i && q->nhost < SP_CAND_MAX / 2; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP) ||
		    is_tun(i->ifa_name))
			continue;
		q->host[q->nhost].kind = SP_CAND_HOST;
		memset(&q->host[q->nhost].sa, 0, sizeof(q->host[0].sa));
		sin = (struct sockaddr_in *)&q->host[q->nhost].sa;
		*sin = *(struct sockaddr_in *)i->ifa_addr;
		sin->sin_port = htons(sp->port);
		q->nhost++;
	}
	freeifaddrs(ifa);
}

static int is_host(const struct stunq *q, const struct sockaddr_storage *a)
{
	size_t i;

	for (i = 0; i < q->nhost; i++)
		if (sp_same_addr(&q->host[i].sa, a))
			return 1;
	return 0;
}

/* What the answers so far say of our NAT. */
static uint8_t nat_kind(const struct stunq *q, int *answered)
{
	const struct sockaddr_storage *first = NULL;
	int differ = 0, none = 0;
	size_t i;

	*answered = 0;
	for (i = 0; i < q->n; i++) {
		if (!q->q[i].have)
			continue;
		++*answered;
		none |= is_host(q, &q->q[i].mapped);
		if (first && !sp_same_addr(first, &q->q[i].mapped))
			differ = 1;
		if (!first)
			first = &q->q[i].mapped;
	}
	if (none)
		return SP_NAT_NONE;
	if (differ)
		return SP_NAT_EDM;
	return *answered >= 2 ? SP_NAT_EIM : SP_NAT_UNKNOWN;
}

static void add_cand(struct cands *c, uint8_t kind,
		     const struct sockaddr_storage *sa)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (sp_same_addr(&c->c[i].sa, sa))
			return;
	if (c->n == SP_CAND_MAX)
		return;
	c->c[c->n].kind = kind;
	c->c[c->n++].sa = *sa;
}

/* Rebuild sp->cands from the host addresses and the answers. */
static void cands_update(struct sp *sp)
{
	struct stunq *q = sp->stunq;
	struct cands *c = &sp->cands;
	uint8_t old = c->nat;
	size_t i;

	c->n = 0;
	for (i = 0; i < q->n; i++)
		if (q->q[i].have)
			add_cand(c, SP_CAND_SRFLX, &q->q[i].mapped);
	for (i = 0; i < q->nhost; i++)
		add_cand(c, SP_CAND_HOST, &q->host[i].sa);
	c->nat = nat_kind(q, &c->answered);
	/* A node that answers STUN for others is reachable: not behind NAT. */
	if (c->nat == SP_NAT_UNKNOWN && conf_count(sp->conf, "stun_listen"))
		c->nat = SP_NAT_NONE;
	if (c->answered >= c->want)
		c->ready = 1;
	if (c->nat != old && c->answered > 0)
		log_info("%d STUN answer(s): %s", c->answered,
			 cand_nat_name(c->nat));
}

static void query_send(struct sp *sp, size_t i, uint64_t now)
{
	struct stunq *q = sp->stunq;
	uint8_t msg[STUN_MSG_MAX];
	size_t len;

	if (q->q[i].tries == 0 &&
	    getrandom(q->q[i].txid, STUN_TXID, 0) != STUN_TXID)
		return;
	len = stun_binding_request(msg, sizeof(msg), q->q[i].txid,
				   "cloudvpn stunproxy", NULL, 0, 1);
	if (len > 0)
		sp_sendto(sp, msg, len, &q->q[i].server, 0);
	q->q[i].wait = q->q[i].tries ? q->q[i].wait * 2 : SP_STUN_RETRY_MS;
	q->q[i].tries++;
	q->q[i].next_send = now + q->q[i].wait;
}

int cand_start(struct sp *sp)
{
	struct stunq *q = calloc(1, sizeof(*q));
	char b[64];
	size_t i;

	if (!q)
		return -1;
	sp->stunq = q;
	host_cands(sp, q);
	for (i = 0; i < conf_count(sp->conf, "stun"); i++) {
		if (sp_resolve(sp, "stun", i, &q->q[i].server) < 0)
			return -1;
		snprintf(q->q[i].label, sizeof(q->q[i].label), "STUN %s",
			 sp_fmt(&q->q[i].server, b, sizeof(b)));
		q->n++;
	}
	sp->cands.asked = (int)q->n;
	sp->cands.want = (int)q->n + !!conf_last(sp->conf, "rendezvous");
	sp->started = mono_ms();
	cands_update(sp);
	for (i = 0; i < q->n; i++)
		query_send(sp, i, mono_ms());
	return 0;
}

void cand_free(struct sp *sp)
{
	free(sp->stunq);
	sp->stunq = NULL;
}

static void query_done(struct sp *sp, size_t i,
		       const struct sockaddr_storage *mapped)
{
	struct stunq *q = sp->stunq;
	char b[64];

	if (!q->q[i].have || !sp_same_addr(&q->q[i].mapped, mapped))
		log_info("%s sees us as %s", q->q[i].label,
			 sp_fmt(mapped, b, sizeof(b)));
	q->q[i].have = 1;
	q->q[i].mapped = *mapped;
	q->q[i].tries = 0;
	q->q[i].next_send = mono_ms() + SP_STUN_MS;
	cands_update(sp);
}

int cand_input(struct sp *sp, const uint8_t *buf, size_t len,
	       const struct sockaddr_storage *from)
{
	struct stunq *q = sp->stunq;
	struct stun_msg m;
	size_t i;

	if (!q || stun_decode(buf, len, &m) < 0 ||
	    m.type != STUN_BINDING_SUCCESS || !m.has_mapped)
		return 0;
	for (i = 0; i < q->n; i++)
		if (q->q[i].tries > 0 && sp_same_addr(&q->q[i].server, from) &&
		    !memcmp(q->q[i].txid, m.txid, STUN_TXID)) {
			query_done(sp, i, &m.mapped);
			return 1;
		}
	return 0;
}

void cand_learned(struct sp *sp, const struct sockaddr_storage *mapped,
		  const char *by)
{
	struct stunq *q = sp->stunq;
	size_t i = (size_t)sp->cands.asked;	/* the slot after the servers */

	if (!q || i >= CAND_SLOTS)
		return;
	if (q->n <= i) {
		q->n = i + 1;
		snprintf(q->q[i].label, sizeof(q->q[i].label), "%s", by);
	}
	q->q[i].tries = 0;
	q->q[i].next_send = UINT64_MAX;
	query_done(sp, i, mapped);
	q->q[i].next_send = UINT64_MAX;
}

void cand_tick(struct sp *sp, uint64_t now)
{
	struct stunq *q = sp->stunq;
	size_t i;

	if (!sp->cands.ready && now >= sp->started + SP_CAND_WAIT_MS) {
		log_info("%d of %d STUN answer(s) after %d s: offering what "
			 "we have", sp->cands.answered, sp->cands.want,
			 SP_CAND_WAIT_MS / 1000);
		sp->cands.ready = 1;
	}
	for (i = 0; q && i < (size_t)sp->cands.asked; i++) {
		if (now < q->q[i].next_send)
			continue;
		if (q->q[i].tries >= SP_STUN_TRIES) {
			log_warnx("%s: no answer to %d requests",
				  q->q[i].label, SP_STUN_TRIES);
			q->q[i].have = 0;
			q->q[i].tries = 0;
			q->q[i].next_send = now + SP_STUN_MS;
			cands_update(sp);
			continue;
		}
		query_send(sp, i, now);
	}
}
