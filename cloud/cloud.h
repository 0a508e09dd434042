/* The daemon's one context: everything else hangs off it. */
#ifndef CV_CLOUD_H
#define CV_CLOUD_H

#include <stdint.h>

#include <ev.h>

#include "proto.h"

struct conf;
struct gates;
struct links;
struct route_table;
struct fwd;
struct status;
struct admit;
struct origins;
struct metrics;
struct mesh;
struct reload;

struct cloud {
	struct ev_loop *loop;
	struct conf *conf;
	struct node_id self;
	char name[NODE_NAME_MAX + 1];
	uint64_t start_ns;		/* monotonic */
	void *libsystemd;		/* dlopen()ed under systemd only, */
	int (*sd_notify)(int, const char *);	/* for this */

	struct links *links;		/* link.c */
	struct gates *gates;		/* gate.c */
	struct route_table *rt;		/* route.c */
	struct fwd *fwd;		/* fwd.c */
	struct status *status;		/* status.c */
	struct admit *admit;		/* admit.c */
	struct origins *origins;	/* origin.c */
	struct metrics *metrics;	/* metrics.c */
	struct mesh *mesh;		/* mesh.c: node records */
	struct reload *reload;		/* reload.c */
	ev_timer route_tick;		/* rframe.c: deferred routing work */

	uint8_t default_ttl;
	uint32_t hop_cost;		/* metric added per hop */
};

/* Monotonic clock in nanoseconds (clock.c). */
uint64_t now_ns(void);

#endif
