/*
 * Metrics for Prometheus. The figures are read through the accessors the
 * status snapshot uses (link_info, gates_foreach, fwd_drops, ...): this
 * file counts nothing itself but its own clients.
 *
 * The HTTP server is built to face anyone who can reach it: at most
 * MX_CLIENTS connections at once (more are closed as they come), a
 * request head of at most MX_HEAD_MAX bytes that must be whole
 * MX_READ_S seconds after the connection came, one request per
 * connection (Connection: close), an answer of at most MX_BODY_MAX
 * bytes sent as the client reads it, dropped after MX_STUCK_S seconds
 * without progress. Then the socket is shut for writing and read to its
 * end (MX_LINGER_S at most): a close with input unread would reset the
 * connection under the answer.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "cloud.h"
#include "conf.h"
#include "fwd.h"
#include "gate.h"
#include "limit.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "route.h"
#include "udp.h"

#ifndef PACKAGE_VERSION			/* from configure (DEFS) */
#define PACKAGE_VERSION "unknown"
#endif

#define MX_LISTEN 4		/* sockets: "* PORT" gives one per family */
#define MX_BACKLOG 16
#define MX_CLIENTS 8
#define MX_HEAD_MAX 4096	/* bytes of a request head */
#define MX_READ_S 5.		/* to send the whole head */
#define MX_STUCK_S 5.		/* without reading any of the answer */
#define MX_LINGER_S 2.		/* to close after the answer */
#define MX_BODY_MAX (16u << 20)
#define MX_LABELS 320		/* a link's or a gate's labels, escaped */

enum mx_phase { MX_READING, MX_WRITING, MX_DRAINING };

struct mx_client {
	struct mx_client *next;
	struct metrics *m;
	enum mx_phase phase;
	ev_io io;
	ev_timer timer;
	char in[MX_HEAD_MAX];
	size_t inlen;
	char *out;		/* the answer: head and body */
	size_t outlen, off;
};

struct metrics {
	struct cloud *c;
	ev_io lis[MX_LISTEN];
	int nlis;
	struct mx_client *clients;
	unsigned nclients;
	uint64_t refused, timed_out;
};

/* ---- the request -------------------------------------------------------- */

/* Just past the empty line that ends the head, or 0 if none came yet. */
static size_t head_end(const char *b, size_t len)
{
	size_t i, j;

	for (i = 0; i < len; i++) {
		if (b[i] != '\n')
			continue;
		j = i + 1;
		if (j < len && b[j] == '\r')
			j++;
		if (j < len && b[j] == '\n')
			return j + 1;
	}
	return 0;
}

/* RFC 9110 token characters, for the method. */
static int tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static size_t span(const char *s, size_t n, int (*ok)(char))
{
	size_t i = 0;

	while (i < n && ok(s[i]))
		i++;
	return i;
}

static int vchar(char ch)
{
	return ch > ' ' && ch < 0x7f;
}

static int is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(s, word, n);
}

/* "METHOD SP TARGET SP HTTP/1.x", n bytes without the line end. */
static enum metrics_req request_line(const char *s, size_t n)
{
	size_t m = span(s, n, tchar), t, v, path;
	const char *target;

	if (m == 0 || m + 1 >= n || s[m] != ' ')
		return METRICS_BAD;
	target = s + m + 1;
	t = span(target, n - m - 1, vchar);
	if (t == 0 || m + 1 + t >= n || target[t] != ' ')
		return METRICS_BAD;
	v = n - m - t - 2;	/* the version's length */
	if (!is(target + t + 1, v, "HTTP/1.1") &&
	    !is(target + t + 1, v, "HTTP/1.0"))
		return METRICS_BAD;
	if (!is(s, m, "GET") && !is(s, m, "HEAD"))
		return METRICS_BAD_METHOD;
	for (path = 0; path < t && target[path] != '?'; path++)
		;
	if (!is(target, path, "/metrics"))
		return METRICS_NOT_FOUND;
	return s[0] == 'G' ? METRICS_GET : METRICS_HEAD;
}

enum metrics_req metrics_parse(const char *buf, size_t len)
{
	const char *nl;
	size_t n;

	if (!head_end(buf, len))
		return METRICS_MORE;
	nl = memchr(buf, '\n', len);	/* there is one: the head ended */
	n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	return request_line(buf, n);
}

/* ---- the exposition ----------------------------------------------------- */

size_t metrics_esc(char *out, size_t cap, const char *in)
{
	size_t n = 0;
	char e;

	for (; *in; in++) {
		e = *in == '\\' ? '\\' : *in == '"' ? '"' : *in == '\n' ? 'n'
								  : 0;
		if (n + (e ? 2 : 1) >= cap)
			break;
		if (e) {
			out[n++] = '\\';
			out[n++] = e;
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
	return n;
}

struct mx_fam {
	const char *name, *type, *help;
};

/* The family whose HELP and TYPE went out last: a family's samples are
 * written together, and its header only before the first of them. */
struct mx_out {
	FILE *f;
	const struct mx_fam *fam;
};

static void mx_name(struct mx_out *o, const struct mx_fam *fam,
		    const char *labels, const char *more)
{
	if (o->fam != fam)
		fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", fam->name,
			fam->help, fam->name, fam->type);
	o->fam = fam;
	fputs(fam->name, o->f);
	if (*labels || *more)
		fprintf(o->f, "{%s%s%s}", labels, *labels && *more ? "," : "",
			more);
}

static void mx_u64(struct mx_out *o, const struct mx_fam *fam,
		   const char *labels, const char *more, uint64_t v)
{
	mx_name(o, fam, labels, more);
	fprintf(o->f, " %llu\n", (unsigned long long)v);
}

/* A sample of a counter by reason. */
static void mx_reason(struct mx_out *o, const struct mx_fam *fam,
		      const char *labels, const char *reason, uint64_t v)
{
	char more[64];

	snprintf(more, sizeof(more), "reason=\"%s\"", reason);
	mx_u64(o, fam, labels, more, v);
}

static void mx_dbl(struct mx_out *o, const struct mx_fam *fam,
		   const char *labels, double v)
{
	mx_name(o, fam, labels, "");
	fprintf(o->f, " %.6f\n", v);
}

static void hex8(const uint8_t *b, char *out)
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static const struct mx_fam f_build = { "cloudvpn_build_info", "gauge",
	"Always 1; the version of cloudvpn as a label" };
static const struct mx_fam f_node = { "cloudvpn_node_info", "gauge",
	"Always 1; the node's name and node ID (16 hex) as labels" };
static const struct mx_fam f_uptime = { "cloudvpn_uptime_seconds", "gauge",
	"Seconds since the daemon started" };
static const struct mx_fam f_links = { "cloudvpn_links", "gauge",
	"Links, by state (handshake, hello, up)" };
static const struct mx_fam f_routes = { "cloudvpn_routes", "gauge",
	"Routes selected (one per prefix)" };

static void route_count(void *arg, const struct route_info *ri)
{
	(void)ri;
	(*(unsigned *)arg)++;
}

static void mx_node(struct mx_out *o, struct cloud *c)
{
	static const char *const state[] = { "handshake", "hello", "up" };
	unsigned n[3] = { 0 }, routes = 0, k;
	char lab[MX_LABELS], name[MX_LABELS / 2], id[17];
	struct link_info i;
	struct link *l;

	metrics_esc(name, sizeof(name), PACKAGE_VERSION);
	snprintf(lab, sizeof(lab), "version=\"%s\"", name);
	mx_u64(o, &f_build, lab, "", 1);
	metrics_esc(name, sizeof(name), c->name);
	hex8(c->self.b, id);
	snprintf(lab, sizeof(lab), "name=\"%s\",node_id=\"%s\"", name, id);
	mx_u64(o, &f_node, lab, "", 1);
	mx_dbl(o, &f_uptime, "", (double)(now_ns() - c->start_ns) / 1e9);
	for (l = links_first(c); l; l = link_next(l)) {
		link_info(l, &i);
		n[i.up ? 2 : i.verified ? 1 : 0]++;
	}
	for (k = 0; k < 3; k++) {
		snprintf(lab, sizeof(lab), "state=\"%s\"", state[k]);
		mx_u64(o, &f_links, lab, "", n[k]);
	}
	route_foreach(c->rt, route_count, &routes);
	mx_u64(o, &f_routes, "", "", routes);
}

/* Per link: links past their handshake (a stranger has no name yet and
 * is counted in cloudvpn_links only). The link label, its ID in the
 * daemon, tells apart two links to one node. */
#define LINK_U64(name, help, field) \
	{ { name, "counter", help }, offsetof(struct link_info, field) }
static const struct mx_link_u64 {
	struct mx_fam fam;
	size_t off;
} link_u64[] = {
	LINK_U64("cloudvpn_link_received_bytes_total",
		 "Bytes received on the link, as on the wire", bytes_in),
	LINK_U64("cloudvpn_link_sent_bytes_total",
		 "Bytes sent on the link, as on the wire", bytes_out),
	LINK_U64("cloudvpn_link_received_packets_total",
		 "Data packets received on the link", pkts_in),
	LINK_U64("cloudvpn_link_sent_packets_total",
		 "Data packets queued for sending on the link", pkts_out),
	LINK_U64("cloudvpn_link_control_retransmits_total",
		 "Control segments sent again (UDP links; TCP: 0)",
		 fig.retransmits),
};
static const struct mx_fam f_rtt = { "cloudvpn_link_rtt_seconds", "gauge",
	"Smoothed round-trip time of the link's pings" };
static const struct mx_fam f_mtu = { "cloudvpn_link_mtu_bytes", "gauge",
	"Path MTU of a UDP link (UDP payload bytes)" };
static const struct mx_fam f_ldrops = { "cloudvpn_link_drops_total",
	"counter", "Packets the link dropped, by reason" };
static const char *const link_drop_name[LINK_DROPS] = {
	[LINK_DROP_DOWN] = "not_up",
	[LINK_DROP_RED] = "early_drop",
	[LINK_DROP_FULL] = "queue_full",
};

/* l's figures in i and its labels in lab; 0 for a stranger. */
static int link_sample(const struct link *l, struct link_info *i,
		       char *lab, size_t cap)
{
	char name[MX_LABELS / 2], id[17];

	link_info(l, i);
	if (!i->verified)
		return 0;
	metrics_esc(name, sizeof(name), i->peer->name);
	hex8(i->peer->id.b, id);
	snprintf(lab, cap, "peer=\"%s\",node_id=\"%s\",transport=\"%s\","
		 "link=\"%u\"", name, id, i->fig.name, (unsigned)link_peer(l));
	return 1;
}

static void mx_link_drops(struct mx_out *o, const struct link *l,
			  const struct link_info *i, const char *lab)
{
	struct lim_info up, down;
	int k;

	for (k = 0; k < LINK_DROPS; k++)
		mx_reason(o, &f_ldrops, lab, link_drop_name[k], i->drop[k]);
	link_lim_info(l, &up, &down);
	mx_reason(o, &f_ldrops, lab, "downlimit", down.dropped);
}

static uint64_t link_field(const struct link_info *i, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)i + off, sizeof(v));
	return v;
}

static void mx_links(struct mx_out *o, struct cloud *c)
{
	char lab[MX_LABELS];
	struct link_info i;
	struct link *l;
	size_t k;

	for (k = 0; k < sizeof(link_u64) / sizeof(link_u64[0]); k++)
		for (l = links_first(c); l; l = link_next(l))
			if (link_sample(l, &i, lab, sizeof(lab)))
				mx_u64(o, &link_u64[k].fam, lab, "",
				       link_field(&i, link_u64[k].off));
	for (l = links_first(c); l; l = link_next(l))
		if (link_sample(l, &i, lab, sizeof(lab)))
			mx_link_drops(o, l, &i, lab);
	for (l = links_first(c); l; l = link_next(l))
		if (link_sample(l, &i, lab, sizeof(lab)) && i.srtt_us)
			mx_dbl(o, &f_rtt, lab, (double)i.srtt_us / 1e6);
	for (l = links_first(c); l; l = link_next(l))
		if (link_sample(l, &i, lab, sizeof(lab)) && i.fig.mtu)
			mx_u64(o, &f_mtu, lab, "", i.fig.mtu);
}

/* Per gate: one family at a time over every gate. */
static const struct mx_fam f_gate[] = {
	{ "cloudvpn_gate_received_packets_total", "counter",
	  "Packets the gate sent the daemon" },
	{ "cloudvpn_gate_sent_packets_total", "counter",
	  "Packets the daemon delivered to the gate" },
	{ "cloudvpn_gate_drops_total", "counter",
	  "Packets from or to the gate that the daemon dropped" },
	{ "cloudvpn_gate_addresses", "gauge",
	  "Addresses the gate announced" },
	{ "cloudvpn_gate_subscriptions", "gauge",
	  "Instances whose prefixes the gate follows" },
};

struct gate_walk {
	struct mx_out *o;
	size_t k;		/* which of f_gate */
};

static void gate_sample(void *arg, const struct gate_info *gi)
{
	struct gate_walk *w = arg;
	const uint64_t v[] = { gi->pkts_in, gi->pkts_out, gi->drops,
			       gi->addrs, gi->subs };
	char lab[MX_LABELS], name[MX_LABELS / 2];

	metrics_esc(name, sizeof(name), gi->name);
	snprintf(lab, sizeof(lab), "gate=\"%s\",gate_id=\"%u\"", name,
		 (unsigned)gi->id);
	mx_u64(w->o, &f_gate[w->k], lab, "", v[w->k]);
}

static void mx_gates(struct mx_out *o, struct cloud *c)
{
	struct gate_walk w = { o, 0 };

	for (w.k = 0; w.k < sizeof(f_gate) / sizeof(f_gate[0]); w.k++)
		gates_foreach(c, gate_sample, &w);
}

/* Counters with a reason: forwarding, handshakes, admission, UDP. */
static const struct mx_fam f_fwd = { "cloudvpn_forward_drops_total",
	"counter", "Packets forwarding dropped, by reason" };
static const struct mx_fam f_hs = { "cloudvpn_handshake_failures_total",
	"counter", "Links that ended before they were up, by reason" };
static const struct mx_fam f_admit = { "cloudvpn_admit_refused_total",
	"counter", "Inbound connections closed at accept, by the limit hit" };
static const struct mx_fam f_garbage = {
	"cloudvpn_udp_garbage_datagrams_total", "counter",
	"UDP datagrams dropped unread or meaningless" };
static const struct mx_fam f_cookies = { "cloudvpn_udp_cookies_sent_total",
	"counter", "DTLS cookies sent to new UDP peers" };
static const char *const hs_name[LINK_HS_N] = {
	[LINK_HS_OTHER] = "other",
	[LINK_HS_REFUSED] = "certificate_refused",
	[LINK_HS_PEER_REFUSED] = "refused_by_peer",
	[LINK_HS_CLOSED] = "closed",
	[LINK_HS_TLS] = "tls_error",
	[LINK_HS_TIMEOUT] = "timeout",
	[LINK_HS_HELLO] = "bad_hello",
	[LINK_HS_SELF] = "self",
	[LINK_HS_UNEXPECTED] = "unexpected_node",
	[LINK_HS_CROWDED] = "max_links_per_node",
	[LINK_HS_EVICTED] = "evicted",
};

static void mx_counters(struct mx_out *o, struct cloud *c)
{
	uint64_t hs[LINK_HS_N], garbage, cookies;
	struct admit_refused ar;
	struct fwd_drops fd;
	int k;

	fwd_drops(c->fwd, &fd);
	mx_reason(o, &f_fwd, "", "no_route", fd.no_route);
	mx_reason(o, &f_fwd, "", "ttl_expired", fd.ttl_expired);
	mx_reason(o, &f_fwd, "", "duplicate", fd.dups);
	mx_reason(o, &f_fwd, "", "offload_bad", fd.offload_bad);
	links_hs_failures(c, hs);
	for (k = 0; k < LINK_HS_N; k++)
		mx_reason(o, &f_hs, "", hs_name[k], hs[k]);
	admit_refused(c, &ar);
	mx_reason(o, &f_admit, "", "source", ar.source);
	mx_reason(o, &f_admit, "", "accept_rate", ar.rate);
	mx_reason(o, &f_admit, "", "max_connections", ar.full);
	udp_counts(links_udp(c), &garbage, &cookies);
	mx_u64(o, &f_garbage, "", "", garbage);
	mx_u64(o, &f_cookies, "", "", cookies);
}

static const struct mx_fam f_refused = {
	"cloudvpn_metrics_clients_refused_total", "counter",
	"Metrics clients closed at once: too many at the same time" };
static const struct mx_fam f_timed_out = {
	"cloudvpn_metrics_clients_timed_out_total", "counter",
	"Metrics clients dropped: a request too slow, or an answer not read" };

int metrics_write(struct cloud *c, FILE *f)
{
	struct mx_out o = { f, NULL };

	mx_node(&o, c);
	mx_links(&o, c);
	mx_gates(&o, c);
	mx_counters(&o, c);
	if (c->metrics) {
		mx_u64(&o, &f_refused, "", "", c->metrics->refused);
		mx_u64(&o, &f_timed_out, "", "", c->metrics->timed_out);
	}
	return ferror(f) ? -1 : 0;
}

/* ---- the clients -------------------------------------------------------- */

static void mx_close(struct mx_client *cl)
{
	struct metrics *m = cl->m;
	struct mx_client **pp;

	for (pp = &m->clients; *pp != cl; pp = &(*pp)->next)
		;
	*pp = cl->next;
	m->nclients--;
	ev_io_stop(m->c->loop, &cl->io);
	ev_timer_stop(m->c->loop, &cl->timer);
	close(cl->io.fd);
	free(cl->out);
	free(cl);
}

static void mx_phase(struct mx_client *cl, enum mx_phase ph, int events,
		     ev_tstamp secs)
{
	struct ev_loop *loop = cl->m->c->loop;

	cl->phase = ph;
	ev_io_stop(loop, &cl->io);
	ev_io_set(&cl->io, cl->io.fd, events);
	ev_io_start(loop, &cl->io);
	ev_timer_stop(loop, &cl->timer);
	ev_timer_set(&cl->timer, secs, ph == MX_WRITING ? secs : 0.);
	ev_timer_start(loop, &cl->timer);
}

/* Read and drop what the client still sends, until it closes. */
static void mx_drain(struct mx_client *cl)
{
	ssize_t n = recv(cl->io.fd, cl->in, sizeof(cl->in), 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		mx_close(cl);
}

static void mx_write(struct mx_client *cl)
{
	ssize_t n;

	while (cl->off < cl->outlen) {
		n = send(cl->io.fd, cl->out + cl->off, cl->outlen - cl->off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			mx_close(cl);
			return;
		}
		cl->off += (size_t)n;
		ev_timer_again(cl->m->c->loop, &cl->timer);
	}
	free(cl->out);
	cl->out = NULL;
	shutdown(cl->io.fd, SHUT_WR);
	mx_phase(cl, MX_DRAINING, EV_READ, MX_LINGER_S);
}

/* The body of a 200 in *body (malloc'd); -1 if it could not be made. */
static int mx_body(struct cloud *c, char **body, size_t *len)
{
	FILE *f = open_memstream(body, len);
	int bad;

	if (!f)
		return -1;
	bad = metrics_write(c, f) < 0;
	bad |= fclose(f) != 0;
	if (bad || *len > MX_BODY_MAX) {
		if (*len > MX_BODY_MAX)
			log_warnx("metrics: %zu bytes, not sent", *len);
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

static const struct mx_status {
	int code;
	const char *reason, *body;
} mx_status[] = {
	[METRICS_GET] = { 200, "OK", NULL },
	[METRICS_HEAD] = { 200, "OK", NULL },
	[METRICS_NOT_FOUND] = { 404, "Not Found", "not found: GET /metrics\n" },
	[METRICS_BAD_METHOD] = { 405, "Method Not Allowed",
				 "method not allowed: GET /metrics\n" },
	[METRICS_BAD] = { 400, "Bad Request", "bad request\n" },
	[METRICS_MORE] = { 431, "Request Header Fields Too Large",
			   "request head too large\n" },
};
static const struct mx_status mx_failed = { 500, "Internal Server Error",
	"metrics unavailable\n" };

/* The answer to r (METRICS_MORE: a head that filled the buffer) into
 * cl->out; -1 if there is no memory for it. */
static int mx_answer(struct mx_client *cl, enum metrics_req r)
{
	const struct mx_status *st = &mx_status[r];
	char *body = NULL, head[256];
	size_t blen = 0;
	int hlen;

	if (!st->body && mx_body(cl->m->c, &body, &blen) < 0)
		st = &mx_failed;
	if (st->body)
		blen = strlen(st->body);
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
			"Content-Type: text/plain; %scharset=utf-8\r\n"
			"Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
			st->code, st->reason, body ? "version=0.0.4; " : "",
			blen, st->code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (r == METRICS_HEAD)
		blen = 0;
	if (hlen < 0 || (size_t)hlen >= sizeof(head) ||
	    !(cl->out = malloc((size_t)hlen + blen))) {
		free(body);
		return -1;
	}
	memcpy(cl->out, head, (size_t)hlen);
	if (blen)
		memcpy(cl->out + hlen, body ? body : st->body, blen);
	cl->outlen = (size_t)hlen + blen;
	free(body);
	return 0;
}

static void mx_read(struct mx_client *cl)
{
	enum metrics_req r;
	ssize_t n;

	n = recv(cl->io.fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mx_close(cl);
		return;
	}
	cl->inlen += (size_t)n;
	r = metrics_parse(cl->in, cl->inlen);
	if (r == METRICS_MORE && cl->inlen < sizeof(cl->in))
		return;
	if (mx_answer(cl, r) < 0) {
		mx_close(cl);
		return;
	}
	mx_phase(cl, MX_WRITING, EV_WRITE, MX_STUCK_S);
	mx_write(cl);
}

static void mx_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mx_client *cl = w->data;

	(void)loop;
	(void)revents;
	if (cl->phase == MX_READING)
		mx_read(cl);
	else if (cl->phase == MX_WRITING)
		mx_write(cl);
	else
		mx_drain(cl);
}

static void mx_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mx_client *cl = w->data;

	(void)loop;
	(void)revents;
	if (cl->phase != MX_DRAINING) {
		cl->m->timed_out++;
		log_debug("metrics: a client %s, dropped",
			  cl->phase == MX_READING ? "sent no whole request "
						    "in time"
						  : "read nothing for a while");
	}
	mx_close(cl);
}

static int mx_client_new(struct metrics *m, int fd)
{
	struct mx_client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return -1;
	cl->m = m;
	cl->next = m->clients;
	m->clients = cl;
	m->nclients++;
	ev_io_init(&cl->io, mx_io_cb, fd, 0);
	cl->io.data = cl;
	ev_init(&cl->timer, mx_timer_cb);
	cl->timer.data = cl;
	mx_phase(cl, MX_READING, EV_READ, MX_READ_S);
	return 0;
}

static void mx_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics *m = w->data;
	int i, fd;

	(void)loop;
	(void)revents;
	for (i = 0; i < 16; i++) {	/* bounded: let the loop breathe */
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (m->nclients < MX_CLIENTS && mx_client_new(m, fd) == 0)
			continue;
		m->refused++;
		log_debug("metrics: %u clients already, closing a new one",
			  m->nclients);
		close(fd);
	}
}

/* ---- listening ---------------------------------------------------------- */

/* One socket on one address; -1 with errno set. */
static int mx_listen_on(struct metrics *m, const struct addrinfo *ai)
{
	int fd;

	if (m->nlis == MX_LISTEN)
		return errno = EMFILE, -1;
	if ((fd = net_bind(ai, MX_BACKLOG)) < 0)
		return -1;
	ev_io_init(&m->lis[m->nlis], mx_accept_cb, fd, EV_READ);
	m->lis[m->nlis].data = m;
	ev_io_start(m->c->loop, &m->lis[m->nlis]);
	m->nlis++;
	return 0;
}

/* Every address HOST resolves to ("*": IPv4 and IPv6); a family the host
 * lacks is a warning, no socket at all an error. */
static int mx_listen(struct metrics *m, const struct conf_val *v,
		     const char *where)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	const char *host = v->v.addr.host;
	struct addrinfo *res, *ai;
	char addr[NET_ADDRSTRLEN];
	int err;

	if (!host[0] || !strcmp(host, "*"))
		host = NULL;
	if ((err = getaddrinfo(host, v->v.addr.port, &hints, &res)))
		return log_errorx("%scannot resolve \"%s\": %s", where, v->raw,
				  gai_strerror(err)), -1;
	for (ai = res; ai; ai = ai->ai_next) {
		net_fmt_addr(ai->ai_addr, addr, sizeof(addr));
		if (mx_listen_on(m, ai) < 0)
			log_warn("%scannot listen on %s", where, addr);
		else
			log_info("metrics on http://%s/metrics", addr);
	}
	freeaddrinfo(res);
	if (!m->nlis)
		log_errorx("%snot listening on \"%s\" at all", where, v->raw);
	return m->nlis ? 0 : -1;
}

int metrics_check_conf(const struct conf *conf)
{
	const struct conf_val *v = conf_last(conf, "metrics");

	if (!v || !v->v.addr.is_unix)
		return 0;
	return conf_fail(conf, v, "metrics", "\"%s\": a host and port are "
			 "needed here", v->raw);
}

int metrics_init(struct cloud *c)
{
	const struct conf_val *v = conf_last(c->conf, "metrics");
	struct metrics *m;
	char where[512];

	if (!v)
		return 0;
	conf_where(v, "metrics", where, sizeof(where));
	if (!(m = calloc(1, sizeof(*m))))
		return log_errorx("%sout of memory", where), -1;
	m->c = c;
	c->metrics = m;
	return mx_listen(m, v, where);
}

void metrics_shutdown(struct cloud *c)
{
	struct metrics *m = c->metrics;
	int i;

	if (!m)
		return;
	while (m->clients)
		mx_close(m->clients);
	for (i = 0; i < m->nlis; i++) {
		ev_io_stop(c->loop, &m->lis[i]);
		close(m->lis[i].fd);
	}
	free(m);
	c->metrics = NULL;
}
