/* Kernel routes through the TUN over rtnetlink with libnl-3 (troute.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "log.h"
#include "troute.h"

struct troute_pfx {
	uint8_t len;		/* 4 or 16 */
	uint8_t plen;
	uint8_t b[16];		/* bits past plen clear */
	int stale;		/* a whole set has not confirmed it yet */
};

struct pfx_list {
	struct troute_pfx *v;
	size_t n, cap;
};

struct troute {
	struct nl_sock *sk;
	int ifindex;
	struct pfx_list routes;	/* in the kernel, made by us */
	struct pfx_list conn;	/* connected subnets */
	struct pfx_list refused;	/* the kernel has someone else's */
};

static int pfx_make(struct troute_pfx *p, uint8_t len, const uint8_t *b,
		    unsigned plen)
{
	unsigned i;

	if ((len != 4 && len != 16) || plen > 8u * len)
		return -1;
	memset(p, 0, sizeof(*p));
	p->len = len;
	p->plen = (uint8_t)plen;
	memcpy(p->b, b, len);
	for (i = plen; i < 8u * len; i++)
		p->b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return 0;
}

/* Does c hold every address of p? */
static int pfx_covers(const struct troute_pfx *c, const struct troute_pfx *p)
{
	unsigned whole = c->plen / 8, rest = c->plen % 8;
	uint8_t mask = (uint8_t)(0xff00u >> rest);

	if (c->len != p->len || c->plen > p->plen ||
	    memcmp(c->b, p->b, whole) != 0)
		return 0;
	return rest == 0 || ((c->b[whole] ^ p->b[whole]) & mask) == 0;
}

static const char *pfx_fmt(const struct troute_pfx *p, char *buf,
			   size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->len == 4 ? AF_INET : AF_INET6, p->b, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->plen);
	return buf;
}

static int list_add(struct pfx_list *l, const struct troute_pfx *p)
{
	struct troute_pfx *v;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 16;
		v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return 0;
}

static struct troute_pfx *list_find(struct pfx_list *l,
				    const struct troute_pfx *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].len == p->len && l->v[i].plen == p->plen &&
		    memcmp(l->v[i].b, p->b, p->len) == 0)
			return &l->v[i];
	return NULL;
}

static void list_del(struct pfx_list *l, size_t i)
{
	l->v[i] = l->v[--l->n];
}

/* ---- rtnetlink ------------------------------------------------------ */

/* A unicast route of protocol TROUTE_PROTO in the main table to p
 * through the device, with no gateway. */
static struct rtnl_route *route_build(const struct troute *t,
				      const struct troute_pfx *p)
{
	int fam = p->len == 4 ? AF_INET : AF_INET6;
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(fam, p->b, p->len);

	if (r == NULL || nh == NULL || dst == NULL) {
		nl_addr_put(dst);
		if (nh != NULL)
			rtnl_route_nh_free(nh);
		if (r != NULL)
			rtnl_route_put(r);
		return NULL;
	}
	nl_addr_set_prefixlen(dst, p->plen);
	rtnl_route_set_family(r, (uint8_t)fam);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, TROUTE_PROTO);
	rtnl_route_set_scope(r, fam == AF_INET ? RT_SCOPE_LINK :
			     RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_dst(r, dst);	/* takes its own reference */
	nl_addr_put(dst);
	rtnl_route_nh_set_ifindex(nh, t->ifindex);
	rtnl_route_add_nexthop(r, nh);	/* r owns nh from now on */
	return r;
}

/* Add (add 1) or delete (0) the kernel route to p: 0 or a libnl error. */
static int route_kernel(struct troute *t, const struct troute_pfx *p,
			int add)
{
	struct rtnl_route *r = route_build(t, p);
	int e;

	if (r == NULL)
		return -NLE_NOMEM;
	e = add ? rtnl_route_add(t->sk, r, NLM_F_EXCL) :
		  rtnl_route_delete(t->sk, r, 0);
	rtnl_route_put(r);
	return e;
}

/* ---- the set -------------------------------------------------------- */

struct troute *troute_open(int ifindex)
{
	struct troute *t = calloc(1, sizeof(*t));
	int e;

	if (t == NULL || (t->sk = nl_socket_alloc()) == NULL) {
		log_warnx("routes: out of memory");
		free(t);
		return NULL;
	}
	e = nl_connect(t->sk, NETLINK_ROUTE);
	if (e < 0) {
		log_warnx("routes: rtnetlink: %s", nl_geterror(e));
		nl_socket_free(t->sk);
		free(t);
		return NULL;
	}
	t->ifindex = ifindex;
	return t;
}

int troute_connected(struct troute *t, uint8_t len, const uint8_t *b,
		     unsigned plen)
{
	struct troute_pfx p;

	if (pfx_make(&p, len, b, plen) < 0)
		return -1;
	return list_add(&t->conn, &p);
}

/*
 * The add failed with libnl error e. A route the kernel has already
 * (someone else's) is said once: the prefix goes on the refused list,
 * which the updates of each metric change then skip (no) and only a whole
 * set retries (troute_stale). Past TROUTE_REFUSED_MAX it is said each time.
 */
static int route_failed(struct troute *t, const struct troute_pfx *p,
			struct troute_pfx *no, int e)
{
	char s[64];

	if (e != -NLE_EXIST) {
		log_warnx("route %s: cannot add: %s",
			  pfx_fmt(p, s, sizeof(s)), nl_geterror(e));
		return -1;
	}
	if (no != NULL) {
		no->stale = 0;		/* still there; said so already */
		return -1;
	}
	if (t->refused.n < TROUTE_REFUSED_MAX)
		list_add(&t->refused, p);
	log_warnx("route %s: the kernel has one already (not tun's): "
		  "left alone", pfx_fmt(p, s, sizeof(s)));
	return -1;
}

static int route_up(struct troute *t, const struct troute_pfx *p)
{
	struct troute_pfx *have = list_find(&t->routes, p);
	struct troute_pfx *no = list_find(&t->refused, p);
	char s[64];
	int e;

	if (have != NULL) {
		have->stale = 0;
		return 0;
	}
	if (no != NULL && !no->stale)
		return -1;
	e = route_kernel(t, p, 1);
	if (e == 0 && list_add(&t->routes, p) == 0) {
		if (no != NULL)
			list_del(&t->refused, (size_t)(no - t->refused.v));
		log_debug("route %s added", pfx_fmt(p, s, sizeof(s)));
		return 1;
	}
	if (e == 0) {
		route_kernel(t, p, 0);
		e = -NLE_NOMEM;
	}
	return route_failed(t, p, no, e);
}

/* Remove the route at index i of the list, from the kernel too. */
static int route_down(struct troute *t, size_t i)
{
	struct troute_pfx p = t->routes.v[i];
	char s[64];
	int e;

	list_del(&t->routes, i);
	e = route_kernel(t, &p, 0);
	/* Gone already (an administrator, or the device went): fine. */
	if (e < 0 && e != -NLE_OBJ_NOTFOUND) {
		log_warnx("route %s: cannot remove: %s",
			  pfx_fmt(&p, s, sizeof(s)), nl_geterror(e));
		return -1;
	}
	log_debug("route %s removed", pfx_fmt(&p, s, sizeof(s)));
	return 1;
}

int troute_set(struct troute *t, uint8_t len, const uint8_t *b,
	       unsigned plen, int up)
{
	struct troute_pfx p, *have;
	size_t i;

	if (plen == 0 || pfx_make(&p, len, b, plen) < 0)
		return 0;
	for (i = 0; i < t->conn.n; i++)
		if (pfx_covers(&t->conn.v[i], &p))
			return 0;
	if (up)
		return route_up(t, &p);
	/* refused, said so, and gone for now: when it comes back, try the
	 * kernel again, but say it only if the answer changes */
	have = list_find(&t->refused, &p);
	if (have != NULL)
		have->stale = 1;
	have = list_find(&t->routes, &p);
	if (have == NULL)
		return 0;
	return route_down(t, (size_t)(have - t->routes.v));
}

void troute_stale(struct troute *t)
{
	size_t i;

	for (i = 0; i < t->routes.n; i++)
		t->routes.v[i].stale = 1;
	for (i = 0; i < t->refused.n; i++)
		t->refused.v[i].stale = 1;
}

size_t troute_sweep(struct troute *t)
{
	size_t i = 0, n = 0;

	while (i < t->routes.n) {
		if (t->routes.v[i].stale) {
			route_down(t, i);	/* moves the last one to i */
			n++;
		} else {
			i++;
		}
	}
	for (i = 0; i < t->refused.n;)
		if (t->refused.v[i].stale)
			list_del(&t->refused, i);
		else
			i++;
	return n;
}

size_t troute_count(const struct troute *t)
{
	return t->routes.n;
}

void troute_close(struct troute *t)
{
	if (t == NULL)
		return;
	while (t->routes.n > 0)
		route_down(t, t->routes.n - 1);
	nl_socket_free(t->sk);
	free(t->routes.v);
	free(t->conn.v);
	free(t->refused.v);
	free(t);
}
