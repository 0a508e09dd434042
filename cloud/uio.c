/*
 * Datagrams in batches: one sendmmsg for everything queued in a loop turn,
 * one recvmmsg for what has arrived. Where the kernel has them, runs of
 * same-sized datagrams to one peer leave as one UDP GSO send (UDP_SEGMENT)
 * and arrive coalesced (UDP_GRO): one trip through the stack for up to
 * UIO_GSO_SEGS datagrams.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"
#include "uio.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define UIO_OBUF (256 * 1024)	/* bytes queued for one flush at most */
#define UIO_GSO_SEGS 64		/* datagrams per GSO send (kernel limit) */
#define UIO_GSO_BYTES 65000	/* bytes per GSO send (one IP packet) */
#define UIO_RSLOTS 16		/* recvmmsg slots */
#define UIO_RSLOT 65536		/* a GRO slot holds up to 64 KB */

typedef union {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
} cbuf;

struct uio {
	int gso;			/* the kernel takes UDP_SEGMENT */
	/* out: messages, each one datagram or a run of same-sized ones */
	int fd;
	unsigned n;
	size_t used;
	const struct sockaddr_storage *dst[UIO_BATCH];
	void *tag[UIO_BATCH];
	uint16_t seg[UIO_BATCH];	/* datagram size in message i */
	uint8_t nseg[UIO_BATCH];
	uint8_t closed[UIO_BATCH];	/* its last datagram was shorter */
	struct mmsghdr out[UIO_BATCH];
	struct iovec oiov[UIO_BATCH];
	cbuf octl[UIO_BATCH];
	uint8_t *obuf;
	/* in */
	struct mmsghdr in[UIO_RSLOTS];
	struct iovec iiov[UIO_RSLOTS];
	struct sockaddr_storage iaddr[UIO_RSLOTS];
	cbuf ictl[UIO_RSLOTS];
	uint8_t *ibuf;
};

struct uio *uio_new(void)
{
	struct uio *o = calloc(1, sizeof(*o));
	int i;

	if (!o)
		return NULL;
	o->gso = 1;
	o->obuf = malloc(UIO_OBUF);
	o->ibuf = malloc((size_t)UIO_RSLOTS * UIO_RSLOT);
	if (!o->obuf || !o->ibuf) {
		uio_free(o);
		return NULL;
	}
	for (i = 0; i < UIO_RSLOTS; i++) {
		o->iiov[i].iov_base = o->ibuf + (size_t)i * UIO_RSLOT;
		o->iiov[i].iov_len = UIO_RSLOT;
		o->in[i].msg_hdr.msg_iov = &o->iiov[i];
		o->in[i].msg_hdr.msg_iovlen = 1;
	}
	return o;
}

void uio_free(struct uio *o)
{
	if (!o)
		return;
	free(o->obuf);
	free(o->ibuf);
	free(o);
}

void uio_tune(int fd, int family)
{
	int probe = IP_PMTUDISC_PROBE, buf = UDP_SOCK_BUF, one = 1;

	/* DF set, the kernel's own PMTU ignored: the link finds the path's */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe,
			   sizeof(probe));
	else
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe,
			   sizeof(probe));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
}

/* ---- out ---------------------------------------------------------------- */

static void set_gso(struct uio *o, unsigned i)
{
	struct msghdr *m = &o->out[i].msg_hdr;
	struct cmsghdr *c;

	if (o->nseg[i] < 2) {
		m->msg_control = NULL;
		m->msg_controllen = 0;
		return;
	}
	m->msg_control = o->octl[i].buf;
	m->msg_controllen = sizeof(o->octl[i].buf);
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(c), &o->seg[i], sizeof(uint16_t));
}

/* A GSO run the kernel refused (a segment too big for the device after
 * an MTU change, no GSO on it): its datagrams one by one, so each too big
 * one is reported. Only a device without GSO turns GSO off. */
static void send_apart(struct uio *o, unsigned i, int err,
		       void (*too_big)(void *tag, size_t len))
{
	const struct msghdr *m = &o->out[i].msg_hdr;
	const uint8_t *p = o->oiov[i].iov_base;
	size_t left = o->oiov[i].iov_len;

	if (err == EIO || err == EOPNOTSUPP)
		o->gso = 0;
	while (left > 0) {
		size_t n = left < o->seg[i] ? left : o->seg[i];

		if (sendto(o->fd, p, n, 0, m->msg_name, m->msg_namelen) < 0 &&
		    errno == EMSGSIZE && too_big)
			too_big(o->tag[i], n);
		p += n;
		left -= n;
	}
}

void uio_flush(struct uio *o, void (*too_big)(void *tag, size_t len))
{
	unsigned i = 0;

	for (i = 0; i < o->n; i++)
		set_gso(o, i);
	i = 0;
	while (i < o->n) {
		int r = sendmmsg(o->fd, o->out + i, o->n - i, 0);

		if (r > 0) {
			i += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (o->nseg[i] > 1)
			send_apart(o, i, errno, too_big);
		else if (errno == EMSGSIZE && too_big)
			too_big(o->tag[i], o->oiov[i].iov_len);
		i++;	/* UDP: a datagram the kernel refuses is lost */
	}
	o->n = 0;
	o->used = 0;
}

/* Can buf join message i as one more datagram of its GSO run? */
static int joins(const struct uio *o, unsigned i,
		 const struct sockaddr_storage *dst, size_t len)
{
	return o->gso && o->dst[i] == dst && !o->closed[i] &&
	       len <= o->seg[i] && o->nseg[i] < UIO_GSO_SEGS &&
	       o->oiov[i].iov_len + len <= UIO_GSO_BYTES;
}

void uio_send(struct uio *o, int fd, const struct sockaddr_storage *dst,
	      socklen_t dlen, const void *buf, size_t len, void *tag)
{
	struct msghdr *m;
	unsigned i;

	if (len > UDP_DGRAM_MAX)
		return;
	if (o->n && (fd != o->fd || o->used + len > UIO_OBUF))
		uio_flush(o, NULL);
	o->fd = fd;
	memcpy(o->obuf + o->used, buf, len);
	if (o->n && joins(o, o->n - 1, dst, len)) {
		i = o->n - 1;
		o->oiov[i].iov_len += len;
		o->nseg[i]++;
		o->closed[i] = len < o->seg[i];
		o->used += len;
		return;
	}
	if (o->n == UIO_BATCH) {
		uio_flush(o, NULL);
		memcpy(o->obuf, buf, len);
	}
	i = o->n++;
	o->dst[i] = dst;
	o->tag[i] = tag;
	o->seg[i] = (uint16_t)len;
	o->nseg[i] = 1;
	o->closed[i] = 0;
	o->oiov[i].iov_base = o->obuf + o->used;
	o->oiov[i].iov_len = len;
	o->used += len;
	m = &o->out[i].msg_hdr;
	memset(m, 0, sizeof(*m));
	m->msg_name = (void *)dst;
	m->msg_namelen = dlen;
	m->msg_iov = &o->oiov[i];
	m->msg_iovlen = 1;
}

int uio_pending(const struct uio *o, int fd)
{
	return o->n && o->fd == fd;
}

/* ---- in ----------------------------------------------------------------- */

static size_t gro_size(struct msghdr *m)
{
	struct cmsghdr *c;
	int sz;			/* the kernel writes an int */

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&sz, CMSG_DATA(c), sizeof(sz));
			return sz > 0 ? (size_t)sz : 0;
		}
	return 0;
}

int uio_recv(struct uio *o, int fd, uio_recv_fn fn, void *arg)
{
	int i, n;

	for (i = 0; i < UIO_RSLOTS; i++) {
		struct msghdr *m = &o->in[i].msg_hdr;

		m->msg_name = &o->iaddr[i];
		m->msg_namelen = sizeof(o->iaddr[i]);
		m->msg_control = o->ictl[i].buf;
		m->msg_controllen = sizeof(o->ictl[i].buf);
	}
	n = recvmmsg(fd, o->in, UIO_RSLOTS, MSG_DONTWAIT, NULL);
	for (i = 0; i < n; i++) {
		struct msghdr *m = &o->in[i].msg_hdr;
		const uint8_t *p = o->iiov[i].iov_base;
		size_t len = o->in[i].msg_len, seg = gro_size(m);

		if (!seg || seg > len)
			seg = len;
		while (len > 0) {	/* GRO: datagrams of seg bytes */
			size_t take = len < seg ? len : seg;

			fn(arg, &o->iaddr[i], m->msg_namelen, p, take);
			p += take;
			len -= take;
		}
	}
	return n < 0 ? -1 : n == UIO_RSLOTS;
}
