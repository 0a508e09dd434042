/*
 * A FIFO of datagrams, bounded in bytes: where a UDP link's downloads wait
 * for their limit (downlimit-*), as a router's queue holds what its line
 * cannot carry yet. The queue owns the copies it holds.
 */
#ifndef CV_DGQ_H
#define CV_DGQ_H

#include <stddef.h>
#include <stdint.h>

struct dgq_item;

struct dgq {
	struct dgq_item *head, **tail;
	size_t bytes;			/* held, datagrams' own lengths */
	size_t n;
};

void dgq_init(struct dgq *q);
/* A copy of p at the tail; -1 (nothing kept) if it would take the queue
 * past cap bytes, or on no memory. An empty queue takes one at least. */
int dgq_push(struct dgq *q, const uint8_t *p, size_t len, size_t cap);
/* The head datagram and its length, NULL if empty; valid until popped. */
const uint8_t *dgq_peek(const struct dgq *q, size_t *len);
void dgq_pop(struct dgq *q);
void dgq_free(struct dgq *q);

#endif
