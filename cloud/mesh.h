/*
 * The whole mesh as this node sees it: node records (nodes.h) carried on
 * links as FR_NODE frames, each origin's certificate ahead of its first
 * record on a link; and the status lines (meshview.c) that say how each
 * node is reached, and why through a relay when it is.
 */
#ifndef CV_MESH_H
#define CV_MESH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

struct cloud;
struct link;
struct nodes;

/* After links_init and origins_new: -1 after logging. */
int mesh_init(struct cloud *c);
/* After links_shutdown (closing links tells the mesh). */
void mesh_free(struct cloud *c);

/* From link.c: a link came up (its peer gets every record), went down
 * (why, for `cloudctl nodes`), or measured an RTT. */
void mesh_link_up(struct cloud *c, struct link *l);
void mesh_link_down(struct cloud *c, const struct node_id *peer,
		    const char *why);
void mesh_link_rtt(struct cloud *c);
/* An FR_NODE payload from peer: 0, or -1 if malformed. */
int mesh_recv(struct cloud *c, uint32_t peer, const uint8_t *p, size_t len);

/* For meshview.c: an up link as a record lists it; the records; and the last time a direct link to id
 * went down (0 if none did since start) and why. */
struct link_info;
struct node_link;
void mesh_link_of(const struct link_info *i, struct node_link *out);
const struct nodes *mesh_nodes(const struct cloud *c);
uint64_t mesh_last_down(const struct cloud *c, const struct node_id *id,
			const char **why);

/* The status snapshot's node lines (every node known) and edge lines
 * (every link of the mesh), doc/cloudctl.8. */
void mesh_status(struct cloud *c, FILE *f);

#endif
