/*
 * Sockets under the links. Listeners accept until EAGAIN; connectors
 * resolve without blocking the loop (getaddrinfo_a), connect without
 * blocking, and retry forever with capped exponential backoff and jitter.
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
#define MAX_LISTEN 32

enum cn_state { CN_IDLE, CN_RESOLVING, CN_CONNECTING, CN_LINKED };

struct connector {
	struct net *net;
	const struct conf_val *val;
	enum cn_state st;
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

struct listener {
	struct net *net;
	ev_io io;
};

struct net {
	struct cloud *c;
	const struct net_ops *ops;
	uint64_t retry_cap_us;
	int nodelay;			/* tcp_nodelay */
	int tos;			/* ip_tos, 0: leave the system's */
	int backlog;			/* listen_backlog */
	struct listener lis[MAX_LISTEN];
	size_t nlis;
	struct connector *cns;
	size_t ncns;
};

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

/* One listening socket on one address; -1 with errno set. */
static int listen_addr(struct net *n, const struct addrinfo *ai)
{
	int fd;

	if (ai->ai_socktype == SOCK_STREAM && n->nlis == MAX_LISTEN) {
		errno = EMFILE;
		return -1;
	}
	if ((fd = net_bind(ai, n->backlog)) < 0)
		return -1;
	if (ai->ai_socktype == SOCK_DGRAM) {
		char addr[NET_ADDRSTRLEN];

		sock_tos(n, fd, ai->ai_family);
		net_fmt_addr(ai->ai_addr, addr, sizeof(addr));
		if (n->ops->udp_bound(n->c, fd, addr) < 0) {
			errno = ENOMEM;
			return -1;
		}
		return 0;
	}
	n->lis[n->nlis].net = n;
	ev_io_init(&n->lis[n->nlis].io, accept_cb, fd, EV_READ);
	n->lis[n->nlis].io.data = &n->lis[n->nlis];
	ev_io_start(n->c->loop, &n->lis[n->nlis].io);
	n->nlis++;
	return 0;
}

/* Every address the value resolves to: "* 5000" listens on IPv4 and IPv6. */
static int listen_one(struct net *n, const struct conf_val *v,
		      const char *opt, int socktype)
{
	const struct conf_addr *a = &v->v.addr;
	struct addrinfo hints = { .ai_socktype = socktype,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL, *ai;
	const char *host = a->host;
	char where[512];
	int err, ok = 0;

	conf_where(v, opt, where, sizeof(where));
	if (a->is_unix) {
		log_warnx("%s\"%s\": a host and port are needed here",
			  where, v->raw);
		return -1;
	}
	if (!host[0] || !strcmp(host, "*"))
		host = NULL;
	if ((err = getaddrinfo(host, a->port, &hints, &res))) {
		log_errorx("%scannot resolve \"%s\": %s", where, v->raw,
			   gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char addr[NET_ADDRSTRLEN];

		net_fmt_addr(ai->ai_addr, addr, sizeof(addr));
		if (listen_addr(n, ai) < 0) {
			log_warn("%scannot listen on %s", where, addr);
			continue;
		}
		log_info("listening on %s%s", addr,
			 socktype == SOCK_DGRAM ? " (udp)" : "");
		ok++;
	}
	freeaddrinfo(res);
	/* a family the host lacks is only a warning; no socket at all fails */
	if (!ok)
		log_errorx("%snot listening on \"%s\" at all", where, v->raw);
	return ok ? 0 : -1;
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

static void cn_resolved(struct connector *cn)
{
	int err = gai_error(&cn->gcb);

	if (err == EAI_INPROGRESS) {
		ev_timer_set(&cn->timer, RESOLVE_POLL_S, 0.);
		ev_timer_start(cn->net->c->loop, &cn->timer);
		return;
	}
	if (err || !cn->gcb.ar_result) {
		log_warnx("connect %s: cannot resolve: %s", cn->val->raw,
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
		log_warnx("connect %s: cannot start resolver", cn->val->raw);
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

static int connectors_add(struct net *n, const char *opt, int udp)
{
	const struct conf_val *v;
	char where[512];
	size_t i;

	for (i = 0; (v = conf_get(n->c->conf, opt, i)); i++) {
		struct connector *cn = &n->cns[n->ncns];

		if (cn_parse(cn, v, conf_where(v, opt, where,
					       sizeof(where))) < 0)
			return -1;
		cn->net = n;
		cn->val = v;
		cn->fd = -1;
		cn->udp = udp;
		cn->backoff_us = BACKOFF_MIN_US;
		snprintf(cn->addr, sizeof(cn->addr), "%s", v->raw);
		ev_timer_init(&cn->timer, cn_timer_cb, 0., 0.);
		cn->timer.data = cn;
		ev_timer_start(n->c->loop, &cn->timer);
		n->ncns++;
	}
	return 0;
}

static int connectors_init(struct net *n)
{
	size_t total = conf_count(n->c->conf, "connect") +
		       conf_count(n->c->conf, "connect-udp");

	n->cns = calloc(total ? total : 1, sizeof(*n->cns));
	if (!n->cns)
		return -1;
	return connectors_add(n, "connect", 0) |
	       connectors_add(n, "connect-udp", 1);
}

struct net *net_new(struct cloud *c, const struct net_ops *ops)
{
	struct net *n = calloc(1, sizeof(*n));
	const struct conf_val *v;
	size_t i;

	if (!n)
		return NULL;
	n->c = c;
	n->ops = ops;
	n->retry_cap_us = conf_us(c->conf, "conn_retry");
	n->nodelay = (int)conf_int(c->conf, "tcp_nodelay");
	n->tos = (int)conf_int(c->conf, "ip_tos");
	n->backlog = (int)conf_int(c->conf, "listen_backlog");
	if (n->retry_cap_us < BACKOFF_MIN_US)
		n->retry_cap_us = BACKOFF_MIN_US;
	for (i = 0; (v = conf_get(c->conf, "listen", i)); i++)
		if (listen_one(n, v, "listen", SOCK_STREAM) < 0)
			goto fail;
	for (i = 0; (v = conf_get(c->conf, "listen-udp", i)); i++)
		if (listen_one(n, v, "listen-udp", SOCK_DGRAM) < 0)
			goto fail;
	if (connectors_init(n) < 0)
		goto fail;
	return n;
fail:
	net_free(n);
	return NULL;
}

void net_free(struct net *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nlis; i++) {
		ev_io_stop(n->c->loop, &n->lis[i].io);
		close(n->lis[i].io.fd);
	}
	for (i = 0; i < n->ncns && n->cns; i++) {
		struct connector *cn = &n->cns[i];

		ev_timer_stop(n->c->loop, &cn->timer);
		if (cn->st == CN_RESOLVING &&
		    gai_cancel(&cn->gcb) == EAI_ALLDONE && cn->gcb.ar_result)
			freeaddrinfo(cn->gcb.ar_result);
		if (cn->net)
			cn_close_fd(cn);
	}
	free(n->cns);
	free(n);
}
