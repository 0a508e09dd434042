/* The gate protocol codec, shared by libcloudgate and the daemon. */
#include <string.h>

#include "bytes.h"
#include "gateproto.h"

static size_t gp_type_max(uint8_t type)
{
	switch (type) {
	case GP_HELLO:
		return GP_HELLO_MAX;
	case GP_ANNOUNCE:
		return GP_ANNOUNCE_BYTES;
	case GP_PACKET:
	case GP_OFFLOAD:
		return GP_PACKET_BYTES;
	case GP_FPACKET:
	case GP_FOFFLOAD:
		return 4 + GP_PACKET_BYTES;
	case GP_KEEPALIVE:
		return 0;
	case GP_CAPS:
		return 4;
	case GP_NODE:
	case GP_SOCKET:
		return GP_ID_LEN;
	case GP_LINK:
		return GP_LINK_BYTES;
	case GP_NOTE:
		return GP_NOTE_BYTES;
	case GP_SUBSCRIBE:
		return 4;
	case GP_PREFIX:
		return GP_PREFIX_BYTES;
	case GP_NOROUTE:
		return GP_NOROUTE_BYTES;
	default:
		return (size_t)-1;	/* unknown */
	}
}

long gp_frame(const uint8_t *buf, size_t len, uint8_t *type,
	      const uint8_t **payload, size_t *plen)
{
	size_t max, n;

	if (len < 1)
		return 0;
	max = gp_type_max(buf[0]);
	if (max == (size_t)-1)
		return -1;
	if (len < GP_HDR)
		return 0;
	n = get24(buf + 1);
	if (n > max)
		return -1;
	if (len - GP_HDR < n)
		return 0;
	*type = buf[0];
	*payload = buf + GP_HDR;
	*plen = n;
	return (long)(GP_HDR + n);
}

static void gp_hdr(uint8_t *buf, uint8_t type, size_t plen)
{
	buf[0] = type;
	put24(buf + 1, (uint32_t)plen);
}

/* At most max bytes, each in lo..0x7e. */
static int gp_chars_valid(const char *s, size_t len, size_t max, char lo)
{
	size_t i;

	if (len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < lo || s[i] > 0x7e)
			return 0;
	return 1;
}

int gp_name_valid(const char *name, size_t len)
{
	return gp_chars_valid(name, len, GP_NAME_MAX, 0x21);
}

size_t gp_hello_encode(uint8_t *buf, size_t cap, uint16_t version,
		       const char *name)
{
	size_t nlen = strlen(name), plen = 2 + 1 + nlen;

	if (!gp_name_valid(name, nlen) || cap < GP_HDR + plen)
		return 0;
	gp_hdr(buf, GP_HELLO, plen);
	put16(buf + GP_HDR, version);
	buf[GP_HDR + 2] = (uint8_t)nlen;
	memcpy(buf + GP_HDR + 3, name, nlen);
	return GP_HDR + plen;
}

int gp_hello_decode(const uint8_t *buf, size_t len, uint16_t *version,
		    char *name)
{
	size_t nlen;

	if (len < 3)
		goto bad;
	*version = get16(buf);
	nlen = buf[2];
	if (len != 3 + nlen || !gp_name_valid((const char *)buf + 3, nlen))
		goto bad;
	memcpy(name, buf + 3, nlen);
	name[nlen] = '\0';
	return 0;
bad:
	if (len >= 2)
		*version = get16(buf);
	return -1;
}

int gp_addr_valid(const struct addr *a)
{
	return a->len <= GP_ADDR_MAX && a->plen <= a->len * 8;
}

/* An address as ANNOUNCE and PREFIX carry it: u32 instance, u8 len, u16
 * plen, bytes. p has room for it; returns its size. */
static size_t gp_addr_put(uint8_t *p, const struct addr *a)
{
	put32(p, a->inst);
	p[4] = a->len;
	put16(p + 5, a->plen);
	memcpy(p + GP_ANNOUNCE_ENTRY, a->b, a->len);
	return GP_ANNOUNCE_ENTRY + a->len;
}

size_t gp_announce_encode(uint8_t *buf, size_t cap, const struct addr *a,
			  size_t n)
{
	size_t i, off = GP_HDR + 2;

	if (n > GP_ANNOUNCE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!gp_addr_valid(&a[i]) || cap < off ||
		    cap - off < GP_ANNOUNCE_ENTRY + (size_t)a[i].len)
			return 0;
		off += gp_addr_put(buf + off, &a[i]);
	}
	if (cap < off)
		return 0;
	gp_hdr(buf, GP_ANNOUNCE, off - GP_HDR);
	put16(buf + GP_HDR, (uint16_t)n);
	return off;
}

/* Clear the bits past plen, as addr_mask does, without needing addr.c. */
static void gp_addr_clear_host(struct addr *a)
{
	unsigned i = a->plen / 8, rest = a->plen % 8;

	if (rest != 0)
		a->b[i++] &= (uint8_t)(0xff << (8 - rest));
	for (; i < ADDR_MAX; i++)
		a->b[i] = 0;
}

/* The address at *off, moving off past it; -1 unless it fits len and is
 * valid. Bits past plen are cleared. */
static int gp_addr_get(const uint8_t *buf, size_t len, size_t *off,
		       struct addr *a)
{
	if (len - *off < GP_ANNOUNCE_ENTRY)
		return -1;
	memset(a, 0, sizeof(*a));
	a->inst = get32(buf + *off);
	a->len = buf[*off + 4];
	a->plen = get16(buf + *off + 5);
	*off += GP_ANNOUNCE_ENTRY;
	if (!gp_addr_valid(a) || len - *off < a->len)
		return -1;
	memcpy(a->b, buf + *off, a->len);
	*off += a->len;
	gp_addr_clear_host(a);
	return 0;
}

int gp_announce_decode(const uint8_t *buf, size_t len, struct addr *out,
		       size_t max, size_t *n)
{
	size_t i, count, off = 2;

	if (len < 2)
		return -1;
	count = get16(buf);
	if (count > GP_ANNOUNCE_MAX || count > max)
		return -1;
	for (i = 0; i < count; i++)
		if (gp_addr_get(buf, len, &off, &out[i]) < 0)
			return -1;
	if (off != len)
		return -1;
	*n = count;
	return 0;
}

static uint8_t gp_packet_type(const struct gp_packet *p)
{
	if (p->has_flow)
		return p->offload ? GP_FOFFLOAD : GP_FPACKET;
	return p->offload ? GP_OFFLOAD : GP_PACKET;
}

size_t gp_packet_encode(uint8_t *buf, size_t cap, const struct gp_packet *p)
{
	size_t fl = p->has_flow ? 4 : 0;
	size_t plen = fl + GP_PACKET_FIXED + p->dlen + p->slen + p->len;
	uint8_t *q = buf + GP_HDR + fl + GP_PACKET_FIXED;

	if (p->dlen > GP_ADDR_MAX || p->slen > GP_ADDR_MAX ||
	    p->len > GP_PAYLOAD_MAX || cap < GP_HDR + plen)
		return 0;
	gp_hdr(buf, gp_packet_type(p), plen);
	if (fl)
		put32(buf + GP_HDR, p->flow);
	buf += fl;
	put32(buf + GP_HDR, p->inst);
	buf[GP_HDR + 4] = p->dlen;
	buf[GP_HDR + 5] = p->slen;
	if (p->dlen)
		memcpy(q, p->dst, p->dlen);
	q += p->dlen;
	if (p->slen)
		memcpy(q, p->src, p->slen);
	q += p->slen;
	if (p->len)
		memcpy(q, p->data, p->len);
	return GP_HDR + plen;
}

int gp_fpacket_decode(const uint8_t *buf, size_t len, struct gp_packet *p)
{
	if (len < 4 || gp_packet_decode(buf + 4, len - 4, p) < 0)
		return -1;
	p->has_flow = 1;
	p->flow = get32(buf);
	return 0;
}

int gp_packet_decode(const uint8_t *buf, size_t len, struct gp_packet *p)
{
	size_t off = GP_PACKET_FIXED;

	p->offload = 0;		/* the caller knows the message type */
	p->has_flow = 0;
	p->flow = 0;
	if (len < GP_PACKET_FIXED)
		return -1;
	p->inst = get32(buf);
	p->dlen = buf[4];
	p->slen = buf[5];
	if (p->dlen > GP_ADDR_MAX || p->slen > GP_ADDR_MAX ||
	    len - off < (size_t)p->dlen + p->slen)
		return -1;
	p->dst = buf + off;
	off += p->dlen;
	p->src = buf + off;
	off += p->slen;
	p->data = buf + off;
	p->len = len - off;
	if (p->len > GP_PAYLOAD_MAX)
		return -1;
	return 0;
}

size_t gp_keepalive_encode(uint8_t *buf, size_t cap)
{
	if (cap < GP_HDR)
		return 0;
	gp_hdr(buf, GP_KEEPALIVE, 0);
	return GP_HDR;
}

/* CAPS and SUBSCRIBE carry one u32 and nothing else. */
static size_t gp_u32_encode(uint8_t *buf, size_t cap, uint8_t type,
			    uint32_t v)
{
	if (cap < GP_HDR + 4)
		return 0;
	gp_hdr(buf, type, 4);
	put32(buf + GP_HDR, v);
	return GP_HDR + 4;
}

static int gp_u32_decode(const uint8_t *buf, size_t len, uint32_t *v)
{
	if (len != 4)
		return -1;
	*v = get32(buf);
	return 0;
}

size_t gp_caps_encode(uint8_t *buf, size_t cap, uint32_t caps)
{
	return gp_u32_encode(buf, cap, GP_CAPS, caps);
}

int gp_caps_decode(const uint8_t *buf, size_t len, uint32_t *caps)
{
	return gp_u32_decode(buf, len, caps);
}

static size_t gp_id_encode(uint8_t *buf, size_t cap, uint8_t type,
			   const uint8_t *id)
{
	if (cap < GP_HDR + GP_ID_LEN)
		return 0;
	gp_hdr(buf, type, GP_ID_LEN);
	memcpy(buf + GP_HDR, id, GP_ID_LEN);
	return GP_HDR + GP_ID_LEN;
}

static int gp_id_decode(const uint8_t *buf, size_t len, uint8_t *id)
{
	if (len != GP_ID_LEN)
		return -1;
	memcpy(id, buf, GP_ID_LEN);
	return 0;
}

size_t gp_node_encode(uint8_t *buf, size_t cap, const uint8_t *id)
{
	return gp_id_encode(buf, cap, GP_NODE, id);
}

int gp_node_decode(const uint8_t *buf, size_t len, uint8_t *id)
{
	return gp_id_decode(buf, len, id);
}

size_t gp_socket_encode(uint8_t *buf, size_t cap, const uint8_t *id)
{
	return gp_id_encode(buf, cap, GP_SOCKET, id);
}

int gp_socket_decode(const uint8_t *buf, size_t len, uint8_t *id)
{
	return gp_id_decode(buf, len, id);
}

int gp_text_valid(const char *s, size_t len, size_t max)
{
	return gp_chars_valid(s, len, max, 0x20);
}

/* u8 length, then the bytes; off moves past them. -1 unless they fit
 * len and the check passes. out gets a NUL-terminated copy. */
static int gp_get_str(const uint8_t *buf, size_t len, size_t *off,
		      char *out, int (*ok)(const char *, size_t))
{
	size_t n;

	if (len - *off < 1)
		return -1;
	n = buf[(*off)++];
	if (len - *off < n || !ok((const char *)buf + *off, n))
		return -1;
	memcpy(out, buf + *off, n);
	out[n] = '\0';
	*off += n;
	return 0;
}

static uint8_t *gp_put_str(uint8_t *p, const char *s, size_t n)
{
	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

static int gp_why_ok(const char *s, size_t n)
{
	return gp_text_valid(s, n, GP_WHY_MAX);
}

static int gp_note_text_ok(const char *s, size_t n)
{
	return gp_text_valid(s, n, GP_TEXT_MAX);
}

size_t gp_link_encode(uint8_t *buf, size_t cap, const struct gp_link *l)
{
	size_t wlen = strnlen(l->why, sizeof(l->why));
	size_t plen = 1 + GP_ID_LEN + 1 + wlen;

	if ((l->up != 0 && l->up != 1) || !gp_why_ok(l->why, wlen) ||
	    cap < GP_HDR + plen)
		return 0;
	gp_hdr(buf, GP_LINK, plen);
	buf[GP_HDR] = (uint8_t)l->up;
	memcpy(buf + GP_HDR + 1, l->id, GP_ID_LEN);
	gp_put_str(buf + GP_HDR + 1 + GP_ID_LEN, l->why, wlen);
	return GP_HDR + plen;
}

int gp_link_decode(const uint8_t *buf, size_t len, struct gp_link *l)
{
	size_t off = 1 + GP_ID_LEN;

	if (len < off || buf[0] > 1 ||
	    gp_get_str(buf, len, &off, l->why, gp_why_ok) < 0 || off != len)
		return -1;
	l->up = buf[0];
	memcpy(l->id, buf + 1, GP_ID_LEN);
	return 0;
}

size_t gp_note_encode(uint8_t *buf, size_t cap, const struct gp_note *n)
{
	size_t nlen = strnlen(n->name, sizeof(n->name));
	size_t tlen = strnlen(n->text, sizeof(n->text));
	size_t plen = GP_ID_LEN + 1 + nlen + 1 + tlen;
	uint8_t *p = buf + GP_HDR + GP_ID_LEN;

	if (!gp_name_valid(n->name, nlen) || !gp_note_text_ok(n->text, tlen) ||
	    cap < GP_HDR + plen)
		return 0;
	gp_hdr(buf, GP_NOTE, plen);
	memcpy(buf + GP_HDR, n->id, GP_ID_LEN);
	p = gp_put_str(p, n->name, nlen);
	gp_put_str(p, n->text, tlen);
	return GP_HDR + plen;
}

int gp_note_decode(const uint8_t *buf, size_t len, struct gp_note *n)
{
	size_t off = GP_ID_LEN;

	if (len < off ||
	    gp_get_str(buf, len, &off, n->name, gp_name_valid) < 0 ||
	    gp_get_str(buf, len, &off, n->text, gp_note_text_ok) < 0 ||
	    off != len)
		return -1;
	memcpy(n->id, buf, GP_ID_LEN);
	return 0;
}

size_t gp_noroute_encode(uint8_t *buf, size_t cap,
			 const struct gp_noroute *n)
{
	size_t plen = 4 + 1 + (size_t)n->dlen;

	if (n->dlen == 0 || n->dlen > GP_ADDR_MAX || cap < GP_HDR + plen)
		return 0;
	gp_hdr(buf, GP_NOROUTE, plen);
	put32(buf + GP_HDR, n->inst);
	buf[GP_HDR + 4] = n->dlen;
	memcpy(buf + GP_HDR + 5, n->dst, n->dlen);
	return GP_HDR + plen;
}

int gp_noroute_decode(const uint8_t *buf, size_t len, struct gp_noroute *n)
{
	if (len < 5 || buf[4] == 0 || buf[4] > GP_ADDR_MAX ||
	    len != 5 + (size_t)buf[4])
		return -1;
	n->inst = get32(buf);
	n->dlen = buf[4];
	memcpy(n->dst, buf + 5, n->dlen);
	return 0;
}

size_t gp_subscribe_encode(uint8_t *buf, size_t cap, uint32_t inst)
{
	return gp_u32_encode(buf, cap, GP_SUBSCRIBE, inst);
}

int gp_subscribe_decode(const uint8_t *buf, size_t len, uint32_t *inst)
{
	return gp_u32_decode(buf, len, inst);
}

/* One entry into p, which has room for it; returns its size. */
static size_t gp_prefix_put(uint8_t *p, const struct gp_prefix *e)
{
	p[0] = (uint8_t)e->up;
	p[1] = (uint8_t)e->local;
	put32(p + 2, e->metric);
	return 6 + gp_addr_put(p + 6, &e->addr);
}

static int gp_prefix_valid(const struct gp_prefix *e)
{
	return (e->up == 0 || e->up == 1) && (e->local == 0 || e->local == 1) &&
	       gp_addr_valid(&e->addr);
}

size_t gp_prefix_encode(uint8_t *buf, size_t cap, uint8_t flags,
			const struct gp_prefix *p, size_t n)
{
	size_t i, off = GP_HDR + 3;

	if (n > GP_PREFIX_MAX || (flags & ~GP_PF_FULL) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!gp_prefix_valid(&p[i]) || cap < off ||
		    cap - off < GP_PREFIX_ENTRY + (size_t)p[i].addr.len)
			return 0;
		off += gp_prefix_put(buf + off, &p[i]);
	}
	if (cap < off)
		return 0;
	gp_hdr(buf, GP_PREFIX, off - GP_HDR);
	buf[GP_HDR] = flags;
	put16(buf + GP_HDR + 1, (uint16_t)n);
	return off;
}

/* One entry at *off, moving off past it; -1 unless it fits len and is
 * valid. */
static int gp_prefix_get(const uint8_t *buf, size_t len, size_t *off,
			 struct gp_prefix *e)
{
	const uint8_t *p = buf + *off;

	if (len - *off < 6 || p[0] > 1 || p[1] > 1)
		return -1;
	e->up = p[0];
	e->local = p[1];
	e->metric = get32(p + 2);
	*off += 6;
	return gp_addr_get(buf, len, off, &e->addr);
}

int gp_prefix_decode(const uint8_t *buf, size_t len, uint8_t *flags,
		     struct gp_prefix *out, size_t max, size_t *n)
{
	size_t i, count, off = 3;

	if (len < 3 || (buf[0] & ~GP_PF_FULL) != 0)
		return -1;
	count = get16(buf + 1);
	if (count > GP_PREFIX_MAX || count > max)
		return -1;
	for (i = 0; i < count; i++)
		if (gp_prefix_get(buf, len, &off, &out[i]) < 0)
			return -1;
	if (off != len)
		return -1;
	*flags = buf[0];
	*n = count;
	return 0;
}
