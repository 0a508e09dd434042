/* Bounded byte FIFO. The buffer is allocated once; the kernel only backs
 * the pages a busy link actually touches. */
#include <stdlib.h>
#include <string.h>

#include "queue.h"

int queue_init(struct queue *q, size_t cap)
{
	q->buf = malloc(cap);
	q->cap = q->buf ? cap : 0;
	q->head = q->tail = 0;
	return q->buf ? 0 : -1;
}

void queue_free(struct queue *q)
{
	free(q->buf);
	q->buf = NULL;
	q->cap = q->head = q->tail = 0;
}

uint8_t *queue_reserve(struct queue *q, size_t n)
{
	size_t len = queue_len(q);

	if (n > q->cap - len)
		return NULL;
	if (n > q->cap - q->tail) {
		memmove(q->buf, q->buf + q->head, len);
		q->head = 0;
		q->tail = len;
	}
	return q->buf + q->tail;
}

void queue_commit(struct queue *q, size_t n)
{
	q->tail += n;
}

void queue_consume(struct queue *q, size_t n)
{
	q->head += n;
	if (q->head == q->tail)
		q->head = q->tail = 0;
}

int queue_red_drop(const struct queue *q, size_t red_min, uint32_t rnd)
{
	size_t len = queue_len(q);

	return len > red_min && rnd % (q->cap - red_min) < len - red_min;
}
