/* Token buckets for the bandwidth limits, and the fair race for a shared
 * total (limit.h). No I/O: the caller brings the clock. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "limit.h"

#define NS 1000000000ull
#define RATE_MAX 10000000000ull		/* 80 Gbit/s: keeps sums in 64 bits */
#define BURST_MAX 1000000000ull

uint64_t lim_default_burst(uint64_t rate)
{
	return rate / LIM_BURST_DIV > LIM_BURST_MIN ? rate / LIM_BURST_DIV
						    : LIM_BURST_MIN;
}

uint64_t lim_down_burst(uint64_t rate)
{
	return rate / LIM_DOWN_BURST_DIV > LIM_DOWN_BURST_MIN
		       ? rate / LIM_DOWN_BURST_DIV : LIM_DOWN_BURST_MIN;
}

void lim_bucket_init(struct lim_bucket *b, uint64_t rate, uint64_t burst,
		     uint64_t now)
{
	b->rate = rate;
	b->burst = burst ? burst : lim_default_burst(rate);
	b->tokens = (int64_t)b->burst;
	b->at = now;
}

/* Tokens for the time since b->at; the time that bought no whole byte is
 * kept for the next refill, so frequent refills lose nothing. */
static void refill(struct lim_bucket *b, uint64_t now)
{
	uint64_t dt, add;

	if (!b->rate || now <= b->at)
		return;
	dt = now - b->at;
	if (dt >= 100 * NS) {
		b->tokens = (int64_t)b->burst;
		b->at = now;
		return;
	}
	add = dt / NS * b->rate + dt % NS * b->rate / NS;
	if (b->tokens + (int64_t)add >= (int64_t)b->burst) {
		b->tokens = (int64_t)b->burst;
		b->at = now;
		return;
	}
	b->tokens += (int64_t)add;
	b->at += add * NS / b->rate;
}

/* Nanoseconds until b holds a token again. */
static uint64_t need(const struct lim_bucket *b)
{
	uint64_t debt = b->tokens < 0 ? (uint64_t)-b->tokens : 0;

	return (debt + 1) * NS / b->rate + 1;
}

void lim_bucket_set(struct lim_bucket *b, uint64_t rate, uint64_t burst,
		    uint64_t now)
{
	int was = b->rate != 0;

	refill(b, now);
	b->rate = rate;
	b->burst = burst ? burst : lim_default_burst(rate);
	if (!was || b->tokens > (int64_t)b->burst)
		b->tokens = (int64_t)b->burst;
	b->at = now;
}

void lim_total_init(struct lim_total *t, uint64_t rate, uint64_t burst,
		    uint64_t now)
{
	memset(t, 0, sizeof(*t));
	lim_bucket_init(&t->b, rate, burst, now);
}

void lim_conn_init(struct lim_conn *c, struct lim_total *t, uint64_t rate,
		   uint64_t burst, uint64_t max_hold, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	lim_bucket_init(&c->b, rate, burst, now);
	c->t = t;
	c->max_hold = max_hold;
}

int lim_active(const struct lim_conn *c)
{
	return c->b.rate || (c->t && c->t->b.rate);
}

uint64_t lim_rate(const struct lim_conn *c)
{
	uint64_t t = c->t ? c->t->b.rate : 0;

	return !c->b.rate ? t : !t || c->b.rate < t ? c->b.rate : t;
}

int64_t lim_tokens(const struct lim_conn *c, uint64_t now)
{
	struct lim_bucket b = c->b;

	refill(&b, now);
	return b.rate ? b.tokens : 0;
}

/* ---- the race for the total ------------------------------------------------ */

static void busy_join(struct lim_conn *c)
{
	struct lim_total *t = c->t;

	if (c->busy)
		return;
	/* no credit for the time it was away */
	if (c->vsent < t->vnow)
		c->vsent = t->vnow;
	c->busy = 1;
	c->busy_next = t->busy;
	t->busy = c;
}

void lim_idle(struct lim_conn *c)
{
	struct lim_conn **pp;

	if (!c->busy)
		return;
	for (pp = &c->t->busy; *pp; pp = &(*pp)->busy_next)
		if (*pp == c) {
			*pp = c->busy_next;
			break;
		}
	c->busy = 0;
	c->busy_next = NULL;
}

void lim_conn_leave(struct lim_conn *c)
{
	lim_idle(c);
}

/* How far c is ahead of the slowest other busy link (0: not ahead);
 * links that stopped asking leave the race here. */
static uint64_t lead(struct lim_conn *c, uint64_t now)
{
	struct lim_conn **pp = &c->t->busy, *o;
	uint64_t min = c->vsent;

	while ((o = *pp)) {
		if (o != c && now - o->asked > LIM_STALE_NS) {
			*pp = o->busy_next;
			o->busy = 0;
			o->busy_next = NULL;
			continue;
		}
		if (o->vsent < min)
			min = o->vsent;
		pp = &o->busy_next;
	}
	return c->vsent - min;
}

/* 0 if the total lets c go, else the wait. */
static uint64_t total_wait(struct lim_conn *c, uint64_t now)
{
	struct lim_total *t = c->t;

	refill(&t->b, now);
	busy_join(c);
	if (t->b.tokens <= 0)
		return need(&t->b);
	if (lead(c, now) > LIM_QUANTUM)
		return LIM_QUANTUM * NS / 2 / t->b.rate;
	return 0;
}

static int hold(struct lim_conn *c, uint64_t now, uint64_t wait,
		uint64_t *wait_ns)
{
	uint64_t left;

	if (!c->held) {
		c->held = 1;
		c->held_since = now;
		c->limited++;
	} else if (c->max_hold && now - c->held_since >= c->max_hold) {
		c->held_since = now;	/* held too long: one chunk goes */
		return 1;
	}
	if (wait < LIM_WAIT_MIN_NS)
		wait = LIM_WAIT_MIN_NS;
	left = c->max_hold ? c->max_hold - (now - c->held_since) : wait;
	*wait_ns = wait < left ? wait : left;
	return 0;
}

int lim_may(struct lim_conn *c, uint64_t now, uint64_t *wait_ns)
{
	uint64_t wait;

	c->asked = now;
	if (!lim_active(c))
		return 1;
	refill(&c->b, now);
	if (c->b.rate && c->b.tokens <= 0) {
		lim_idle(c);	/* its own limit holds it, not the total */
		return hold(c, now, need(&c->b), wait_ns);
	}
	if (c->t && c->t->b.rate && (wait = total_wait(c, now)))
		return hold(c, now, wait, wait_ns);
	c->held = 0;
	return 1;
}

void lim_used(struct lim_conn *c, size_t n)
{
	if (c->b.rate)
		c->b.tokens -= (int64_t)n;
	if (!c->t || !c->t->b.rate)
		return;
	c->t->b.tokens -= (int64_t)n;
	if (c->busy) {
		c->vsent += n;
		c->t->vnow = c->vsent;
	}
}

/* ---- configuration ------------------------------------------------------------ */

static int unit(const char *s, uint64_t *mul, int *bits)
{
	static const struct { char c; uint64_t mul; } pre[] = {
		{ 'k', 1000 }, { 'm', 1000000 }, { 'g', 1000000000 },
		{ 't', 1000000000000ull },
	};
	size_t i;

	*mul = 1;
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (tolower((unsigned char)*s) == pre[i].c) {
			*mul = pre[i].mul;
			s++;
			break;
		}
	if (!*s)
		return *mul == 1 ? 0 : -1;	/* "10M": bits or bytes? */
	*bits = !strcmp(s, "b") || !strcasecmp(s, "bit");
	return *bits || !strcmp(s, "B") ? 0 : -1;
}

int lim_parse(const char *s, uint64_t *bytes)
{
	char *end;
	double x;
	uint64_t mul;
	int bits = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	x = strtod(s, &end);
	if (unit(end, &mul, &bits) < 0)
		return -1;
	x = x * (double)mul / (bits ? 8 : 1);
	if (!(x >= 0 && x < 1.8e19))
		return -1;
	*bytes = (uint64_t)(x + 0.5);
	return 0;
}

int lim_conf(const struct conf *conf, const char *name, uint64_t *bytes)
{
	const char *s = conf_str(conf, name);
	uint64_t max = strstr(name, "burst") ? BURST_MAX : RATE_MAX;

	if (lim_parse(s, bytes) < 0)
		return conf_fail(conf, NULL, name, "expected bytes per second "
				 "or a rate such as 10Mbit, 2MB, 500kbit; got "
				 "\"%s\"", s);
	if (*bytes > max)
		return conf_fail(conf, NULL, name, "%s is above %llu bytes",
				 s, (unsigned long long)max);
	return 0;
}

int lim_check_conf(const struct conf *conf)
{
	static const char *const names[] = {
		"uplimit-total", "uplimit-conn", "uplimit-burst",
		"downlimit-total", "downlimit-conn", "downlimit-burst",
	};
	uint64_t v;
	size_t i;
	int r = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		r |= lim_conf(conf, names[i], &v);
	return r;
}
