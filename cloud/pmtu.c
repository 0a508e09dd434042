/*
 * Path MTU search. Invariant: cur is confirmed (an ack, or base), hi is
 * the smallest size known to fail, and a probe in flight lies between
 * them. Each step halves hi - cur, so a search of max - base bytes takes
 * about log2((max - base) / PMTU_STEP) probes, each at most PMTU_TRIES
 * times PMTU_PROBE_TIMEOUT_NS when lost.
 */
#include <string.h>

#include "pmtu.h"

static void search_start(struct pmtu *p, size_t hi, uint64_t now)
{
	p->searching = 1;
	p->first = 1;
	p->hi = hi;
	p->probe = 0;
	p->tries = 0;
	p->due = now;
}

static void search_done(struct pmtu *p, uint64_t now)
{
	p->searching = 0;
	p->probe = 0;
	p->due = now + PMTU_RESEARCH_NS;
}

/* The next size to try: the top first, then halves; 0 when done. */
static size_t search_size(const struct pmtu *p)
{
	if (p->hi <= p->cur + PMTU_STEP)
		return 0;
	return p->first ? p->hi - 1 : p->cur + (p->hi - p->cur) / 2;
}

/* The probe in flight is settled or moot: the next step is due now. */
static void search_next(struct pmtu *p, uint64_t now)
{
	p->probe = 0;
	p->tries = 0;
	p->due = now;
	if (search_size(p) == 0)
		search_done(p, now);
}

void pmtu_init(struct pmtu *p, size_t base, size_t max, size_t fixed,
    uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->base = base;
	p->max = max > base ? max : base;
	if (fixed != 0) {
		p->fixed = 1;
		p->cur = fixed;
		return;
	}
	p->cur = base;
	search_start(p, p->max + 1, now);
}

size_t pmtu_probe(struct pmtu *p, uint64_t now)
{
	if (p->fixed || now < p->due)
		return 0;
	if (!p->searching)
		search_start(p, p->max + 1, now);
	if (p->probe != 0 && p->tries >= PMTU_TRIES) {
		p->hi = p->probe;	/* lost every time: too big */
		p->probe = 0;
	}
	if (p->probe == 0) {
		p->probe = search_size(p);
		p->first = 0;
		p->tries = 0;
		if (p->probe == 0) {
			search_done(p, now);
			return 0;
		}
	}
	p->tries++;
	p->due = now + PMTU_PROBE_TIMEOUT_NS;
	return p->probe;
}

void pmtu_ack(struct pmtu *p, size_t size, uint64_t now)
{
	if (p->fixed || size <= p->cur || size >= p->hi)
		return;
	p->cur = size;
	if (p->searching && p->probe <= p->cur)
		search_next(p, now);
}

void pmtu_too_big(struct pmtu *p, size_t size, uint64_t now)
{
	int lower = size <= p->cur && p->cur > p->base;

	if (lower)
		p->cur = p->base;
	if (p->fixed)
		return;
	if (size < p->hi)
		p->hi = size;
	if (lower && !p->searching)
		search_start(p, p->hi, now);
	else if (p->searching && p->probe >= p->hi)
		search_next(p, now);
}

uint64_t pmtu_next(const struct pmtu *p)
{
	if (p->fixed)
		return 0;
	return p->due != 0 ? p->due : 1;	/* due at 0 is still due */
}
