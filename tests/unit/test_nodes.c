/*
 * Node records (cloud/nodes.c): the codec, real signatures (an Ed25519
 * key per node, as GnuTLS makes them), newest-wins, flooding, the rate
 * limit and the RTT threshold, our own record heard back after a
 * restart, expiry and the bound on records. The nodes run in-process; a
 * FIFO of frames stands in for the links:
 *
 *     A ---- B ---- C          (D: a node nobody links to)
 *
 * Peer handles are node index + 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "nodes.h"

#define NN 4
#define FIFO_MAX 256

struct tnode {
	int idx;
	struct nodes *n;
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	struct node_link links[NODE_LINKS_MAX];
	size_t nlinks;
	uint64_t armed;		/* last arm: now + ms */
	unsigned sent;		/* frames this node sent */
};

struct frame {
	int from, to;
	size_t len;
	uint8_t b[NODE_REC_MAX];
};

static struct tnode nodes[NN];
static int adj[NN][NN];		/* who links to whom */
static struct frame *fifo;
static size_t nfifo;
static uint64_t clock_ms = 1000000;

static struct node_id id_of(int i)
{
	struct node_id id;

	memset(id.b, 0x10 * (i + 1), NODE_ID_LEN);
	return id;
}

/* ---- ops ------------------------------------------------------------------- */

static size_t t_links(void *ctx, struct node_link *out, size_t max)
{
	struct tnode *t = ctx;
	size_t k = t->nlinks < max ? t->nlinks : max;

	memcpy(out, t->links, k * sizeof(*out));
	return k;
}

static int t_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig,
		  size_t *siglen)
{
	struct tnode *t = ctx;
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len }, s;

	assert_int_equal(gnutls_privkey_sign_data2(t->key,
			 GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &s), 0);
	assert_true(s.size <= NODE_SIG_MAX);
	memcpy(sig, s.data, s.size);
	*siglen = s.size;
	gnutls_free(s.data);
	return 0;
}

static int t_verify(void *ctx, uint32_t peer, const struct node_id *origin,
		    const uint8_t *data, size_t len, const uint8_t *sig,
		    size_t siglen)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len },
		       s = { (unsigned char *)sig, (unsigned)siglen };
	int i;

	(void)ctx;
	(void)peer;
	if (origin->b[31] == 0xee)	/* the bound test's many origins */
		return sig[0] == 0x5a ? 0 : -1;
	for (i = 0; i < NN; i++) {
		struct node_id id = id_of(i);

		if (!memcmp(id.b, origin->b, NODE_ID_LEN))
			return gnutls_pubkey_verify_data2(nodes[i].pub,
				GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &s) < 0 ? -1
									   : 0;
	}
	return -1;	/* no certificate of that origin */
}

static void push(int from, int to, const uint8_t *rec, size_t len)
{
	struct frame *f;

	assert_true(nfifo < FIFO_MAX);
	f = &fifo[nfifo++];
	f->from = from;
	f->to = to;
	f->len = len;
	memcpy(f->b, rec, len);
	nodes[from].sent++;
}

static void t_send(void *ctx, uint32_t peer, const struct node_id *origin,
		   const uint8_t *rec, size_t len)
{
	struct tnode *t = ctx;

	(void)origin;
	if (adj[t->idx][peer - 1])
		push(t->idx, (int)peer - 1, rec, len);
}

static void t_flood(void *ctx, uint32_t except, const struct node_id *origin,
		    const uint8_t *rec, size_t len)
{
	struct tnode *t = ctx;
	int j;

	(void)origin;
	for (j = 0; j < NN; j++)
		if (adj[t->idx][j] && (uint32_t)j + 1 != except)
			push(t->idx, j, rec, len);
}

static uint64_t t_now(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static void t_arm(void *ctx, uint64_t ms)
{
	((struct tnode *)ctx)->armed = clock_ms + ms;
}

/* Deliver every frame in flight, in order, and those they cause. */
static void deliver(void)
{
	size_t i;

	for (i = 0; i < nfifo; i++)
		assert_int_equal(nodes_recv(nodes[fifo[i].to].n,
					    (uint32_t)fifo[i].from + 1,
					    fifo[i].b, fifo[i].len), 0);
	nfifo = 0;
}

/* Ticks that are due, until none is. */
static void run_until(uint64_t t)
{
	int i, again = 1;

	while (again) {
		again = 0;
		for (i = 0; i < NN; i++)
			if (nodes[i].armed <= t && nodes[i].armed) {
				if (nodes[i].armed > clock_ms)
					clock_ms = nodes[i].armed;
				nodes[i].armed = 0;
				nodes_tick(nodes[i].n);
				again = 1;
			}
		deliver();
	}
	clock_ms = t;
}

static void link_set(int a, int b, uint32_t rtt)
{
	size_t k;

	adj[a][b] = adj[b][a] = 1;
	for (k = 0; k < nodes[a].nlinks; k++)
		if (!memcmp(nodes[a].links[k].peer.b, id_of(b).b, NODE_ID_LEN))
			break;
	nodes[a].links[k].peer = id_of(b);
	nodes[a].links[k].rtt_us = rtt;
	nodes[a].links[k].transport = NODE_XP_TCP;
	if (k == nodes[a].nlinks)
		nodes[a].nlinks++;
}

static void link_cut(int a, int b)
{
	size_t k;

	adj[a][b] = adj[b][a] = 0;
	for (k = 0; k < nodes[a].nlinks; k++)
		if (!memcmp(nodes[a].links[k].peer.b, id_of(b).b, NODE_ID_LEN))
			nodes[a].links[k] = nodes[a].links[--nodes[a].nlinks];
}

/* A - B - C, every node with its first record out and delivered. */
static int setup(void **state)
{
	static const struct nodes_ops ops0 = { .links = t_links,
		.sign = t_sign, .verify = t_verify, .send = t_send,
		.flood = t_flood, .now_ms = t_now, .arm = t_arm };
	struct nodes_ops ops = ops0;
	uint8_t key[16] = { 1, 2, 3 };
	char name[2] = "A";
	int i;

	(void)state;
	memset(adj, 0, sizeof(adj));
	fifo = calloc(FIFO_MAX, sizeof(*fifo));
	nfifo = 0;
	for (i = 0; i < NN; i++) {
		struct node_id id = id_of(i);

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].idx = i;
		assert_int_equal(gnutls_privkey_init(&nodes[i].key), 0);
		assert_int_equal(gnutls_privkey_generate(nodes[i].key,
				 GNUTLS_PK_EDDSA_ED25519, 256, 0), 0);
		assert_int_equal(gnutls_pubkey_init(&nodes[i].pub), 0);
		assert_int_equal(gnutls_pubkey_import_privkey(nodes[i].pub,
				 nodes[i].key, 0, 0), 0);
		ops.ctx = &nodes[i];
		name[0] = (char)('A' + i);
		nodes[i].n = nodes_new(&id, name, "1.2.3", 5000, key, &ops);
		assert_non_null(nodes[i].n);
		nodes[i].armed = clock_ms;
	}
	link_set(0, 1, 500);
	link_set(1, 0, 500);
	link_set(1, 2, 800);
	link_set(2, 1, 800);
	run_until(clock_ms);
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < NN; i++) {
		nodes_free(nodes[i].n);
		gnutls_privkey_deinit(nodes[i].key);
		gnutls_pubkey_deinit(nodes[i].pub);
	}
	free(fifo);
	return 0;
}

static int holds(int at, int of, struct node_view *v)
{
	struct node_id id = id_of(of);

	return nodes_get(nodes[at].n, &id, v) == 0;
}

/* ---- the codec ------------------------------------------------------------- */

static void sample(struct node_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->origin = id_of(2);
	r->seqno = 0xfffffffe;
	strcpy(r->name, "gw-1");
	strcpy(r->version, "0.1.0");
	r->nlinks = 2;
	r->links[0].peer = id_of(0);
	r->links[0].rtt_us = 1234;
	r->links[0].transport = NODE_XP_TCP;
	r->links[1].peer = id_of(1);
	r->links[1].rtt_us = NODE_RTT_NONE;
	r->links[1].transport = 7;	/* a transport to come */
	r->siglen = 64;
	memset(r->sig, 0x5a, 64);
}

static void test_codec_roundtrip(void **state)
{
	struct node_rec r, g;
	uint8_t b[NODE_REC_MAX];
	size_t n, body;

	(void)state;
	sample(&r);
	n = nrec_encode(&r, b, sizeof(b));
	assert_int_equal(n, NODE_REC_FIXED + 4 + 5 + 2 * NODE_LINK_LEN + 64);
	assert_int_equal(nrec_decode(b, n, &g, &body), 0);
	assert_int_equal(body, n - 1 - 64);
	assert_memory_equal(g.origin.b, r.origin.b, NODE_ID_LEN);
	assert_int_equal(g.seqno, r.seqno);
	assert_string_equal(g.name, "gw-1");
	assert_string_equal(g.version, "0.1.0");
	assert_int_equal(g.nlinks, 2);
	for (size_t k = 0; k < 2; k++) {
		assert_memory_equal(g.links[k].peer.b, r.links[k].peer.b,
				    NODE_ID_LEN);
		assert_int_equal(g.links[k].rtt_us, r.links[k].rtt_us);
		assert_int_equal(g.links[k].transport, r.links[k].transport);
	}
	assert_int_equal(g.siglen, 64);
	assert_memory_equal(g.sig, r.sig, 64);
	assert_int_equal(nrec_encode(&r, b, n - 1), 0);
	/* the largest record fits NODE_REC_MAX exactly */
	memset(r.name, 'n', NODE_NAME_MAX);
	memset(r.version, 'v', NODE_VERSION_MAX);
	r.nlinks = NODE_LINKS_MAX;
	r.siglen = NODE_SIG_MAX;
	assert_int_equal(nrec_encode(&r, b, sizeof(b)), NODE_REC_MAX);
	assert_int_equal(nrec_decode(b, NODE_REC_MAX, &g, &body), 0);
}

static void test_codec_malformed(void **state)
{
	struct node_rec r, g;
	uint8_t b[NODE_REC_MAX + 1];
	size_t n, i, body, name_at = NODE_ID_LEN + 5;

	(void)state;
	sample(&r);
	n = nrec_encode(&r, b, sizeof(b));
	for (i = 0; i < n; i++)		/* every truncation */
		assert_int_equal(nrec_decode(b, i, &g, &body), -1);
	b[n] = 0;			/* a trailing byte */
	assert_int_equal(nrec_decode(b, n + 1, &g, &body), -1);
	b[NODE_ID_LEN + 4] = 1;		/* flags */
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[NODE_ID_LEN + 4] = 0;
	b[name_at + 2] = 0;		/* a NUL in the name */
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[name_at + 2] = '-';
	b[name_at] = 0;			/* no name */
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[name_at] = 4;
	b[name_at + 5] = NODE_VERSION_MAX + 1;
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[name_at + 5] = 5;
	b[name_at + 11] = NODE_LINKS_MAX + 1;	/* link count */
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[name_at + 11] = 2;
	b[n - 65] = 0;			/* no signature */
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[n - 65] = NODE_SIG_MAX + 1;
	assert_int_equal(nrec_decode(b, n, &g, &body), -1);
	b[n - 65] = 64;
	assert_int_equal(nrec_decode(b, n, &g, &body), 0);
	assert_true(nrec_newer(0, 0xffffffff));
	assert_false(nrec_newer(0xffffffff, 0));
	assert_false(nrec_newer(7, 7));
}

/* ---- records in the mesh --------------------------------------------------- */

static void test_flood_and_verify(void **state)
{
	struct node_view v;

	(void)state;
	/* C holds A's record though A has no link to it, signed by A */
	assert_true(holds(2, 0, &v));
	assert_string_equal(v.name, "A");
	assert_string_equal(v.version, "1.2.3");
	assert_int_equal(v.nlinks, 1);
	assert_memory_equal(v.links[0].peer.b, id_of(1).b, NODE_ID_LEN);
	assert_int_equal(v.links[0].rtt_us, 500);
	assert_true(holds(0, 2, &v));
	assert_true(holds(0, 0, &v) && v.self);
	assert_false(holds(0, 3, &v));	/* D links to nobody */
}

static void test_forged_refused(void **state)
{
	struct nodes_stats before, after;
	struct node_view v;
	struct frame f;

	(void)state;
	/* B changes a link and floods: grab its frame to A on the way */
	link_set(1, 0, 9000);
	nodes_check(nodes[1].n);
	run_until(clock_ms + NODE_RATE_MS);
	assert_true(holds(0, 1, &v));
	assert_int_equal(v.links[0].rtt_us, 9000);
	link_set(1, 0, 20000);
	nodes_check(nodes[1].n);
	clock_ms += NODE_RATE_MS;
	nodes_tick(nodes[1].n);
	assert_true(nfifo > 0);
	f = fifo[0];
	nfifo = 0;
	assert_int_equal(f.to, 0);
	/* a relay that changes a bit of an RTT: the signature fails */
	f.b[f.len - 64 - 3] ^= 1;
	nodes_stats(nodes[0].n, &before);
	assert_int_equal(nodes_recv(nodes[0].n, 2, f.b, f.len), 0);
	nodes_stats(nodes[0].n, &after);
	assert_int_equal(after.refused, before.refused + 1);
	assert_true(holds(0, 1, &v));
	assert_int_equal(v.links[0].rtt_us, 9000);	/* kept the old one */
	assert_int_equal(nfifo, 0);			/* flooded nothing */
	/* the true one is taken */
	f.b[f.len - 64 - 3] ^= 1;
	assert_int_equal(nodes_recv(nodes[0].n, 2, f.b, f.len), 0);
	assert_true(holds(0, 1, &v));
	assert_int_equal(v.links[0].rtt_us, 20000);
	/* malformed is the link's fault */
	assert_int_equal(nodes_recv(nodes[0].n, 2, f.b, f.len - 1), -1);
}

/* C's next record, as it leaves for B, held back. */
static struct frame next_of_c(uint32_t rtt)
{
	struct frame f;

	link_set(2, 1, rtt);
	nodes_check(nodes[2].n);
	clock_ms += NODE_RATE_MS;
	nodes_tick(nodes[2].n);
	assert_int_equal(nfifo, 1);
	f = fifo[0];
	nfifo = 0;
	return f;
}

static void test_newest_wins(void **state)
{
	struct frame old, cur;
	struct nodes_stats st;
	struct node_view v;

	(void)state;
	old = next_of_c(5000);
	cur = next_of_c(20000);
	/* the newer first, then the older: the older is stale */
	assert_int_equal(nodes_recv(nodes[1].n, 3, cur.b, cur.len), 0);
	assert_int_equal(nfifo, 1);	/* B floods the newer to A */
	assert_int_equal(fifo[0].to, 0);
	nfifo = 0;
	assert_int_equal(nodes_recv(nodes[1].n, 3, old.b, old.len), 0);
	assert_int_equal(nfifo, 0);	/* and nothing for the older */
	assert_int_equal(nodes_recv(nodes[1].n, 3, cur.b, cur.len), 0);
	assert_int_equal(nfifo, 0);	/* nor for a copy */
	nodes_stats(nodes[1].n, &st);
	assert_int_equal(st.stale, 2);
	assert_true(holds(1, 2, &v));
	assert_int_equal(v.links[0].rtt_us, 20000);
}

static void test_rate_and_threshold(void **state)
{
	unsigned sent;

	(void)state;
	/* 10 % and 0.05 ms: no new record */
	sent = nodes[0].sent;
	link_set(0, 1, 550);
	nodes_check(nodes[0].n);
	run_until(clock_ms + 5 * NODE_RATE_MS);
	assert_int_equal(nodes[0].sent, sent);
	/* 50 % but under 1 ms: none either */
	link_set(0, 1, 750);
	nodes_check(nodes[0].n);
	run_until(clock_ms + 5 * NODE_RATE_MS);
	assert_int_equal(nodes[0].sent, sent);
	/* 4 ms: one, at once (a second since the last) */
	link_set(0, 1, 4000);
	nodes_check(nodes[0].n);
	run_until(clock_ms);
	assert_int_equal(nodes[0].sent, sent + 1);
	/* and the next change waits for the second to pass */
	link_set(0, 1, 9000);
	nodes_check(nodes[0].n);
	run_until(clock_ms + NODE_RATE_MS - 1);
	assert_int_equal(nodes[0].sent, sent + 1);
	run_until(clock_ms + 1);
	assert_int_equal(nodes[0].sent, sent + 2);
	/* a link that goes is news whatever the RTTs */
	link_cut(0, 1);
	adj[0][1] = adj[1][0] = 1;
	clock_ms += NODE_RATE_MS;
	nodes_check(nodes[0].n);
	run_until(clock_ms);
	assert_int_equal(nodes[0].sent, sent + 3);
	/* refresh: again after 10 minutes with no change */
	run_until(clock_ms + NODE_REFRESH_MS - 1);
	assert_int_equal(nodes[0].sent, sent + 3);
	run_until(clock_ms + 1);
	assert_int_equal(nodes[0].sent, sent + 4);
}

/* Records B made so far. */
static uint64_t made_by_b(void)
{
	struct nodes_stats st;

	nodes_stats(nodes[1].n, &st);
	return st.made;
}

/* Links that come or go one after another make one record, once they have
 * been still for NODE_SETTLE_MS; a link that keeps flapping makes one
 * NODE_SETTLE_MAX_MS after the first change at the latest. */
static void test_settle(void **state)
{
	uint64_t made, t0;
	int i;

	(void)state;
	run_until(clock_ms + 5 * NODE_RATE_MS);
	made = made_by_b();
	link_set(1, 3, 700);
	nodes_moved(nodes[1].n);
	run_until(clock_ms + NODE_SETTLE_MS / 2);
	link_cut(1, 2);
	nodes_moved(nodes[1].n);
	run_until(clock_ms + NODE_SETTLE_MS - 1);
	assert_int_equal(made_by_b(), made);
	run_until(clock_ms + 1);
	assert_int_equal(made_by_b(), made + 1);
	/* an RTT that moved does not wait */
	run_until(clock_ms + 5 * NODE_RATE_MS);
	link_set(1, 3, 9000);
	nodes_check(nodes[1].n);
	run_until(clock_ms);
	assert_int_equal(made_by_b(), made + 2);
	/* a link flapping every 400 ms */
	run_until(clock_ms + 5 * NODE_RATE_MS);
	t0 = clock_ms;
	for (i = 0; i < 20; i++) {
		if (i % 2)
			link_set(1, 0, 500);
		else
			link_cut(1, 0);
		nodes_moved(nodes[1].n);
		run_until(clock_ms + 400);
		assert_int_equal(made_by_b(), made + 2 +
				 (clock_ms >= t0 + NODE_SETTLE_MAX_MS));
	}
}

static void test_own_heard_back(void **state)
{
	static const struct nodes_ops ops0 = { .links = t_links,
		.sign = t_sign, .verify = t_verify, .send = t_send,
		.flood = t_flood, .now_ms = t_now, .arm = t_arm };
	struct nodes_ops ops = ops0;
	uint8_t key[16] = { 0 };
	struct node_id id = id_of(0);
	struct node_view v;
	uint32_t before;

	(void)state;
	assert_true(holds(1, 0, &v));
	before = v.seqno;
	/* A restarts with a clock behind: seqno 10 is older than B holds */
	nodes_free(nodes[0].n);
	ops.ctx = &nodes[0];
	nodes[0].n = nodes_new(&id, "A", "1.2.4", 10, key, &ops);
	nodes[0].armed = clock_ms;
	run_until(clock_ms);
	assert_true(holds(1, 0, &v));
	assert_int_equal(v.seqno, before);	/* B kept the old one */
	assert_string_equal(v.version, "1.2.3");
	/* the link comes up again: B sends what it holds, A goes past it */
	nodes_sync(nodes[1].n, 1);
	deliver();
	run_until(clock_ms + NODE_RATE_MS);
	assert_true(holds(1, 0, &v));
	assert_true(nrec_newer(v.seqno, before));
	assert_string_equal(v.version, "1.2.4");
}

static void test_expiry_and_bound(void **state)
{
	struct nodes_stats st;
	struct node_view v;
	struct node_rec r;
	uint8_t b[NODE_REC_MAX];
	size_t n, i;

	(void)state;
	/* C goes silent: the others forget it after 3 refresh periods */
	link_cut(1, 2);
	link_cut(2, 1);
	nodes_check(nodes[1].n);
	run_until(clock_ms + NODE_EXPIRE_MS - 2 * NODE_REFRESH_MS);
	assert_true(holds(0, 2, &v));
	run_until(clock_ms + 2 * NODE_REFRESH_MS + 61000);
	assert_false(holds(0, 2, &v));
	assert_true(holds(0, 1, &v));	/* B refreshes: kept */
	assert_true(holds(0, 0, &v));	/* ours never goes */
	/* a table full: new origins are refused (before any signature) */
	adj[0][1] = adj[1][0] = 0;
	nodes_stats(nodes[0].n, &st);
	assert_int_equal(st.records, 2);
	sample(&r);
	for (i = st.records; i < NODES_MAX + 5; i++) {
		memset(r.origin.b, 0, NODE_ID_LEN);
		memcpy(r.origin.b, &i, sizeof(i));
		r.origin.b[31] = 0xee;
		n = nrec_encode(&r, b, sizeof(b));
		assert_int_equal(nodes_recv(nodes[0].n, 2, b, n), 0);
	}
	nodes_stats(nodes[0].n, &st);
	assert_int_equal(st.records, NODES_MAX);
	assert_int_equal(st.full, 5);
	i = 2;			/* a bad one of a held origin: refused */
	memset(r.origin.b, 0, NODE_ID_LEN);
	memcpy(r.origin.b, &i, sizeof(i));
	r.origin.b[31] = 0xee;
	r.seqno++;
	r.sig[0] = 0;
	n = nrec_encode(&r, b, sizeof(b));
	assert_int_equal(nodes_recv(nodes[0].n, 2, b, n), 0);
	nodes_stats(nodes[0].n, &st);
	assert_int_equal(st.refused, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_malformed),
		cmocka_unit_test_setup_teardown(test_flood_and_verify, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newest_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rate_and_threshold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_heard_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_bound, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
