/*
 * A windowed minimum: the least of the last 8 to 16 samples, in O(1)
 * (two epochs of WINMIN_EPOCH samples: the one filling and the one
 * before). A link's cost is its RTT's windowed minimum, the delay of its
 * path with the queues left out.
 */
#ifndef CV_WINMIN_H
#define CV_WINMIN_H

#include <stdint.h>

#define WINMIN_EPOCH 8

struct winmin {
	uint64_t cur, prev;	/* least of each epoch; UINT64_MAX: none */
	unsigned n;		/* samples in the current epoch */
};

void winmin_init(struct winmin *w);
void winmin_add(struct winmin *w, uint64_t v);
/* The least sample of the window, 0 if there is none. */
uint64_t winmin_get(const struct winmin *w);

#endif
