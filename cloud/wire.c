/* The link frame codec. Every decoder checks lengths before it reads. */
#include <string.h>

#include "bytes.h"
#include "wire.h"

int wire_frame(const uint8_t *buf, size_t len, size_t max, uint8_t *type,
	       size_t *plen)
{
	if (len < FRAME_HDR)
		return 0;
	*type = buf[0];
	*plen = get24(buf + 1);
	return *plen > max ? -1 : 1;
}

void wire_put_hdr(uint8_t *buf, uint8_t type, size_t plen)
{
	buf[0] = type;
	put24(buf + 1, (uint32_t)plen);
}

size_t wire_hello_encode(const struct wire_hello *h, uint8_t *buf,
			 size_t cap)
{
	size_t nl = strnlen(h->name, NODE_NAME_MAX);
	size_t n = 2 + 4 + NODE_ID_LEN + 1 + nl;

	if (cap < n)
		return 0;
	put16(buf, h->version);
	put32(buf + 2, h->caps);
	memcpy(buf + 6, h->id.b, NODE_ID_LEN);
	buf[6 + NODE_ID_LEN] = (uint8_t)nl;
	memcpy(buf + 7 + NODE_ID_LEN, h->name, nl);
	return n;
}

int wire_hello_decode(const uint8_t *p, size_t len, struct wire_hello *h)
{
	size_t nl, i;

	if (len < 2 + 4 + NODE_ID_LEN + 1)
		return -1;
	nl = p[6 + NODE_ID_LEN];
	if (nl > NODE_NAME_MAX || len != 7 + NODE_ID_LEN + nl)
		return -1;
	h->version = get16(p);
	h->caps = get32(p + 2);
	memcpy(h->id.b, p + 6, NODE_ID_LEN);
	for (i = 0; i < nl; i++) {
		uint8_t ch = p[7 + NODE_ID_LEN + i];

		/* names end up in logs and the status file: keep them tame */
		h->name[i] = (ch > 0x20 && ch < 0x7f && ch != '=') ? (char)ch
								    : '_';
	}
	h->name[nl] = '\0';
	return 0;
}

size_t wire_data_hdr(const struct pkt *p, uint8_t *buf)
{
	int bc = p->dlen == 0, flow = !bc && p->flow;
	uint8_t *q = buf + FRAME_HDR;
	size_t hl = wire_data_fixed(p) + (bc ? WIRE_DATA_BC : 0) + p->dlen +
		    p->slen;

	wire_put_hdr(buf, FR_DATA, hl + p->len);
	q[0] = p->ttl;
	q[1] = (bc ? WIRE_DATA_BROADCAST : 0) |
	       (p->flags & PKT_OFFLOAD ? WIRE_DATA_OFFLOAD : 0) |
	       (flow ? WIRE_DATA_FLOW : 0);
	put32(q + 2, p->inst);
	q[6] = p->dlen;
	q[7] = p->slen;
	q += WIRE_DATA_FIXED;
	if (flow) {
		put32(q, p->flow);
		q += WIRE_DATA_FLOWLEN;
	}
	if (bc) {
		put64(q, p->bc_origin);
		put32(q + 8, p->bc_seq);
		q += WIRE_DATA_BC;
	}
	if (p->dlen)
		memcpy(q, p->dst, p->dlen);
	if (p->slen)
		memcpy(q + p->dlen, p->src, p->slen);
	return FRAME_HDR + hl;
}

int wire_data_decode(const uint8_t *p, size_t len, struct pkt *out)
{
	size_t off = WIRE_DATA_FIXED;
	int bc;

	if (len < WIRE_DATA_FIXED)
		return -1;
	out->ttl = p[0];
	bc = p[1] & WIRE_DATA_BROADCAST;
	if (p[1] & ~(WIRE_DATA_BROADCAST | WIRE_DATA_OFFLOAD |
		     WIRE_DATA_FLOW))
		return -1;
	out->flags = p[1] & WIRE_DATA_OFFLOAD ? PKT_OFFLOAD : 0;
	out->inst = get32(p + 2);
	out->dlen = p[6];
	out->slen = p[7];
	out->flow = 0;
	if (bc != (out->dlen == 0))
		return -1;
	if (p[1] & WIRE_DATA_FLOW) {
		if (bc || len < off + WIRE_DATA_FLOWLEN)
			return -1;
		out->flow = get32(p + off);
		off += WIRE_DATA_FLOWLEN;
		if (!out->flow)
			return -1;	/* one encoding per packet */
	}
	if (bc) {
		if (len < off + WIRE_DATA_BC)
			return -1;
		out->bc_origin = get64(p + off);
		out->bc_seq = get32(p + off + 8);
		off += WIRE_DATA_BC;
	}
	if (len < off + out->dlen + out->slen)
		return -1;
	out->dst = p + off;
	out->src = p + off + out->dlen;
	off += out->dlen + out->slen;
	out->data = p + off;
	out->len = len - off;
	return 0;
}

int wire_dgram_decode(const uint8_t *p, size_t len, struct wire_dgram *d)
{
	if (len < 1)
		return -1;
	d->type = p[0];
	d->body = p + 1;
	d->len = len - 1;
	d->size = 0;
	switch (d->type) {
	case FR_DATA:
	case DG_REL:
	case DG_FRAG:
		return 0;
	case DG_REKEY:
		return d->len == 0 ? 0 : -1;
	case DG_PROBE:
	case DG_PROBE_ACK:
		if (d->len < 2)
			return -1;
		d->size = get16(d->body);
		return 0;
	}
	return -1;
}
