/* TAP and TUN creation (TUNSETIFF) and configuration over rtnetlink with
 * libnl-3. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tap.h"

#define TUN_PATH "/dev/net/tun"

static void seterr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* vnet header + TSO for IPv4/IPv6 (with ECN) + partial checksums. If the
 * kernel says no, plain frames work just as well, only slower. */
static void tap_offload(int fd, unsigned *flags)
{
	int hdr = TAP_VNET_HDR;
	unsigned long off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			    TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, off) < 0)
		*flags &= ~(unsigned)TAP_OFFLOAD;
}

int tap_open(const char *tmpl, unsigned *flags, char *name, char *err,
	     size_t errsize)
{
	const char *kind = *flags & TAP_TUN ? "TUN" : "TAP";
	struct ifreq ifr;
	int fd;

	if (strlen(tmpl) >= IFNAMSIZ) {
		seterr(err, errsize, "iface_dev \"%s\": longer than %d bytes",
		       tmpl, IFNAMSIZ - 1);
		return -1;
	}
	fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		seterr(err, errsize, "cannot open %s: %s", TUN_PATH,
		       strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (*flags & TAP_TUN ? IFF_TUN : IFF_TAP) | IFF_NO_PI |
			(*flags & TAP_OFFLOAD ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, tmpl, strlen(tmpl));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		seterr(err, errsize, "cannot create %s \"%s\": %s", kind,
		       tmpl, strerror(errno));
		goto fail;
	}
	if (*flags & TAP_OFFLOAD)
		tap_offload(fd, flags);
	if (ioctl(fd, TUNSETPERSIST, (*flags & TAP_PERSIST) ? 1L : 0L) < 0) {
		seterr(err, errsize, "%s %s: cannot set persistence: %s",
		       kind, ifr.ifr_name, strerror(errno));
		goto fail;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return fd;
fail:
	close(fd);
	return -1;
}

void tap_close(int fd, unsigned flags)
{
	if (fd < 0)
		return;
	if (!(flags & TAP_PERSIST))
		(void)ioctl(fd, TUNSETPERSIST, 0L);
	close(fd);
}

int tap_parse_ip(const char *s, struct tap_ip *ip)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned maxlen;
	char *end;
	unsigned long plen;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, ip->b) == 1) {
		ip->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, host, ip->b) == 1) {
		ip->family = AF_INET6;
		maxlen = 128;
	} else {
		return -1;
	}
	ip->plen = maxlen;
	if (slash == NULL)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || plen > maxlen)
		return -1;
	ip->plen = (unsigned)plen;
	return 0;
}

int tap_addr_valid(const char *s)
{
	struct tap_ip ip;

	return tap_parse_ip(s, &ip) == 0;
}

static int link_set(struct nl_sock *sk, struct rtnl_link *orig,
		    struct rtnl_link *change, const char *what, char *err,
		    size_t errsize)
{
	int r = rtnl_link_change(sk, orig, change, 0);

	if (r < 0) {
		seterr(err, errsize, "%s: cannot set %s: %s",
		       rtnl_link_get_name(orig), what, nl_geterror(r));
		return -1;
	}
	return 0;
}

static int link_params(struct nl_sock *sk, struct rtnl_link *orig,
		       const struct tap_conf *tc, char *err, size_t errsize)
{
	struct rtnl_link *ch;
	struct nl_addr *lladdr = NULL;
	int r = -1;

	if (tc->mac == NULL && tc->mtu == 0)
		return 0;
	ch = rtnl_link_alloc();
	if (ch == NULL) {
		seterr(err, errsize, "out of memory");
		return -1;
	}
	if (tc->mac != NULL) {
		lladdr = nl_addr_build(AF_LLC, tc->mac, 6);
		if (lladdr == NULL) {
			seterr(err, errsize, "out of memory");
			goto out;
		}
		rtnl_link_set_addr(ch, lladdr);
	}
	if (tc->mtu != 0)
		rtnl_link_set_mtu(ch, tc->mtu);
	r = link_set(sk, orig, ch, "MAC address and MTU", err, errsize);
out:
	nl_addr_put(lladdr);
	rtnl_link_put(ch);
	return r;
}

static int link_up(struct nl_sock *sk, struct rtnl_link *orig, int promisc,
		   char *err, size_t errsize)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	int r;

	if (ch == NULL) {
		seterr(err, errsize, "out of memory");
		return -1;
	}
	rtnl_link_set_flags(ch, IFF_UP | (promisc ? IFF_PROMISC : 0));
	r = link_set(sk, orig, ch, "link up", err, errsize);
	rtnl_link_put(ch);
	return r;
}

static int addr_add(struct nl_sock *sk, int ifindex, const char *s,
		    char *err, size_t errsize)
{
	struct tap_ip ip;
	struct rtnl_addr *ra = NULL;
	struct nl_addr *local = NULL;
	int r;

	if (tap_parse_ip(s, &ip) < 0) {
		seterr(err, errsize, "iface_addr: bad address \"%s\"", s);
		return -1;
	}
	ra = rtnl_addr_alloc();
	local = nl_addr_build(ip.family, ip.b,
			      ip.family == AF_INET ? 4 : 16);
	if (ra == NULL || local == NULL) {
		seterr(err, errsize, "out of memory");
		r = -1;
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)ip.plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, ip.family);
	r = rtnl_addr_set_local(ra, local);
	if (r == 0) {
		rtnl_addr_set_prefixlen(ra, (int)ip.plen);
		r = rtnl_addr_add(sk, ra, 0);
	}
	/* A persistent TAP we attached to again may have it already. */
	if (r == -NLE_EXIST)
		r = 0;
	if (r < 0) {
		seterr(err, errsize, "iface_addr \"%s\": %s", s,
		       nl_geterror(r));
		r = -1;
	}
out:
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return r;
}

/* IFLA_GSO_MAX_SEGS (Linux 5.19+): libnl-3 has no setter, so the message
 * is built by hand. The TCP stack then sends super-segments of at most
 * segs segments into the device, and the kernel cuts forwarded ones. */
static int link_gso_segs(struct nl_sock *sk, int ifindex, unsigned segs,
			 char *err, size_t errsize)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *m;
	int r = -NLE_NOMEM;

	if (segs == 0)
		return 0;
	m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (m != NULL && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
	    nla_put_u32(m, IFLA_GSO_MAX_SEGS, segs) == 0 &&
	    (r = nl_send_auto(sk, m)) >= 0)
		r = nl_wait_for_ack(sk);
	if (m != NULL)
		nlmsg_free(m);
	if (r < 0)
		seterr(err, errsize, "ifindex %d: gso_max_segs %u: %s", ifindex,
		       segs, nl_geterror(r));
	return r < 0 ? -1 : 0;
}

int tap_configure(const char *name, const struct tap_conf *tc, char *err,
		  size_t errsize)
{
	struct nl_sock *sk;
	struct rtnl_link *orig = NULL;
	size_t i;
	int r;

	sk = nl_socket_alloc();
	if (sk == NULL) {
		seterr(err, errsize, "out of memory");
		return -1;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		seterr(err, errsize, "rtnetlink: %s", nl_geterror(r));
		goto out;
	}
	r = rtnl_link_get_kernel(sk, 0, name, &orig);
	if (r < 0) {
		seterr(err, errsize, "%s: %s", name, nl_geterror(r));
		goto out;
	}
	r = link_params(sk, orig, tc, err, errsize);
	if (r == 0)
		r = link_gso_segs(sk, rtnl_link_get_ifindex(orig),
				  tc->gso_max_segs, err, errsize);
	for (i = 0; r == 0 && i < tc->naddr; i++)
		r = addr_add(sk, rtnl_link_get_ifindex(orig), tc->addrs[i],
			     err, errsize);
	if (r == 0)
		r = link_up(sk, orig, tc->promisc, err, errsize);
out:
	if (orig != NULL)
		rtnl_link_put(orig);
	nl_socket_free(sk);
	return r < 0 ? -1 : 0;
}
