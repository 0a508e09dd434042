/*
 * Admission of new links, and how a flood of them is kept from costing
 * more than it may. Inbound strangers pass, in order:
 *
 *   1. their source's rate (accept_rate_per_source a second, a burst of
 *      as many), so one address cannot use up the next check;
 *   2. the daemon's rate (accept_rate a second, all sources together),
 *      which bounds the handshakes (CPU) a flood can make us do;
 *   3. max_handshakes_per_source inbound links of one address not yet
 *      authenticated, so one address cannot hold the room;
 *   4. room under max_connections, made if need be by evicting the
 *      oldest inbound link not yet authenticated.
 *
 * Our own attempts (connectors, sockets a gate hands us) pass 4 only, and
 * inbound strangers never evict them, nor any authenticated link. A
 * handshake takes milliseconds and a stranger's link waits at least
 * max_connections / accept_rate seconds before it can be evicted, so a
 * real peer links even while the limits are hit. Big buffers come only
 * after authentication (queues allocate on first use, link.c refuses
 * frames before it), so a stranger costs a TLS session and little else.
 *
 * Refusals and the failures of strangers' handshakes are counted and
 * logged at most LOG_BURST times per LOG_WINDOW_NS, then summed up.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "admit.h"
#include "cloud.h"
#include "conf.h"
#include "link.h"
#include "log.h"
#include "siphash.h"

#define SOURCES 1024			/* rate buckets, by keyed hash */
#define LOG_WINDOW_NS 10000000000ull
#define LOG_BURST 10

/* GCRA: tat is the bucket's theoretical arrival time; a request conforms
 * while tat - now is within the burst. One word per bucket. */
struct rate {
	uint64_t tat, step_ns, burst_ns;
};

struct source {
	uint8_t ip[16];
	uint64_t tat;
};

struct admit {
	unsigned max_conn, per_source, per_node;
	struct rate all, one;		/* all: the bucket; one: its shape */
	struct source src[SOURCES];
	uint8_t key[SIPHASH_KEY_LEN];
	uint64_t refused_rate, refused_source, refused_full, refused_node;
	uint64_t evicted;
	uint64_t log_at;		/* the log window's start */
	unsigned logged, quiet;		/* lines in it, lines withheld */
};

static void rate_shape(struct rate *r, unsigned per_s)
{
	r->step_ns = 1000000000ull / per_s;
	r->burst_ns = r->step_ns * (per_s - 1);
	r->tat = 0;
}

static int rate_take(uint64_t *tat, const struct rate *shape, uint64_t now)
{
	uint64_t t = *tat > now ? *tat : now;

	if (t - now > shape->burst_ns)
		return 0;
	*tat = t + shape->step_ns;
	return 1;
}

int admit_init(struct cloud *c)
{
	struct admit *a = calloc(1, sizeof(*a));

	if (!a)
		return -1;
	if (getrandom(a->key, sizeof(a->key), 0) != sizeof(a->key)) {
		log_warn("admit: getrandom");
		free(a);
		return -1;
	}
	a->max_conn = (unsigned)conf_int(c->conf, "max_connections");
	a->per_source = (unsigned)conf_int(c->conf,
					   "max_handshakes_per_source");
	a->per_node = (unsigned)conf_int(c->conf, "max_links_per_node");
	rate_shape(&a->all, (unsigned)conf_int(c->conf, "accept_rate"));
	rate_shape(&a->one,
		   (unsigned)conf_int(c->conf, "accept_rate_per_source"));
	c->admit = a;
	return 0;
}

void admit_free(struct cloud *c)
{
	free(c->admit);
	c->admit = NULL;
}

/* ---- logging ------------------------------------------------------------- */

int admit_log_ok(struct cloud *c)
{
	struct admit *a = c->admit;
	uint64_t now = now_ns();

	if (now - a->log_at >= LOG_WINDOW_NS) {
		if (a->quiet)
			log_warnx("links: %u more messages about unauthenticated "
				  "connections not logged (refused: %llu by "
				  "source, %llu by accept_rate, %llu by "
				  "max_connections, in all)", a->quiet,
				  (unsigned long long)a->refused_source,
				  (unsigned long long)a->refused_rate,
				  (unsigned long long)a->refused_full);
		a->log_at = now;
		a->logged = a->quiet = 0;
	}
	if (a->logged < LOG_BURST) {
		a->logged++;
		return 1;
	}
	a->quiet++;
	return 0;
}

static int refuse(struct cloud *c, uint64_t *count, const char *addr,
		  const char *why)
{
	(*count)++;
	if (admit_log_ok(c))
		log_warnx("link %s: refused: %s", addr, why);
	return -1;
}

/* ---- the checks ---------------------------------------------------------- */

static void source_key(const struct sockaddr *sa, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)(const void *)sa)
				    ->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)(const void *)sa)
					 ->sin_addr, 4);
	}
}

/* A bucket per address; two addresses that share a slot share its
 * bucket, and the key keeps anyone from choosing whom they share with.
 * A slot goes to a new address once its bucket has drained. */
static int source_rate_ok(struct admit *a, const uint8_t ip[16],
			  uint64_t now)
{
	struct source *s = &a->src[siphash24(a->key, ip, 16) % SOURCES];

	if (memcmp(s->ip, ip, 16) && s->tat <= now) {
		memcpy(s->ip, ip, 16);
		s->tat = 0;
	}
	return rate_take(&s->tat, &a->one, now);
}

/* "10.0.0.1:5000" and "[fe80::1]:5000": the host is all before the last
 * colon. */
static size_t host_len(const char *addr)
{
	const char *p = strrchr(addr, ':');

	return p ? (size_t)(p - addr) : strlen(addr);
}

static int stranger(const struct link_info *i)
{
	return i->peer->is_server && !i->handed && !i->verified && !i->doomed;
}

static unsigned source_pending(struct cloud *c, const char *addr)
{
	size_t n = host_len(addr);
	struct link_info i;
	struct link *l;
	unsigned count = 0;

	for (l = links_first(c); l; l = link_next(l)) {
		link_info(l, &i);
		count += stranger(&i) && host_len(i.addr) == n &&
			 !memcmp(i.addr, addr, n);
	}
	return count;
}

static struct link *oldest_stranger(struct cloud *c)
{
	struct link *l, *old = NULL;
	struct link_info i;
	uint64_t t = 0;

	for (l = links_first(c); l; l = link_next(l)) {
		link_info(l, &i);
		if (stranger(&i) && (!old || i.t_start < t)) {
			old = l;
			t = i.t_start;
		}
	}
	return old;
}

static unsigned live_links(struct cloud *c)
{
	struct link *l;
	unsigned n = 0;

	for (l = links_first(c); l; l = link_next(l))
		n += !link_doomed(l);
	return n;
}

/* The evicted link is doomed, not freed: a caller up the stack may still
 * hold it. It closes before the loop sleeps. */
static int make_room(struct cloud *c, const char *addr)
{
	struct admit *a = c->admit;
	struct link *old;

	if (live_links(c) < a->max_conn)
		return 0;
	if (!(old = oldest_stranger(c)))
		return refuse(c, &a->refused_full, addr,
			      "max_connections reached");
	a->evicted++;
	link_hs_fail(old, LINK_HS_EVICTED, "evicted: connection limit reached");
	return 0;
}

int admit_inbound(struct cloud *c, const struct sockaddr *sa,
		  const char *addr)
{
	struct admit *a = c->admit;
	uint64_t now = now_ns();
	uint8_t ip[16];

	source_key(sa, ip);
	if (!source_rate_ok(a, ip, now))
		return refuse(c, &a->refused_source, addr,
			      "accept_rate_per_source exceeded");
	if (!rate_take(&a->all.tat, &a->all, now))
		return refuse(c, &a->refused_rate, addr,
			      "accept_rate exceeded");
	if (source_pending(c, addr) >= a->per_source)
		return refuse(c, &a->refused_source, addr,
			      "max_handshakes_per_source reached");
	return make_room(c, addr);
}

int admit_outbound(struct cloud *c, const char *addr)
{
	return make_room(c, addr);
}

int admit_node(struct cloud *c, struct link *l)
{
	struct admit *a = c->admit;
	const struct link_peer *p = &link_io(l)->peer;
	struct link_info i;
	struct link *o;
	unsigned n = 0;

	for (o = links_first(c); o; o = link_next(o)) {
		link_info(o, &i);
		n += o != l && i.verified && !i.doomed &&
		     !memcmp(i.peer->id.b, p->id.b, NODE_ID_LEN);
	}
	if (n < a->per_node)
		return 0;
	a->refused_node++;
	return -1;
}

void admit_refused(const struct cloud *c, struct admit_refused *r)
{
	r->source = c->admit->refused_source;
	r->rate = c->admit->refused_rate;
	r->full = c->admit->refused_full;
}

void admit_status(const struct cloud *c, FILE *out)
{
	const struct admit *a = c->admit;

	fprintf(out, "admit refused_source=%llu refused_rate=%llu "
		"refused_full=%llu refused_node=%llu evicted=%llu\n",
		(unsigned long long)a->refused_source,
		(unsigned long long)a->refused_rate,
		(unsigned long long)a->refused_full,
		(unsigned long long)a->refused_node,
		(unsigned long long)a->evicted);
}
