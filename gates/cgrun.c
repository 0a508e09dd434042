/*
 * libcloudgate's runtime: what every gate's loop needs, for any event
 * loop. The loop polls cg_poll_fd for cg_poll_events at most
 * cg_poll_timeout ms and calls cg_run, which dispatches packets and events
 * to the handlers, writes, keeps the daemon alive and, once the daemon is
 * lost, reconnects every CG_RETRY_MS. The protocol itself is cloudgate.c.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "cg_int.h"
#include "mono.h"

#define CG_RETRY_MS 1000	/* cg_run reconnects to a lost daemon this often */

struct cloudgate *cg_start(const char *path, const char *name,
			   const struct cg_handlers *h, void *arg, char *err,
			   size_t errsize)
{
	struct cloudgate *g = cg_open(path, name, err, errsize);

	if (g == NULL)
		return NULL;
	if (h != NULL)
		g->h = *h;
	g->harg = arg;
	cg_on_link(g, g->h.link, arg);
	return g;
}

int cg_attached(const struct cloudgate *g)
{
	return g->fd >= 0 && !g->broken;
}

unsigned cg_retries(const struct cloudgate *g, int *error)
{
	if (error != NULL)
		*error = g->retry_err;
	return g->fd >= 0 ? 0 : g->retries;
}

int cg_poll_fd(const struct cloudgate *g)
{
	return cg_attached(g) ? g->fd : -1;
}

short cg_poll_events(const struct cloudgate *g)
{
	if (!cg_attached(g))
		return 0;
	return g->ohead < g->otail ? POLLIN | POLLOUT : POLLIN;
}

/* When cg_run has work that no socket event announces. */
static uint64_t cg_due(const struct cloudgate *g)
{
	uint64_t ka = g->last_tx + GP_KEEPALIVE_MS;
	uint64_t dead = g->last_rx + GP_DEAD_MS;

	if (g->fd < 0)
		return g->next_retry;
	if (g->broken || g->more)
		return 0;
	/* Queued bytes, once written, do what a keepalive would. */
	if (g->ohead < g->otail || dead < ka)
		return dead;
	return ka;
}

int cg_poll_timeout(const struct cloudgate *g)
{
	uint64_t now = mono_ms(), due = cg_due(g);

	if (due <= now)
		return 0;
	return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

/* Read and dispatch up to max packets (max <= 0: no limit). The socket is
 * read when poll said so, or when the last turn stopped at max. */
static int cg_dispatch(struct cloudgate *g, int readable, int max)
{
	struct cg_packet p;
	int n = 0, r;
	long got;

	readable |= g->more;
	g->more = 0;
	while (!g->broken) {
		if (max > 0 && n == max) {
			g->more = 1;
			break;
		}
		r = cgi_next_packet(g, &p);
		if (r > 0) {
			if (g->h.packet != NULL)
				g->h.packet(g->harg, &p);
			n++;
			continue;
		}
		if (r < 0 || !readable)
			break;
		got = cgi_fill(g);
		if (got < 0)
			g->broken = 1;	/* EOF or a dead socket */
		if (got <= 0)
			break;
	}
	return n;
}

/* Write what is queued (answers included), keep the daemon hearing from
 * us, and give up on a daemon silent for GP_DEAD_MS. Failures set broken. */
static void cg_duties(struct cloudgate *g, short revents, uint64_t now)
{
	if (g->ohead < g->otail && (!g->blocked || (revents & POLLOUT)))
		cgi_write_out(g);
	if (g->ohead == g->otail && now >= g->last_tx + GP_KEEPALIVE_MS)
		cgi_queue_keepalive(g);
	if (now >= g->last_rx + GP_DEAD_MS)
		g->broken = 1;
}

/* The daemon is gone: say so once; cg_run connects again each second. */
static void cg_lose(struct cloudgate *g, uint64_t now)
{
	close(g->fd);
	g->fd = -1;
	g->retries = 0;
	g->retry_err = 0;
	g->next_retry = now + CG_RETRY_MS;
	if (g->h.attached != NULL)
		g->h.attached(g->harg, 0);
}

static void cg_retry(struct cloudgate *g, uint64_t now)
{
	if (now < g->next_retry)
		return;
	g->next_retry = now + CG_RETRY_MS;
	if (cgi_dial(g, NULL, 0) < 0 || cgi_resend(g) < 0) {
		g->retry_err = errno;
		g->retries++;
		if (g->fd >= 0)
			close(g->fd);
		g->fd = -1;
		return;
	}
	g->retries = 0;
	if (g->h.attached != NULL)
		g->h.attached(g->harg, 1);
}

int cg_run(struct cloudgate *g, short revents, int max)
{
	uint64_t now = mono_ms();
	int n;

	if (g->fd < 0) {
		cg_retry(g, now);
		return 0;
	}
	n = cg_dispatch(g, !!(revents & (POLLIN | POLLHUP | POLLERR)), max);
	if (!g->broken)
		cg_duties(g, revents, now);
	if (g->broken)
		cg_lose(g, now);
	return n;
}
