/*
 * Admission under a connection flood, with the links stubbed out: the
 * test holds a list of links (inbound or ours, authenticated or not, from
 * an address) and a clock, and asks admit.c what it lets in and whom it
 * evicts.
 *
 *   strangers --(source rate, accept_rate, per-source handshakes)--+
 *                                                                  v
 *   our connectors, handed sockets --------------------> [max_connections]
 *                                                  evicts: oldest stranger
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "../../cloud/admit.c"

/* ---- stubs ------------------------------------------------------------ */

struct link {
	struct link *next;
	struct link_io io;
	int handed, verified;
	const char *doomed;
	uint64_t t_start;
};

#define NLINKS 64
static struct link pool[NLINKS];
static struct link *list;
static int used;
static uint64_t now;		/* ns, the test's clock */

static struct {
	const char *name;
	long long v;
} confv[] = {
	{ "max_connections", 8 },
	{ "max_handshakes_per_source", 4 },
	{ "accept_rate", 64 },
	{ "accept_rate_per_source", 8 },
	{ "max_links_per_node", 2 },
};

long long conf_int(const struct conf *c, const char *name)
{
	size_t i;

	(void)c;
	for (i = 0; i < sizeof(confv) / sizeof(confv[0]); i++)
		if (!strcmp(confv[i].name, name))
			return confv[i].v;
	fail_msg("unknown option %s", name);
	return 0;
}

uint64_t now_ns(void)
{
	return now;
}

struct link *links_first(struct cloud *c)
{
	(void)c;
	return list;
}

struct link *link_next(const struct link *l)
{
	return l->next;
}

struct link_io *link_io(struct link *l)
{
	return &l->io;
}

void link_fail(struct link *l, const char *why)
{
	if (!l->doomed)
		l->doomed = why;
}

void link_hs_fail(struct link *l, enum link_hs why, const char *text)
{
	(void)why;
	link_fail(l, text);
}

int link_doomed(const struct link *l)
{
	return l->doomed != NULL;
}

void link_info(const struct link *l, struct link_info *i)
{
	memset(i, 0, sizeof(*i));
	i->verified = l->verified;
	i->up = l->verified;
	i->handed = l->handed;
	i->doomed = l->doomed != NULL;
	i->peer = &l->io.peer;
	i->addr = l->io.addr;
	i->t_start = l->t_start;
}

/* ---- helpers ------------------------------------------------------------ */

static struct cloud cloud;

static int setup(void **state)
{
	(void)state;
	memset(pool, 0, sizeof(pool));
	list = NULL;
	used = 0;
	now = 1000000000ull;
	assert_int_equal(admit_init(&cloud), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	admit_free(&cloud);
	return 0;
}

static struct link *add(const char *ip, int inbound, int verified)
{
	struct link *l = &pool[used++];

	assert_true(used <= NLINKS);
	snprintf(l->io.addr, sizeof(l->io.addr), "%s:%d", ip, 40000 + used);
	l->io.peer.is_server = inbound;
	l->verified = verified;
	l->t_start = now;
	l->next = list;
	list = l;
	now += 1000;	/* each link a microsecond younger */
	return l;
}

static int try_in(const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char addr[64];

	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	snprintf(addr, sizeof(addr), "%s:%d", ip, 50000 + used);
	return admit_inbound(&cloud, (struct sockaddr *)&sin, addr);
}

/* try_in, and on success the link it lets in */
static struct link *in(const char *ip)
{
	return try_in(ip) == 0 ? add(ip, 1, 0) : NULL;
}

static unsigned doomed(void)
{
	unsigned n = 0;
	int i;

	for (i = 0; i < used; i++)
		n += pool[i].doomed != NULL;
	return n;
}

/* ---- tests -------------------------------------------------------------- */

/* At max_connections a stranger evicts the oldest stranger: never our own
 * attempt, never an authenticated link, however old. */
static void test_evicts_strangers_only(void **state)
{
	struct link *ours, *handed, *peer, *first;
	char ip[32];
	int i;

	(void)state;
	ours = add("10.0.9.1", 0, 0);		/* our connector, handshaking */
	handed = add("10.0.9.2", 1, 0);		/* a gate's socket */
	handed->handed = 1;
	peer = add("10.0.9.3", 1, 1);		/* authenticated, inbound */
	first = NULL;
	for (i = 0; i < 5; i++) {
		struct link *l;

		snprintf(ip, sizeof(ip), "10.0.1.%d", i + 1);
		assert_non_null(l = in(ip));
		if (!first)
			first = l;
	}
	assert_int_equal(doomed(), 0);		/* 8 links: full */
	assert_non_null(in("10.0.2.1"));
	assert_ptr_equal(first->doomed, "evicted: connection limit reached");
	assert_int_equal(doomed(), 1);
	assert_null(ours->doomed);
	assert_null(handed->doomed);
	assert_null(peer->doomed);
	/* our own attempt makes room the same way */
	assert_int_equal(admit_outbound(&cloud, "10.0.9.9:5000"), 0);
	assert_int_equal(doomed(), 2);
}

/* With no stranger left to evict, a stranger is refused, and so is our
 * own attempt: nothing authenticated makes room. */
static void test_full_of_peers(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		add("10.0.9.1", 0, 0);
	for (i = 0; i < 4; i++)
		add("10.0.9.2", 1, 1);
	assert_int_equal(try_in("10.0.1.1"), -1);
	assert_int_equal(admit_outbound(&cloud, "10.0.9.9:5000"), -1);
	assert_int_equal(doomed(), 0);
	assert_int_equal(cloud.admit->refused_full, 2);
}

/* One address holds max_handshakes_per_source handshakes at most; its
 * authenticated links and other addresses do not count. */
static void test_handshakes_per_source(void **state)
{
	struct link *l[4];
	int i;

	(void)state;
	add("10.0.1.1", 1, 1);
	for (i = 0; i < 4; i++)
		assert_non_null(l[i] = in("10.0.1.1"));
	assert_null(in("10.0.1.1"));
	assert_non_null(in("10.0.1.2"));
	assert_non_null(in("10.0.1.10"));	/* not a prefix match */
	assert_int_equal(cloud.admit->refused_source, 1);
	l[0]->verified = 1;			/* one authenticated */
	assert_non_null(in("10.0.1.1"));
	l[1]->doomed = "handshake failed";	/* one closing */
	assert_non_null(in("10.0.1.1"));
	assert_null(in("10.0.1.1"));
}

/* accept_rate_per_source: a burst of 8, then one per 125 ms; another
 * address has its own bucket. */
static void test_source_rate(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int i, ok = 0;

	(void)state;
	inet_pton(AF_INET, "10.0.1.1", &sin.sin_addr);
	for (i = 0; i < 20; i++)	/* strangers that close at once */
		ok += admit_inbound(&cloud, (struct sockaddr *)&sin,
				    "10.0.1.1:1") == 0;
	assert_int_equal(ok, 8);
	now += 125000000ull;
	assert_int_equal(admit_inbound(&cloud, (struct sockaddr *)&sin,
				       "10.0.1.1:1"), 0);
	assert_int_equal(admit_inbound(&cloud, (struct sockaddr *)&sin,
				       "10.0.1.1:1"), -1);
	assert_int_equal(try_in("10.0.1.2"), 0);
	assert_int_equal(cloud.admit->refused_source, 13);
	assert_int_equal(cloud.admit->refused_rate, 0);
}

/* accept_rate: 64 in a burst from all addresses, then one per 1/64 s;
 * refusals by a source's own rate do not use it up. */
static void test_global_rate(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int i, ok = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		sin.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)(i % 100));
		ok += admit_inbound(&cloud, (struct sockaddr *)&sin,
				    "10.0.0.0:1") == 0;
	}
	assert_int_equal(ok, 64);
	assert_int_equal(cloud.admit->refused_rate, 136);
	now += 1000000000ull / 64;
	assert_int_equal(try_in("10.1.0.1"), 0);
	assert_int_equal(try_in("10.1.0.2"), -1);
	/* a source over its own rate is refused before accept_rate */
	now += 10 * 1000000000ull;
	sin.sin_addr.s_addr = htonl(0x0a020001u);
	for (i = 0; i < 100; i++)
		admit_inbound(&cloud, (struct sockaddr *)&sin, "10.2.0.1:1");
	ok = 0;
	for (i = 0; i < 64; i++) {
		sin.sin_addr.s_addr = htonl(0x0a030000u + (uint32_t)i);
		ok += admit_inbound(&cloud, (struct sockaddr *)&sin,
				    "10.3.0.0:1") == 0;
	}
	assert_int_equal(ok, 56);	/* 64 less the first source's 8 */
}

/* max_links_per_node: a third authenticated link of one node is refused;
 * closing links and other nodes do not count. */
static void test_links_per_node(void **state)
{
	struct link *a1, *a2, *a3, *b;

	(void)state;
	a1 = add("10.0.1.1", 1, 1);
	a2 = add("10.0.1.2", 0, 0);	/* ours, still handshaking */
	a3 = add("10.0.1.3", 1, 1);
	b = add("10.0.1.4", 1, 1);
	a1->io.peer.id.b[0] = a2->io.peer.id.b[0] = a3->io.peer.id.b[0] = 1;
	b->io.peer.id.b[0] = 2;
	assert_int_equal(admit_node(&cloud, a1), 0);	/* a1 + a3 */
	assert_int_equal(admit_node(&cloud, b), 0);
	a2->verified = 1;
	assert_int_equal(admit_node(&cloud, a3), -1);	/* a1, a2 already */
	a1->doomed = "down";
	assert_int_equal(admit_node(&cloud, a3), 0);
	assert_int_equal(cloud.admit->refused_node, 1);
}

/* Messages about strangers: 10 per 10 s, then counted. */
static void test_log_limit(void **state)
{
	int i, ok = 0;

	(void)state;
	for (i = 0; i < 50; i++)
		ok += admit_log_ok(&cloud);
	assert_int_equal(ok, 10);
	assert_int_equal(cloud.admit->quiet, 40);
	now += LOG_WINDOW_NS;
	assert_int_equal(admit_log_ok(&cloud), 1);
	assert_int_equal(cloud.admit->quiet, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_evicts_strangers_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_of_peers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handshakes_per_source,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_rate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_global_rate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_links_per_node, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_limit, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
