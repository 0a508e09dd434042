/*
 * esc_name: a name as one status word and one log token. Kept: '!'..'~'
 * but '=', '"', '\'. Escaped as \xHH: everything else. Cut only between
 * whole characters; never past cap; "-" for "".
 *
 *   "ev il\n=x"  ->  ev\x20il\x0a\x3dx
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"

static void test_plain(void **state)
{
	char out[65];

	(void)state;
	assert_string_equal(esc_name("node-1.example", out, sizeof(out)),
			    "node-1.example");
	assert_string_equal(esc_name("a!~b", out, sizeof(out)), "a!~b");
	assert_ptr_equal(esc_name("x", out, sizeof(out)), out);
}

static void test_escaped(void **state)
{
	char out[65];

	(void)state;
	assert_string_equal(esc_name("ev il\n=x", out, sizeof(out)),
			    "ev\\x20il\\x0a\\x3dx");
	assert_string_equal(esc_name("\"q\"\\", out, sizeof(out)),
			    "\\x22q\\x22\\x5c");
	assert_string_equal(esc_name("\033[31m", out, sizeof(out)),
			    "\\x1b[31m");
	assert_string_equal(esc_name("\x7f\x80\xff\t\r", out, sizeof(out)),
			    "\\x7f\\x80\\xff\\x09\\x0d");
}

static void test_empty(void **state)
{
	char out[4];

	(void)state;
	assert_string_equal(esc_name("", out, sizeof(out)), "-");
	assert_string_equal(esc_name("", out, 2), "-");
	assert_string_equal(esc_name("", out, 1), "");
}

/* Every byte value alone: one char kept or four escaped, nothing else. */
static void test_every_byte(void **state)
{
	char in[2] = { 0, 0 }, out[8];
	size_t n;
	int b;

	(void)state;
	for (b = 1; b < 256; b++) {
		in[0] = (char)b;
		n = strlen(esc_name(in, out, sizeof(out)));
		if (b > 0x20 && b < 0x7f && b != '=' && b != '"' && b != '\\') {
			assert_int_equal(n, 1);
			assert_int_equal((unsigned char)out[0], b);
		} else {
			assert_int_equal(n, 4);
			assert_memory_equal(out, "\\x", 2);
		}
	}
}

/* Cut to fit, between whole characters, whatever the capacity: the
 * longest of full's prefixes that end a character and fit with the NUL. */
static void test_cut(void **state)
{
	static const char full[] = "ab\\x0acd\\x20e";
	static const size_t ends[] = { 0, 1, 2, 6, 7, 8, 12, 13 };
	char out[32];
	size_t cap, i, want;

	(void)state;
	for (cap = 1; cap <= sizeof(full) + 1; cap++) {
		for (want = 0, i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
			if (ends[i] < cap)
				want = ends[i];
		memset(out, 'Z', sizeof(out));
		esc_name("ab\ncd e", out, cap);
		assert_int_equal(strlen(out), want);
		assert_memory_equal(out, full, want);
		assert_int_equal(out[cap], 'Z');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
