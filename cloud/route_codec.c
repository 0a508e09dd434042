/*
 * The wire codec of FR_ROUTE and FR_SEQREQ payloads, and the bytes an
 * origin signs (doc/PROTOCOL.md 2.4). Decoders check every length before
 * they read.
 */
#include <string.h>

#include "bytes.h"
#include "route.h"

#define ROUTE_SEQREQ_FIXED (4 + 1 + 2 + NODE_ID_LEN + 2 + 1)
#define ROUTE_PROOF_FIXED (NODE_ID_LEN + 2 + ROUTE_CHAIN_HASH + 1)
#define ROUTE_SIG_CONTEXT "cloudvpn route 2"	/* 16 bytes, no NUL */
#define ROUTE_CHAIN_CONTEXT "cloudvpn chain 1"	/* 16 bytes, no NUL */

/* inst, len, plen, bytes of a; returns bytes written. */
static size_t put_addr(uint8_t *b, const struct addr *a)
{
	uint8_t len = a->len > ADDR_MAX ? ADDR_MAX : a->len;
	uint16_t plen = a->plen > len * 8 ? (uint16_t)(len * 8) : a->plen;

	put32(b, a->inst);
	b[4] = len;
	put16(b + 5, plen);
	memcpy(b + 7, a->b, len);
	return 7 + (size_t)len;
}

/* Reads an address at b (avail bytes); returns bytes read or 0. */
static size_t get_addr(const uint8_t *b, size_t avail, struct addr *a)
{
	if (avail < 7)
		return 0;
	memset(a, 0, sizeof(*a));
	a->inst = get32(b);
	a->len = b[4];
	a->plen = get16(b + 5);
	if (a->len > ADDR_MAX || a->plen > a->len * 8 ||
	    avail - 7 < a->len)
		return 0;
	memcpy(a->b, b + 7, a->len);
	return 7 + (size_t)a->len;
}

size_t route_sig_data(const struct route_update *u,
		      uint8_t buf[ROUTE_SIG_DATA_MAX])
{
	size_t n = sizeof(ROUTE_SIG_CONTEXT) - 1;

	memcpy(buf, ROUTE_SIG_CONTEXT, n);
	n += put_addr(buf + n, &u->prefix);
	memcpy(buf + n, u->origin.b, NODE_ID_LEN);
	n += NODE_ID_LEN;
	put16(buf + n, u->seqno);
	put16(buf + n + 2, u->cbase);
	memcpy(buf + n + 4, u->chain, ROUTE_CHAIN_HASH);
	return n + 4 + ROUTE_CHAIN_HASH;
}

size_t route_chain_data(const struct addr *prefix,
			const struct node_id *origin, uint16_t cbase,
			uint8_t buf[ROUTE_CHAIN_DATA_MAX])
{
	size_t n = sizeof(ROUTE_CHAIN_CONTEXT) - 1;

	memcpy(buf, ROUTE_CHAIN_CONTEXT, n);
	n += put_addr(buf + n, prefix);
	memcpy(buf + n, origin->b, NODE_ID_LEN);
	n += NODE_ID_LEN;
	put16(buf + n, cbase);
	return n + 2;
}

static size_t sig_len(const struct route_update *u)
{
	return u->siglen > ROUTE_SIG_MAX ? ROUTE_SIG_MAX : u->siglen;
}

static size_t entry_len(const struct route_update *u)
{
	size_t len = u->prefix.len > ADDR_MAX ? ADDR_MAX : u->prefix.len;

	return ROUTE_ENTRY_FIXED + len + sig_len(u);
}

size_t route_encode(const struct route_update *u, size_t n, uint8_t *buf,
		    size_t cap, size_t *used)
{
	size_t i, off = 0, need, sig;
	uint8_t *b;

	for (i = 0; i < n; i++) {
		need = entry_len(&u[i]);
		if (cap - off < need)
			break;
		b = buf + off;
		b[0] = 0;	/* flags */
		b += 1 + put_addr(b + 1, &u[i].prefix);
		memcpy(b, u[i].origin.b, NODE_ID_LEN);
		b += NODE_ID_LEN;
		put16(b, u[i].seqno);
		put32(b + 2, u[i].metric);
		b[6] = u[i].hops;
		put16(b + 7, u[i].cbase);
		memcpy(b + 9, u[i].chain, ROUTE_CHAIN_HASH);
		b += 9 + ROUTE_CHAIN_HASH;
		sig = sig_len(&u[i]);
		b[0] = (uint8_t)sig;
		memcpy(b + 1, u[i].sig, sig);
		off += need;
	}
	*used = i;
	return off;
}

/* One entry at b (avail bytes) into u; its length, or 0 if malformed. */
static size_t decode_one(const uint8_t *b, size_t avail,
			 struct route_update *u)
{
	size_t a, need;

	if (avail < ROUTE_ENTRY_FIXED || b[0] != 0)
		return 0;
	a = get_addr(b + 1, avail - 1, &u->prefix);
	if (a == 0 || avail < ROUTE_ENTRY_FIXED + (size_t)u->prefix.len)
		return 0;
	b += 1 + a;
	memcpy(u->origin.b, b, NODE_ID_LEN);
	b += NODE_ID_LEN;
	u->seqno = get16(b);
	u->metric = get32(b + 2);
	u->hops = b[6];
	u->cbase = get16(b + 7);
	memcpy(u->chain, b + 9, ROUTE_CHAIN_HASH);
	b += 9 + ROUTE_CHAIN_HASH;
	u->siglen = b[0];
	need = ROUTE_ENTRY_FIXED + (size_t)u->prefix.len + u->siglen;
	if (u->siglen > ROUTE_SIG_MAX || avail < need)
		return 0;
	memcpy(u->sig, b + 1, u->siglen);
	return need;
}

int route_decode(const uint8_t *buf, size_t len, struct route_update *out,
		 size_t max, size_t *n)
{
	size_t off = 0, k = 0, used;

	while (off < len) {
		if (k >= max)
			return -1;
		used = decode_one(buf + off, len - off, &out[k]);
		if (used == 0)
			return -1;
		off += used;
		k++;
	}
	*n = k;
	return 0;
}

size_t route_seqreq_encode(const struct route_seqreq *r, uint8_t *buf,
			   size_t cap)
{
	size_t len = r->prefix.len > ADDR_MAX ? ADDR_MAX : r->prefix.len;
	size_t sig = r->psiglen > ROUTE_SIG_MAX ? ROUTE_SIG_MAX : r->psiglen;
	size_t proof = sig ? ROUTE_PROOF_FIXED + sig : 0;
	uint8_t *b;

	if (cap < ROUTE_SEQREQ_FIXED + len + proof)
		return 0;
	b = buf + put_addr(buf, &r->prefix);
	memcpy(b, r->origin.b, NODE_ID_LEN);
	b += NODE_ID_LEN;
	put16(b, r->seqno);
	b[2] = r->hop_count;
	if (proof) {
		b += 3;
		memcpy(b, r->porigin.b, NODE_ID_LEN);
		b += NODE_ID_LEN;
		put16(b, r->pcbase);
		memcpy(b + 2, r->pchain, ROUTE_CHAIN_HASH);
		b += 2 + ROUTE_CHAIN_HASH;
		b[0] = (uint8_t)sig;
		memcpy(b + 1, r->psig, sig);
	}
	return ROUTE_SEQREQ_FIXED + len + proof;
}

/* The optional proof at b (len bytes): porigin, u16 cbase, chain value,
 * u8 siglen, sig, and nothing after. */
static int get_proof(const uint8_t *b, size_t len, struct route_seqreq *r)
{
	const uint8_t *s = b + ROUTE_PROOF_FIXED - 1;	/* siglen */

	memset(&r->porigin, 0, sizeof(r->porigin));
	r->pcbase = 0;
	memset(r->pchain, 0, sizeof(r->pchain));
	r->psiglen = 0;
	if (len == 0)
		return 0;
	if (len < ROUTE_PROOF_FIXED || s[0] == 0 || s[0] > ROUTE_SIG_MAX ||
	    len != ROUTE_PROOF_FIXED + (size_t)s[0])
		return -1;
	memcpy(r->porigin.b, b, NODE_ID_LEN);
	r->pcbase = get16(b + NODE_ID_LEN);
	memcpy(r->pchain, b + NODE_ID_LEN + 2, ROUTE_CHAIN_HASH);
	r->psiglen = s[0];
	memcpy(r->psig, s + 1, r->psiglen);
	return 0;
}

int route_seqreq_decode(const uint8_t *buf, size_t len,
			struct route_seqreq *r)
{
	size_t a;
	const uint8_t *b;

	a = get_addr(buf, len, &r->prefix);
	if (a == 0 || len < ROUTE_SEQREQ_FIXED + (size_t)r->prefix.len)
		return -1;
	b = buf + a;
	memcpy(r->origin.b, b, NODE_ID_LEN);
	b += NODE_ID_LEN;
	r->seqno = get16(b);
	r->hop_count = b[2];
	return get_proof(b + 3, len - ROUTE_SEQREQ_FIXED - r->prefix.len, r);
}
