/*
 * tablegate: a route table for bench/table/run, and a clock on its arrival.
 *
 *   tablegate announce GATE_PATH N
 *   tablegate count GATE_PATH N TIMEOUT_S
 *
 * announce: N distinct /32s in instance 1 (10.0.0.0 upward), GATE_ANNOUNCE
 * per gate (each a cg_start on GATE_PATH, so ceil(N / GATE_ANNOUNCE) gates:
 * mind the daemon's max_gates), held until killed. Prints "announced N
 * gates G" once every set is written.
 *
 * count: subscribes to instance 1 (retrying cg_start until the daemon
 * answers: it is started just after us) and, when the number of distinct
 * reachable prefixes that are not local first reaches N, prints
 * "reached N ms MS", MS counted from our start, and exits 0. At TIMEOUT_S
 * it prints "timeout have K of N ms MS" and exits 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloudgate.h"

#define GATE_ANNOUNCE 1000	/* addresses per gate (an ANNOUNCE holds 1024) */
#define INSTANCE 1
#define RETRY_MS 5		/* count: between attempts to reach the daemon */
#define MAX_N 4000000		/* 10.0.0.0 .. 10.61.9.255 */

static uint64_t t0_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(void)
{
	fprintf(stderr, "usage: tablegate announce GATE_PATH N\n"
			"       tablegate count GATE_PATH N TIMEOUT_S\n");
	exit(2);
}

static long parse_pos(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "tablegate: not a number in 1..%ld: \"%s\"\n",
			max, s);
		exit(2);
	}
	return v;
}

/* ---- announce ----------------------------------------------------------- */

static void addr_of(long i, struct cg_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->instance = INSTANCE;
	a->len = 4;
	a->plen = 32;
	a->bytes[0] = 10;
	a->bytes[1] = (uint8_t)(i >> 16);
	a->bytes[2] = (uint8_t)(i >> 8);
	a->bytes[3] = (uint8_t)i;
}

/* Runs until killed, or 1 when a gate cannot be opened or announce. */
static int do_announce(const char *path, long n)
{
	size_t ng = (size_t)((n + GATE_ANNOUNCE - 1) / GATE_ANNOUNCE), k;
	struct cloudgate **g = calloc(ng, sizeof(*g));
	struct pollfd *pf = calloc(ng, sizeof(*pf));
	struct cg_addr set[GATE_ANNOUNCE];
	const struct cg_handlers h = { 0 };
	char err[256], name[32];
	int said = 0, busy, to, t;
	long i;

	if (g == NULL || pf == NULL) {
		perror("tablegate: calloc");
		return 1;
	}
	for (k = 0; k < ng; k++) {
		long lo = (long)k * GATE_ANNOUNCE;
		long hi = lo + GATE_ANNOUNCE < n ? lo + GATE_ANNOUNCE : n;

		snprintf(name, sizeof(name), "tablegate-%zu", k);
		g[k] = cg_start(path, name, &h, NULL, err, sizeof(err));
		if (g[k] == NULL) {
			fprintf(stderr, "tablegate: gate %zu of %zu: %s\n", k,
				ng, err);
			return 1;
		}
		for (i = lo; i < hi; i++)
			addr_of(i, &set[i - lo]);
		if (cg_announce(g[k], set, (size_t)(hi - lo)) < 0) {
			fprintf(stderr, "tablegate: gate %zu: announce: %s\n",
				k, strerror(errno));
			return 1;
		}
	}
	for (;;) {
		to = -1;
		busy = 0;
		for (k = 0; k < ng; k++) {
			pf[k].fd = cg_poll_fd(g[k]);
			pf[k].events = cg_poll_events(g[k]);
			pf[k].revents = 0;
			busy |= (pf[k].events & POLLOUT) != 0;
			t = cg_poll_timeout(g[k]);
			if (to < 0 || t < to)
				to = t;
		}
		if (!busy && !said) {
			printf("announced %ld gates %zu\n", n, ng);
			fflush(stdout);
			said = 1;
		}
		if (poll(pf, ng, to) < 0 && errno != EINTR) {
			perror("tablegate: poll");
			return 1;
		}
		for (k = 0; k < ng; k++)
			cg_run(g[k], pf[k].fd >= 0 ? pf[k].revents : 0, 0);
	}
}

/* ---- count -------------------------------------------------------------- */

/* A set of prefixes: open addressing, linear probing, tombstones. */
struct key {
	uint8_t b[4 + 1 + 2 + CG_ADDR_MAX];
};

enum { SLOT_FREE, SLOT_USED, SLOT_GONE };

struct pset {
	struct key *k;
	uint8_t *st;
	size_t cap, n, gone;	/* cap a power of two */
};

static void key_of(const struct cg_addr *a, struct key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->b, &a->instance, 4);
	k->b[4] = a->len;
	memcpy(k->b + 5, &a->plen, 2);
	memcpy(k->b + 7, a->bytes, a->len < CG_ADDR_MAX ? a->len : CG_ADDR_MAX);
}

static size_t key_hash(const struct key *k)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	size_t i;

	for (i = 0; i < sizeof(k->b); i++)
		h = (h ^ k->b[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static int pset_init(struct pset *s, size_t cap)
{
	s->k = calloc(cap, sizeof(*s->k));
	s->st = calloc(cap, 1);
	s->cap = cap;
	s->n = s->gone = 0;
	return s->k && s->st ? 0 : -1;
}

static void pset_clear(struct pset *s)
{
	memset(s->st, SLOT_FREE, s->cap);
	s->n = s->gone = 0;
}

/* The slot of k, or of where it would go (the first tombstone passed). */
static size_t pset_slot(const struct pset *s, const struct key *k)
{
	size_t i = key_hash(k) & (s->cap - 1), tomb = SIZE_MAX;

	for (;; i = (i + 1) & (s->cap - 1)) {
		if (s->st[i] == SLOT_FREE)
			return tomb != SIZE_MAX ? tomb : i;
		if (s->st[i] == SLOT_GONE) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (!memcmp(&s->k[i], k, sizeof(*k)))
			return i;
	}
}

static int pset_grow(struct pset *s)
{
	struct pset t;
	size_t i;

	if (pset_init(&t, s->cap * 2) < 0)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (s->st[i] == SLOT_USED) {
			size_t j = pset_slot(&t, &s->k[i]);

			t.k[j] = s->k[i];
			t.st[j] = SLOT_USED;
			t.n++;
		}
	}
	free(s->k);
	free(s->st);
	*s = t;
	return 0;
}

static void pset_put(struct pset *s, const struct key *k, int in)
{
	size_t i;

	if (in && 2 * (s->n + s->gone + 1) > s->cap && pset_grow(s) < 0) {
		perror("tablegate: prefix set");
		exit(1);
	}
	i = pset_slot(s, k);
	if (in && s->st[i] != SLOT_USED) {
		if (s->st[i] == SLOT_GONE)
			s->gone--;
		s->k[i] = *k;
		s->st[i] = SLOT_USED;
		s->n++;
	} else if (!in && s->st[i] == SLOT_USED) {
		s->st[i] = SLOT_GONE;
		s->gone++;
		s->n--;
	}
}

static void on_prefix(void *arg, const struct cg_prefix *p, int full)
{
	struct pset *s = arg;
	struct key k;

	if (full)
		pset_clear(s);
	if (p->addr.instance != INSTANCE)
		return;
	key_of(&p->addr, &k);
	pset_put(s, &k, p->up && !p->local);
}

static int do_count(const char *path, long n, long timeout_s)
{
	const struct cg_handlers h = { .prefix = on_prefix };
	uint64_t end = t0_ms + (uint64_t)timeout_s * 1000, now;
	struct cloudgate *g = NULL;
	struct pset s;
	struct pollfd pf;
	char err[256] = "";
	int to;

	if (pset_init(&s, 1024) < 0) {
		perror("tablegate: prefix set");
		return 1;
	}
	while ((g = cg_start(path, "tablegate-count", &h, &s, err,
			     sizeof(err))) == NULL) {
		if (now_ms() >= end) {
			fprintf(stderr, "tablegate: %s\n", err);
			printf("timeout have 0 of %ld ms %llu\n", n,
			       (unsigned long long)(now_ms() - t0_ms));
			return 1;
		}
		usleep(RETRY_MS * 1000);
	}
	if (cg_subscribe(g, INSTANCE) < 0) {
		perror("tablegate: subscribe");
		return 1;
	}
	for (;;) {
		now = now_ms();
		if (s.n >= (size_t)n) {
			printf("reached %ld ms %llu\n", n,
			       (unsigned long long)(now - t0_ms));
			return 0;
		}
		if (now >= end) {
			printf("timeout have %zu of %ld ms %llu\n", s.n, n,
			       (unsigned long long)(now - t0_ms));
			return 1;
		}
		pf.fd = cg_poll_fd(g);
		pf.events = cg_poll_events(g);
		pf.revents = 0;
		to = cg_poll_timeout(g);
		if ((uint64_t)to > end - now)
			to = (int)(end - now);
		if (poll(&pf, 1, to) < 0 && errno != EINTR) {
			perror("tablegate: poll");
			return 1;
		}
		cg_run(g, pf.fd >= 0 ? pf.revents : 0, 0);
	}
}

int main(int argc, char **argv)
{
	t0_ms = now_ms();
	if (argc == 4 && !strcmp(argv[1], "announce"))
		return do_announce(argv[2], parse_pos(argv[3], MAX_N));
	if (argc == 5 && !strcmp(argv[1], "count"))
		return do_count(argv[2], parse_pos(argv[3], MAX_N),
				parse_pos(argv[4], 86400));
	usage();
	return 2;
}
