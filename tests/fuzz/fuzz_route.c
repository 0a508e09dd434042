/*
 * Fuzz the FR_ROUTE and FR_SEQREQ decoders, and feed what decodes into a
 * small route table with two peers so route_recv() and the selection
 * logic see hostile input.
 *
 * Input: a sequence of records, u8 op, u16 len, len bytes.
 *   op % 7 == 0, 1: FR_ROUTE payload from peer 1 or 2
 *   op % 7 == 2, 3: FR_SEQREQ payload from peer 1 or 2
 *   op % 7 == 4:    peer (op >> 3 & 1) + 1 goes down and up, cost = len,
 *                   and pulls its full table in chunks of len % 16 + 1
 *   op % 7 == 5:    the payload's decoded prefixes become gate 1's set
 *   op % 7 == 6:    len ms pass, deferred work runs (route_tick)
 * Whatever decodes is re-encoded and must give the same bytes back. A
 * signature is good if its first byte is the origin ID's first byte, so
 * both the refused and the accepted paths see hostile input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "route.h"

#define FUZZ_MAX_UPD 256

static void fuzz_updates(void *ctx, uint32_t peer, const struct route_update *u,
			 size_t n)
{
	(void)ctx;
	(void)peer;
	if (n == 0 || u == NULL)
		abort();
}

static void fuzz_seqreq(void *ctx, uint32_t peer, const struct route_seqreq *r)
{
	(void)ctx;
	(void)r;
	if (peer != 1 && peer != 2)
		abort();
}

static uint64_t fuzz_clock;

static int fuzz_verify(void *ctx, uint32_t peer, const struct route_update *u)
{
	(void)ctx;
	(void)peer;
	return u->siglen > 0 && u->sig[0] == u->origin.b[0] ? 0 : -1;
}

static int fuzz_sign(void *ctx, struct route_update *u)
{
	(void)ctx;
	u->sig[0] = u->origin.b[0];
	u->siglen = 1;
	return u->prefix.inst == 0xdead ? -1 : 0;	/* "not granted" */
}

static uint64_t fuzz_now(void *ctx)
{
	(void)ctx;
	return fuzz_clock;
}

static void fuzz_arm(void *ctx, uint64_t ms)
{
	(void)ctx;
	(void)ms;
}

/* A weak stand-in for the chains' SHA-256 (FNV-1a, twice): the fuzzer
 * may then find values that link, and reach that code. */
static int fuzz_hash(void *ctx, const uint8_t *data, size_t len,
		     uint8_t out[ROUTE_CHAIN_HASH])
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	memset(out, 0, ROUTE_CHAIN_HASH);
	memcpy(out, &h, sizeof(h) < ROUTE_CHAIN_HASH ? sizeof(h) :
						    ROUTE_CHAIN_HASH);
	return 0;
}

static void check_roundtrip(const uint8_t *p, size_t len,
			    const struct route_update *u, size_t n)
{
	static uint8_t out[FUZZ_MAX_UPD *
			   (ROUTE_ENTRY_FIXED + ADDR_MAX + ROUTE_SIG_MAX)];
	size_t used, olen;

	olen = route_encode(u, n, out, sizeof(out), &used);
	if (used != n || olen != len || memcmp(out, p, len) != 0)
		abort();
}

static void op_route(struct route_table *rt, uint32_t peer, const uint8_t *p,
		     size_t len)
{
	static struct route_update u[FUZZ_MAX_UPD];
	size_t n;

	if (route_decode(p, len, u, FUZZ_MAX_UPD, &n) < 0)
		return;
	check_roundtrip(p, len, u, n);
	if (route_recv(rt, peer, u, n) < 0)
		abort();
}

static void op_seqreq(struct route_table *rt, uint32_t peer, const uint8_t *p,
		      size_t len)
{
	struct route_seqreq r;
	uint8_t out[512];

	if (route_seqreq_decode(p, len, &r) < 0)
		return;
	if (route_seqreq_encode(&r, out, sizeof(out)) != len ||
	    memcmp(out, p, len) != 0)
		abort();
	route_recv_seqreq(rt, peer, &r);
}

static void op_local(struct route_table *rt, const uint8_t *p, size_t len)
{
	static struct route_update u[FUZZ_MAX_UPD];
	struct addr a[FUZZ_MAX_UPD];
	size_t n, i;

	if (route_decode(p, len, u, FUZZ_MAX_UPD, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		a[i] = u[i].prefix;
	if (route_local_set(rt, 1, a, n) < 0)
		abort();	/* decoded prefixes are valid */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_conf conf = { .max_remote_routes = 8, .max_hops = 16,
				   .hop_cost = 10, .max_origin_routes = 5 };
	struct route_ops ops = { NULL, fuzz_updates, fuzz_seqreq, fuzz_verify,
				 fuzz_sign, fuzz_now, fuzz_arm, fuzz_hash };
	struct node_id self;
	struct route_table *rt;
	struct route_nh nh;
	uint32_t peer;
	size_t len;
	uint8_t op;

	memset(&self, 0, sizeof(self));
	self.b[0] = 0x42;
	fuzz_clock = 1000;
	rt = route_new(&self, &conf, &ops);
	if (rt == NULL)
		return 0;
	route_peer_up(rt, 1, 5);
	route_peer_up(rt, 2, 7);
	while (route_sync(rt, 1, 3) || route_sync(rt, 2, 3))
		;
	while (size >= 3) {
		op = data[0];
		len = get16(data + 1);
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		peer = (uint32_t)(op >> 3 & 1) + 1;
		switch (op % 7) {
		case 0:
		case 1:
			op_route(rt, peer, data, len);
			break;
		case 2:
		case 3:
			op_seqreq(rt, peer, data, len);
			break;
		case 4:
			route_peer_down(rt, peer);
			route_peer_up(rt, peer, (uint32_t)len);
			while (route_sync(rt, peer, len % 16 + 1))
				;
			break;
		case 5:
			op_local(rt, data, len);
			break;
		default:
			fuzz_clock += len;
			route_tick(rt);
			break;
		}
		if (len >= 6)
			route_lookup(rt, data[0], data, 6, &nh);
		data += len;
		size -= len;
	}
	route_free(rt);
	return 0;
}
