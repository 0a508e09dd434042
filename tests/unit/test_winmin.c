/*
 * The windowed minimum (lib/winmin.c): the least of the recent samples,
 * forgetting a low one after two epochs, and none before the first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "winmin.h"

static void test_empty(void **state)
{
	struct winmin w;

	(void)state;
	winmin_init(&w);
	assert_int_equal(winmin_get(&w), 0);
}

/* A queue fills: samples grow, the minimum stays the idle one. */
static void test_keeps_least(void **state)
{
	struct winmin w;
	unsigned i;

	(void)state;
	winmin_init(&w);
	winmin_add(&w, 200);
	for (i = 1; i < WINMIN_EPOCH + 3; i++)
		winmin_add(&w, 200 + 1000 * i);
	assert_int_equal(winmin_get(&w), 200);
}

/* The path got longer: the old minimum goes within two epochs (the
 * first sample of an epoch is forgotten at the 16th sample). */
static void test_forgets(void **state)
{
	struct winmin w;
	unsigned i;

	(void)state;
	winmin_init(&w);
	winmin_add(&w, 100);
	for (i = 1; i < 2 * WINMIN_EPOCH - 1; i++) {
		winmin_add(&w, 900);
		assert_int_equal(winmin_get(&w), 100);
	}
	winmin_add(&w, 900);
	assert_int_equal(winmin_get(&w), 900);
	winmin_add(&w, 50);
	assert_int_equal(winmin_get(&w), 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_keeps_least),
		cmocka_unit_test(test_forgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
