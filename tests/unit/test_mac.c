/*
 * ether/mac.c: frame classification and the bridge-mode learning table.
 *
 *   LAN hosts --> [bridge] --> TAP --> ether: learn(src, now)
 *                                      announce the table's addresses
 *
 * Time is injected: every call takes `now` in seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mac.h"

static void mac_n(uint8_t *mac, unsigned n)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void frame_to(uint8_t *f, const char *dst)
{
	memset(f, 0, 64);
	assert_int_equal(mac_parse(dst, f), 0);
	mac_n(f + MAC_LEN, 1);
	f[12] = 0x08;
}

static void test_classify(void **state)
{
	uint8_t f[64];

	(void)state;
	frame_to(f, "02:11:22:33:44:55");
	assert_int_equal(mac_classify(f, 60), MAC_UNICAST);
	frame_to(f, "00:16:3e:00:00:01");
	assert_int_equal(mac_classify(f, 60), MAC_UNICAST);
	frame_to(f, "ff:ff:ff:ff:ff:ff");
	assert_int_equal(mac_classify(f, 60), MAC_BROADCAST);
	frame_to(f, "01:00:5e:00:00:fb");	/* IPv4 mDNS group */
	assert_int_equal(mac_classify(f, 60), MAC_MULTICAST);
	frame_to(f, "33:33:ff:00:00:01");	/* IPv6 solicited-node */
	assert_int_equal(mac_classify(f, 60), MAC_MULTICAST);
	frame_to(f, "33:33:00:00:00:01");	/* IPv6 all-nodes */
	assert_int_equal(mac_classify(f, 60), MAC_MULTICAST);
	frame_to(f, "01:80:c2:00:00:00");	/* STP */
	assert_int_equal(mac_classify(f, 60), MAC_MULTICAST);
	frame_to(f, "ff:ff:ff:ff:ff:fe");	/* group bit, not broadcast */
	assert_int_equal(mac_classify(f, 60), MAC_MULTICAST);
}

static void test_short_frames(void **state)
{
	uint8_t f[64];
	size_t len;

	(void)state;
	frame_to(f, "02:11:22:33:44:55");
	for (len = 0; len < MAC_HDR_LEN; len++)
		assert_int_equal(mac_classify(f, len), -1);
	assert_int_equal(mac_classify(f, MAC_HDR_LEN), MAC_UNICAST);
	assert_int_equal(mac_classify(NULL, 60), -1);
}

static void test_parse_fmt(void **state)
{
	uint8_t m[MAC_LEN];
	char buf[18];

	(void)state;
	assert_int_equal(mac_parse("02:AB:cd:00:01:ff", m), 0);
	assert_string_equal(mac_fmt(m, buf, sizeof(buf)), "02:ab:cd:00:01:ff");
	assert_int_equal(mac_parse("02abcd0001fe", m), 0);
	assert_string_equal(mac_fmt(m, buf, sizeof(buf)), "02:ab:cd:00:01:fe");
	assert_int_equal(mac_parse("02-ab-cd-00-01-fd", m), 0);
	assert_int_equal(mac_parse("", m), -1);
	assert_int_equal(mac_parse("02:ab:cd:00:01", m), -1);
	assert_int_equal(mac_parse("02:ab:cd:00:01:fg", m), -1);
	assert_int_equal(mac_parse("02:ab:cd:00:01:ff:", m), -1);
	assert_int_equal(mac_parse("02abcd0001f", m), -1);
	assert_int_equal(mac_parse("02:ab:cd:00:0101", m), -1);
}

static void test_make_local(void **state)
{
	uint8_t m[MAC_LEN] = { 0xff, 1, 2, 3, 4, 5 };

	(void)state;
	mac_make_local(m);
	assert_int_equal(m[0], 0xfe);
	assert_int_equal(mac_kind(m), MAC_UNICAST);
	m[0] = 0x00;
	mac_make_local(m);
	assert_int_equal(m[0], 0x02);
}

static void test_learn(void **state)
{
	struct mac_table *t = mac_table_new(0, 0);
	uint8_t a[MAC_LEN], b[MAC_LEN], list[4][MAC_LEN];
	uint8_t bc[MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mc[MAC_LEN] = { 0x33, 0x33, 0, 0, 0, 1 };

	(void)state;
	assert_non_null(t);
	mac_n(a, 1);
	mac_n(b, 2);
	assert_int_equal(mac_learn(t, a, 10), 1);
	assert_int_equal(mac_learn(t, a, 11), 0);
	assert_int_equal(mac_learn(t, b, 12), 1);
	assert_int_equal(mac_learn(t, bc, 12), -1);
	assert_int_equal(mac_learn(t, mc, 12), -1);
	assert_int_equal(mac_count(t), 2);
	assert_true(mac_known(t, a));
	assert_true(mac_known(t, b));
	assert_false(mac_known(t, bc));
	/* a refreshed last: oldest first is b, a */
	assert_int_equal(mac_learn(t, a, 13), 0);
	assert_int_equal(mac_list(t, list, 4), 2);
	assert_memory_equal(list[0], b, MAC_LEN);
	assert_memory_equal(list[1], a, MAC_LEN);
	assert_int_equal(mac_list(t, list, 1), 1);
	/* forgotten (the host moved behind another gate), then relearned */
	assert_int_equal(mac_forget(t, b), 1);
	assert_int_equal(mac_forget(t, b), 0);
	assert_false(mac_known(t, b));
	assert_int_equal(mac_count(t), 1);
	assert_int_equal(mac_learn(t, b, 14), 1);
	assert_int_equal(mac_list(t, list, 4), 2);
	assert_memory_equal(list[0], a, MAC_LEN);
	mac_table_free(t);
}

static void test_ageing(void **state)
{
	struct mac_table *t = mac_table_new(0, 300);
	uint8_t a[MAC_LEN], b[MAC_LEN];

	(void)state;
	mac_n(a, 1);
	mac_n(b, 2);
	assert_int_equal(mac_learn(t, a, 1000), 1);
	assert_int_equal(mac_learn(t, b, 1100), 1);
	assert_int_equal(mac_expire(t, 1299), 0);
	assert_int_equal(mac_expire(t, 1300), 1);	/* a: 300 s old */
	assert_false(mac_known(t, a));
	assert_true(mac_known(t, b));
	/* a refresh postpones expiry */
	assert_int_equal(mac_learn(t, b, 1350), 0);
	assert_int_equal(mac_expire(t, 1649), 0);
	assert_int_equal(mac_expire(t, 1650), 1);
	assert_int_equal(mac_count(t), 0);
	/* relearned after expiry: the set changes again */
	assert_int_equal(mac_learn(t, a, 1700), 1);
	/* a clock that steps back does not break ordering */
	assert_int_equal(mac_learn(t, b, 1600), 1);
	assert_int_equal(mac_expire(t, 2000), 2);
	mac_table_free(t);
}

static void test_bound(void **state)
{
	struct mac_table *t = mac_table_new(MAC_TABLE_MAX, 0);
	uint8_t m[MAC_LEN];
	uint8_t (*list)[MAC_LEN];
	unsigned i;

	(void)state;
	for (i = 0; i < MAC_TABLE_MAX; i++) {
		mac_n(m, i);
		assert_int_equal(mac_learn(t, m, i), 1);
	}
	assert_int_equal(mac_count(t), MAC_TABLE_MAX);
	/* refresh #0 so #1 is now the oldest */
	mac_n(m, 0);
	assert_int_equal(mac_learn(t, m, MAC_TABLE_MAX), 0);
	mac_n(m, MAC_TABLE_MAX);
	assert_int_equal(mac_learn(t, m, MAC_TABLE_MAX + 1), 1);
	assert_int_equal(mac_count(t), MAC_TABLE_MAX);
	mac_n(m, 1);
	assert_false(mac_known(t, m));
	mac_n(m, 0);
	assert_true(mac_known(t, m));
	mac_n(m, 2);
	assert_true(mac_known(t, m));
	list = calloc(MAC_TABLE_MAX + 1, MAC_LEN);
	assert_non_null(list);
	assert_int_equal(mac_list(t, list, MAC_TABLE_MAX + 1), MAC_TABLE_MAX);
	mac_n(m, 2);
	assert_memory_equal(list[0], m, MAC_LEN);
	mac_n(m, MAC_TABLE_MAX);
	assert_memory_equal(list[MAC_TABLE_MAX - 1], m, MAC_LEN);
	free(list);
	/* a small table: churn through many more addresses than fit */
	mac_table_free(t);
	t = mac_table_new(8, 0);
	for (i = 0; i < 1000; i++) {
		mac_n(m, i);
		assert_int_equal(mac_learn(t, m, i), 1);
		assert_true(mac_count(t) <= 8);
	}
	for (i = 992; i < 1000; i++) {
		mac_n(m, i);
		assert_true(mac_known(t, m));
	}
	assert_int_equal(mac_expire(t, 2000), 8);
	mac_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_short_frames),
		cmocka_unit_test(test_parse_fmt),
		cmocka_unit_test(test_make_local),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_ageing),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
