/* Batched datagram I/O (sendmmsg/recvmmsg, UDP GSO and GRO). */
#ifndef CV_UIO_H
#define CV_UIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UIO_BATCH 64		/* messages per sendmmsg */

struct uio;

typedef void (*uio_recv_fn)(void *arg, const struct sockaddr_storage *src,
			    socklen_t srclen, const uint8_t *p, size_t len);

struct uio *uio_new(void);
void uio_free(struct uio *o);
/* Socket options for a link socket: DF without the kernel's PMTU, big
 * buffers, GRO. */
void uio_tune(int fd, int family);
/* Queue one datagram for dst (which must stay valid until the flush);
 * tag comes back if the kernel refuses it as too big. */
void uio_send(struct uio *o, int fd, const struct sockaddr_storage *dst,
	      socklen_t dlen, const void *buf, size_t len, void *tag);
/* Send everything queued; too_big(tag, len) for EMSGSIZE refusals. */
void uio_flush(struct uio *o, void (*too_big)(void *tag, size_t len));
/* Is anything queued for fd? */
int uio_pending(const struct uio *o, int fd);
/* One recvmmsg on fd; fn for each datagram (GRO runs split). 1 if more
 * may be waiting, 0 if not, -1 on error. */
int uio_recv(struct uio *o, int fd, uio_recv_fn fn, void *arg);

#endif
