/* The datagram FIFO (dgq.h): a singly linked list, one allocation per
 * datagram. */
#include <stdlib.h>
#include <string.h>

#include "dgq.h"

struct dgq_item {
	struct dgq_item *next;
	size_t len;
	uint8_t data[];
};

void dgq_init(struct dgq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->bytes = 0;
	q->n = 0;
}

int dgq_push(struct dgq *q, const uint8_t *p, size_t len, size_t cap)
{
	struct dgq_item *it;

	if (q->n && (len > cap || q->bytes > cap - len))
		return -1;
	if (!(it = malloc(sizeof(*it) + len)))
		return -1;
	it->next = NULL;
	it->len = len;
	memcpy(it->data, p, len);
	*q->tail = it;
	q->tail = &it->next;
	q->bytes += len;
	q->n++;
	return 0;
}

const uint8_t *dgq_peek(const struct dgq *q, size_t *len)
{
	if (!q->head)
		return NULL;
	*len = q->head->len;
	return q->head->data;
}

void dgq_pop(struct dgq *q)
{
	struct dgq_item *it = q->head;

	if (!it)
		return;
	q->head = it->next;
	if (!q->head)
		q->tail = &q->head;
	q->bytes -= it->len;
	q->n--;
	free(it);
}

void dgq_free(struct dgq *q)
{
	while (q->head)
		dgq_pop(q);
}
