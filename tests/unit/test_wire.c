/* Frame codec: round trips, and every malformed input rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

static void test_frame_header(void **state)
{
	uint8_t b[FRAME_HDR];
	uint8_t type;
	size_t plen;

	(void)state;
	wire_put_hdr(b, FR_DATA, 70000);
	assert_int_equal(wire_frame(b, 3, FRAME_MAX, &type, &plen), 0);
	assert_int_equal(wire_frame(b, 4, FRAME_MAX, &type, &plen), 1);
	assert_int_equal(type, FR_DATA);
	assert_int_equal(plen, 70000);
	assert_int_equal(wire_frame(b, 4, 69999, &type, &plen), -1);
}

static void test_hello_roundtrip(void **state)
{
	struct wire_hello h = { .version = PROTO_VERSION, .caps = 5 }, g;
	uint8_t b[WIRE_HELLO_MAX];
	size_t n;

	(void)state;
	memset(h.id.b, 0xab, NODE_ID_LEN);
	strcpy(h.name, "node-a");
	n = wire_hello_encode(&h, b, sizeof(b));
	assert_int_equal(n, 2 + 4 + NODE_ID_LEN + 1 + 6);
	assert_int_equal(wire_hello_decode(b, n, &g), 0);
	assert_int_equal(g.version, PROTO_VERSION);
	assert_int_equal(g.caps, 5);
	assert_memory_equal(g.id.b, h.id.b, NODE_ID_LEN);
	assert_string_equal(g.name, "node-a");
	assert_int_equal(wire_hello_encode(&h, b, n - 1), 0);
}

static void test_hello_malformed(void **state)
{
	struct wire_hello h = { .version = 1 }, g;
	uint8_t b[WIRE_HELLO_MAX];
	size_t n, i;

	(void)state;
	strcpy(h.name, "b=\x01x");
	n = wire_hello_encode(&h, b, sizeof(b));
	for (i = 0; i < n; i++)
		assert_int_equal(wire_hello_decode(b, i, &g), -1);
	assert_int_equal(wire_hello_decode(b, n, &g), 0);
	assert_string_equal(g.name, "b__x");	/* tame in logs */
	b[6 + NODE_ID_LEN] = NODE_NAME_MAX + 1;
	assert_int_equal(wire_hello_decode(b, n, &g), -1);
}

static void test_data_unicast(void **state)
{
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 1 }, src[6] = { 2, 0, 0, 0, 0, 2 };
	struct pkt p = { .inst = 7, .ttl = 9, .dlen = 6, .slen = 6,
			 .dst = dst, .src = src,
			 .data = (const uint8_t *)"hello", .len = 5 };
	uint8_t b[WIRE_DATA_HDR_MAX + 5];
	struct pkt q;
	size_t h;

	(void)state;
	h = wire_data_hdr(&p, b);
	memcpy(b + h, p.data, p.len);
	assert_int_equal(h, FRAME_HDR + WIRE_DATA_FIXED + 12);
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 5,
					  &q), 0);
	assert_int_equal(q.inst, 7);
	assert_int_equal(q.ttl, 9);
	assert_int_equal(q.dlen, 6);
	assert_memory_equal(q.dst, dst, 6);
	assert_memory_equal(q.src, src, 6);
	assert_int_equal(q.len, 5);
	assert_memory_equal(q.data, "hello", 5);
	assert_int_equal(q.flow, 0);
}

/* A flow hash rides in unicast only, 4 bytes after the fixed part; a
 * truncated one, one on a broadcast, or a flag with flow 0 is refused. */
static void test_data_flow(void **state)
{
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 1 }, src[6] = { 2, 0, 0, 0, 0, 2 };
	struct pkt p = { .inst = 7, .ttl = 9, .dlen = 6, .slen = 6,
			 .dst = dst, .src = src, .flow = 0xa1b2c3d4,
			 .data = (const uint8_t *)"hi", .len = 2 };
	uint8_t b[WIRE_DATA_HDR_MAX + 2];
	struct pkt q;
	size_t h, i;

	(void)state;
	h = wire_data_hdr(&p, b);
	memcpy(b + h, p.data, p.len);
	assert_int_equal(h, FRAME_HDR + WIRE_DATA_FIXED + 4 + 12);
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 2,
					  &q), 0);
	assert_int_equal(q.flow, 0xa1b2c3d4);
	assert_memory_equal(q.dst, dst, 6);
	assert_memory_equal(q.data, "hi", 2);
	for (i = 0; i < WIRE_DATA_FIXED + 4; i++)
		assert_int_equal(wire_data_decode(b + FRAME_HDR, i, &q), -1);
	memset(b + FRAME_HDR + WIRE_DATA_FIXED, 0, 4);	/* flow 0 */
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR, &q),
			 -1);
	p.dlen = 0;		/* a broadcast carries none */
	p.bc_origin = 1;
	h = wire_data_hdr(&p, b);
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR, &q),
			 0);
	assert_int_equal(q.flow, 0);
	b[FRAME_HDR + 1] |= WIRE_DATA_FLOW;
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR, &q),
			 -1);
}

static void test_data_broadcast(void **state)
{
	uint8_t src[2] = { 1, 2 };
	struct pkt p = { .inst = 1, .ttl = 3, .slen = 2, .src = src,
			 .data = (const uint8_t *)"x", .len = 1,
			 .bc_origin = 0x1122334455667788ull,
			 .bc_seq = 0xdeadbeef };
	uint8_t b[WIRE_DATA_HDR_MAX + 1];
	struct pkt q;
	size_t h, i;

	(void)state;
	h = wire_data_hdr(&p, b);
	b[h] = 'x';
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 1,
					  &q), 0);
	assert_int_equal(q.dlen, 0);
	assert_true(q.bc_origin == p.bc_origin);
	assert_int_equal(q.bc_seq, p.bc_seq);
	/* every truncation of the header is refused */
	for (i = 0; i < h - FRAME_HDR; i++)
		assert_int_equal(wire_data_decode(b + FRAME_HDR, i, &q), -1);
	/* broadcast flag with a destination, unknown flags: refused */
	b[FRAME_HDR + 1] = 0x04;
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 1,
					  &q), -1);
	b[FRAME_HDR + 1] = 0;
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 1,
					  &q), -1);
}

static void test_data_offload(void **state)
{
	uint8_t dst[1] = { 9 };
	struct pkt p = { .inst = 1, .ttl = 3, .dlen = 1, .dst = dst,
			 .flags = PKT_OFFLOAD,
			 .data = (const uint8_t *)"0123456789", .len = 10 };
	uint8_t b[WIRE_DATA_HDR_MAX + 10];
	struct pkt q;
	size_t h;

	(void)state;
	h = wire_data_hdr(&p, b);
	memcpy(b + h, p.data, p.len);
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 10,
					  &q), 0);
	assert_int_equal(q.flags, PKT_OFFLOAD);
	p.flags = 0;
	wire_data_hdr(&p, b);
	assert_int_equal(wire_data_decode(b + FRAME_HDR, h - FRAME_HDR + 10,
					  &q), 0);
	assert_int_equal(q.flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_header),
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_malformed),
		cmocka_unit_test(test_data_unicast),
		cmocka_unit_test(test_data_flow),
		cmocka_unit_test(test_data_broadcast),
		cmocka_unit_test(test_data_offload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
