/* An AF_INET or AF_INET6 socket address as bytes and port, both ways: the
 * one conversion stunproxy's codecs (stun.c, spmsg.c) share. */
#ifndef SP_SA_H
#define SP_SA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* The address's bytes (a view into ss) and port; their length (4 or 16),
 * or 0 for another family. Fields are copied out, never read through a
 * cast pointer, so the optimiser's aliasing rules hold. */
static inline size_t sa_get(const struct sockaddr_storage *ss,
			    const uint8_t **a, uint16_t *port)
{
	const uint8_t *b = (const uint8_t *)ss;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	*a = NULL;
	*port = 0;
	if (ss->ss_family == AF_INET) {
		memcpy(&in, ss, sizeof(in));
		*a = b + offsetof(struct sockaddr_in, sin_addr);
		*port = ntohs(in.sin_port);
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		memcpy(&in6, ss, sizeof(in6));
		*a = b + offsetof(struct sockaddr_in6, sin6_addr);
		*port = ntohs(in6.sin6_port);
		return 16;
	}
	return 0;
}

/* alen 4: AF_INET, else AF_INET6 (16 bytes at a). Built apart and copied
 * in whole, for the same reason. */
static inline void sa_set(struct sockaddr_storage *ss, const uint8_t *a,
			  size_t alen, uint16_t port)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(port) };

	memset(ss, 0, sizeof(*ss));
	if (alen == 4) {
		memcpy(&in.sin_addr, a, 4);
		memcpy(ss, &in, sizeof(in));
	} else {
		memcpy(&in6.sin6_addr, a, 16);
		memcpy(ss, &in6, sizeof(in6));
	}
}

#endif
