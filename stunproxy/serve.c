/*
 * What stunproxy serves to others: STUN Binding answers (-stun_listen, so
 * a reachable node can be the mesh's STUN server), and the rendezvous
 * server (-serve), which also answers STUN. The server keeps, per group
 * ID, the addresses registered in the last RV_EXPIRE_MS, and forwards
 * each member's sealed messages to the others. It cannot read or forge
 * them: it never learns the secret.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mono.h"
#include "sp.h"

#define RV_EXPIRE_MS 30000
#define RV_MEMBERS_MAX 1024	/* in all groups */
#define RV_GROUP_MAX 16		/* in one group */

struct member {
	uint8_t group[SP_GROUP];
	struct sockaddr_storage addr;
	uint64_t seen;
};

struct serve {
	int fd[SP_LISTEN_MAX + 1];
	size_t nfd;
	int rv_fd;			/* the -serve socket, or -1 */
	struct member *m;
	size_t nm;
	uint8_t buf[SP_DGRAM_MAX];
};

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

static int serve_socket(struct sp *sp, const char *name, size_t i)
{
	struct sockaddr_storage ss;
	char b[64], where[512];
	int fd;

	if (sp_resolve(sp, name, i, &ss) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sa_len(&ss)) < 0) {
		log_error("%scannot listen on %s",
			  conf_where(conf_get(sp->conf, name, i), name, where,
				     sizeof(where)), sp_fmt(&ss, b, sizeof(b)));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	log_info("%s: answering on %s", name, sp_fmt(&ss, b, sizeof(b)));
	return fd;
}

struct serve *serve_new(struct sp *sp)
{
	struct serve *s = calloc(1, sizeof(*s));
	size_t i, n = conf_count(sp->conf, "stun_listen");
	int fd;

	if (!s)
		return NULL;
	s->rv_fd = -1;
	for (i = 0; i < n; i++) {
		if ((fd = serve_socket(sp, "stun_listen", i)) < 0)
			goto fail;
		s->fd[s->nfd++] = fd;
	}
	if (conf_last(sp->conf, "serve")) {
		if ((fd = serve_socket(sp, "serve", 0)) < 0)
			goto fail;
		s->fd[s->nfd++] = s->rv_fd = fd;
		if (!(s->m = calloc(RV_MEMBERS_MAX, sizeof(*s->m))))
			goto fail;
	}
	return s;
fail:
	serve_free(s);
	return NULL;
}

void serve_free(struct serve *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nfd; i++)
		close(s->fd[i]);
	free(s->m);
	free(s);
}

size_t serve_fds(const struct serve *s, int *fds, size_t max)
{
	size_t i;

	for (i = 0; s && i < s->nfd && i < max; i++)
		fds[i] = s->fd[i];
	return s ? i : 0;
}

int serve_stun(int fd, const uint8_t *buf, size_t len,
	       const struct sockaddr_storage *from)
{
	uint8_t out[STUN_MSG_MAX];
	struct stun_msg m;
	size_t n;

	if (stun_decode(buf, len, &m) < 0 || m.type != STUN_BINDING_REQUEST)
		return 0;
	n = stun_binding_response(out, sizeof(out), m.txid,
				  (const struct sockaddr *)from,
				  "cloudvpn stunproxy", NULL, 0,
				  m.has_fingerprint);
	if (n > 0)
		sendto(fd, out, n, 0, (const struct sockaddr *)from,
		       sa_len(from));
	return 1;
}

/* ---- the rendezvous server ----------------------------------------------- */

static struct member *member_find(struct serve *s, const uint8_t *group,
				  const struct sockaddr_storage *a)
{
	size_t i;

	for (i = 0; i < s->nm; i++)
		if (!memcmp(s->m[i].group, group, SP_GROUP) &&
		    sp_same_addr(&s->m[i].addr, a))
			return &s->m[i];
	return NULL;
}

static size_t group_size(const struct serve *s, const uint8_t *group)
{
	size_t i, n = 0;

	for (i = 0; i < s->nm; i++)
		n += !memcmp(s->m[i].group, group, SP_GROUP);
	return n;
}

static void rv_reply(struct serve *s, const struct sp_rv *m,
		     const struct sockaddr_storage *to)
{
	uint8_t out[SP_MSG_MAX];
	size_t n = sp_rv_encode(out, sizeof(out), m);

	if (n > 0)
		sendto(s->rv_fd, out, n, 0, (const struct sockaddr *)to,
		       sa_len(to));
}

static void rv_reg(struct serve *s, const struct sp_rv *m,
		   const struct sockaddr_storage *from)
{
	struct member *mb = member_find(s, m->group, from);
	struct sp_rv ack = { .type = SP_RV_REGACK, .nonce = m->nonce,
			     .addr = *from };

	if (!mb) {
		if (s->nm == RV_MEMBERS_MAX ||
		    group_size(s, m->group) >= RV_GROUP_MAX)
			return;	/* full: the client keeps trying */
		mb = &s->m[s->nm++];
		memcpy(mb->group, m->group, SP_GROUP);
		mb->addr = *from;
	}
	mb->seen = mono_ms();
	memcpy(ack.group, m->group, SP_GROUP);
	rv_reply(s, &ack, from);
}

static void rv_relay(struct serve *s, const struct sp_rv *m,
		     const struct sockaddr_storage *from)
{
	struct sp_rv f = { .type = SP_RV_FWD, .addr = *from,
			   .body = m->body, .body_len = m->body_len };
	size_t i;

	if (!member_find(s, m->group, from))
		return;		/* register first */
	memcpy(f.group, m->group, SP_GROUP);
	for (i = 0; i < s->nm; i++)
		if (!memcmp(s->m[i].group, m->group, SP_GROUP) &&
		    !sp_same_addr(&s->m[i].addr, from))
			rv_reply(s, &f, &s->m[i].addr);
}

static void rv_input(struct serve *s, const uint8_t *buf, size_t len,
		     const struct sockaddr_storage *from)
{
	struct sp_rv m;

	if (sp_rv_decode(buf, len, &m) < 0)
		return;
	if (m.type == SP_RV_REG)
		rv_reg(s, &m, from);
	else if (m.type == SP_RV_SEND)
		rv_relay(s, &m, from);
}

void serve_input(struct serve *s, int fd)
{
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	int i;

	for (i = 0; i < 256; i++) {
		fl = sizeof(from);
		n = recvfrom(fd, s->buf, sizeof(s->buf), 0,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (stun_is_stun(s->buf, (size_t)n))
			serve_stun(fd, s->buf, (size_t)n, &from);
		else if (fd == s->rv_fd && sp_rv_is(s->buf, (size_t)n))
			rv_input(s, s->buf, (size_t)n, &from);
	}
}

void serve_tick(struct serve *s, uint64_t now)
{
	size_t i = 0;

	while (s && s->m && i < s->nm) {
		if (now - s->m[i].seen > RV_EXPIRE_MS)
			s->m[i] = s->m[--s->nm];
		else
			i++;
	}
}
