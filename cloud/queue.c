/* Bounded byte FIFO. The buffer is allocated on first use (a link that
 * never authenticates never uses its queues), once; the kernel only backs
 * the pages a busy link actually touches. */
#include <stdlib.h>
#include <string.h>

#include "queue.h"

int queue_init(struct queue *q, size_t cap)
{
	q->buf = NULL;
	q->cap = cap;
	q->head = q->tail = 0;
	return 0;
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

	if (n > q->cap - len || (!q->buf && !(q->buf = malloc(q->cap))))
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
