/* Sockets under the links: listeners, accept, resolve, connect, backoff. */
#ifndef CV_NET_H
#define CV_NET_H

#include <stdint.h>
#include <sys/socket.h>

#define NET_ADDRSTRLEN 64

struct cloud;
struct conf;
struct connector;
struct net;

struct net_ops {
	/* A new inbound TCP connection from sa (addr, its text); the
	 * callee owns fd. */
	void (*accepted)(struct cloud *c, int fd, const struct sockaddr *sa,
			 const char *addr);
	/* An outbound TCP connection is established; the callee owns fd
	 * and reports its end with net_link_down(). */
	void (*connected)(struct cloud *c, struct connector *cn, int fd,
			  const char *addr);
	/* A bound UDP socket of a `listen-udp` line; the callee owns fd.
	 * -1 if it cannot use it. */
	int (*udp_bound)(struct cloud *c, int fd, const char *addr);
	/* A `connect-udp` target resolved; fd is a fresh UDP socket of its
	 * family, owned by the callee, which reports the link's end with
	 * net_link_down(). */
	void (*udp_connect)(struct cloud *c, struct connector *cn, int fd,
			    const struct sockaddr *sa, socklen_t salen,
			    const char *addr);
	/* A `listen-udp` line is gone: its socket takes no new peer, and
	 * closes with the last link on it. */
	void (*udp_unbound)(struct cloud *c, int fd);
	/* cn's line is gone: its link (if any) closes with why and no longer
	 * reports to cn. */
	void (*unlink)(struct cloud *c, struct connector *cn, const char *why);
};

/* What a reload did to the lines (net_reload). */
struct net_diff {
	unsigned cn_added, cn_removed, cn_kept;
	unsigned lis_added, lis_removed, lis_kept, lis_failed;
};

/* Open every `listen` and `listen-udp`, schedule every `connect` and
 * `connect-udp`; NULL after logging. */
struct net *net_new(struct cloud *c, const struct net_ops *ops);
void net_free(struct net *n);
/* Can every connect, connect-udp, listen and listen-udp line of conf be
 * used? 0, or -1 after naming the first that cannot. */
int net_check_conf(const struct conf *conf);
/* Take conf's lines: a line equal to one of ours (word for word) keeps
 * its sockets and links; ours that conf lacks close, conf's new ones
 * start. conn_retry applies to the next waits. -1 if out of memory. */
int net_reload(struct net *n, const struct conf *conf, struct net_diff *d);
/* The link of cn ended; reconnect after a backoff (reset if it was up). */
void net_link_down(struct connector *cn, int was_up);
void net_fmt_addr(const struct sockaddr *sa, char *buf, size_t size);
struct addrinfo;
/* A non-blocking socket bound to ai's address (IPv6 only for AF_INET6),
 * listening with backlog if it is a stream socket; -1 with errno set. */
int net_bind(const struct addrinfo *ai, int backlog);

#endif
