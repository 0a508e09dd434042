/*
 * Node records (doc/PROTOCOL.md 2.7): the codec, the table of the newest
 * record of each origin, and when this node floods its own. A record is
 * taken only if it is newer than the one held and its origin signed it;
 * a record taken is flooded to every other link, so each reaches every
 * node once per link at most. Nothing here reads a clock or a socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "nodes.h"
#include "siphash.h"

#define NODES_BUCKETS 1024	/* NODES_MAX entries: chains stay short */
#define EXPIRE_CHECK_MS (60 * 1000ull)	/* look for unheard origins */

struct nentry {
	struct nentry *next;		/* hash chain */
	struct node_id origin;
	uint32_t seqno;
	uint64_t heard_ms;
	char name[NODE_NAME_MAX + 1];
	char version[NODE_VERSION_MAX + 1];
	size_t nlinks;
	struct node_link *links;
	uint8_t *wire;			/* the payload as it came: flooded */
	size_t wirelen;
};

struct nodes {
	struct nodes_ops ops;
	struct node_id self;
	char name[NODE_NAME_MAX + 1];
	char version[NODE_VERSION_MAX + 1];
	uint8_t key[SIPHASH_KEY_LEN];
	struct nentry *buckets[NODES_BUCKETS];
	size_t count;
	struct nentry *own;		/* our latest record, NULL before one */
	uint32_t seqno;			/* of our next record */
	int dirty;			/* our links changed since own */
	uint64_t dirty_ms;		/* since when */
	uint64_t moved_ms;		/* a link of ours last came or went */
	uint64_t made_ms;		/* when own was made (or tried) */
	uint64_t expire_ms;		/* next look for unheard origins */
	struct nodes_stats st;
};

/* ---- codec --------------------------------------------------------------- */

int nrec_newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

size_t nrec_encode(const struct node_rec *r, uint8_t *buf, size_t cap)
{
	size_t nl = strnlen(r->name, NODE_NAME_MAX);
	size_t vl = strnlen(r->version, NODE_VERSION_MAX);
	size_t i, off, n = NODE_REC_FIXED + nl + vl +
			   r->nlinks * NODE_LINK_LEN + r->siglen;

	if (!nl || r->nlinks > NODE_LINKS_MAX || r->siglen > NODE_SIG_MAX ||
	    cap < n)
		return 0;
	memcpy(buf, r->origin.b, NODE_ID_LEN);
	put32(buf + NODE_ID_LEN, r->seqno);
	buf[NODE_ID_LEN + 4] = 0;			/* flags */
	buf[NODE_ID_LEN + 5] = (uint8_t)nl;
	off = NODE_ID_LEN + 6;
	memcpy(buf + off, r->name, nl);
	off += nl;
	buf[off++] = (uint8_t)vl;
	memcpy(buf + off, r->version, vl);
	off += vl;
	buf[off++] = (uint8_t)r->nlinks;
	for (i = 0; i < r->nlinks; i++, off += NODE_LINK_LEN) {
		memcpy(buf + off, r->links[i].peer.b, NODE_ID_LEN);
		put32(buf + off + NODE_ID_LEN, r->links[i].rtt_us);
		buf[off + NODE_ID_LEN + 4] = r->links[i].transport;
	}
	buf[off++] = (uint8_t)r->siglen;
	memcpy(buf + off, r->sig, r->siglen);
	return n;
}

/* A string field: u8 length (lo..max), the bytes, no NUL among them. */
static int get_str(const uint8_t *p, size_t len, size_t *off, size_t lo,
		   size_t max, char *out)
{
	size_t n;

	if (*off >= len)
		return -1;
	n = p[(*off)++];
	if (n < lo || n > max || len - *off < n || memchr(p + *off, 0, n))
		return -1;
	memcpy(out, p + *off, n);
	out[n] = '\0';
	*off += n;
	return 0;
}

int nrec_decode(const uint8_t *p, size_t len, struct node_rec *r,
		size_t *body)
{
	size_t i, off = NODE_ID_LEN + 5;

	if (len < NODE_REC_FIXED || p[NODE_ID_LEN + 4] != 0)
		return -1;
	memcpy(r->origin.b, p, NODE_ID_LEN);
	r->seqno = get32(p + NODE_ID_LEN);
	if (get_str(p, len, &off, 1, NODE_NAME_MAX, r->name) < 0 ||
	    get_str(p, len, &off, 0, NODE_VERSION_MAX, r->version) < 0 ||
	    off >= len || (r->nlinks = p[off++]) > NODE_LINKS_MAX ||
	    len - off < r->nlinks * NODE_LINK_LEN + 1)
		return -1;
	for (i = 0; i < r->nlinks; i++, off += NODE_LINK_LEN) {
		memcpy(r->links[i].peer.b, p + off, NODE_ID_LEN);
		r->links[i].rtt_us = get32(p + off + NODE_ID_LEN);
		r->links[i].transport = p[off + NODE_ID_LEN + 4];
	}
	*body = off;
	r->siglen = p[off++];
	if (r->siglen == 0 || r->siglen > NODE_SIG_MAX ||
	    len - off != r->siglen)
		return -1;
	memcpy(r->sig, p + off, r->siglen);
	return 0;
}

size_t nrec_sig_data(const uint8_t *body, size_t len,
		     uint8_t out[NODE_SIG_DATA_MAX])
{
	size_t ll = sizeof(NODE_SIG_LABEL) - 1;

	if (len > NODE_REC_MAX)
		return 0;
	memcpy(out, NODE_SIG_LABEL, ll);
	memcpy(out + ll, body, len);
	return ll + len;
}

/* ---- the table ----------------------------------------------------------- */

static struct nentry **find(const struct nodes *n, const struct node_id *id)
{
	size_t h = siphash24(n->key, id->b, NODE_ID_LEN) % NODES_BUCKETS;
	struct nentry **pp;

	for (pp = (struct nentry **)&n->buckets[h]; *pp; pp = &(*pp)->next)
		if (!memcmp((*pp)->origin.b, id->b, NODE_ID_LEN))
			return pp;
	return NULL;
}

static void nentry_free(struct nentry *e)
{
	if (!e)
		return;
	free(e->links);
	free(e->wire);
	free(e);
}

/* An entry holding r, whose payload is wire[0..len). */
static struct nentry *nentry_new(const struct node_rec *r,
				 const uint8_t *wire, size_t len, uint64_t now)
{
	struct nentry *e = calloc(1, sizeof(*e));

	if (!e || !(e->wire = malloc(len)) ||
	    !(e->links = calloc(r->nlinks ? r->nlinks : 1,
				sizeof(*e->links)))) {
		nentry_free(e);
		return NULL;
	}
	e->origin = r->origin;
	e->seqno = r->seqno;
	e->heard_ms = now;
	memcpy(e->name, r->name, sizeof(e->name));
	memcpy(e->version, r->version, sizeof(e->version));
	e->nlinks = r->nlinks;
	memcpy(e->links, r->links, r->nlinks * sizeof(*e->links));
	memcpy(e->wire, wire, len);
	e->wirelen = len;
	return e;
}

/* e takes the place of the entry at pp, or a new one in its chain. */
static void put(struct nodes *n, struct nentry **pp, struct nentry *e)
{
	size_t h;

	if (pp) {
		e->next = (*pp)->next;
		if (n->own == *pp)
			n->own = e;
		nentry_free(*pp);
		*pp = e;
		return;
	}
	h = siphash24(n->key, e->origin.b, NODE_ID_LEN) % NODES_BUCKETS;
	e->next = n->buckets[h];
	n->buckets[h] = e;
	n->count++;
}

/* Records of origins unheard for NODE_EXPIRE_MS go (ours stays). */
static void expire(struct nodes *n, uint64_t now)
{
	struct nentry **pp, *e;
	size_t i;

	for (i = 0; i < NODES_BUCKETS; i++)
		for (pp = &n->buckets[i]; (e = *pp);) {
			if (e != n->own && now - e->heard_ms > NODE_EXPIRE_MS) {
				*pp = e->next;
				nentry_free(e);
				n->count--;
			} else {
				pp = &e->next;
			}
		}
}

/* ---- our own record ------------------------------------------------------- */

static int link_cmp(const void *x, const void *y)
{
	const struct node_link *a = x, *b = y;
	int c = memcmp(a->peer.b, b->peer.b, NODE_ID_LEN);

	if (c)
		return c;
	if (a->transport != b->transport)
		return a->transport < b->transport ? -1 : 1;
	return a->rtt_us < b->rtt_us ? -1 : a->rtt_us > b->rtt_us;
}

/* Has an RTT moved enough to tell the mesh: by a quarter and a ms? */
static int rtt_moved(uint32_t old, uint32_t cur)
{
	uint32_t d = old > cur ? old - cur : cur - old;

	if ((old == NODE_RTT_NONE) != (cur == NODE_RTT_NONE))
		return 1;
	return d > NODE_RTT_MOVE_US &&
	       (uint64_t)d * 100 > (uint64_t)old * NODE_RTT_MOVE_PCT;
}

/* Do our links, as they are, differ from what we last told? */
static int links_differ(const struct nentry *own, const struct node_link *l,
			size_t k)
{
	size_t i;

	if (!own || own->nlinks != k)
		return 1;
	for (i = 0; i < k; i++)
		if (memcmp(own->links[i].peer.b, l[i].peer.b, NODE_ID_LEN) ||
		    own->links[i].transport != l[i].transport ||
		    rtt_moved(own->links[i].rtt_us, l[i].rtt_us))
			return 1;
	return 0;
}

static size_t own_links(struct nodes *n, struct node_link *l)
{
	size_t k = n->ops.links(n->ops.ctx, l, NODE_LINKS_MAX);

	if (k > NODE_LINKS_MAX)
		k = NODE_LINKS_MAX;
	qsort(l, k, sizeof(*l), link_cmp);
	return k;
}

/* Our record of the links as they are now, signed, kept and flooded. */
static void originate(struct nodes *n, uint64_t now)
{
	uint8_t wire[NODE_REC_MAX], data[NODE_SIG_DATA_MAX];
	struct node_rec rec = { .seqno = 0 }, *r = &rec;
	struct nentry *e;
	size_t len, body;

	r->origin = n->self;
	r->seqno = n->seqno;
	memcpy(r->name, n->name, sizeof(r->name));
	memcpy(r->version, n->version, sizeof(r->version));
	r->nlinks = own_links(n, r->links);
	/* unsigned yet: the signed part is all but the siglen byte (0) */
	if (!(body = nrec_encode(r, wire, sizeof(wire))) ||
	    n->ops.sign(n->ops.ctx, data, nrec_sig_data(wire, body - 1, data),
			r->sig, &r->siglen) < 0 ||
	    !(len = nrec_encode(r, wire, sizeof(wire))) ||
	    !(e = nentry_new(r, wire, len, now)))
		return;
	put(n, n->own ? find(n, &n->self) : NULL, e);
	n->own = e;
	n->seqno++;
	n->dirty = 0;
	n->st.made++;
	n->ops.flood(n->ops.ctx, 0, &n->self, e->wire, e->wirelen);
}

/* Our next record is due this long after the last try: soon if the links
 * changed (or we have none yet: a failed signature is tried again), else
 * at the refresh. Every node checks the signature of every record, so
 * records come the rarer the more nodes there are: at 100 nodes that
 * start at once, a record a second from each had them check 10 000
 * signatures a second, and converging took 12-21 s of which most was
 * ECDSA (the aim is 5). */
static uint64_t wait_ms(const struct nodes *n)
{
	uint64_t soon = n->count * NODE_RATE_PER_NODE_MS;

	if (n->own && !n->dirty)
		return NODE_REFRESH_MS;
	return n->own && soon > NODE_RATE_MS ? soon : NODE_RATE_MS;
}

/*
 * After a link came or went, more often follow: a node starting brings its
 * links up one by one, a flapping link comes and goes. The record waits
 * until our links have been still for NODE_SETTLE_MS, or changing for
 * NODE_SETTLE_MAX_MS: one record, not one per link, that every node must
 * check. Records are for the picture of the mesh; routing does not wait.
 * How long from now; 0: it may go.
 */
static uint64_t settle_ms(const struct nodes *n, uint64_t now)
{
	uint64_t at;

	if (!n->dirty || !n->moved_ms)
		return 0;
	at = n->moved_ms + NODE_SETTLE_MS;
	if (at > n->dirty_ms + NODE_SETTLE_MAX_MS)
		at = n->dirty_ms + NODE_SETTLE_MAX_MS;
	return at > now ? at - now : 0;
}

/* When nodes_tick is next wanted, from now. */
static uint64_t next_ms(const struct nodes *n, uint64_t now)
{
	uint64_t at = n->made_ms + wait_ms(n), s = now + settle_ms(n, now);

	if (at < s)
		at = s;
	if (at > n->expire_ms)
		at = n->expire_ms;
	return at > now ? at - now : 0;
}

void nodes_tick(struct nodes *n)
{
	uint64_t now = n->ops.now_ms(n->ops.ctx);

	if (now >= n->expire_ms) {
		expire(n, now);
		n->expire_ms = now + EXPIRE_CHECK_MS;
	}
	if (now - n->made_ms >= wait_ms(n) && !settle_ms(n, now)) {
		n->made_ms = now;
		originate(n, now);
	}
	n->ops.arm(n->ops.ctx, next_ms(n, now));
}

void nodes_check(struct nodes *n)
{
	struct node_link l[NODE_LINKS_MAX];
	size_t k;

	if (n->dirty)
		return;		/* already on its way */
	k = own_links(n, l);
	if (!links_differ(n->own, l, k))
		return;
	n->dirty = 1;
	n->dirty_ms = n->ops.now_ms(n->ops.ctx);
	n->ops.arm(n->ops.ctx, next_ms(n, n->dirty_ms));
}

void nodes_moved(struct nodes *n)
{
	n->moved_ms = n->ops.now_ms(n->ops.ctx);
	nodes_check(n);
}

/* ---- records from links ------------------------------------------------- */

/* A record of ours from before a restart: ours go on past its seqno. */
static void heard_own(struct nodes *n, uint32_t seqno)
{
	if (!nrec_newer(seqno, n->seqno - 1))
		return;
	n->seqno = seqno + 1;
	if (!n->dirty) {
		n->dirty = 1;
		n->ops.arm(n->ops.ctx, next_ms(n, n->ops.now_ms(n->ops.ctx)));
	}
}

/* Is r newer than what we hold, and may it have a place? */
static int wanted(struct nodes *n, const struct node_rec *r,
		  struct nentry **pp)
{
	if (pp && !nrec_newer(r->seqno, (*pp)->seqno)) {
		n->st.stale++;
		return 0;
	}
	if (!pp && n->count >= NODES_MAX) {
		n->st.full++;
		return 0;
	}
	return 1;
}

static void take(struct nodes *n, uint32_t peer, const struct node_rec *r,
		const uint8_t *p, size_t len, size_t body)
{
	uint8_t data[NODE_SIG_DATA_MAX];
	struct nentry **pp = find(n, &r->origin), *e;
	size_t dl = nrec_sig_data(p, body, data);

	if (!wanted(n, r, pp))
		return;
	if (n->ops.verify(n->ops.ctx, peer, &r->origin, data, dl, r->sig,
			  r->siglen) < 0) {
		n->st.refused++;
		return;
	}
	if (!(e = nentry_new(r, p, len, n->ops.now_ms(n->ops.ctx))))
		return;
	put(n, pp, e);
	n->st.taken++;
	n->ops.flood(n->ops.ctx, peer, &e->origin, e->wire, e->wirelen);
}

int nodes_recv(struct nodes *n, uint32_t peer, const uint8_t *p, size_t len)
{
	struct node_rec r;
	size_t body;

	if (nrec_decode(p, len, &r, &body) < 0)
		return -1;
	if (!memcmp(r.origin.b, n->self.b, NODE_ID_LEN))
		heard_own(n, r.seqno);
	else
		take(n, peer, &r, p, len, body);
	return 0;
}

void nodes_sync(struct nodes *n, uint32_t peer)
{
	const struct nentry *e;
	size_t i;

	for (i = 0; i < NODES_BUCKETS; i++)
		for (e = n->buckets[i]; e; e = e->next)
			n->ops.send(n->ops.ctx, peer, &e->origin, e->wire,
				    e->wirelen);
}

/* ---- life, views ---------------------------------------------------------- */

struct nodes *nodes_new(const struct node_id *self, const char *name,
			const char *version, uint32_t seqno,
			const uint8_t key[16], const struct nodes_ops *ops)
{
	struct nodes *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ops = *ops;
	n->self = *self;
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->version, sizeof(n->version), "%s", version);
	memcpy(n->key, key, SIPHASH_KEY_LEN);
	n->seqno = seqno;
	n->expire_ms = ops->now_ms(ops->ctx) + EXPIRE_CHECK_MS;
	return n;
}

void nodes_free(struct nodes *n)
{
	struct nentry *e, *next;
	size_t i;

	if (!n)
		return;
	for (i = 0; i < NODES_BUCKETS; i++)
		for (e = n->buckets[i]; e; e = next) {
			next = e->next;
			nentry_free(e);
		}
	free(n);
}

static void view(const struct nodes *n, const struct nentry *e,
		 struct node_view *v, uint64_t now)
{
	v->origin = &e->origin;
	v->seqno = e->seqno;
	v->name = e->name;
	v->version = e->version;
	v->nlinks = e->nlinks;
	v->links = e->links;
	v->age_ms = now - e->heard_ms;
	v->self = e == n->own;
}

int nodes_get(const struct nodes *n, const struct node_id *id,
	      struct node_view *v)
{
	struct nentry **pp = find(n, id);

	if (!pp)
		return -1;
	view(n, *pp, v, n->ops.now_ms(n->ops.ctx));
	return 0;
}

void nodes_foreach(const struct nodes *n,
		   void (*fn)(void *arg, const struct node_view *v),
		   void *arg)
{
	uint64_t now = n->ops.now_ms(n->ops.ctx);
	const struct nentry *e;
	struct node_view v;
	size_t i;

	for (i = 0; i < NODES_BUCKETS; i++)
		for (e = n->buckets[i]; e; e = e->next) {
			view(n, e, &v, now);
			fn(arg, &v);
		}
}

void nodes_stats(const struct nodes *n, struct nodes_stats *s)
{
	*s = n->st;
	s->records = n->count;
}
