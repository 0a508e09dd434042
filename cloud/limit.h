/*
 * Bandwidth limits (uplimit-*, downlimit-*): token buckets, one per link
 * and direction, and one per direction for all links together. Pure
 * logic on a clock the caller passes in (nanoseconds); link.c holds the
 * buckets and the transports ask them before they send or read.
 *
 * A link may go on while its bucket and the total hold tokens (they may
 * go into debt by the one chunk that was let through). Busy links share
 * the total fairly: each counts the bytes it took from the total while
 * competing, and one that is more than LIM_QUANTUM ahead of another busy
 * link waits for it (a link that stopped asking drops out of the race
 * after LIM_STALE_NS).
 */
#ifndef CV_LIMIT_H
#define CV_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#define LIM_QUANTUM (32 * 1024)		/* a link's lead in the fair race */
#define LIM_STALE_NS 20000000ull	/* 20 ms without asking: not busy */
#define LIM_BURST_MIN (64 * 1024)	/* default burst: this at least, */
#define LIM_BURST_DIV 20		/* or 1/20 s of the rate */
#define LIM_WAIT_MIN_NS 1000000ull	/* timers no finer than 1 ms */
/* A download's bucket is larger than an upload's: what comes was sent
 * unasked, in the bursts of the sender's window. (When UDP downloads were
 * policed, a TCP flow inside got 2.4 Mbit/s of 10 through 64 KiB, 9.4
 * through 1 MB.) */
#define LIM_DOWN_BURST_MIN (1024 * 1024)
#define LIM_DOWN_BURST_DIV 4

struct lim_bucket {
	uint64_t rate;			/* bytes per second, 0: unlimited */
	uint64_t burst;			/* bytes the bucket holds at most */
	int64_t tokens;
	uint64_t at;			/* last refill */
};

struct lim_conn;

/* The total of one direction, shared by all links. */
struct lim_total {
	struct lim_bucket b;
	struct lim_conn *busy;		/* links competing for the total */
	uint64_t vnow;			/* race position of the last sender */
};

/* One link's direction. */
struct lim_conn {
	struct lim_bucket b;
	struct lim_total *t;
	struct lim_conn *busy_next;
	int busy;			/* on t->busy */
	int held;			/* refused since the last go-ahead */
	uint64_t vsent;			/* race position: bytes from the total */
	uint64_t asked;			/* last lim_may */
	uint64_t held_since;		/* when held began */
	uint64_t max_hold;		/* go ahead after this long held (ns);
					 * 0: never */
	uint64_t limited;		/* times held (a pause) */
	uint64_t dropped;		/* bytes dropped by the caller */
};

/* A bucket of rate bytes/s holding burst bytes (0: the default burst),
 * full at now. rate 0: unlimited. */
void lim_bucket_init(struct lim_bucket *b, uint64_t rate, uint64_t burst,
		     uint64_t now);
/* A bucket in use takes a new rate and burst (a reload): it keeps its
 * tokens, up to the new burst; one that had no rate starts full. */
void lim_bucket_set(struct lim_bucket *b, uint64_t rate, uint64_t burst,
		    uint64_t now);
/* The default burst of a rate, and of a download rate. */
uint64_t lim_default_burst(uint64_t rate);
uint64_t lim_down_burst(uint64_t rate);
void lim_total_init(struct lim_total *t, uint64_t rate, uint64_t burst,
		    uint64_t now);
void lim_conn_init(struct lim_conn *c, struct lim_total *t, uint64_t rate,
		   uint64_t burst, uint64_t max_hold, uint64_t now);
/* Leave the total (a link going away). */
void lim_conn_leave(struct lim_conn *c);
/* 1 if c may send (or read) a chunk now, else 0 and *wait_ns says when
 * to ask again. */
int lim_may(struct lim_conn *c, uint64_t now, uint64_t *wait_ns);
/* n bytes went. */
void lim_used(struct lim_conn *c, size_t n);
/* c has nothing more to send: it stops competing for the total. */
void lim_idle(struct lim_conn *c);
/* Is anything limited here (c's rate or the total's)? */
int lim_active(const struct lim_conn *c);
/* The tightest rate that applies to c, 0 if none. */
uint64_t lim_rate(const struct lim_conn *c);
/* Tokens in c's bucket now (after a refill at now). */
int64_t lim_tokens(const struct lim_conn *c, uint64_t now);

/* "10Mbit", "2MB", "500kbit", "1GB", "12500" (bytes): decimal prefixes
 * k M G T (any case); then "bit" (any case) or "b": bits, "B": bytes; a
 * bare number is bytes, a prefix needs a unit ("10M" is refused).
 * 0, or -1 if s is not such a value. */
int lim_parse(const char *s, uint64_t *bytes);

struct conf;
/* The value of a rate or burst option in bytes (0 if unset); -1 after
 * conf_fail if it does not parse. */
int lim_conf(const struct conf *conf, const char *name, uint64_t *bytes);
/* Check every limit option (main.c). */
int lim_check_conf(const struct conf *conf);

/* ---- link.c's side: a link's buckets, for the transports ----------------- */
struct link;
/* Data out: 1 if the link may send a data chunk now; if not, the link
 * is woken (link_mark) when it may. */
int link_up_may(struct link *l);
void link_up_used(struct link *l, size_t n);
/* Bytes in: the same for reading; a transport that stops reading is
 * marked again when it may read (it resumes from its flush). */
int link_down_may(struct link *l);
void link_down_used(struct link *l, size_t n);
/* A datagram of n bytes dropped unread (counted). */
void link_down_dropped(struct link *l, size_t n);
/* The tightest download rate of l (0: none), e.g. to size buffers. */
uint64_t link_down_rate(const struct link *l);
/* For status lines. */
struct lim_info {
	uint64_t rate;			/* the link's own limit, 0: none */
	uint64_t total;			/* the total's, 0: none */
	uint64_t tokens;		/* 0 while in debt */
	uint64_t limited, dropped;
};
void link_lim_info(const struct link *l, struct lim_info *up,
		   struct lim_info *down);

#endif
