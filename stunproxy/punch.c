/*
 * Punching, one session per remote node (doc/PROTOCOL.md §4):
 *
 *   offerer                              answerer
 *   OFFER(cands, key half) ------------> open own NAT toward cands (low TTL)
 *                          <------------ ANSWER(cands, key half)
 *   open own NAT toward cands (low TTL)
 *   GO --------------------------------> 
 *   PROBE every pair <-----------------> PROBE every pair, ACK each probe
 *   the controlling side (lower node ID) picks the pair with the lowest
 *   RTT and sends a PROBE flagged USE on it; each side then hands `cloud`
 *   a socket on the punching port, connected to the far end of that pair.
 *
 * Opening first matters: a probe that reaches the far NAT before the far
 * side has sent anything leaves a conntrack entry there that makes the
 * far side's own mapping move to another port.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cloudgate.h"
#include "conf.h"
#include "log.h"
#include "mono.h"
#include "sp.h"

enum pst {
	P_IDLE,			/* nothing going on */
	P_OFFERED,		/* we offered; waiting for the ANSWER */
	P_WAITGO,		/* we answered; waiting for GO or a probe */
	P_PROBING,
	P_HANDED,		/* cloud has the socket; waiting for LINK */
	P_DIRECT,		/* the direct link is up */
	P_WAIT,			/* failed; next try at deadline */
};

static const char *const pst_name[] = {
	"idle", "offered", "answered", "probing", "handing over", "direct",
	"relayed",
};

struct rem {
	struct sockaddr_storage sa;
	uint64_t rtt_ns;	/* best seen; 0: never answered */
};

struct peer {
	char name[SP_NAME_MAX + 1];
	uint8_t addr[SP_ADDR_LEN];
	uint8_t id[SP_ID];
	int id_known;
	int wanted;		/* we start sessions (else only answer) */
	enum pst st;
	uint64_t since, deadline;	/* ms */
	uint64_t next_probe, first_ack;
	uint64_t sid;
	uint8_t half[SP_KEYHALF];	/* our share of the probe key */
	uint8_t key[SP_KEY];
	uint8_t their_nat;
	struct rem rem[SP_REM_MAX];
	size_t nrem;
	size_t chosen;		/* the pair handed over */
	uint32_t round;
	unsigned fails;
	int retry_on_here;	/* the last failure was silence */
	int pending;		/* an OFFER waits for our candidates */
	struct sp_sig offer;
	char why[256];
};

/* ---- the peer table ------------------------------------------------------ */

struct peer *peer_find(struct sp *sp, const char *name)
{
	size_t i;

	for (i = 0; i < sp->npeers; i++)
		if (!strcmp(sp->peers[i]->name, name))
			return sp->peers[i];
	return NULL;
}

static struct peer *peer_by_id(struct sp *sp, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < sp->npeers; i++)
		if (sp->peers[i]->id_known && !memcmp(sp->peers[i]->id, id, SP_ID))
			return sp->peers[i];
	return NULL;
}

static struct peer *peer_by_sid(struct sp *sp, uint64_t sid)
{
	size_t i;

	for (i = 0; i < sp->npeers; i++)
		if (sp->peers[i]->sid == sid && sp->peers[i]->st >= P_OFFERED &&
		    sp->peers[i]->st <= P_PROBING)
			return sp->peers[i];
	return NULL;
}

struct peer *peer_add(struct sp *sp, const char *name, int wanted)
{
	struct peer *p = peer_find(sp, name), **np;

	if (p) {
		p->wanted |= wanted;
		return p;
	}
	if (sp->npeers >= sp->max_peers || !strcmp(name, sp->name))
		return NULL;
	np = realloc(sp->peers, (sp->npeers + 1) * sizeof(*np));
	if (!np)
		return NULL;
	sp->peers = np;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	sp_addr_of(name, p->addr);
	p->wanted = wanted;
	p->since = mono_ms();
	sp->peers[sp->npeers++] = p;
	return p;
}

void peer_free_all(struct sp *sp)
{
	size_t i;

	for (i = 0; i < sp->npeers; i++)
		free(sp->peers[i]);
	free(sp->peers);
	sp->peers = NULL;
	sp->npeers = 0;
}

static int controlling(const struct sp *sp, const struct peer *p)
{
	return memcmp(sp->id, p->id, SP_ID) < 0;
}

/* What this side can tell of its own trouble, or NULL. */
static const char *own_trouble(const struct sp *sp)
{
	if (sp->cands.asked > 0 && sp->cands.answered == 0)
		return "no STUN server answers this node: is UDP blocked here?";
	return NULL;
}

/* ---- state changes ------------------------------------------------------- */

static void set_state(struct sp *sp, struct peer *p, enum pst st,
		      uint64_t timeout_ms)
{
	uint64_t now = mono_ms();

	if (st != p->st)
		log_debug("%s: %s -> %s", p->name, pst_name[p->st],
			  pst_name[st]);
	p->st = st;
	p->since = now;
	p->deadline = timeout_ms ? now + timeout_ms : UINT64_MAX;
	(void)sp;
}

static void note(struct sp *sp, const struct peer *p, const char *text)
{
	if (sp->connected && p->id_known &&
	    cg_note(sp->gate, p->id, p->name, text) < 0)
		log_debug("%s: note not sent", p->name);
}

static void sig_base(const struct sp *sp, const struct peer *p,
		     struct sp_sig *s, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->type = type;
	snprintf(s->name, sizeof(s->name), "%s", sp->name);
	memcpy(s->id, sp->id, SP_ID);
	s->sid = p ? p->sid : 0;
}

static void sig_send(struct sp *sp, const struct peer *p,
		     const struct sp_sig *s)
{
	uint8_t buf[SP_MSG_MAX];
	size_t len = sp_sig_encode(buf, sizeof(buf), s);

	if (len == 0) {
		log_warnx("cannot encode a signalling message of type %u",
			  s->type);
		return;
	}
	sp_mesh_send(sp, p ? p->addr : NULL, buf, len);
	if (sp->rdv)
		rdv_send(sp, p ? p->name : NULL, buf, len);
}

void punch_here(struct sp *sp, const struct peer *to, uint8_t flags)
{
	struct sp_sig s;

	sig_base(sp, NULL, &s, SP_HERE);
	s.flags = flags;
	sig_send(sp, to, &s);
}

static uint64_t backoff_ms(unsigned fails)
{
	uint64_t ms = SP_RETRY_MIN_MS;
	uint16_t r = 0;

	while (fails-- > 0 && ms < SP_RETRY_MAX_MS)
		ms *= 2;
	if (ms > SP_RETRY_MAX_MS)
		ms = SP_RETRY_MAX_MS;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = 0;
	return ms - ms / 4 * r / 65535;	/* up to a quarter earlier */
}

/* The session ended without a direct link: say why once, tell the peer
 * (unless it told us), and try again after wait ms if we want this node. */
static void fail_wait(struct sp *sp, struct peer *p, const char *why,
		      int tell, uint64_t wait)
{
	struct sp_sig s;
	char text[300];

	if (tell && p->sid) {
		sig_base(sp, p, &s, SP_FAIL);
		snprintf(s.why, sizeof(s.why), "%.128s", why);
		sig_send(sp, p, &s);
	}
	p->fails++;
	snprintf(p->why, sizeof(p->why), "%s", why);
	snprintf(text, sizeof(text), "relayed: %s", why);
	if (p->wanted)
		log_info("%s: relayed: %s; next try in %llu s", p->name, why,
			 (unsigned long long)(wait / 1000));
	else
		log_info("%s: relayed: %s", p->name, why);
	note(sp, p, text);
	p->sid = 0;
	set_state(sp, p, p->wanted ? P_WAIT : P_IDLE, p->wanted ? wait : 0);
}

static void fail(struct sp *sp, struct peer *p, const char *why, int tell)
{
	fail_wait(sp, p, why, tell, backoff_ms(p->fails));
}

/* ---- candidates and keys ------------------------------------------------- */

static void rem_add(struct peer *p, const struct sockaddr_storage *sa)
{
	size_t i;

	if (sa->ss_family != AF_INET)
		return;
	for (i = 0; i < p->nrem; i++)
		if (sp_same_addr(&p->rem[i].sa, sa))
			return;
	if (p->nrem == SP_REM_MAX)
		return;
	memset(&p->rem[p->nrem], 0, sizeof(p->rem[0]));
	p->rem[p->nrem++].sa = *sa;
}

static void take_cands(struct peer *p, const struct sp_sig *s)
{
	size_t i;

	p->nrem = 0;
	for (i = 0; i < s->ncand; i++)
		rem_add(p, &s->cand[i].sa);
	p->their_nat = s->nat;
}

static void put_cands(const struct sp *sp, const struct peer *p,
		      struct sp_sig *s)
{
	memcpy(s->key, p->half, SP_KEYHALF);
	s->nat = sp->cands.nat;
	s->ncand = sp->cands.n;
	memcpy(s->cand, sp->cands.c, sp->cands.n * sizeof(s->cand[0]));
}

/* Open our own NAT toward every remote candidate with packets that die
 * before they reach the far NAT. A node with no NAT has nothing to open,
 * and its opening packets, with no NAT of its own to pass, might well
 * reach the far NAT and spoil the far side's mapping. */
static void open_nat(struct sp *sp, struct peer *p)
{
	struct sp_probe pr = { .type = SP_OPEN, .sid = p->sid };
	uint8_t buf[SP_MSG_MAX];
	int ttl = (int)conf_int(sp->conf, "open_ttl");
	size_t i, len = sp_probe_encode(buf, sizeof(buf), &pr, p->key);

	if (sp->cands.nat == SP_NAT_NONE)
		return;
	for (i = 0; i < p->nrem && len > 0; i++)
		sp_sendto(sp, buf, len, &p->rem[i].sa, ttl);
}

static int new_session(struct peer *p)
{
	return getrandom(&p->sid, sizeof(p->sid), 0) == sizeof(p->sid) &&
	       getrandom(p->half, SP_KEYHALF, 0) == SP_KEYHALF ? 0 : -1;
}

/* ---- the offerer's side -------------------------------------------------- */

static void send_offer(struct sp *sp, struct peer *p)
{
	struct sp_sig s;

	sig_base(sp, p, &s, SP_OFFER);
	put_cands(sp, p, &s);
	sig_send(sp, p, &s);
	p->next_probe = mono_ms() + SP_RESEND_MS;
}

static void start(struct sp *sp, struct peer *p)
{
	if (new_session(p) < 0 || p->sid == 0)
		return;
	p->nrem = 0;
	p->first_ack = 0;
	set_state(sp, p, P_OFFERED, SP_ANSWER_MS);
	send_offer(sp, p);
	log_debug("%s: offered %zu candidate(s)", p->name, sp->cands.n);
}

static void begin_probing(struct sp *sp, struct peer *p)
{
	char b[64];

	set_state(sp, p, P_PROBING, SP_PUNCH_MS);
	p->next_probe = mono_ms();
	p->first_ack = 0;
	p->round = 0;
	log_info("%s: punching: %zu local and %zu remote candidate(s), "
		 "first %s", p->name, sp->cands.n, p->nrem,
		 p->nrem ? sp_fmt(&p->rem[0].sa, b, sizeof(b)) : "-");
	note(sp, p, "punching");
}

static void on_answer(struct sp *sp, struct peer *p, const struct sp_sig *s)
{
	struct sp_sig go;

	if (p->st != P_OFFERED || s->sid != p->sid)
		return;
	sp_probe_key(p->half, s->key, p->sid, p->key);
	take_cands(p, s);
	open_nat(sp, p);
	sig_base(sp, p, &go, SP_GO);
	sig_send(sp, p, &go);
	begin_probing(sp, p);
}

/* ---- the answerer's side ------------------------------------------------- */

/* While a session runs, the controlling side's stands: an offer that
 * crossed ours (glare), or a stale one, is ignored there; the other side
 * gives its session up for the controlling side's new one. */
static int session_stands(const struct sp *sp, const struct peer *p)
{
	return p->st >= P_OFFERED && p->st <= P_HANDED && controlling(sp, p);
}

static void send_answer(struct sp *sp, struct peer *p)
{
	struct sp_sig s;

	sig_base(sp, p, &s, SP_ANSWER);
	put_cands(sp, p, &s);
	sig_send(sp, p, &s);
}

static void answer(struct sp *sp, struct peer *p, const struct sp_sig *o)
{
	if (new_session(p) < 0)
		return;
	p->sid = o->sid;
	sp_probe_key(o->key, p->half, p->sid, p->key);
	take_cands(p, o);
	open_nat(sp, p);
	set_state(sp, p, P_WAITGO, SP_ANSWER_MS);
	send_answer(sp, p);
}

static void on_offer(struct sp *sp, struct peer *p, const struct sp_sig *o)
{
	if (o->sid == 0)
		return;
	if (o->sid == p->sid && p->st == P_WAITGO) {
		send_answer(sp, p);	/* our ANSWER may have been lost */
		return;
	}
	if (o->sid == p->sid && p->st > P_WAITGO)
		return;
	if (session_stands(sp, p))
		return;
	if (!sp->cands.ready) {
		p->pending = 1;
		p->offer = *o;
		return;
	}
	p->pending = 0;
	answer(sp, p, o);
}

/* ---- signalling in ------------------------------------------------------- */

static void on_here(struct sp *sp, struct peer *p, const struct sp_sig *s)
{
	if (s->flags & SP_F_REPLY)
		punch_here(sp, p, 0);
	if (p->st == P_OFFERED)
		send_offer(sp, p);	/* it may not have been there before */
	if (sp->autoconn)
		p->wanted = 1;
	if (p->wanted && p->st == P_WAIT && p->retry_on_here)
		p->deadline = mono_ms();	/* its stunproxy is back */
}

static void learn_id(struct sp *sp, struct peer *p, const uint8_t *id)
{
	char hex[17];
	size_t i;

	if (p->id_known && !memcmp(p->id, id, SP_ID))
		return;
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	log_info("%s: stunproxy found (node ID %s...)", p->name, hex);
	memcpy(p->id, id, SP_ID);
	p->id_known = 1;
	(void)sp;
}

void punch_signal(struct sp *sp, const struct sp_sig *s)
{
	struct peer *p = peer_find(sp, s->name);

	if (!p && (s->type == SP_OFFER || (s->type == SP_HERE && sp->autoconn)))
		p = peer_add(sp, s->name, 0);
	if (!p)
		return;
	learn_id(sp, p, s->id);
	switch (s->type) {
	case SP_HERE:
		on_here(sp, p, s);
		break;
	case SP_OFFER:
		on_offer(sp, p, s);
		break;
	case SP_ANSWER:
		on_answer(sp, p, s);
		break;
	case SP_GO:
		if (p->st == P_WAITGO && s->sid == p->sid)
			begin_probing(sp, p);
		break;
	case SP_FAIL:
		if (s->sid == p->sid && p->st >= P_OFFERED && p->st <= P_PROBING) {
			char why[SP_NAME_MAX + SP_WHY_MAX + 96];

			snprintf(why, sizeof(why), "%s gave up: %s%s%s", p->name,
				 s->why, own_trouble(sp) ? "; here, " : "",
				 own_trouble(sp) ? own_trouble(sp) : "");
			fail(sp, p, why, 0);
		}
		break;
	}
}

/* ---- probes -------------------------------------------------------------- */

static void probe_send(struct sp *sp, struct peer *p, size_t i,
		       uint8_t flags)
{
	struct sp_probe pr = { .type = SP_PROBE, .flags = flags,
		.sid = p->sid, .seq = p->round << 4 | (uint32_t)i,
		.stamp = mono_ns() };
	uint8_t buf[SP_MSG_MAX];
	size_t len = sp_probe_encode(buf, sizeof(buf), &pr, p->key);

	if (len > 0)
		sp_sendto(sp, buf, len, &p->rem[i].sa, 0);
}

static void ack_send(struct sp *sp, struct peer *p, const struct sp_probe *in,
		     const struct sockaddr_storage *from)
{
	struct sp_probe pr = { .type = SP_ACK, .flags = in->flags,
		.sid = p->sid, .seq = in->seq, .stamp = in->stamp,
		.seen = *from };
	uint8_t buf[SP_MSG_MAX];
	size_t len = sp_probe_encode(buf, sizeof(buf), &pr, p->key);

	if (len > 0)
		sp_sendto(sp, buf, len, from, 0);
}

/* A socket on our punching port, connected to the chosen far end, for
 * cloud to run a DTLS link on. The NAT mapping is the punching socket's. */
static int clone_socket(const struct sp *sp, const struct sockaddr_storage *to)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(sp->port) };
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    connect(fd, (const struct sockaddr *)to,
		    sizeof(struct sockaddr_in)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void hand_over(struct sp *sp, struct peer *p, size_t i)
{
	char b[64], why[128];
	int fd = clone_socket(sp, &p->rem[i].sa), r = -1;

	sp_fmt(&p->rem[i].sa, b, sizeof(b));
	if (fd >= 0 && sp->connected) {
		cg_flush(sp->gate);
		r = cg_hand_socket(sp->gate, fd, p->id);
	}
	snprintf(why, sizeof(why), "cannot hand cloud a socket to %s: %s", b,
		 fd < 0 ? strerror(errno) : "the daemon is not attached");
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		fail(sp, p, why, 1);
		return;
	}
	log_info("%s: punched through to %s (rtt %.1f ms); cloud links there",
		 p->name, b, (double)p->rem[i].rtt_ns / 1e6);
	set_state(sp, p, P_HANDED, SP_PUNCH_MS + SP_ANSWER_MS);
	p->chosen = i;
}

static void on_probe(struct sp *sp, struct peer *p, const struct sp_probe *pr,
		     const struct sockaddr_storage *from)
{
	size_t i;

	ack_send(sp, p, pr, from);
	rem_add(p, from);	/* peer reflexive: where it really came from */
	if (p->st == P_WAITGO)
		begin_probing(sp, p);
	if (!(pr->flags & SP_P_USE) || controlling(sp, p) ||
	    p->st != P_PROBING)
		return;
	for (i = 0; i < p->nrem; i++)
		if (sp_same_addr(&p->rem[i].sa, from)) {
			hand_over(sp, p, i);
			return;
		}
}

static void on_ack(struct peer *p, const struct sp_probe *pr,
		   const struct sockaddr_storage *from)
{
	size_t i = pr->seq & 15;
	uint64_t rtt = mono_ns() - pr->stamp;

	if (p->st != P_PROBING || i >= p->nrem ||
	    !sp_same_addr(&p->rem[i].sa, from))
		return;		/* an answer must come from where we asked */
	if (!p->rem[i].rtt_ns || rtt < p->rem[i].rtt_ns)
		p->rem[i].rtt_ns = rtt ? rtt : 1;
	if (!p->first_ack)
		p->first_ack = mono_ms();
}

int punch_input(struct sp *sp, const uint8_t *buf, size_t len,
		const struct sockaddr_storage *from)
{
	struct sp_probe pr;
	struct peer *p;
	uint64_t sid;

	if (!sp_probe_peek(buf, len, &sid))
		return 0;
	if (!(p = peer_by_sid(sp, sid)) ||
	    sp_probe_decode(buf, len, p->key, &pr) < 0) {
		log_debug("a probe that is not ours, or forged: dropped");
		return 1;
	}
	if (pr.type == SP_PROBE)
		on_probe(sp, p, &pr, from);
	else if (pr.type == SP_ACK)
		on_ack(p, &pr, from);
	return 1;
}

/* ---- timers -------------------------------------------------------------- */

static void nominate(struct sp *sp, struct peer *p)
{
	size_t i, best = 0;
	int k;

	for (i = 1; i < p->nrem; i++)
		if (p->rem[i].rtt_ns && (!p->rem[best].rtt_ns ||
					 p->rem[i].rtt_ns < p->rem[best].rtt_ns))
			best = i;
	for (k = 0; k < 3; k++)
		probe_send(sp, p, best, SP_P_USE);
	hand_over(sp, p, best);
}

static void no_answer(struct sp *sp, struct peer *p)
{
	char why[256];

	if (own_trouble(sp))
		snprintf(why, sizeof(why), "no probe answered in %d s, and %s",
			 SP_PUNCH_MS / 1000, own_trouble(sp));
	else if (sp->cands.nat == SP_NAT_EDM && p->their_nat == SP_NAT_EDM)
		snprintf(why, sizeof(why), "no probe answered in %d s: "
			 "symmetric NAT on both sides (a new port for each "
			 "destination), which punching cannot beat",
			 SP_PUNCH_MS / 1000);
	else
		snprintf(why, sizeof(why), "no probe answered in %d s "
			 "(this node: %s; %s: %s)", SP_PUNCH_MS / 1000,
			 cand_nat_name(sp->cands.nat), p->name,
			 cand_nat_name(p->their_nat));
	fail(sp, p, why, 1);
}

static void probing_tick(struct sp *sp, struct peer *p, uint64_t now)
{
	size_t i;

	if (p->first_ack && controlling(sp, p) &&
	    now >= p->first_ack + SP_SETTLE_MS) {
		nominate(sp, p);
		return;
	}
	if (now >= p->deadline) {
		no_answer(sp, p);
		return;
	}
	if (now < p->next_probe)
		return;
	p->next_probe = now + SP_PROBE_MS;
	for (i = 0; i < p->nrem; i++)
		probe_send(sp, p, i, 0);
	p->round = (p->round + 1) & 0x0fffffff;
}

static void peer_tick(struct sp *sp, struct peer *p, uint64_t now)
{
	char why[128];

	if (p->pending && sp->cands.ready)
		on_offer(sp, p, &p->offer);
	switch (p->st) {
	case P_IDLE:
		if (p->wanted && sp->connected + (sp->rdv != NULL) > 0 &&
		    sp->cands.ready)
			start(sp, p);
		break;
	case P_OFFERED:
	case P_WAITGO:
		if (p->st == P_OFFERED && now >= p->next_probe &&
		    now < p->deadline)
			send_offer(sp, p);
		if (now < p->deadline)
			break;
		snprintf(why, sizeof(why), "%s's stunproxy did not answer in "
			 "%d s", p->name, SP_ANSWER_MS / 1000);
		fail(sp, p, why, p->st == P_WAITGO);
		p->retry_on_here = 1;
		break;
	case P_PROBING:
		probing_tick(sp, p, now);
		break;
	case P_HANDED:
		if (now >= p->deadline)
			fail(sp, p, "cloud did not bring the link up", 1);
		break;
	case P_WAIT:
		if (now >= p->deadline)
			set_state(sp, p, P_IDLE, 0);
		break;
	case P_DIRECT:
		break;
	}
}

void punch_tick(struct sp *sp, uint64_t now)
{
	size_t i;

	for (i = 0; i < sp->npeers; i++)
		peer_tick(sp, sp->peers[i], now);
}

void punch_link(struct sp *sp, const uint8_t id[SP_ID], int up,
		const char *why)
{
	struct peer *p = peer_by_id(sp, id);
	char b[64], text[200];

	if (!p)
		return;
	if (up) {
		sp_fmt(&p->rem[p->chosen].sa, b, sizeof(b));
		snprintf(text, sizeof(text), "direct to %s", b);
		log_info("%s: direct link up (to %s)", p->name, b);
		note(sp, p, text);
		p->fails = 0;
		p->retry_on_here = 0;
		set_state(sp, p, P_DIRECT, 0);
		return;
	}
	if (p->st != P_HANDED && p->st != P_DIRECT)
		return;
	snprintf(text, sizeof(text), "the direct link ended: %s", why);
	p->sid = 0;		/* nothing to tell the peer */
	/* A path that worked may work again (a NAT that forgot us): soon. */
	if (p->st == P_DIRECT)
		p->fails = 0;
	fail_wait(sp, p, text, 0, p->st == P_DIRECT ? SP_RELINK_MS :
		  backoff_ms(p->fails));
	p->retry_on_here = 1;
}

void punch_gate_back(struct sp *sp)
{
	size_t i;

	/* The daemon restarted or came back: handed links are gone. */
	for (i = 0; i < sp->npeers; i++)
		if (sp->peers[i]->st == P_HANDED || sp->peers[i]->st == P_DIRECT)
			set_state(sp, sp->peers[i], P_IDLE, 0);
}
