/* The gate socket server: local applications attach here. */
#ifndef CV_GATE_H
#define CV_GATE_H

#include <stdio.h>

#include "pkt.h"

struct cloud;

/* Open every `gate` socket of the configuration. -1 after logging. */
int gate_init(struct cloud *c);
/* Close all gates and listening sockets, remove the socket files. */
void gate_shutdown(struct cloud *c);
/* Deliver to every local gate whose addresses match p (or, for a
 * broadcast, every gate of p->inst). Drops when a gate's queue is full. */
void gate_deliver(struct cloud *c, const struct pkt *p);
/* One line per gate for the status file. */
void gate_status(struct cloud *c, FILE *f);

#endif
