/* The datagram FIFO: order, the byte bound, and nothing leaked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dgq.h"

/* Datagrams come out in the order they went in, whole. */
static void test_order(void **state)
{
	struct dgq q;
	const uint8_t *p;
	uint8_t d[100];
	size_t len, i;

	(void)state;
	dgq_init(&q);
	assert_null(dgq_peek(&q, &len));
	for (i = 0; i < 10; i++) {
		memset(d, (int)i, sizeof(d));
		assert_int_equal(dgq_push(&q, d, i + 1, 1000), 0);
	}
	assert_int_equal(q.n, 10);
	assert_int_equal(q.bytes, 55);
	for (i = 0; i < 10; i++) {
		assert_non_null(p = dgq_peek(&q, &len));
		assert_int_equal(len, i + 1);
		assert_int_equal(p[0], i);
		assert_int_equal(p[len - 1], i);
		dgq_pop(&q);
	}
	assert_null(dgq_peek(&q, &len));
	assert_int_equal(q.bytes, 0);
	dgq_pop(&q);			/* empty: nothing happens */
	assert_int_equal(dgq_push(&q, d, 5, 1000), 0);	/* tail reset */
	assert_int_equal(q.n, 1);
	dgq_free(&q);
}

/* The bound: what would pass cap bytes is refused, but an empty queue
 * takes one datagram of any size; popping makes room again. */
static void test_cap(void **state)
{
	struct dgq q;
	uint8_t d[3000] = { 0 };
	size_t len;

	(void)state;
	dgq_init(&q);
	assert_int_equal(dgq_push(&q, d, 3000, 1000), 0);
	assert_int_equal(dgq_push(&q, d, 1, 1000), -1);
	dgq_pop(&q);
	assert_int_equal(dgq_push(&q, d, 600, 1000), 0);
	assert_int_equal(dgq_push(&q, d, 400, 1000), 0);
	assert_int_equal(dgq_push(&q, d, 1, 1000), -1);
	assert_int_equal(dgq_push(&q, d, (size_t)-1, 1000), -1);
	assert_int_equal(q.bytes, 1000);
	dgq_pop(&q);
	assert_int_equal(dgq_push(&q, d, 600, 1000), 0);
	assert_non_null(dgq_peek(&q, &len));
	assert_int_equal(len, 400);
	dgq_free(&q);			/* valgrind: nothing left */
	assert_int_equal(q.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
