/* The UDP transport: DTLS 1.2 over UDP (xport.h). */
#ifndef CV_UDP_H
#define CV_UDP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto.h"

struct cloud;
struct connector;
struct tls;
struct udp;

struct udp *udp_new(struct cloud *c, struct tls *tls);
void udp_free(struct udp *u);
/* net.c hands over sockets (net_ops): the callee owns fd. */
int udp_bound(struct cloud *c, int fd, const char *addr);
/* A `listen-udp` socket leaves the configuration: no new peer starts a
 * handshake there; it closes with the last of its links. */
void udp_unbound(struct cloud *c, int fd);
void udp_connected(struct cloud *c, struct connector *cn, int fd,
		   const struct sockaddr *sa, socklen_t salen,
		   const char *addr);
/* A connected UDP socket a gate handed over (gate ID gate) for a link to
 * the node want: the lower node ID is the DTLS client, the other the
 * server; the link never reconnects. The callee owns fd. 0, or -1 if no
 * link was started. */
int udp_handed(struct cloud *c, int fd, const struct sockaddr_storage *sa,
	       socklen_t salen, const struct node_id *want, uint32_t gate);
/* One status line: datagrams dropped (unread or meaningless),
 * cookies sent. */
void udp_status(const struct udp *u, FILE *f);
/* The same two counters. */
void udp_counts(const struct udp *u, uint64_t *garbage, uint64_t *cookies);

#endif
