/* The gate socket server: local applications attach here. */
#ifndef CV_GATE_H
#define CV_GATE_H

#include <stdio.h>

#include "pkt.h"
#include "proto.h"

struct cloud;

/* Open every `gate` socket of the configuration. -1 after logging. */
int gate_init(struct cloud *c);
/* A reload: max_gates applies to the next gate; unless d is NULL (in a
 * chroot, where the paths are the jail's), sockets of gate lines conf
 * lacks close (the gates attached through them stay) and new lines open
 * with the running gate_mode, user and group. */
struct gate_diff {
	unsigned added, removed, kept, failed;
};
struct conf;
void gate_reload(struct cloud *c, const struct conf *conf,
		 struct gate_diff *d);
/* Close all gates and listening sockets, remove the socket files. */
void gate_shutdown(struct cloud *c);
/* Deliver to every local gate whose addresses match p (or, for a
 * broadcast, every gate of p->inst). Drops when a gate's queue is full. */
void gate_deliver(struct cloud *c, const struct pkt *p);
/* One line per gate, for the status file. */
void gate_status(struct cloud *c, FILE *f);
/* A gate's figures, as its status line has them (name: "" before its
 * hello). */
struct gate_info {
	uint32_t id;
	const char *name;
	size_t addrs, subs;
	uint64_t pkts_in, pkts_out, drops;
};
void gates_foreach(struct cloud *c,
		   void (*fn)(void *arg, const struct gate_info *gi),
		   void *arg);
/* Every note the gates left on remote nodes (gatenote.h), gate by gate:
 * the status file's node lines carry them (mesh.h). */
struct gnote;
void gate_notes(struct cloud *c, void (*fn)(void *arg, const struct gnote *n),
		void *arg);
/* Tell the gate that handed a link's socket (if it is still attached)
 * that the link is up, or ended or was refused and why. */
/* p, from gate, found no route: tell the gate (GP_NOROUTE), if it asked
 * for it (GP_CAP_NOROUTE), a few times a second at most. */
void gate_noroute(struct cloud *c, uint32_t gate, const struct pkt *p);
void gate_link_event(struct cloud *c, uint32_t gate, int up,
		     const struct node_id *id, const char *why);

#endif
