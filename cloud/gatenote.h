/*
 * What gates say about remote nodes (gate protocol NOTE): each gate's
 * latest note per node ID, shown in the status file's node line of that
 * node (meshview.c) with how the node is reached right now.
 */
#ifndef CV_GATENOTE_H
#define CV_GATENOTE_H

#include <stdio.h>

#include "gateproto.h"

#define GATE_NOTES_MAX 256	/* per gate; notes on more nodes are dropped */

struct cloud;

struct gnote {
	uint8_t id[GP_ID_LEN];
	char name[GP_NAME_MAX + 1];
	char text[GP_TEXT_MAX + 1];
};

struct gnotes {
	struct gnote *v;
	size_t n, cap;
};

/* Replace the note on n->id (an empty text forgets it). 0, 1 if dropped
 * (GATE_NOTES_MAX reached), -1 out of memory. */
int gnotes_set(struct gnotes *ns, const struct gp_note *n);
void gnotes_free(struct gnotes *ns);

#endif
