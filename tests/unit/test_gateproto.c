/*
 * The gate protocol codec and libcloudgate against a fake daemon.
 *
 *   libcloudgate (cg_*)  <--socketpair or UNIX socket-->  fake daemon
 *                                                         (gp_* codec)
 *
 * libcloudgate is included whole so its static cg_attach() can take one
 * end of a socketpair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bytes.h"
#include "gateproto.h"
#include "cloudgate.c"

/* ---- codec -------------------------------------------------------- */

static void test_hello_roundtrip(void **state)
{
	uint8_t buf[128];
	const uint8_t *pl;
	char name[GP_NAME_MAX + 1];
	uint16_t v = 0;
	size_t n, plen;
	uint8_t type;

	(void)state;
	n = gp_hello_encode(buf, sizeof(buf), GP_VERSION, "ether0");
	assert_int_equal(n, GP_HDR + 3 + 6);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_HELLO);
	assert_int_equal(gp_hello_decode(pl, plen, &v, name), 0);
	assert_int_equal(v, GP_VERSION);
	assert_string_equal(name, "ether0");
	/* empty name is allowed */
	n = gp_hello_encode(buf, sizeof(buf), 3, "");
	assert_int_equal(gp_hello_decode(buf + GP_HDR, n - GP_HDR, &v, name),
			 0);
	assert_int_equal(v, 3);
	assert_string_equal(name, "");
}

static void test_hello_malformed(void **state)
{
	char name[GP_NAME_MAX + 1], big[GP_NAME_MAX + 2];
	uint8_t buf[128];
	uint16_t v = 0;

	(void)state;
	assert_int_equal(gp_hello_encode(buf, 8, 1, "abcdef"), 0);
	assert_int_equal(gp_hello_encode(buf, sizeof(buf), 1, "a b"), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gp_hello_encode(buf, sizeof(buf), 1, big), 0);

	assert_int_equal(gp_hello_decode(buf, 0, &v, name), -1);
	memcpy(buf, "\x00\x09", 2);
	assert_int_equal(gp_hello_decode(buf, 2, &v, name), -1);
	assert_int_equal(v, 9);	/* the version still comes out */
	memcpy(buf, "\x00\x01\x03" "ab", 5);	/* name shorter than said */
	assert_int_equal(gp_hello_decode(buf, 5, &v, name), -1);
	memcpy(buf, "\x00\x01\x01" "ab", 5);	/* trailing byte */
	assert_int_equal(gp_hello_decode(buf, 5, &v, name), -1);
	memcpy(buf, "\x00\x01\x02" "a\n", 5);	/* control character */
	assert_int_equal(gp_hello_decode(buf, 5, &v, name), -1);
	buf[2] = GP_NAME_MAX + 1;
	memset(buf + 3, 'a', GP_NAME_MAX + 1);
	assert_int_equal(gp_hello_decode(buf, 3 + GP_NAME_MAX + 1, &v, name),
			 -1);
}

static struct addr mkaddr(uint32_t inst, const char *b, uint8_t len,
			  uint16_t plen)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.inst = inst;
	a.len = len;
	a.plen = plen;
	memcpy(a.b, b, len);
	return a;
}

static void test_announce_roundtrip(void **state)
{
	static struct addr in[GP_ANNOUNCE_MAX], out[GP_ANNOUNCE_MAX];
	static uint8_t buf[GP_HDR + GP_ANNOUNCE_BYTES];
	const uint8_t *pl;
	size_t n, got, plen, i;
	uint8_t type;

	(void)state;
	in[0] = mkaddr(1, "\x0a\x00\x00\x00", 4, 8);
	in[1] = mkaddr(2, "", 0, 0);
	in[2] = mkaddr(0xffffffff, "0123456789abcdef", 16, 128);
	n = gp_announce_encode(buf, sizeof(buf), in, 3);
	assert_true(n > 0);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_ANNOUNCE);
	assert_int_equal(gp_announce_decode(pl, plen, out, 3, &got), 0);
	assert_int_equal(got, 3);
	for (i = 0; i < 3; i++)
		assert_memory_equal(&in[i], &out[i], sizeof(in[i]));

	/* host bits past plen are cleared */
	in[0] = mkaddr(1, "\x0a\xff", 2, 12);
	n = gp_announce_encode(buf, sizeof(buf), in, 1);
	assert_int_equal(gp_announce_decode(buf + GP_HDR, n - GP_HDR, out, 1,
					    &got), 0);
	assert_int_equal(out[0].b[0], 0x0a);
	assert_int_equal(out[0].b[1], 0xf0);

	/* the largest set fits the deframer's limit */
	for (i = 0; i < GP_ANNOUNCE_MAX; i++)
		in[i] = mkaddr((uint32_t)i, "0123456789abcdef", 16, 128);
	n = gp_announce_encode(buf, sizeof(buf), in, GP_ANNOUNCE_MAX);
	assert_int_equal(n, sizeof(buf));
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(gp_announce_decode(pl, plen, out, GP_ANNOUNCE_MAX,
					    &got), 0);
	assert_int_equal(got, GP_ANNOUNCE_MAX);
	assert_int_equal(out[1023].inst, 1023);
	/* empty set */
	n = gp_announce_encode(buf, sizeof(buf), in, 0);
	assert_int_equal(n, GP_HDR + 2);
	assert_int_equal(gp_announce_decode(buf + GP_HDR, 2, out, 1, &got), 0);
	assert_int_equal(got, 0);
}

static void test_announce_malformed(void **state)
{
	struct addr a[2], out[4];
	uint8_t buf[256], *e = buf + 2;
	size_t got;

	(void)state;
	a[0] = mkaddr(1, "\x01", 1, 9);	/* plen > len * 8 */
	assert_int_equal(gp_announce_encode(buf, sizeof(buf), a, 1), 0);
	a[0] = mkaddr(1, "\x01\x02", 2, 16);
	assert_int_equal(gp_announce_encode(buf, 10, a, 1), 0);	/* cap */
	assert_int_equal(gp_announce_encode(buf, sizeof(buf), a,
					    GP_ANNOUNCE_MAX + 1), 0);

	/* one good entry: count 1, inst 1, len 2, plen 16, 01 02 */
	put16(buf, 1);
	put32(e, 1);
	e[4] = 2;
	put16(e + 5, 16);
	e[7] = 1;
	e[8] = 2;
	assert_int_equal(gp_announce_decode(buf, 11, out, 4, &got), 0);
	assert_int_equal(gp_announce_decode(buf, 1, out, 4, &got), -1);
	assert_int_equal(gp_announce_decode(buf, 10, out, 4, &got), -1);
	assert_int_equal(gp_announce_decode(buf, 8, out, 4, &got), -1);
	assert_int_equal(gp_announce_decode(buf, 12, out, 4, &got), -1);
	assert_int_equal(gp_announce_decode(buf, 11, out, 0, &got), -1);
	put16(buf, 2);		/* count says more than there is */
	assert_int_equal(gp_announce_decode(buf, 11, out, 4, &got), -1);
	put16(buf, 0);		/* count says less */
	assert_int_equal(gp_announce_decode(buf, 11, out, 4, &got), -1);
	put16(buf, GP_ANNOUNCE_MAX + 1);
	assert_int_equal(gp_announce_decode(buf, 11, out, 4, &got), -1);
	put16(buf, 1);
	put16(e + 5, 17);	/* plen > len * 8 */
	assert_int_equal(gp_announce_decode(buf, 11, out, 4, &got), -1);
	put16(e + 5, 16);
	e[4] = 17;		/* len > GP_ADDR_MAX */
	memset(e + 7, 0, 17);
	assert_int_equal(gp_announce_decode(buf, 2 + 7 + 17, out, 4, &got),
			 -1);
}

static void test_packet_roundtrip(void **state)
{
	static uint8_t buf[GP_MSG_MAX], data[GP_PAYLOAD_MAX];
	struct gp_packet p = {
		.inst = 42, .dlen = 2, .slen = 3,
		.dst = (const uint8_t *)"\xaa\xbb",
		.src = (const uint8_t *)"\x01\x02\x03",
		.data = (const uint8_t *)"hello", .len = 5,
	}, q;
	const uint8_t *pl;
	size_t n, plen;
	uint8_t type;

	(void)state;
	n = gp_packet_encode(buf, sizeof(buf), &p);
	assert_int_equal(n, GP_HDR + 6 + 2 + 3 + 5);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_PACKET);
	assert_int_equal(gp_packet_decode(pl, plen, &q), 0);
	assert_int_equal(q.inst, 42);
	assert_int_equal(q.dlen, 2);
	assert_int_equal(q.slen, 3);
	assert_memory_equal(q.dst, "\xaa\xbb", 2);
	assert_memory_equal(q.src, "\x01\x02\x03", 3);
	assert_int_equal(q.len, 5);
	assert_memory_equal(q.data, "hello", 5);

	/* broadcast, no source, largest payload */
	memset(data, 0x5a, sizeof(data));
	p.dlen = 0;
	p.slen = 16;
	p.src = (const uint8_t *)"0123456789abcdef";
	p.data = data;
	p.len = sizeof(data);
	n = gp_packet_encode(buf, sizeof(buf), &p);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(gp_packet_decode(pl, plen, &q), 0);
	assert_int_equal(q.dlen, 0);
	assert_int_equal(q.len, GP_PAYLOAD_MAX);
	assert_memory_equal(q.data, data, sizeof(data));
	/* empty payload */
	p.len = 0;
	n = gp_packet_encode(buf, sizeof(buf), &p);
	assert_int_equal(gp_packet_decode(buf + GP_HDR, n - GP_HDR, &q), 0);
	assert_int_equal(q.len, 0);
	/* with a flow: FPACKET / FOFFLOAD, the flow first */
	p.has_flow = 1;
	p.flow = 0x01020304;
	p.dlen = 2;
	p.dst = (const uint8_t *)"\xaa\xbb";
	p.data = (const uint8_t *)"hi";
	p.len = 2;
	n = gp_packet_encode(buf, sizeof(buf), &p);
	assert_int_equal(n, GP_HDR + 4 + 6 + 2 + 16 + 2);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_FPACKET);
	assert_int_equal(gp_fpacket_decode(pl, plen, &q), 0);
	assert_int_equal(q.flow, 0x01020304);
	assert_true(q.has_flow);
	assert_memory_equal(q.data, "hi", 2);
	assert_int_equal(gp_fpacket_decode(pl, 3, &q), -1);
	p.offload = 1;
	n = gp_packet_encode(buf, sizeof(buf), &p);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_FOFFLOAD);
}

static void test_packet_malformed(void **state)
{
	static uint8_t buf[GP_MSG_MAX + 16];
	struct gp_packet p = { .inst = 1, .dlen = 17 }, q;

	(void)state;
	assert_int_equal(gp_packet_encode(buf, sizeof(buf), &p), 0);
	p.dlen = 0;
	p.slen = 17;
	assert_int_equal(gp_packet_encode(buf, sizeof(buf), &p), 0);
	p.slen = 0;
	p.len = GP_PAYLOAD_MAX + 1;
	p.data = buf;
	assert_int_equal(gp_packet_encode(buf, sizeof(buf), &p), 0);
	p.len = 1;
	assert_int_equal(gp_packet_encode(buf, GP_HDR + 6, &p), 0);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(gp_packet_decode(buf, 5, &q), -1);
	assert_int_equal(gp_packet_decode(buf, 6, &q), 0);
	buf[4] = 2;		/* dlen 2, nothing after */
	assert_int_equal(gp_packet_decode(buf, 7, &q), -1);
	assert_int_equal(gp_packet_decode(buf, 8, &q), 0);
	buf[5] = 1;		/* and slen 1 */
	assert_int_equal(gp_packet_decode(buf, 8, &q), -1);
	buf[4] = 17;
	buf[5] = 0;
	assert_int_equal(gp_packet_decode(buf, 100, &q), -1);
	buf[4] = 0;
	buf[5] = 17;
	assert_int_equal(gp_packet_decode(buf, 100, &q), -1);
	buf[5] = 0;
	assert_int_equal(gp_packet_decode(buf, 6 + GP_PAYLOAD_MAX + 1, &q),
			 -1);
}

static void test_deframer(void **state)
{
	uint8_t buf[64], hdr[GP_HDR];
	const uint8_t *pl;
	size_t n, m, i, plen;
	uint8_t type;

	(void)state;
	n = gp_hello_encode(buf, sizeof(buf), GP_VERSION, "x");
	m = gp_keepalive_encode(buf + n, sizeof(buf) - n);
	assert_int_equal(m, GP_HDR);
	for (i = 0; i < n; i++)	/* every partial prefix: need more */
		assert_int_equal(gp_frame(buf, i, &type, &pl, &plen), 0);
	assert_int_equal(gp_frame(buf, n + m, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_HELLO);
	assert_ptr_equal(pl, buf + GP_HDR);
	assert_int_equal(gp_frame(buf + n, m, &type, &pl, &plen), (long)m);
	assert_int_equal(type, GP_KEEPALIVE);
	assert_int_equal(plen, 0);

	/* unknown types are refused at the first byte */
	hdr[0] = 0;
	assert_int_equal(gp_frame(hdr, 1, &type, &pl, &plen), -1);
	hdr[0] = 16;	/* past GP_FOFFLOAD */
	assert_int_equal(gp_frame(hdr, 1, &type, &pl, &plen), -1);
	/* GP_CAPS is exactly 4 bytes; GP_OFFLOAD is a packet */
	m = gp_caps_encode(buf, sizeof(buf), GP_CAP_OFFLOAD);
	assert_int_equal(m, GP_HDR + 4);
	assert_int_equal(gp_frame(buf, m, &type, &pl, &plen), (long)m);
	assert_int_equal(type, GP_CAPS);
	{
		uint32_t caps = 0;

		assert_int_equal(gp_caps_decode(pl, plen, &caps), 0);
		assert_int_equal(caps, GP_CAP_OFFLOAD);
		assert_int_equal(gp_caps_decode(pl, 3, &caps), -1);
	}
	hdr[0] = GP_CAPS;
	put24(hdr + 1, 5);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	{
		struct gp_packet gp = { .offload = 1, .inst = 3,
					.data = (const uint8_t *)"vnet..frame",
					.len = 11 }, got;

		m = gp_packet_encode(buf, sizeof(buf), &gp);
		assert_int_equal(gp_frame(buf, m, &type, &pl, &plen), (long)m);
		assert_int_equal(type, GP_OFFLOAD);
		assert_int_equal(gp_packet_decode(pl, plen, &got), 0);
		assert_int_equal(got.inst, 3);
		assert_int_equal(got.len, 11);
	}
	/* lengths over a type's limit are refused from the header alone */
	hdr[0] = GP_KEEPALIVE;
	put24(hdr + 1, 1);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	hdr[0] = GP_HELLO;
	put24(hdr + 1, GP_HELLO_MAX + 1);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	hdr[0] = GP_ANNOUNCE;
	put24(hdr + 1, GP_ANNOUNCE_BYTES + 1);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	hdr[0] = GP_PACKET;
	put24(hdr + 1, GP_PACKET_BYTES + 1);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	put24(hdr + 1, GP_PACKET_BYTES);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), 0);
	/* the limits table of doc/PROTOCOL.md section 3 */
	hdr[0] = GP_NODE;
	put24(hdr + 1, 33);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	hdr[0] = GP_SOCKET;
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	hdr[0] = GP_LINK;
	put24(hdr + 1, 163);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	put24(hdr + 1, 162);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), 0);
	hdr[0] = GP_NOTE;
	put24(hdr + 1, 227);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	put24(hdr + 1, 226);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), 0);
	hdr[0] = GP_SUBSCRIBE;
	put24(hdr + 1, 4);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), 0);
	hdr[0] = GP_PREFIX;
	put24(hdr + 1, 14852);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), -1);
	put24(hdr + 1, 14851);
	assert_int_equal(gp_frame(hdr, GP_HDR, &type, &pl, &plen), 0);
}

static void fill_id(uint8_t *id, uint8_t seed)
{
	size_t i;

	for (i = 0; i < GP_ID_LEN; i++)
		id[i] = (uint8_t)(seed + i);
}

/* NODE and SOCKET: exactly one node ID. */
static void test_node_socket(void **state)
{
	uint8_t buf[64], id[GP_ID_LEN], got[GP_ID_LEN];
	const uint8_t *pl;
	size_t n, plen;
	uint8_t type;

	(void)state;
	fill_id(id, 0x10);
	n = gp_node_encode(buf, sizeof(buf), id);
	assert_int_equal(n, GP_HDR + GP_ID_LEN);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_NODE);
	assert_int_equal(gp_node_decode(pl, plen, got), 0);
	assert_memory_equal(got, id, GP_ID_LEN);
	assert_int_equal(gp_node_decode(pl, plen - 1, got), -1);
	assert_int_equal(gp_node_encode(buf, n - 1, id), 0);

	n = gp_socket_encode(buf, sizeof(buf), id);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_SOCKET);
	memset(got, 0, sizeof(got));
	assert_int_equal(gp_socket_decode(pl, plen, got), 0);
	assert_memory_equal(got, id, GP_ID_LEN);
	assert_int_equal(gp_socket_decode(pl, 0, got), -1);
	assert_int_equal(gp_socket_decode(pl, plen + 1, got), -1);
}

static void test_link_msg(void **state)
{
	struct gp_link l = { .up = 0 }, got;
	uint8_t buf[GP_HDR + GP_LINK_BYTES + 8];
	const uint8_t *pl;
	size_t n, plen;
	uint8_t type;

	(void)state;
	fill_id(l.id, 0x80);
	strcpy(l.why, "not a connected UDP socket");
	n = gp_link_encode(buf, sizeof(buf), &l);
	assert_int_equal(n, GP_HDR + 1 + GP_ID_LEN + 1 + strlen(l.why));
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_LINK);
	assert_int_equal(gp_link_decode(pl, plen, &got), 0);
	assert_int_equal(got.up, 0);
	assert_memory_equal(got.id, l.id, GP_ID_LEN);
	assert_string_equal(got.why, "not a connected UDP socket");
	/* one byte short, one byte over, a why longer than it says */
	assert_int_equal(gp_link_decode(pl, plen - 1, &got), -1);
	assert_int_equal(gp_link_decode(pl, GP_ID_LEN + 1, &got), -1);
	buf[GP_HDR + 1 + GP_ID_LEN] = (uint8_t)(strlen(l.why) - 1);
	assert_int_equal(gp_link_decode(pl, plen, &got), -1);

	/* up, empty why; a state other than 0 or 1 is malformed */
	l.up = 1;
	l.why[0] = '\0';
	n = gp_link_encode(buf, sizeof(buf), &l);
	assert_int_equal(n, GP_HDR + 2 + GP_ID_LEN);
	assert_int_equal(gp_link_decode(buf + GP_HDR, n - GP_HDR, &got), 0);
	assert_int_equal(got.up, 1);
	assert_string_equal(got.why, "");
	buf[GP_HDR] = 2;
	assert_int_equal(gp_link_decode(buf + GP_HDR, n - GP_HDR, &got), -1);

	/* the longest why fits the limit; control bytes never pass */
	memset(l.why, 'w', GP_WHY_MAX);
	l.why[GP_WHY_MAX] = '\0';
	n = gp_link_encode(buf, sizeof(buf), &l);
	assert_int_equal(n, GP_HDR + GP_LINK_BYTES);
	assert_int_equal(gp_link_decode(buf + GP_HDR, n - GP_HDR, &got), 0);
	l.why[3] = '\n';
	assert_int_equal(gp_link_encode(buf, sizeof(buf), &l), 0);
	buf[GP_HDR + 2 + GP_ID_LEN + 3] = 0x7f;
	assert_int_equal(gp_link_decode(buf + GP_HDR, n - GP_HDR, &got), -1);
	l.up = 3;
	strcpy(l.why, "x");
	assert_int_equal(gp_link_encode(buf, sizeof(buf), &l), 0);
}

static void test_note_msg(void **state)
{
	struct gp_note nt, got;
	uint8_t buf[GP_HDR + GP_NOTE_BYTES + 8];
	const uint8_t *pl;
	size_t n, plen, off;
	uint8_t type;

	(void)state;
	fill_id(nt.id, 0x33);
	strcpy(nt.name, "B");
	strcpy(nt.text, "relayed: symmetric NAT on both sides");
	n = gp_note_encode(buf, sizeof(buf), &nt);
	assert_int_equal(n, GP_HDR + GP_ID_LEN + 2 + 1 + strlen(nt.text));
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_NOTE);
	assert_int_equal(gp_note_decode(pl, plen, &got), 0);
	assert_memory_equal(got.id, nt.id, GP_ID_LEN);
	assert_string_equal(got.name, "B");
	assert_string_equal(got.text, nt.text);
	assert_int_equal(gp_note_decode(pl, plen - 1, &got), -1);
	assert_int_equal(gp_note_decode(pl, GP_ID_LEN, &got), -1);

	/* an empty text (forget) and an empty name are well formed */
	nt.text[0] = '\0';
	nt.name[0] = '\0';
	n = gp_note_encode(buf, sizeof(buf), &nt);
	assert_int_equal(n, GP_HDR + GP_ID_LEN + 2);
	assert_int_equal(gp_note_decode(buf + GP_HDR, n - GP_HDR, &got), 0);
	assert_string_equal(got.text, "");

	/* the largest note; a name with a space, or text with a tab, is not */
	memset(nt.name, 'n', GP_NAME_MAX);
	nt.name[GP_NAME_MAX] = '\0';
	memset(nt.text, 't', GP_TEXT_MAX);
	nt.text[GP_TEXT_MAX] = '\0';
	n = gp_note_encode(buf, sizeof(buf), &nt);
	assert_int_equal(n, GP_HDR + GP_NOTE_BYTES);
	assert_int_equal(gp_note_decode(buf + GP_HDR, n - GP_HDR, &got), 0);
	assert_int_equal(strlen(got.text), GP_TEXT_MAX);
	off = GP_HDR + GP_ID_LEN + 1;
	buf[off] = ' ';
	assert_int_equal(gp_note_decode(buf + GP_HDR, n - GP_HDR, &got), -1);
	buf[off] = 'n';
	buf[off + GP_NAME_MAX + 1] = '\t';
	assert_int_equal(gp_note_decode(buf + GP_HDR, n - GP_HDR, &got), -1);
	strcpy(nt.name, "B C");
	assert_int_equal(gp_note_encode(buf, sizeof(buf), &nt), 0);
	strcpy(nt.name, "B");
	/* a text length past the payload */
	strcpy(nt.text, "ok");
	n = gp_note_encode(buf, sizeof(buf), &nt);
	buf[GP_HDR + GP_ID_LEN + 2 + 1] = 3;
	assert_int_equal(gp_note_decode(buf + GP_HDR, n - GP_HDR, &got), -1);
}

static void test_subscribe_msg(void **state)
{
	uint8_t buf[16];
	const uint8_t *pl;
	uint32_t inst = 0;
	size_t n, plen;
	uint8_t type;

	(void)state;
	n = gp_subscribe_encode(buf, sizeof(buf), 0xfedc0007);
	assert_int_equal(n, GP_HDR + 4);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_SUBSCRIBE);
	assert_int_equal(gp_subscribe_decode(pl, plen, &inst), 0);
	assert_int_equal(inst, 0xfedc0007);
	assert_int_equal(gp_subscribe_encode(buf, GP_HDR + 3, 7), 0);
	assert_int_equal(gp_subscribe_decode(pl, 3, &inst), -1);
	assert_int_equal(gp_subscribe_decode(pl, 5, &inst), -1);
	/* the deframer refuses a payload over 4 bytes */
	put24(buf + 1, 5);
	assert_int_equal(gp_frame(buf, sizeof(buf), &type, &pl, &plen), -1);
}

/* NOROUTE: instance and destination both ways; an empty or oversized
 * destination, or a length that disagrees, refused. */
static void test_noroute_msg(void **state)
{
	struct gp_noroute nr = { .inst = 0x01020304, .dlen = 6,
				 .dst = { 2, 0, 0, 0, 0, 9 } }, got;
	uint8_t buf[GP_HDR + GP_NOROUTE_BYTES + 1];
	const uint8_t *pl;
	size_t n, plen;
	uint8_t type;

	(void)state;
	n = gp_noroute_encode(buf, sizeof(buf), &nr);
	assert_int_equal(n, GP_HDR + 4 + 1 + 6);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_NOROUTE);
	assert_int_equal(gp_noroute_decode(pl, plen, &got), 0);
	assert_int_equal(got.inst, nr.inst);
	assert_int_equal(got.dlen, 6);
	assert_memory_equal(got.dst, nr.dst, 6);
	assert_int_equal(gp_noroute_decode(pl, plen - 1, &got), -1);
	buf[GP_HDR + 4] = 0;
	assert_int_equal(gp_noroute_decode(pl, 5, &got), -1);
	buf[GP_HDR + 4] = GP_ADDR_MAX + 1;
	assert_int_equal(gp_noroute_decode(pl, 5 + GP_ADDR_MAX + 1, &got), -1);
	nr.dlen = 0;
	assert_int_equal(gp_noroute_encode(buf, sizeof(buf), &nr), 0);
	nr.dlen = GP_ADDR_MAX + 1;
	assert_int_equal(gp_noroute_encode(buf, sizeof(buf), &nr), 0);
	/* the deframer refuses a longer payload */
	put24(buf + 1, GP_NOROUTE_BYTES + 1);
	assert_int_equal(gp_frame(buf, sizeof(buf), &type, &pl, &plen), -1);
}

static struct gp_prefix mkprefix(int up, int local, uint32_t metric,
				 struct addr a)
{
	struct gp_prefix p = { .up = up, .local = local, .metric = metric };

	p.addr = a;
	return p;
}

static void test_prefix_roundtrip(void **state)
{
	static struct gp_prefix in[GP_PREFIX_MAX], out[GP_PREFIX_MAX];
	static uint8_t buf[GP_HDR + GP_PREFIX_BYTES];
	const uint8_t *pl;
	size_t n, got, plen, i;
	uint8_t type, flags = 0;

	(void)state;
	in[0] = mkprefix(1, 0, 300, mkaddr(7, "\x0a\x0b\x0c", 3, 24));
	in[1] = mkprefix(0, 1, 0xffffffff, mkaddr(7, "", 0, 0));
	in[2] = mkprefix(1, 1, 0, mkaddr(9, "0123456789abcdef", 16, 128));
	n = gp_prefix_encode(buf, sizeof(buf), GP_PF_FULL, in, 3);
	assert_int_equal(n, GP_HDR + 3 + 3 * GP_PREFIX_ENTRY + 3 + 0 + 16);
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(type, GP_PREFIX);
	assert_int_equal(gp_prefix_decode(pl, plen, &flags, out, 3, &got), 0);
	assert_int_equal(flags, GP_PF_FULL);
	assert_int_equal(got, 3);
	for (i = 0; i < 3; i++)
		assert_memory_equal(&in[i], &out[i], sizeof(in[i]));

	/* host bits past plen are cleared */
	in[0] = mkprefix(1, 0, 1, mkaddr(7, "\x0a\xff", 2, 12));
	n = gp_prefix_encode(buf, sizeof(buf), 0, in, 1);
	assert_int_equal(gp_prefix_decode(buf + GP_HDR, n - GP_HDR, &flags,
					  out, 1, &got), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(out[0].addr.b[1], 0xf0);

	/* the largest set fits the deframer's limit */
	for (i = 0; i < GP_PREFIX_MAX; i++)
		in[i] = mkprefix(1, 0, (uint32_t)i,
				 mkaddr(7, "0123456789abcdef", 16, 128));
	n = gp_prefix_encode(buf, sizeof(buf), 0, in, GP_PREFIX_MAX);
	assert_int_equal(n, sizeof(buf));
	assert_int_equal(gp_frame(buf, n, &type, &pl, &plen), (long)n);
	assert_int_equal(gp_prefix_decode(pl, plen, &flags, out,
					  GP_PREFIX_MAX, &got), 0);
	assert_int_equal(got, GP_PREFIX_MAX);
	assert_int_equal(out[GP_PREFIX_MAX - 1].metric, GP_PREFIX_MAX - 1);
	/* an empty full set: the instance has no routes */
	n = gp_prefix_encode(buf, sizeof(buf), GP_PF_FULL, in, 0);
	assert_int_equal(n, GP_HDR + 3);
	assert_int_equal(gp_prefix_decode(buf + GP_HDR, 3, &flags, out, 1,
					  &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(flags, GP_PF_FULL);
}

static void test_prefix_encode_bad(void **state)
{
	struct gp_prefix p[1];
	uint8_t buf[64];

	(void)state;
	p[0] = mkprefix(1, 0, 5, mkaddr(7, "\x01\x02", 2, 16));
	assert_int_equal(gp_prefix_encode(buf, GP_HDR + 3 + GP_PREFIX_ENTRY +
					  1, 0, p, 1), 0);	/* cap */
	assert_int_equal(gp_prefix_encode(buf, 2, 0, p, 0), 0);
	assert_int_equal(gp_prefix_encode(buf, sizeof(buf), 2, p, 1), 0);
	assert_int_equal(gp_prefix_encode(buf, sizeof(buf), 0, p,
					  GP_PREFIX_MAX + 1), 0);
	p[0].up = 2;
	assert_int_equal(gp_prefix_encode(buf, sizeof(buf), 0, p, 1), 0);
	p[0].up = 0;
	p[0].local = -1;
	assert_int_equal(gp_prefix_encode(buf, sizeof(buf), 0, p, 1), 0);
	p[0].local = 0;
	p[0].addr.plen = 17;
	assert_int_equal(gp_prefix_encode(buf, sizeof(buf), 0, p, 1), 0);
}

/* flags 0, count 1: up 1, local 0, metric 5, inst 7, len 2, plen 16,
 * 01 02 — 18 bytes. */
static size_t good_prefix(uint8_t *buf)
{
	uint8_t *e = buf + 3;

	memset(buf, 0, 64);
	put16(buf + 1, 1);
	e[0] = 1;
	put32(e + 2, 5);
	put32(e + 6, 7);
	e[10] = 2;
	put16(e + 11, 16);
	e[13] = 1;
	e[14] = 2;
	return 3 + GP_PREFIX_ENTRY + 2;
}

static void test_prefix_malformed(void **state)
{
	struct gp_prefix out[4];
	uint8_t buf[64], *e = buf + 3, flags;
	size_t got, len, i;

	(void)state;
	len = good_prefix(buf);
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), 0);
	assert_int_equal(out[0].metric, 5);
	for (i = 0; i < len; i++)	/* every truncation */
		assert_int_equal(gp_prefix_decode(buf, i, &flags, out, 4,
						  &got), -1);
	/* a trailing byte; a caller's array too small */
	assert_int_equal(gp_prefix_decode(buf, len + 1, &flags, out, 4, &got),
			 -1);
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 0, &got), -1);
	buf[0] = 2;		/* unknown flag */
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	buf[0] = GP_PF_FULL | 0x80;
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	len = good_prefix(buf);
	put16(buf + 1, 2);	/* count says more than there is */
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	put16(buf + 1, 0);	/* count says less */
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	put16(buf + 1, GP_PREFIX_MAX + 1);
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	len = good_prefix(buf);
	e[0] = 2;		/* up neither 0 nor 1 */
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	len = good_prefix(buf);
	e[1] = 2;		/* local neither 0 nor 1 */
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	len = good_prefix(buf);
	put16(e + 11, 17);	/* plen > len * 8 */
	assert_int_equal(gp_prefix_decode(buf, len, &flags, out, 4, &got), -1);
	len = good_prefix(buf);
	e[10] = GP_ADDR_MAX + 1;
	put16(e + 11, 0);
	assert_int_equal(gp_prefix_decode(buf, 3 + GP_PREFIX_ENTRY +
					  GP_ADDR_MAX + 1, &flags, out, 4,
					  &got), -1);
}

static void test_parse_hex(void **state)
{
	uint8_t b[CG_ADDR_MAX];

	(void)state;
	assert_int_equal(cg_parse_hex("", b, sizeof(b)), 0);
	assert_int_equal(cg_parse_hex("0a:0B:ff", b, sizeof(b)), 3);
	assert_memory_equal(b, "\x0a\x0b\xff", 3);
	assert_int_equal(cg_parse_hex("0102", b, sizeof(b)), 2);
	assert_memory_equal(b, "\x01\x02", 2);
	assert_int_equal(cg_parse_hex("0", b, sizeof(b)), -1);
	assert_int_equal(cg_parse_hex("0g", b, sizeof(b)), -1);
	assert_int_equal(cg_parse_hex("01:", b, sizeof(b)), -1);
	assert_int_equal(cg_parse_hex("01::02", b, sizeof(b)), -1);
	assert_int_equal(cg_parse_hex("0102:03", b, sizeof(b)), -1);
	assert_int_equal(cg_parse_hex("1:2", b, sizeof(b)), -1);
	assert_int_equal(cg_parse_hex("010203", b, 2), -1);
}

/* ---- a fake daemon -------------------------------------------------- */

struct fake {
	int fd;
	uint8_t buf[2 * GP_MSG_MAX];
	size_t head, tail;
};

/* Blocking read of the next whole message (2 s at most). */
static int fake_msg(struct fake *f, uint8_t *type, const uint8_t **pl,
		    size_t *plen)
{
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	long n;
	ssize_t r;

	for (;;) {
		n = gp_frame(f->buf + f->head, f->tail - f->head, type, pl,
			     plen);
		if (n < 0)
			return -1;
		if (n > 0) {
			f->head += (size_t)n;
			return 0;
		}
		if (f->head > 0) {
			memmove(f->buf, f->buf + f->head, f->tail - f->head);
			f->tail -= f->head;
			f->head = 0;
		}
		if (poll(&pfd, 1, 2000) != 1)
			return -1;
		r = read(f->fd, f->buf + f->tail, sizeof(f->buf) - f->tail);
		if (r <= 0)
			return -1;
		f->tail += (size_t)r;
	}
}

static void fake_write(struct fake *f, const uint8_t *b, size_t n)
{
	assert_int_equal(write(f->fd, b, n), (ssize_t)n);
}

static uint8_t fake_node_id[GP_ID_LEN] = { 0xaa, 0xbb, 0xcc };

/* The hello, and the NODE the daemon sends with it. */
static void fake_hello(struct fake *f, uint16_t version)
{
	uint8_t b[GP_HDR + 3 + GP_NAME_MAX + GP_HDR + GP_ID_LEN];
	size_t n = gp_hello_encode(b, sizeof(b), version, "nodeA");

	n += gp_node_encode(b + n, sizeof(b) - n, fake_node_id);
	fake_write(f, b, n);
}

static void fake_expect(struct fake *f, uint8_t want)
{
	const uint8_t *pl;
	size_t plen;
	uint8_t type;

	assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
	assert_int_equal(type, want);
}

/* A gate attached over a socketpair; the fake daemon has said hello. */
static struct cloudgate *pair_gate(struct fake *f, uint16_t version,
				   char *err, size_t errsize)
{
	struct cloudgate *g;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(f, 0, sizeof(*f));
	f->fd = sv[1];
	fake_hello(f, version);
	g = cg_new("socketpair", "tester", err, errsize);
	assert_non_null(g);
	if (cg_attach(g, sv[0], err, errsize) < 0) {
		cg_close(g);
		return NULL;
	}
	return g;
}

static void test_cg_hello_announce_packets(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cg_addr a[2] = {
		{ .instance = 7, .len = 1, .plen = 8, .bytes = { 0x0a } },
		{ .instance = 8, .len = 0, .plen = 0 },
	};
	struct cg_packet cp = {
		.instance = 7, .dlen = 1, .slen = 1,
		.dst = (const uint8_t *)"\x0b",
		.src = (const uint8_t *)"\x0a",
		.data = (const uint8_t *)"ping", .len = 4,
	};
	uint8_t b[256], *q = b;
	struct gp_packet gp;
	struct addr out[4];
	struct cloudgate *g;
	const uint8_t *pl;
	char name[GP_NAME_MAX + 1], err[128];
	uint16_t v;
	size_t plen, n;
	uint8_t type;
	int i;

	(void)state;
	g = pair_gate(f, GP_VERSION, err, sizeof(err));
	assert_non_null(g);
	assert_string_equal(g->daemon, "nodeA");
	assert_string_equal(cg_node_name(g), "nodeA");
	assert_memory_equal(cg_node_id(g), fake_node_id, GP_ID_LEN);
	assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
	assert_int_equal(type, GP_HELLO);
	assert_int_equal(gp_hello_decode(pl, plen, &v, name), 0);
	assert_string_equal(name, "tester");

	assert_int_equal(cg_announce(g, a, 2), 0);
	assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
	assert_int_equal(type, GP_ANNOUNCE);
	assert_int_equal(gp_announce_decode(pl, plen, out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].inst, 7);
	assert_int_equal(out[0].b[0], 0x0a);
	assert_int_equal(out[1].len, 0);

	for (i = 0; i < 3; i++)
		assert_int_equal(cg_send(g, &cp), 0);
	assert_int_equal(cg_flush(g), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
		assert_int_equal(type, GP_PACKET);
		assert_int_equal(gp_packet_decode(pl, plen, &gp), 0);
		assert_int_equal(gp.len, 4);
		assert_memory_equal(gp.data, "ping", 4);
	}

	/* nothing there: no wait, then a short wait */
	assert_int_equal(cg_recv(g, &cp, 0), 0);
	assert_int_equal(cg_recv(g, &cp, 30), 0);

	/* packet, keepalive, packet in one write: two packets come out and
	 * the keepalive is answered */
	gp.inst = 7;
	gp.dlen = 1;
	gp.slen = 1;
	gp.dst = (const uint8_t *)"\x0a";
	gp.src = (const uint8_t *)"\x0b";
	gp.data = (const uint8_t *)"one";
	gp.len = 3;
	q += gp_packet_encode(q, sizeof(b) - (size_t)(q - b), &gp);
	q += gp_keepalive_encode(q, sizeof(b) - (size_t)(q - b));
	gp.data = (const uint8_t *)"two";
	q += gp_packet_encode(q, sizeof(b) - (size_t)(q - b), &gp);
	fake_write(f, b, (size_t)(q - b));
	assert_int_equal(cg_recv(g, &cp, 1000), 1);
	assert_int_equal(cp.instance, 7);
	assert_int_equal(cp.slen, 1);
	assert_int_equal(cp.src[0], 0x0b);
	assert_memory_equal(cp.data, "one", 3);
	assert_int_equal(cg_recv(g, &cp, 1000), 1);
	assert_memory_equal(cp.data, "two", 3);
	fake_expect(f, GP_KEEPALIVE);

	/* a partial message stays buffered until its rest arrives */
	n = gp_packet_encode(b, sizeof(b), &gp);
	fake_write(f, b, 5);
	assert_int_equal(cg_recv(g, &cp, 0), 0);
	fake_write(f, b + 5, n - 5);
	assert_int_equal(cg_recv(g, &cp, 1000), 1);
	assert_memory_equal(cp.data, "two", 3);

	/* garbage: an announce from the daemon is not allowed */
	n = gp_announce_encode(b, sizeof(b), out, 1);
	fake_write(f, b, n);
	assert_int_equal(cg_recv(g, &cp, 1000), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(cg_send(g, &cp), -1);
	cg_close(g);
	close(f->fd);
	free(f);
}

static void test_cg_garbage_and_eof(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cloudgate *g;
	struct cg_packet cp;
	char err[128];

	(void)state;
	g = pair_gate(f, GP_VERSION, err, sizeof(err));
	assert_non_null(g);
	fake_write(f, (const uint8_t *)"\x63\x00\x00\x00", 4);
	assert_int_equal(cg_recv(g, &cp, 1000), -1);
	assert_int_equal(errno, EPROTO);
	cg_close(g);
	close(f->fd);

	g = pair_gate(f, GP_VERSION, err, sizeof(err));
	assert_non_null(g);
	close(f->fd);
	assert_int_equal(cg_recv(g, &cp, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	cg_close(g);
	free(f);
}

static void test_cg_version_mismatch(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	char err[160];

	(void)state;
	assert_null(pair_gate(f, GP_VERSION + 1, err, sizeof(err)));
	assert_int_equal(errno, EPROTONOSUPPORT);
	assert_non_null(strstr(err, "version 2"));
	close(f->fd);
	free(f);
}

static void test_cg_queue_full(void **state)
{
	static uint8_t data[CG_PAYLOAD_MAX];
	struct fake *f = malloc(sizeof(*f));
	struct cg_packet cp = { .instance = 1, .data = data,
				.len = sizeof(data) };
	struct cloudgate *g;
	const uint8_t *pl;
	char err[128];
	size_t plen, sent = 0, got = 0;
	uint8_t type;
	int r = 0;

	(void)state;
	g = pair_gate(f, GP_VERSION, err, sizeof(err));
	assert_non_null(g);
	fake_expect(f, GP_HELLO);
	while (sent < 1000 && (r = cg_send(g, &cp)) == 0)
		sent++;
	assert_int_equal(r, -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(sent >= CG_OUTBUF / sizeof(data) - 1);
	assert_int_equal(cg_flush(g), 1);
	while (got < sent) {
		assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
		assert_int_equal(type, GP_PACKET);
		got++;
		if (cg_flush(g) < 0)
			fail();
	}
	assert_int_equal(cg_flush(g), 0);
	cg_close(g);
	close(f->fd);
	free(f);
}

/* Read what is there with recvmsg into the fake's buffer: the descriptor
 * that came with it, or -1. */
static int fake_read_fd(struct fake *f)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = f->buf + f->tail,
			     .iov_len = sizeof(f->buf) - f->tail };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t r;
	int fd = -1;

	assert_int_equal(poll(&pfd, 1, 2000), 1);
	r = recvmsg(f->fd, &mh, MSG_CMSG_CLOEXEC);
	assert_true(r > 0);
	f->tail += (size_t)r;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)));
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		}
	}
	return fd;
}

struct link_log {
	int n;
	int up[4];
	char why[4][GP_WHY_MAX + 1];
	uint8_t id[CG_NODE_ID];
};

static void on_link(void *arg, const struct cg_link_event *ev)
{
	struct link_log *ll = arg;

	assert_true(ll->n < 4);
	ll->up[ll->n] = ev->up;
	snprintf(ll->why[ll->n], sizeof(ll->why[0]), "%s", ev->why);
	memcpy(ll->id, ev->id, CG_NODE_ID);
	ll->n++;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*   gate --SOCKET+fd--> fake --LINK up, LINK down, PACKET--> gate
 *   gate --NOTE, NOTE(forget)--> fake */
static void test_cg_hand_socket_link_note(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct link_log ll = { 0 };
	struct gp_link lk = { .up = 1 };
	struct gp_packet gp = { .inst = 4, .data = (const uint8_t *)"after",
				.len = 5 };
	struct gp_note nt;
	struct cloudgate *g;
	struct cg_packet cp;
	uint8_t id[CG_NODE_ID], got[GP_ID_LEN], b[512], *q = b;
	const uint8_t *pl;
	char err[128];
	size_t plen;
	uint8_t type;
	int us, fd;

	(void)state;
	g = pair_gate(f, GP_VERSION, err, sizeof(err));
	assert_non_null(g);
	fake_expect(f, GP_HELLO);
	cg_on_link(g, on_link, &ll);
	fill_id(id, 0x40);
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(us >= 0);
	assert_int_equal(cg_hand_socket(g, -1, id), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(cg_hand_socket(g, us, id), 0);
	fd = fake_read_fd(f);
	assert_true(fd >= 0);
	assert_true(same_file(fd, us));
	assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
	assert_int_equal(type, GP_SOCKET);
	assert_int_equal(gp_socket_decode(pl, plen, got), 0);
	assert_memory_equal(got, id, GP_ID_LEN);
	close(fd);
	close(us);

	/* LINK events run the callback inside cg_recv, in order */
	memcpy(lk.id, id, GP_ID_LEN);
	q += gp_link_encode(q, sizeof(b), &lk);
	lk.up = 0;
	strcpy(lk.why, "timed out (no data from peer)");
	q += gp_link_encode(q, sizeof(b) - (size_t)(q - b), &lk);
	q += gp_packet_encode(q, sizeof(b) - (size_t)(q - b), &gp);
	fake_write(f, b, (size_t)(q - b));
	assert_int_equal(cg_recv(g, &cp, 1000), 1);
	assert_memory_equal(cp.data, "after", 5);
	assert_int_equal(ll.n, 2);
	assert_int_equal(ll.up[0], 1);
	assert_string_equal(ll.why[0], "");
	assert_int_equal(ll.up[1], 0);
	assert_string_equal(ll.why[1], "timed out (no data from peer)");
	assert_memory_equal(ll.id, id, CG_NODE_ID);

	/* notes: set, forget; bad names and texts never leave */
	assert_int_equal(cg_note(g, id, "B", "direct"), 0);
	assert_int_equal(cg_note(g, id, "B", ""), 0);
	assert_int_equal(cg_note(g, id, "B C", "x"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(cg_note(g, id, "B", "tab\there"), -1);
	assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
	assert_int_equal(type, GP_NOTE);
	assert_int_equal(gp_note_decode(pl, plen, &nt), 0);
	assert_string_equal(nt.name, "B");
	assert_string_equal(nt.text, "direct");
	assert_memory_equal(nt.id, id, GP_ID_LEN);
	assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
	assert_int_equal(gp_note_decode(pl, plen, &nt), 0);
	assert_string_equal(nt.text, "");

	/* a malformed LINK is garbage like any other */
	b[0] = GP_LINK;
	put24(b + 1, 2);
	b[4] = 1;
	b[5] = 0;
	fake_write(f, b, 6);
	assert_int_equal(cg_recv(g, &cp, 1000), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(cg_hand_socket(g, 0, id), -1);
	assert_int_equal(errno, ENOTCONN);
	cg_close(g);
	close(f->fd);
	free(f);
}

/* While packets wait in the queue, no socket is handed (EAGAIN); once
 * they are written, it is. */
static void test_cg_hand_socket_queued(void **state)
{
	static uint8_t data[CG_PAYLOAD_MAX];
	struct fake *f = calloc(1, sizeof(*f));
	struct cg_packet cp = { .instance = 1, .data = data,
				.len = sizeof(data) };
	uint8_t id[CG_NODE_ID] = { 1 };
	struct cloudgate *g;
	const uint8_t *pl;
	char err[128];
	size_t plen, sent = 0;
	uint8_t type;
	int fd = -1;

	(void)state;
	g = pair_gate(f, GP_VERSION, err, sizeof(err));
	assert_non_null(g);
	fake_expect(f, GP_HELLO);
	while (cg_send(g, &cp) == 0)
		sent++;
	assert_int_equal(cg_hand_socket(g, f->fd, id), -1);
	assert_int_equal(errno, EAGAIN);
	while (sent > 0) {
		assert_int_equal(fake_msg(f, &type, &pl, &plen), 0);
		assert_int_equal(type, GP_PACKET);
		sent--;
		assert_true(cg_flush(g) >= 0);
	}
	assert_int_equal(cg_hand_socket(g, f->fd, id), 0);
	fd = fake_read_fd(f);
	assert_true(fd >= 0);
	assert_true(same_file(fd, f->fd));
	fake_expect(f, GP_SOCKET);
	close(fd);
	cg_close(g);
	close(f->fd);
	free(f);
}

/* A daemon that sends no NODE: cg_open goes on after GP_NODE_WAIT_MS
 * with an all-zero ID, and the packet after the hello is kept. */
static void test_cg_no_node(void **state)
{
	struct gp_packet gp = { .inst = 2, .data = (const uint8_t *)"p",
				.len = 1 };
	static const uint8_t zero[CG_NODE_ID];
	struct cloudgate *g;
	struct cg_packet cp;
	char err[128];
	uint8_t b[128];
	size_t n;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	n = gp_hello_encode(b, sizeof(b), GP_VERSION, "old");
	n += gp_packet_encode(b + n, sizeof(b) - n, &gp);
	assert_int_equal(write(sv[1], b, n), (ssize_t)n);
	g = cg_new("socketpair", "tester", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(cg_attach(g, sv[0], err, sizeof(err)), 0);
	assert_memory_equal(cg_node_id(g), zero, CG_NODE_ID);
	assert_int_equal(cg_recv(g, &cp, 1000), 1);
	assert_int_equal(cp.instance, 2);
	cg_close(g);
	close(sv[1]);
}

static void test_cg_open_unreachable(void **state)
{
	char err[200];

	(void)state;
	assert_null(cg_open("/nonexistent/cvgate.sock", "t", err,
			    sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "cannot reach the daemon"));
	assert_null(cg_open("/tmp/x", "bad name", err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

/* The child daemon: two connections; the second must re-announce. */
static int fake_daemon(int lfd)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct gp_packet gp = { .inst = 9, .data = (const uint8_t *)"hi",
				.len = 2 };
	struct addr out[4];
	const uint8_t *pl;
	uint8_t type, b[64];
	size_t plen, n;
	int round;

	for (round = 0; round < 2; round++) {
		f->fd = accept(lfd, NULL, NULL);
		f->head = f->tail = 0;
		if (f->fd < 0)
			return 1;
		fake_hello(f, GP_VERSION);
		if (fake_msg(f, &type, &pl, &plen) < 0 || type != GP_HELLO)
			return 2;
		if (fake_msg(f, &type, &pl, &plen) < 0 ||
		    type != GP_ANNOUNCE ||
		    gp_announce_decode(pl, plen, out, 4, &n) < 0 || n != 1 ||
		    out[0].inst != 9 || out[0].b[0] != 0x0a)
			return 3;
		if (round == 1)
			fake_write(f, b, gp_packet_encode(b, sizeof(b), &gp));
		close(f->fd);
	}
	free(f);
	return 0;
}

static void test_cg_reconnect(void **state)
{
	struct cg_addr a = { .instance = 9, .len = 1, .plen = 8,
			     .bytes = { 0x0a } };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cloudgate *g;
	struct cg_packet cp;
	char err[200];
	int lfd, st;
	pid_t pid;

	(void)state;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/cvgate-test-%d.sock",
		 (int)getpid());
	unlink(sun.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fake_daemon(lfd));
	close(lfd);
	g = cg_open(sun.sun_path, "re", err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(cg_announce(g, &a, 1), 0);
	assert_int_equal(cg_recv(g, &cp, 2000), -1);	/* daemon closed */
	assert_int_equal(cg_reconnect(g), 0);
	assert_int_equal(cg_recv(g, &cp, 2000), 1);
	assert_int_equal(cp.instance, 9);
	assert_memory_equal(cp.data, "hi", 2);
	cg_close(g);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(sun.sun_path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_malformed),
		cmocka_unit_test(test_announce_roundtrip),
		cmocka_unit_test(test_announce_malformed),
		cmocka_unit_test(test_packet_roundtrip),
		cmocka_unit_test(test_packet_malformed),
		cmocka_unit_test(test_deframer),
		cmocka_unit_test(test_node_socket),
		cmocka_unit_test(test_link_msg),
		cmocka_unit_test(test_note_msg),
		cmocka_unit_test(test_subscribe_msg),
		cmocka_unit_test(test_noroute_msg),
		cmocka_unit_test(test_prefix_roundtrip),
		cmocka_unit_test(test_prefix_encode_bad),
		cmocka_unit_test(test_prefix_malformed),
		cmocka_unit_test(test_parse_hex),
		cmocka_unit_test(test_cg_hello_announce_packets),
		cmocka_unit_test(test_cg_garbage_and_eof),
		cmocka_unit_test(test_cg_version_mismatch),
		cmocka_unit_test(test_cg_queue_full),
		cmocka_unit_test(test_cg_hand_socket_link_note),
		cmocka_unit_test(test_cg_hand_socket_queued),
		cmocka_unit_test(test_cg_no_node),
		cmocka_unit_test(test_cg_open_unreachable),
		cmocka_unit_test(test_cg_reconnect),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
