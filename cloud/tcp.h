/* The TCP transport: TLS 1.3 over TCP (xport.h). */
#ifndef CV_TCP_H
#define CV_TCP_H

struct cloud;
struct connector;
struct sockaddr;

/* net.c hands over sockets: the callee owns fd. */
void tcp_accepted(struct cloud *c, int fd, const struct sockaddr *sa,
		  const char *addr);
void tcp_connected(struct cloud *c, struct connector *cn, int fd,
		   const char *addr);

#endif
