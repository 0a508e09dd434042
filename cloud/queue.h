/* A bounded FIFO of bytes holding whole frames, compacted in place. */
#ifndef CV_QUEUE_H
#define CV_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue {
	uint8_t *buf;
	size_t cap;
	size_t head, tail;	/* live bytes are buf[head..tail) */
};

/* Sets the capacity; the buffer comes with the first queue_reserve. */
int queue_init(struct queue *q, size_t cap);
void queue_free(struct queue *q);

static inline size_t queue_len(const struct queue *q)
{
	return q->tail - q->head;
}

/* Room for n more bytes at the tail, or NULL if the queue is too full
 * (or its buffer cannot be allocated). */
uint8_t *queue_reserve(struct queue *q, size_t n);
void queue_commit(struct queue *q, size_t n);
void queue_consume(struct queue *q, size_t n);
/* Random early drop: 1 if a packet should be dropped now, the chance
 * growing linearly from 0 at red_min bytes queued to 1 at a full queue.
 * rnd is a uniform random number. */
int queue_red_drop(const struct queue *q, size_t red_min, uint32_t rnd);

#endif
