/*
 * fwdbench: push packets through the forwarding path of two daemons,
 *
 *   fwdbench --gate--> cloud A ==TLS==> cloud B --gate--> fwdbench
 *
 * gate A announces 0a, gate B announces 0b (instance 1). After a probe
 * from A has reached B (the routes have converged), N packets of S bytes
 * go from A to 0b, at most W of them in flight, so that no queue on the
 * way overflows. Prints what was sent and received, and the rate.
 *
 * The hook (-H CMD) runs as "CMD start" just before the first packet and
 * "CMD stop" just after the last one, with nothing in flight: bench/micro/run
 * uses it to zero and dump the daemons' callgrind counters.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloudgate.h"

#define FB_INSTANCE 1
#define FB_PROBE 'P'		/* first payload byte of a probe */
#define FB_DATA 'D'		/* first payload byte of a measured packet */
#define FB_PROBE_MS 100		/* probe interval while routes converge */
#define FB_STALL_MS 2000	/* no packet for this long: count the window lost */

struct fb_opts {
	const char *gate_a, *gate_b, *hook;
	long n, size, window;
	long converge_s, timeout_s;
};

struct fb {
	struct fb_opts o;
	struct cloudgate *a, *b;
	uint8_t addr_a, addr_b;
	uint8_t *buf;		/* the payload, o.size bytes */
	long sent, received, lost;
};

static double fb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fb_usage(FILE *f)
{
	fprintf(f, "usage: fwdbench -A GATE_A -B GATE_B [-n N] [-s SIZE] "
		"[-w WINDOW] [-c SECS] [-t SECS] [-H HOOK]\n"
		"  -A PATH   gate socket of daemon A (the sender announces 0a)\n"
		"  -B PATH   gate socket of daemon B (the receiver announces 0b)\n"
		"  -n N      packets to send (100000; 0: only converge)\n"
		"  -s SIZE   payload bytes per packet (1400)\n"
		"  -w W      packets in flight at most (64)\n"
		"  -c SECS   wait this long for the routes to converge (10)\n"
		"  -t SECS   give up the send phase after this long (60)\n"
		"  -H HOOK   run \"HOOK start\" before and \"HOOK stop\" after "
		"the send phase\n");
}

static long fb_num(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "fwdbench: %s: bad value \"%s\" (%ld..%ld)\n",
			opt, s, min, max);
		exit(2);
	}
	return v;
}

static void fb_args(struct fb_opts *o, int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "A:B:n:s:w:c:t:H:h")) != -1) {
		switch (c) {
		case 'A': o->gate_a = optarg; break;
		case 'B': o->gate_b = optarg; break;
		case 'n': o->n = fb_num("-n", optarg, 0, 1L << 40); break;
		case 's': o->size = fb_num("-s", optarg, 1, CG_PAYLOAD_MAX); break;
		case 'w': o->window = fb_num("-w", optarg, 1, 1 << 20); break;
		case 'c': o->converge_s = fb_num("-c", optarg, 1, 3600); break;
		case 't': o->timeout_s = fb_num("-t", optarg, 1, 86400); break;
		case 'H': o->hook = optarg; break;
		case 'h': fb_usage(stdout); exit(0);
		default: fb_usage(stderr); exit(2);
		}
	}
	if (o->gate_a == NULL || o->gate_b == NULL || optind != argc) {
		fb_usage(stderr);
		exit(2);
	}
}

static struct cloudgate *fb_gate(const char *path, uint8_t *addr)
{
	struct cg_addr a = { .instance = FB_INSTANCE, .len = 1, .plen = 8 };
	struct cloudgate *g;
	char err[256];

	g = cg_open(path, "fwdbench", err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "fwdbench: %s: %s\n", path, err);
		return NULL;
	}
	a.bytes[0] = *addr;
	if (cg_announce(g, &a, 1) < 0) {
		fprintf(stderr, "fwdbench: %s: announce: %s\n", path,
			strerror(errno));
		cg_close(g);
		return NULL;
	}
	return g;
}

/* Send one packet A -> 0b tagged with kind: 0, 1 queue full, -1 error. */
static int fb_send(struct fb *b, uint8_t kind)
{
	struct cg_packet p = {
		.instance = FB_INSTANCE, .dlen = 1, .slen = 1,
		.dst = &b->addr_b, .src = &b->addr_a,
		.data = b->buf, .len = (size_t)b->o.size,
	};

	b->buf[0] = kind;
	if (cg_send(b->a, &p) == 0)
		return 0;
	return errno == EAGAIN ? 1 : -1;
}

/* Take what B has received without waiting: data packets counted, probes
 * counted in *probes. -1 when a gate is gone. */
static int fb_drain(struct fb *b, long *probes)
{
	struct cg_packet p;
	int r;

	while ((r = cg_recv(b->b, &p, 0)) == 1) {
		if (p.len > 0 && p.data[0] == FB_DATA)
			b->received++;
		else if (p.len > 0 && p.data[0] == FB_PROBE && probes != NULL)
			(*probes)++;
	}
	if (r < 0)
		return -1;
	/* A gets only keepalives; cg_recv answers them. */
	while ((r = cg_recv(b->a, &p, 0)) == 1)
		;
	return r < 0 ? -1 : 0;
}

static int fb_converge(struct fb *b)
{
	double end = fb_now() + (double)b->o.converge_s;
	long probes = 0;

	while (fb_now() < end) {
		if (fb_send(b, FB_PROBE) < 0 || cg_flush(b->a) < 0)
			return -1;
		if (poll(&(struct pollfd){ .fd = cg_fd(b->b), .events = POLLIN },
			 1, FB_PROBE_MS) < 0 && errno != EINTR)
			return -1;
		if (fb_drain(b, &probes) < 0)
			return -1;
		if (probes > 0)
			return 0;
	}
	fprintf(stderr, "fwdbench: no probe reached B within %ld s\n",
		b->o.converge_s);
	return -1;
}

static int fb_hook(const struct fb *b, const char *what)
{
	char cmd[4096];
	int r;

	if (b->o.hook == NULL)
		return 0;
	if (snprintf(cmd, sizeof(cmd), "%s %s", b->o.hook, what) >=
	    (int)sizeof(cmd))
		return -1;
	r = system(cmd);
	if (r != 0)
		fprintf(stderr, "fwdbench: hook \"%s\" failed (%d)\n", cmd, r);
	return r == 0 ? 0 : -1;
}

/* Keep the window full: send while fewer than W packets are in flight. */
static int fb_fill(struct fb *b)
{
	long inflight = b->sent - b->received - b->lost;
	int r;

	while (b->sent < b->o.n && inflight < b->o.window) {
		r = fb_send(b, FB_DATA);
		if (r < 0)
			return -1;
		if (r == 1)
			break;
		b->sent++;
		inflight++;
	}
	return cg_flush(b->a);
}

/* The measured phase; 0 when every packet arrived, 1 when some did not
 * (a stall or the timeout), -1 when a gate failed. */
static int fb_run(struct fb *b)
{
	double end = fb_now() + (double)b->o.timeout_s;
	double last = fb_now();
	struct pollfd pfd[2];
	long before;
	int r, n;

	while (b->received < b->o.n) {
		if (fb_now() >= end)
			return 1;
		r = fb_fill(b);
		if (r < 0)
			return -1;
		pfd[0] = (struct pollfd){ .fd = cg_fd(b->b), .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = cg_fd(b->a),
					  .events = POLLIN | (r ? POLLOUT : 0) };
		n = poll(pfd, 2, FB_STALL_MS);
		if (n < 0 && errno != EINTR)
			return -1;
		before = b->received;
		if (fb_drain(b, NULL) < 0)
			return -1;
		if (b->received > before) {
			last = fb_now();
		} else if (fb_now() - last >= FB_STALL_MS / 1000.0) {
			if (b->sent == b->o.n)
				return 1;
			/* Those in flight are gone: reopen the window. */
			b->lost = b->sent - b->received;
			last = fb_now();
		}
	}
	return 0;
}

static void fb_report(const struct fb *b, double secs)
{
	double pps = secs > 0 ? (double)b->received / secs : 0;

	printf("sent %ld received %ld size %ld window %ld\n", b->sent,
	       b->received, b->o.size, b->o.window);
	printf("elapsed %.3f s  %.0f packets/s  %.1f Mbit/s\n", secs, pps,
	       pps * (double)b->o.size * 8 / 1e6);
}

int main(int argc, char **argv)
{
	struct fb b = {
		.o = { .n = 100000, .size = 1400, .window = 64,
		       .converge_s = 10, .timeout_s = 60 },
		.addr_a = 0x0a, .addr_b = 0x0b,
	};
	double t0;
	int code = 1, r;

	fb_args(&b.o, argc, argv);
	b.buf = calloc(1, (size_t)b.o.size);
	if (b.buf == NULL) {
		perror("fwdbench");
		return 1;
	}
	b.a = fb_gate(b.o.gate_a, &b.addr_a);
	if (b.a == NULL)
		goto err_buf;
	b.b = fb_gate(b.o.gate_b, &b.addr_b);
	if (b.b == NULL)
		goto err_a;
	if (fb_converge(&b) < 0 || fb_hook(&b, "start") < 0)
		goto err_b;
	t0 = fb_now();
	r = fb_run(&b);
	t0 = fb_now() - t0;
	if (fb_hook(&b, "stop") < 0)
		goto err_b;
	if (r < 0)
		fprintf(stderr, "fwdbench: a gate failed: %s\n",
			strerror(errno));
	fb_report(&b, t0);
	code = r == 0 ? 0 : 1;
err_b:
	cg_close(b.b);
err_a:
	cg_close(b.a);
err_buf:
	free(b.buf);
	return code;
}
