/* Mesh addresses: hex parsing, printing, prefix match, equality, mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "addr.h"

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"0", "012", "01:2", "1:02", "01:", ":01", "01::02", "0g",
		"01:02:0x", "01-02", " 01", "01 ", "0102:03",
		"00112233445566778899aabbccddeeff00",
		"00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00",
	};
	struct addr a;
	size_t i;

	(void)state;
	assert_int_equal(addr_parse_hex("01:02:0a", 7, &a), 0);
	assert_int_equal(a.inst, 7);
	assert_int_equal(a.len, 3);
	assert_int_equal(a.plen, 24);
	assert_memory_equal(a.b, "\x01\x02\x0a", 3);
	assert_int_equal(addr_parse_hex("01020A", 7, &a), 0);
	assert_int_equal(a.len, 3);
	assert_memory_equal(a.b, "\x01\x02\x0a", 3);
	assert_int_equal(addr_parse_hex("", 9, &a), 0);
	assert_int_equal(a.inst, 9);
	assert_int_equal(a.len, 0);
	assert_int_equal(a.plen, 0);
	/* bytes past len are zero */
	assert_int_equal(addr_parse_hex("ff", 0, &a), 0);
	for (i = 1; i < ADDR_MAX; i++)
		assert_int_equal(a.b[i], 0);
	/* 16 bytes is the most */
	assert_int_equal(addr_parse_hex("00112233445566778899aabbccddeeff", 1,
					&a), 0);
	assert_int_equal(a.len, 16);
	assert_int_equal(a.plen, 128);
	assert_int_equal(a.b[15], 0xff);
	assert_int_equal(addr_parse_hex(
		"00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", 1, &a), 0);
	assert_int_equal(a.len, 16);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		if (addr_parse_hex(bad[i], 1, &a) != -1)
			fail_msg("\"%s\" parsed", bad[i]);
		/* a failed parse leaves a untouched */
		assert_int_equal(a.len, 0x5a);
	}
}

static void test_fmt(void **state)
{
	char buf[ADDR_STRLEN], small[6];
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse_hex("01:02:0a", 7, &a), 0);
	assert_string_equal(addr_fmt(&a, buf, sizeof(buf)), "7/01020a/24");
	a.plen = 20;
	assert_string_equal(addr_fmt(&a, buf, sizeof(buf)), "7/01020a/20");
	assert_string_equal(addr_hex(a.b, a.len, buf, sizeof(buf)),
			    "01:02:0a");
	assert_int_equal(addr_parse_hex("", 4294967295u, &a), 0);
	assert_string_equal(addr_fmt(&a, buf, sizeof(buf)), "4294967295//0");
	assert_string_equal(addr_hex(a.b, 0, buf, sizeof(buf)), "");
	/* the longest fits in ADDR_STRLEN */
	memset(a.b, 0xff, ADDR_MAX);
	a.len = ADDR_MAX;
	a.plen = 128;
	assert_string_equal(addr_fmt(&a, buf, sizeof(buf)),
			    "4294967295/ffffffffffffffffffffffffffffffff/128");
	addr_hex(a.b, a.len, buf, sizeof(buf));
	assert_int_equal(strlen(buf), ADDR_MAX * 3 - 1);
	/* short buffers are cut, never overrun, always terminated */
	assert_string_equal(addr_hex(a.b, a.len, small, sizeof(small)),
			    "ff:ff");
	assert_string_equal(addr_fmt(&a, small, sizeof(small)), "42949");
	small[0] = 'x';
	addr_hex(a.b, a.len, small, 0);
	assert_int_equal(small[0], 'x');
}

/*
 *   prefix 7/0a0b/12 = 0000 1010 0000 1011, first 12 bits: 0a 0_
 *   matches 7/0a00 .. 7/0a0f, not 7/0a1b, not instance 8, not 3 bytes
 */
static void test_match(void **state)
{
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse_hex("0a0b", 7, &a), 0);
	a.plen = 12;
	assert_true(addr_match(&a, 7, (const uint8_t *)"\x0a\x0b", 2));
	assert_true(addr_match(&a, 7, (const uint8_t *)"\x0a\x00", 2));
	assert_true(addr_match(&a, 7, (const uint8_t *)"\x0a\x0f", 2));
	assert_false(addr_match(&a, 7, (const uint8_t *)"\x0a\x1b", 2));
	assert_false(addr_match(&a, 7, (const uint8_t *)"\x0b\x0b", 2));
	assert_false(addr_match(&a, 8, (const uint8_t *)"\x0a\x0b", 2));
	assert_false(addr_match(&a, 7, (const uint8_t *)"\x0a\x0b\x00", 3));
	assert_false(addr_match(&a, 7, (const uint8_t *)"\x0a", 1));
	/* full length: exact */
	a.plen = 16;
	assert_true(addr_match(&a, 7, (const uint8_t *)"\x0a\x0b", 2));
	assert_false(addr_match(&a, 7, (const uint8_t *)"\x0a\x0a", 2));
	/* byte boundary */
	a.plen = 8;
	assert_true(addr_match(&a, 7, (const uint8_t *)"\x0a\xff", 2));
	/* plen 0: every destination of the instance, any length */
	a.plen = 0;
	assert_true(addr_match(&a, 7, (const uint8_t *)"", 0));
	assert_true(addr_match(&a, 7, (const uint8_t *)"\x01\x02\x03", 3));
	assert_false(addr_match(&a, 6, (const uint8_t *)"", 0));
	/* the empty address */
	assert_int_equal(addr_parse_hex("", 3, &a), 0);
	assert_true(addr_match(&a, 3, (const uint8_t *)"\x01", 1));
	/* 1 bit */
	assert_int_equal(addr_parse_hex("80", 3, &a), 0);
	a.plen = 1;
	assert_true(addr_match(&a, 3, (const uint8_t *)"\xff", 1));
	assert_false(addr_match(&a, 3, (const uint8_t *)"\x7f", 1));
}

static void test_equal_mask(void **state)
{
	struct addr a, b;

	(void)state;
	assert_int_equal(addr_parse_hex("0a:0b:0c", 1, &a), 0);
	assert_int_equal(addr_parse_hex("0a0b0c", 1, &b), 0);
	assert_true(addr_equal(&a, &b));
	b.inst = 2;
	assert_false(addr_equal(&a, &b));
	b.inst = 1;
	b.plen = 20;
	assert_false(addr_equal(&a, &b));
	b.plen = 24;
	b.b[2] = 0x0d;
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse_hex("0a0b", 1, &b), 0);
	assert_false(addr_equal(&a, &b));

	/* mask keeps plen bits and zeroes the rest */
	assert_int_equal(addr_parse_hex("ffffff", 1, &a), 0);
	a.plen = 12;
	addr_mask(&a);
	assert_memory_equal(a.b, "\xff\xf0\x00", 3);
	assert_int_equal(a.len, 3);
	assert_int_equal(a.plen, 12);
	a.plen = 0;
	addr_mask(&a);
	assert_memory_equal(a.b, "\x00\x00\x00", 3);
	/* bytes past len, and a plen past len * 8 */
	assert_int_equal(addr_parse_hex("ffff", 1, &a), 0);
	a.b[5] = 0x33;
	a.plen = 99;
	addr_mask(&a);
	assert_int_equal(a.plen, 16);
	assert_memory_equal(a.b, "\xff\xff\x00\x00\x00\x00", 6);
	/* masked prefixes compare equal */
	assert_int_equal(addr_parse_hex("0a0bff", 1, &a), 0);
	assert_int_equal(addr_parse_hex("0a0b00", 1, &b), 0);
	a.plen = b.plen = 16;
	addr_mask(&a);
	addr_mask(&b);
	assert_true(addr_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_equal_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
