/*
 * Flow hashes (lib/flow.c): one per transport flow, the same for each of
 * its packets, different for another flow; fragments by addresses alone;
 * none for what is not IP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"

static const uint8_t key[SIPHASH_KEY_LEN] = { 7 };

/* An IPv4 TCP packet from 10.0.0.1:sport to 10.0.0.2:80, 20 bytes of
 * payload; its length. */
static size_t v4(uint8_t *b, uint16_t sport, uint16_t frag)
{
	memset(b, 0, 60);
	b[0] = 0x45;
	b[3] = 60;
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	b[9] = 6;
	b[12] = 10, b[15] = 1;
	b[16] = 10, b[19] = 2;
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[23] = 80;
	b[40] = (uint8_t)sport;	/* payload differs: hash must not */
	return 60;
}

static void test_ipv4(void **state)
{
	uint8_t a[60], b[60];
	uint32_t h;

	(void)state;
	h = flow_ip(key, a, v4(a, 40000, 0));
	assert_int_not_equal(h, 0);
	v4(b, 40000, 0);
	b[41] = 9;				/* another segment, same flow */
	assert_int_equal(flow_ip(key, b, 60), h);
	assert_int_not_equal(flow_ip(key, b, v4(b, 40001, 0)), h);
	/* fragments: addresses and protocol only, whatever the ports say */
	assert_int_equal(flow_ip(key, a, v4(a, 1, 0x2000)),
			 flow_ip(key, b, v4(b, 2, 0x0010)));
	/* too short, bad header length: not hashed */
	assert_int_equal(flow_ip(key, a, 19), 0);
	a[0] = 0x44;
	assert_int_equal(flow_ip(key, a, 60), 0);
}

static void test_ipv6_eth(void **state)
{
	uint8_t f[18 + 60] = { 0 }, *ip = f + 18;
	uint32_t h6;

	(void)state;
	ip[0] = 0x60;
	ip[6] = 17;				/* UDP */
	ip[23] = 1;
	ip[39] = 2;
	ip[40] = 0x30, ip[43] = 53;		/* ports */
	h6 = flow_ip(key, ip, 60);
	assert_int_not_equal(h6, 0);
	ip[41] = 1;
	assert_int_not_equal(flow_ip(key, ip, 60), h6);
	ip[41] = 0;
	/* the same packet in an Ethernet frame with one VLAN tag */
	f[12] = 0x81, f[13] = 0x00;
	f[16] = 0x86, f[17] = 0xdd;
	assert_int_equal(flow_eth(key, f, sizeof(f)), h6);
	f[16] = 0x08, f[17] = 0x06;		/* ARP: none */
	assert_int_equal(flow_eth(key, f, sizeof(f)), 0);
	assert_int_equal(flow_eth(key, f, 13), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_eth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
