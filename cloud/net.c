/*
 * Sockets under the links. Listeners accept until EAGAIN; connectors
 * resolve without blocking the loop (getaddrinfo_a), connect without
 * blocking, and retry forever with capped exponential backoff and jitter.
 * Each listen line holds its sockets and each connect line is a
 * connector, kept by their words, so a reload (net_reload) closes and
 * opens only the lines that changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "addr.h"
#include "cloud.h"
#include "conf.h"
#include "link.h"
#include "log.h"
#include "net.h"
#include "tls_sess.h"

#define BACKOFF_MIN_US 250000ull
#define RESOLVE_POLL_S 0.02
#define LINE_SOCKS 8			/* sockets of one listen line at most */

enum cn_state { CN_IDLE, CN_RESOLVING, CN_CONNECTING, CN_LINKED };

struct connector {			/* one connect or connect-udp line */
	struct connector *next;
	struct net *net;
	char *text;			/* the value, words one space apart */
	enum cn_state st;
	int gone;			/* removed while the resolver has it */
	int mark;			/* net_reload: matched a line */
	uint64_t backoff_us;
	ev_timer timer;
	ev_io io;
	int fd;
	int udp;			/* connect-udp */
	char host[256], port[32];
	int pinned;			/* HOST PORT NODEID */
	struct node_id pin;
	struct addrinfo hints;
	struct gaicb gcb;
	char addr[NET_ADDRSTRLEN];
};

struct listener {			/* one socket of a listen line */
	struct net *net;
	ev_io io;			/* TCP: accepts; UDP: fd only (udp's) */
};

struct lline {				/* one listen or listen-udp line */
	struct lline *next;
	char *text;			/* the value, words one space apart */
	int udp;
	int mark;			/* net_reload: matched a line */
	size_t n;
	struct listener s[LINE_SOCKS];
};

struct net {
	struct cloud *c;
	const struct net_ops *ops;
	uint64_t retry_cap_us;
	int nodelay;			/* tcp_nodelay */
	int tos;			/* ip_tos, 0: leave the system's */
	int backlog;			/* listen_backlog */
	int lvl;			/* of a listen line's failure: an
					 * error at start, a warning later */
	struct lline *lines;
	struct connector *cns;
};

static const char *const cn_opt[2] = { "connect", "connect-udp" };
static const char *const lis_opt[2] = { "listen", "listen-udp" };

/* s with its words one space apart: equal lines compare equal. */
static char *words(const char *s)
{
	char *w = malloc(strlen(s) + 1), *o = w;

	if (!w)
		return NULL;
	while (*(s += strspn(s, " \t"))) {
		if (o != w)
			*o++ = ' ';
		while (*s && *s != ' ' && *s != '\t')
			*o++ = *s++;
	}
	*o = '\0';
	return w;
}

void net_fmt_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(buf, size, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		snprintf(buf, size, "?");
	}
}

/* ip_tos on a link socket of family af, TCP or UDP. A failure costs only
 * the marking, so it is logged, not fatal. */
static void sock_tos(const struct net *n, int fd, int af)
{
	int tos = n->tos;
	int r = 0;

	if (tos == 0)
		return;
	if (af == AF_INET)
		r = setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else if (af == AF_INET6)
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
			       sizeof(tos));
	if (r < 0)
		log_warn("ip_tos %d", tos);
}

static void sock_tune(const struct net *n, int fd, int af)
{
	int one = 1;

	if (n->nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sock_tos(n, fd, af);
}

/* ---- listeners ---------------------------------------------------------- */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *li = w->data;
	struct sockaddr_storage ss;
	char addr[NET_ADDRSTRLEN];
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < 64; i++) {	/* bounded: let the loop breathe */
		socklen_t sl = sizeof(ss);
		int fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		sock_tune(li->net, fd, ss.ss_family);
		net_fmt_addr((struct sockaddr *)&ss, addr, sizeof(addr));
		li->net->ops->accepted(li->net->c, fd, (struct sockaddr *)&ss,
				       addr);
	}
}

int net_bind(const struct addrinfo *ai, int backlog)
{
	int one = 1, err, fd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "* PORT" gives one socket per family, so v6 must not take v4 */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    (ai->ai_socktype == SOCK_STREAM && listen(fd, backlog))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* One listening socket on one address, into ll; -1 with errno set. */
static int listen_addr(struct net *n, struct lline *ll,
		       const struct addrinfo *ai)
{
	struct listener *li = &ll->s[ll->n];
	int fd;

	if (ll->n == LINE_SOCKS) {
		errno = EMFILE;
		return -1;
	}
	if ((fd = net_bind(ai, n->backlog)) < 0)
		return -1;
	li->net = n;
	ev_io_init(&li->io, accept_cb, fd, EV_READ);
	li->io.data = li;
	if (ai->ai_socktype == SOCK_DGRAM) {
		char addr[NET_ADDRSTRLEN];

		sock_tos(n, fd, ai->ai_family);
		net_fmt_addr(ai->ai_addr, addr, sizeof(addr));
		if (n->ops->udp_bound(n->c, fd, addr) < 0) {
			errno = ENOMEM;
			return -1;
		}
	} else {
		ev_io_start(n->c->loop, &li->io);
	}
	ll->n++;
	return 0;
}

/* Close a line's sockets; a UDP socket goes on for the links on it. */
static void lline_free(struct net *n, struct lline *ll)
{
	size_t i;

	for (i = 0; i < ll->n; i++) {
		if (ll->udp) {
			n->ops->udp_unbound(n->c, ll->s[i].io.fd);
			continue;
		}
		ev_io_stop(n->c->loop, &ll->s[i].io);
		close(ll->s[i].io.fd);
	}
	free(ll->text);
	free(ll);
}

/* Every address the value resolves to: "* 5000" listens on IPv4 and IPv6.
 * The line joins n->lines if one socket at least listens. */
static int listen_one(struct net *n, const struct conf_val *v, int udp)
{
	const struct conf_addr *a = &v->v.addr;
	struct addrinfo hints = { .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL, *ai;
	const char *host = a->host;
	struct lline *ll;
	char where[512];
	int err;

	conf_where(v, lis_opt[udp], where, sizeof(where));
	if (a->is_unix) {
		log_warnx("%s\"%s\": a host and port are needed here",
			  where, v->raw);
		return -1;
	}
	if (!host[0] || !strcmp(host, "*"))
		host = NULL;
	if ((err = getaddrinfo(host, a->port, &hints, &res))) {
		log_at(n->lvl, 0, "%scannot resolve \"%s\": %s", where,
		       v->raw, gai_strerror(err));
		return -1;
	}
	if (!(ll = calloc(1, sizeof(*ll))) || !(ll->text = words(v->raw))) {
		log_warn("%s", where);
		freeaddrinfo(res);
		free(ll);
		return -1;
	}
	ll->udp = udp;
	for (ai = res; ai; ai = ai->ai_next) {
		char addr[NET_ADDRSTRLEN];

		net_fmt_addr(ai->ai_addr, addr, sizeof(addr));
		if (listen_addr(n, ll, ai) < 0) {
			log_warn("%scannot listen on %s", where, addr);
			continue;
		}
		log_info("listening on %s%s", addr, udp ? " (udp)" : "");
	}
	freeaddrinfo(res);
	/* a family the host lacks is only a warning; no socket at all fails */
	if (!ll->n) {
		log_at(n->lvl, 0, "%snot listening on \"%s\" at all", where,
		       v->raw);
		lline_free(n, ll);
		return -1;
	}
	ll->next = n->lines;
	n->lines = ll;
	return 0;
}

/* ---- connectors --------------------------------------------------------- */

static void cn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void cn_retry(struct connector *cn)
{
	struct net *n = cn->net;
	uint64_t delay, jitter;
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)now_ns();
	/* the delay falls in [3/4, 1] of the backoff: never past the cap */
	jitter = cn->backoff_us / 4 ? r % (cn->backoff_us / 4) : 0;
	delay = cn->backoff_us - jitter;
	cn->backoff_us *= 2;
	if (cn->backoff_us > n->retry_cap_us)
		cn->backoff_us = n->retry_cap_us;
	cn->st = CN_IDLE;
	ev_timer_set(&cn->timer, delay / 1e6, 0.);
	ev_timer_start(n->c->loop, &cn->timer);
}

static void cn_close_fd(struct connector *cn)
{
	ev_io_stop(cn->net->c->loop, &cn->io);
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
}

static void cn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct connector *cn = w->data;
	int err = 0, fd = cn->fd;
	socklen_t sl = sizeof(err);

	(void)loop;
	(void)revents;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err) {
		log_info("connect %s: %s", cn->addr, strerror(err));
		cn_close_fd(cn);
		cn_retry(cn);
		return;
	}
	ev_io_stop(cn->net->c->loop, &cn->io);
	cn->fd = -1;
	cn->st = CN_LINKED;
	tls_pin_next(links_tls(cn->net->c), cn->pinned ? &cn->pin : NULL);
	cn->net->ops->connected(cn->net->c, cn, fd, cn->addr);
	tls_pin_next(links_tls(cn->net->c), NULL);
}

static void cn_connect(struct connector *cn, const struct addrinfo *ai)
{
	int fd;

	net_fmt_addr(ai->ai_addr, cn->addr, sizeof(cn->addr));
	fd = socket(ai->ai_family, (cn->udp ? SOCK_DGRAM : SOCK_STREAM) |
				   SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("connect %s: socket", cn->addr);
		cn_retry(cn);
		return;
	}
	if (cn->udp) {
		sock_tos(cn->net, fd, ai->ai_family);
		cn->st = CN_LINKED;
		tls_pin_next(links_tls(cn->net->c), cn->pinned ? &cn->pin : NULL);
		cn->net->ops->udp_connect(cn->net->c, cn, fd, ai->ai_addr,
					  ai->ai_addrlen, cn->addr);
		tls_pin_next(links_tls(cn->net->c), NULL);
		return;
	}
	sock_tune(cn->net, fd, ai->ai_family);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		log_info("connect %s: %s", cn->addr, strerror(errno));
		close(fd);
		cn_retry(cn);
		return;
	}
	cn->fd = fd;
	cn->st = CN_CONNECTING;
	ev_io_init(&cn->io, cn_io_cb, fd, EV_WRITE);
	cn->io.data = cn;
	ev_io_start(cn->net->c->loop, &cn->io);
}

static void cn_free(struct connector *cn);

static void cn_resolved(struct connector *cn)
{
	int err = gai_error(&cn->gcb);

	if (err == EAI_INPROGRESS) {
		ev_timer_set(&cn->timer, RESOLVE_POLL_S, 0.);
		ev_timer_start(cn->net->c->loop, &cn->timer);
		return;
	}
	if (cn->gone) {
		cn_free(cn);
		return;
	}
	if (err || !cn->gcb.ar_result) {
		log_warnx("connect %s: cannot resolve: %s", cn->text,
			  gai_strerror(err));
		cn_retry(cn);
		return;
	}
	cn_connect(cn, cn->gcb.ar_result);
	freeaddrinfo(cn->gcb.ar_result);
	cn->gcb.ar_result = NULL;
}

static void cn_resolve(struct connector *cn)
{
	struct gaicb *list[1] = { &cn->gcb };
	memset(&cn->gcb, 0, sizeof(cn->gcb));
	cn->hints = (struct addrinfo){ .ai_socktype = cn->udp ? SOCK_DGRAM
							       : SOCK_STREAM };
	cn->gcb.ar_name = cn->host;
	cn->gcb.ar_service = cn->port;
	cn->gcb.ar_request = &cn->hints;
	cn->st = CN_RESOLVING;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) {
		log_warnx("connect %s: cannot start resolver", cn->text);
		cn_retry(cn);
		return;
	}
	cn_resolved(cn);
}

static void cn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct connector *cn = w->data;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST |
					      AI_NUMERICSERV };
	struct addrinfo *res;

	(void)loop;
	(void)revents;
	hints.ai_socktype = cn->udp ? SOCK_DGRAM : SOCK_STREAM;
	if (cn->st == CN_RESOLVING) {
		cn_resolved(cn);
		return;
	}
	/* numeric addresses need no resolver thread */
	if (!getaddrinfo(cn->host, cn->port, &hints, &res)) {
		cn_connect(cn, res);
		freeaddrinfo(res);
		return;
	}
	cn_resolve(cn);
}

void net_link_down(struct connector *cn, int was_up)
{
	if (was_up)
		cn->backoff_us = BACKOFF_MIN_US;
	cn_retry(cn);
}

/* "HOST PORT [NODEID]" into cn; -1 after naming the bad token. HOST may be
 * "[v6]"; NODEID is the 64 hex digits of `cloud name=... id=`. */
static int cn_parse(struct connector *cn, const struct conf_val *v,
		    const char *where)
{
	char tok[3][256];
	const char *s = v->raw;
	size_t n = 0, len, i;

	while (*(s += strspn(s, " \t"))) {
		len = strcspn(s, " \t");
		if (n == 3 || len >= sizeof(tok[0])) {
			log_warnx("%s\"%s\": expected HOST PORT [NODEID]",
				  where, v->raw);
			return -1;
		}
		memcpy(tok[n], s, len);
		tok[n++][len] = '\0';
		s += len;
	}
	if (n < 2 || strchr(tok[0], '/')) {
		log_warnx("%s\"%s\": a host and port are needed", where,
			  v->raw);
		return -1;
	}
	len = strlen(tok[0]);
	if (tok[0][0] == '[' && len > 2 && tok[0][len - 1] == ']')
		snprintf(cn->host, sizeof(cn->host), "%.*s", (int)len - 2,
			 tok[0] + 1);
	else
		snprintf(cn->host, sizeof(cn->host), "%s", tok[0]);
	if (strlen(tok[1]) >= sizeof(cn->port) ||
	    strspn(tok[1], "0123456789abcdefghijklmnopqrstuvwxyz-") !=
		    strlen(tok[1])) {
		log_warnx("%sbad port \"%s\"", where, tok[1]);
		return -1;
	}
	memcpy(cn->port, tok[1], strlen(tok[1]) + 1);	/* fits: checked */
	if (n < 3)
		return 0;
	if (strlen(tok[2]) != 2 * NODE_ID_LEN)
		goto bad_id;
	for (i = 0; i < NODE_ID_LEN; i++) {
		int hi = addr_hexval(tok[2][2 * i]);
		int lo = addr_hexval(tok[2][2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad_id;
		cn->pin.b[i] = (uint8_t)(hi << 4 | lo);
	}
	cn->pinned = 1;
	return 0;
bad_id:
	log_warnx("%sbad node ID \"%s\" (expected %d hex digits)", where,
		  tok[2], 2 * NODE_ID_LEN);
	return -1;
}

/* A connector for line v of connect (udp 0) or connect-udp (udp 1),
 * started; NULL after logging. */
static struct connector *cn_new(struct net *n, const struct conf_val *v,
				int udp)
{
	struct connector *cn = calloc(1, sizeof(*cn));
	char where[512];

	conf_where(v, cn_opt[udp], where, sizeof(where));
	if (!cn || !(cn->text = words(v->raw))) {
		log_warn("%s", where);
		free(cn);
		return NULL;
	}
	if (cn_parse(cn, v, where) < 0) {
		free(cn->text);
		free(cn);
		return NULL;
	}
	cn->net = n;
	cn->fd = -1;
	cn->udp = udp;
	cn->backoff_us = BACKOFF_MIN_US;
	snprintf(cn->addr, sizeof(cn->addr), "%s", v->raw);
	ev_timer_init(&cn->timer, cn_timer_cb, 0., 0.);
	cn->timer.data = cn;
	ev_timer_start(n->c->loop, &cn->timer);
	cn->next = n->cns;
	n->cns = cn;
	return cn;
}

/* Off the list and freed; its resolver, socket and timer are done. */
static void cn_free(struct connector *cn)
{
	struct connector **pp;

	for (pp = &cn->net->cns; *pp; pp = &(*pp)->next)
		if (*pp == cn) {
			*pp = cn->next;
			break;
		}
	ev_timer_stop(cn->net->c->loop, &cn->timer);
	if (cn->gcb.ar_result)
		freeaddrinfo(cn->gcb.ar_result);
	free(cn->text);
	free(cn);
}

/* The line is gone: its link closes and nothing reconnects. A resolver
 * that cannot be stopped keeps it until it answers (gone). */
static void cn_remove(struct connector *cn)
{
	struct net *n = cn->net;

	ev_timer_stop(n->c->loop, &cn->timer);
	if (cn->st == CN_RESOLVING &&
	    gai_cancel(&cn->gcb) == EAI_NOTCANCELED) {
		cn->gone = 1;
		ev_timer_set(&cn->timer, RESOLVE_POLL_S, 0.);
		ev_timer_start(n->c->loop, &cn->timer);
		return;
	}
	if (cn->st == CN_CONNECTING)
		cn_close_fd(cn);
	if (cn->st == CN_LINKED)
		n->ops->unlink(n->c, cn, "removed from the configuration");
	log_info("%s %s: removed from the configuration", cn_opt[cn->udp],
		 cn->text);
	cn_free(cn);
}

static int lines_init(struct net *n)
{
	const struct conf_val *v;
	size_t i;
	int udp;

	for (udp = 0; udp < 2; udp++)
		for (i = 0; (v = conf_get(n->c->conf, lis_opt[udp], i)); i++)
			if (listen_one(n, v, udp) < 0)
				return -1;
	for (udp = 0; udp < 2; udp++)
		for (i = 0; (v = conf_get(n->c->conf, cn_opt[udp], i)); i++)
			if (!cn_new(n, v, udp))
				return -1;
	return 0;
}

static void net_tune(struct net *n, const struct conf *conf)
{
	n->retry_cap_us = conf_us(conf, "conn_retry");
	if (n->retry_cap_us < BACKOFF_MIN_US)
		n->retry_cap_us = BACKOFF_MIN_US;
}

struct net *net_new(struct cloud *c, const struct net_ops *ops)
{
	struct net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->c = c;
	n->ops = ops;
	net_tune(n, c->conf);
	n->nodelay = (int)conf_int(c->conf, "tcp_nodelay");
	n->tos = (int)conf_int(c->conf, "ip_tos");
	n->backlog = (int)conf_int(c->conf, "listen_backlog");
	n->lvl = LOG_LVL_ERR;
	if (lines_init(n) < 0) {
		net_free(n);
		return NULL;
	}
	n->lvl = LOG_LVL_WARN;
	return n;
}

int net_check_conf(const struct conf *conf)
{
	const struct conf_val *v;
	struct connector tmp;
	int udp, bad = 0;
	char where[512];
	size_t i;

	for (udp = 0; udp < 2; udp++)
		for (i = 0; (v = conf_get(conf, cn_opt[udp], i)); i++) {
			memset(&tmp, 0, sizeof(tmp));
			bad |= cn_parse(&tmp, v, conf_where(v, cn_opt[udp],
					where, sizeof(where))) < 0;
		}
	for (udp = 0; udp < 2; udp++)
		for (i = 0; (v = conf_get(conf, lis_opt[udp], i)); i++) {
			if (!v->v.addr.is_unix)
				continue;
			log_errorx("%s\"%s\": a host and port are needed here",
				   conf_where(v, lis_opt[udp], where,
					      sizeof(where)), v->raw);
			bad = 1;
		}
	return bad ? -1 : 0;
}

/* ---- reload ---------------------------------------------------------------- */

/* Whether line v of opt (udp 0/1) matches one of ours not yet matched;
 * that one is marked. */
static int lline_keep(struct net *n, const struct conf_val *v, int udp)
{
	char *text = words(v->raw);
	struct lline *ll;

	for (ll = n->lines; text && ll; ll = ll->next)
		if (!ll->mark && ll->udp == udp && !strcmp(ll->text, text))
			break;
	free(text);
	if (!text || !ll)
		return 0;
	ll->mark = 1;
	return 1;
}

static int cn_keep(struct net *n, const struct conf_val *v, int udp)
{
	char *text = words(v->raw);
	struct connector *cn;

	for (cn = n->cns; text && cn; cn = cn->next)
		if (!cn->mark && !cn->gone && cn->udp == udp &&
		    !strcmp(cn->text, text))
			break;
	free(text);
	if (!text || !cn)
		return 0;
	cn->mark = 1;
	return 1;
}

/* The lines of opts[] in conf that keep() does not match, into add
 * (room for all); their number. */
static size_t unmatched(struct net *n, const struct conf *conf,
			const char *const opts[2],
			int (*keep)(struct net *, const struct conf_val *, int),
			const struct conf_val **add, int *udps)
{
	const struct conf_val *v;
	size_t i, k = 0;
	int udp;

	for (udp = 0; udp < 2; udp++)
		for (i = 0; (v = conf_get(conf, opts[udp], i)); i++)
			if (!keep(n, v, udp)) {
				udps[k] = udp;
				add[k++] = v;
			}
	return k;
}

static void reload_listen(struct net *n, const struct conf *conf,
			  const struct conf_val **add, int *udps,
			  struct net_diff *d)
{
	struct lline *ll, **pp;
	size_t i, k;

	for (ll = n->lines; ll; ll = ll->next)
		ll->mark = 0;
	k = unmatched(n, conf, lis_opt, lline_keep, add, udps);
	for (pp = &n->lines; (ll = *pp);) {
		if (ll->mark) {
			d->lis_kept++;
			pp = &ll->next;
			continue;
		}
		*pp = ll->next;
		log_info("%s %s: removed from the configuration",
			 lis_opt[ll->udp], ll->text);
		lline_free(n, ll);
		d->lis_removed++;
	}
	/* a bind that fails (a port under 1024 without privileges, one in
	 * use) is logged; the next reload tries the line again */
	for (i = 0; i < k; i++) {
		if (listen_one(n, add[i], udps[i]) < 0)
			d->lis_failed++;
		else
			d->lis_added++;
	}
}

static void reload_connect(struct net *n, const struct conf *conf,
			   const struct conf_val **add, int *udps,
			   struct net_diff *d)
{
	struct connector *cn, *next;
	size_t i, k;

	for (cn = n->cns; cn; cn = cn->next)
		cn->mark = 0;
	k = unmatched(n, conf, cn_opt, cn_keep, add, udps);
	for (cn = n->cns; cn; cn = next) {
		next = cn->next;
		if (cn->gone)
			continue;
		if (cn->mark) {
			d->cn_kept++;
			continue;
		}
		cn_remove(cn);
		d->cn_removed++;
	}
	for (i = 0; i < k; i++)
		if ((cn = cn_new(n, add[i], udps[i]))) {
			log_info("%s %s: added to the configuration",
				 cn_opt[cn->udp], cn->text);
			d->cn_added++;
		}
}

int net_reload(struct net *n, const struct conf *conf, struct net_diff *d)
{
	size_t max = conf_count(conf, "listen") + conf_count(conf, "listen-udp") +
		     conf_count(conf, "connect") +
		     conf_count(conf, "connect-udp") + 1;
	const struct conf_val **add = calloc(max, sizeof(*add));
	int *udps = calloc(max, sizeof(*udps));

	memset(d, 0, sizeof(*d));
	if (!add || !udps) {
		free(add);
		free(udps);
		log_warn("reload");
		return -1;
	}
	net_tune(n, conf);
	reload_listen(n, conf, add, udps, d);
	reload_connect(n, conf, add, udps, d);
	free(add);
	free(udps);
	return 0;
}

void net_free(struct net *n)
{
	struct lline *ll;
	struct connector *cn;

	if (!n)
		return;
	while ((ll = n->lines)) {
		n->lines = ll->next;
		lline_free(n, ll);
	}
	while ((cn = n->cns)) {
		if (cn->st == CN_RESOLVING &&
		    gai_cancel(&cn->gcb) != EAI_ALLDONE)
			cn->gcb.ar_result = NULL;	/* not ours to free */
		cn_close_fd(cn);
		cn_free(cn);
	}
	free(n);
}
