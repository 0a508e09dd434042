/*
 * The routing simulators' timers (test_route.c, test_route_scale.c): each
 * node's route_tick is due at due[i] (ms, 0: none).
 */
#ifndef CV_TEST_SIMDUE_H
#define CV_TEST_SIMDUE_H

#include <stdint.h>

/* The node whose tick is due first, or -1 if none is; the clock moves
 * on to that moment and the node is due no more. */
static inline int sim_due_take(uint64_t *due, int n, uint64_t *now)
{
	int i, k = -1;

	for (i = 0; i < n; i++)
		if (due[i] && (k < 0 || due[i] < due[k]))
			k = i;
	if (k < 0)
		return -1;
	if (due[k] > *now)
		*now = due[k];
	due[k] = 0;
	return k;
}

#endif
