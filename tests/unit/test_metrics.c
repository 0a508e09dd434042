/*
 * metrics.c without a daemon: the request parser, the label escaping, and
 * the exposition of a node whose links, gates and counters are stubbed.
 *
 *   [stranger] --handshake--> A <==up== B\x20"q   (link 2, udp)
 *                             A ---gate 3 "tun"
 *
 * The exposition must hold each family's HELP and TYPE once, right before
 * its samples, which come together; label values escaped (\ " newline).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../cloud/metrics.c"

/* ---- stubs ------------------------------------------------------------ */

struct link {
	struct link *next;
	uint32_t id;
	struct link_peer peer;
	struct link_info i;
};

static struct link links[2];

struct link *links_first(struct cloud *c)
{
	(void)c;
	return &links[0];
}

struct link *link_next(const struct link *l)
{
	return l->next;
}

void link_info(const struct link *l, struct link_info *i)
{
	*i = l->i;
	i->peer = &l->peer;
}

uint32_t link_peer(const struct link *l)
{
	return l->id;
}

void link_lim_info(const struct link *l, struct lim_info *up,
		   struct lim_info *down)
{
	memset(up, 0, sizeof(*up));
	memset(down, 0, sizeof(*down));
	down->dropped = l->id * 100;
}

void links_hs_failures(struct cloud *c, uint64_t n[LINK_HS_N])
{
	int k;

	(void)c;
	for (k = 0; k < LINK_HS_N; k++)
		n[k] = (uint64_t)k;
}

struct udp *links_udp(struct cloud *c)
{
	(void)c;
	return NULL;
}

void udp_counts(const struct udp *u, uint64_t *garbage, uint64_t *cookies)
{
	(void)u;
	*garbage = 5;
	*cookies = 6;
}

void route_foreach(const struct route_table *rt,
		   void (*fn)(void *arg, const struct route_info *ri),
		   void *arg)
{
	struct route_info ri;
	int k;

	(void)rt;
	memset(&ri, 0, sizeof(ri));
	for (k = 0; k < 3; k++)
		fn(arg, &ri);
}

void gates_foreach(struct cloud *c,
		   void (*fn)(void *arg, const struct gate_info *gi),
		   void *arg)
{
	struct gate_info gi = { 3, "tun", 2, 1, 10, 20, 1 };

	(void)c;
	fn(arg, &gi);
}

void fwd_drops(const struct fwd *f, struct fwd_drops *d)
{
	(void)f;
	d->no_route = 7;
	d->ttl_expired = 8;
	d->dups = 9;
	d->offload_bad = 0;
}

void admit_refused(const struct cloud *c, struct admit_refused *r)
{
	(void)c;
	r->source = 1;
	r->rate = 2;
	r->full = 3;
}

uint64_t now_ns(void)
{
	return 5000000000ull;
}

void net_fmt_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	(void)sa;
	snprintf(buf, size, "stub");
}

int net_bind(const struct addrinfo *ai, int backlog)
{
	(void)ai;
	(void)backlog;
	return -1;
}

/* ---- the parser ------------------------------------------------------- */

static enum metrics_req parse(const char *s)
{
	return metrics_parse(s, strlen(s));
}

static void test_parse_ok(void **state)
{
	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n"
			       "Host: x\r\nAccept: */*\r\n\r\n"), METRICS_GET);
	assert_int_equal(parse("GET /metrics HTTP/1.0\r\n\r\n"), METRICS_GET);
	assert_int_equal(parse("GET /metrics?a=b HTTP/1.1\r\n\r\n"),
			 METRICS_GET);
	assert_int_equal(parse("GET /metrics HTTP/1.1\n\n"), METRICS_GET);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n\n"), METRICS_GET);
	assert_int_equal(parse("HEAD /metrics HTTP/1.1\r\n\r\n"),
			 METRICS_HEAD);
	/* what follows the head is not read */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n\r\nPOST /x"),
			 METRICS_GET);
}

static void test_parse_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), METRICS_NOT_FOUND);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n"),
			 METRICS_NOT_FOUND);
	assert_int_equal(parse("GET http://a/metrics HTTP/1.1\r\n\r\n"),
			 METRICS_NOT_FOUND);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n"),
			 METRICS_BAD_METHOD);
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n"),
			 METRICS_BAD_METHOD);
	assert_int_equal(parse("GET /metrics HTTP/2.0\r\n\r\n"), METRICS_BAD);
	assert_int_equal(parse("GET /metrics\r\n\r\n"), METRICS_BAD);
	assert_int_equal(parse("GET  /metrics HTTP/1.1\r\n\r\n"), METRICS_BAD);
	assert_int_equal(parse("GET /metrics HTTP/1.1 \r\n\r\n"), METRICS_BAD);
	assert_int_equal(parse("GET /me\x01trics HTTP/1.1\r\n\r\n"),
			 METRICS_BAD);
	assert_int_equal(parse("G(T /metrics HTTP/1.1\r\n\r\n"), METRICS_BAD);
	assert_int_equal(parse("\r\nGET /metrics HTTP/1.1\r\n\r\n"),
			 METRICS_BAD);
	assert_int_equal(parse("\n\n"), METRICS_BAD);
	assert_int_equal(metrics_parse("GET /metrics HTTP/1.1\0\r\n\r\n", 26),
			 METRICS_BAD);
}

/* Every cut of a whole request waits for more; only the whole answers. */
static void test_parse_more(void **state)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t n, len = strlen(req);

	(void)state;
	for (n = 0; n < len; n++)
		assert_int_equal(metrics_parse(req, n), METRICS_MORE);
	assert_int_equal(metrics_parse(req, len), METRICS_GET);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n"),
			 METRICS_MORE);
}

/* ---- escaping --------------------------------------------------------- */

static void test_esc(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(metrics_esc(out, sizeof(out), "plain"), 5);
	assert_string_equal(out, "plain");
	metrics_esc(out, sizeof(out), "a\\x20b");
	assert_string_equal(out, "a\\\\x20b");
	metrics_esc(out, sizeof(out), "q\"\n");
	assert_string_equal(out, "q\\\"\\n");
	/* cut before an escape that does not fit, never inside it */
	assert_int_equal(metrics_esc(out, 4, "ab\""), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(metrics_esc(out, 5, "ab\""), 4);
	assert_string_equal(out, "ab\\\"");
	assert_int_equal(metrics_esc(out, 1, "abc"), 0);
	assert_string_equal(out, "");
}

/* ---- the exposition --------------------------------------------------- */

static char *expose(void)
{
	static struct cloud c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	memset(links, 0, sizeof(links));
	links[0].next = &links[1];
	links[0].id = 1;		/* a stranger: counted, not listed */
	links[0].i.state = "handshake";
	links[0].i.fig.name = "tcp";
	links[1].id = 2;
	snprintf(links[1].peer.name, sizeof(links[1].peer.name),
		 "B\\x20\"q");
	memset(links[1].peer.id.b, 0xab, NODE_ID_LEN);
	links[1].i = (struct link_info){ .up = 1, .verified = 1,
		.state = "up", .srtt_us = 1500, .bytes_in = 1000,
		.bytes_out = 2000, .pkts_in = 10, .pkts_out = 20,
		.drop = { 1, 2, 3 },
		.fig = { .name = "udp", .mtu = 1400, .retransmits = 4 } };
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "A");
	c.start_ns = 2000000000ull;
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(metrics_write(&c, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void has(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n%s", line, text);
}

#define LB "peer=\"B\\\\x20\\\"q\",node_id=\"abababababababab\"," \
	   "transport=\"udp\",link=\"2\""

static void test_expose_values(void **state)
{
	char *t = expose();

	(void)state;
	has(t, "cloudvpn_uptime_seconds 3.000000");
	has(t, "cloudvpn_links{state=\"handshake\"} 1");
	has(t, "cloudvpn_links{state=\"up\"} 1");
	has(t, "cloudvpn_routes 3");
	has(t, "# TYPE cloudvpn_link_rtt_seconds gauge");
	has(t, "cloudvpn_link_rtt_seconds{" LB "} 0.001500");
	has(t, "cloudvpn_link_received_bytes_total{" LB "} 1000");
	has(t, "cloudvpn_link_sent_packets_total{" LB "} 20");
	has(t, "cloudvpn_link_control_retransmits_total{" LB "} 4");
	has(t, "cloudvpn_link_mtu_bytes{" LB "} 1400");
	has(t, "cloudvpn_link_drops_total{" LB ",reason=\"queue_full\"} 3");
	has(t, "cloudvpn_link_drops_total{" LB ",reason=\"downlimit\"} 200");
#define GT "{gate=\"tun\",gate_id=\"3\"}"
	has(t, "cloudvpn_gate_sent_packets_total" GT " 20");
	has(t, "cloudvpn_gate_addresses" GT " 2");
	has(t, "cloudvpn_forward_drops_total{reason=\"duplicate\"} 9");
	has(t, "cloudvpn_handshake_failures_total{reason=\"evicted\"} 10");
	has(t, "cloudvpn_admit_refused_total{reason=\"max_connections\"} 3");
	has(t, "cloudvpn_udp_cookies_sent_total 6");
	/* the stranger has no link line at all */
	assert_null(strstr(t, "link=\"1\""));
	free(t);
}

/* Each family: HELP then TYPE, once, then its samples and nothing else
 * of it later; every sample line is NAME[{...}] VALUE. */
static void test_expose_grouped(void **state)
{
	char *t = expose(), *line, *save = NULL, seen[64][80], cur[80] = "";
	int nseen = 0, k;

	(void)state;
	for (line = strtok_r(t, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[80];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%79s", name);
			for (k = 0; k < nseen; k++)
				assert_string_not_equal(seen[k], name);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], name);
			strcpy(cur, name);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%79s", name);
			assert_string_equal(name, cur);
			continue;
		}
		assert_int_equal(sscanf(line, "%79[a-z_]", name), 1);
		assert_string_equal(name, cur);
		assert_true(line[strlen(name)] == '{' ||
			    line[strlen(name)] == ' ');
	}
	assert_true(nseen >= 20);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_more),
		cmocka_unit_test(test_esc),
		cmocka_unit_test(test_expose_values),
		cmocka_unit_test(test_expose_grouped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
