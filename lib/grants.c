/* Certificate grants: the extension codec, command-line grants, the test. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "grants.h"

#define DER_OCTET_STRING 0x04

/* A prefix grant's address is IPv4 or IPv6 with no bits past plen. */
static int grant_valid(const struct grant *e)
{
	struct addr m;

	if (e->kind == GRANT_INST)
		return 1;
	if (e->kind != GRANT_PREFIX || (e->a.len != 4 && e->a.len != 16) ||
	    e->a.plen > 8u * e->a.len)
		return 0;
	m = e->a;
	addr_mask(&m);
	return memcmp(m.b, e->a.b, e->a.len) == 0;
}

static size_t grant_size(const struct grant *e)
{
	return e->kind == GRANT_INST ? GRANT_INST_SIZE
				     : GRANT_PREFIX_HEAD + (size_t)e->a.len;
}

/* The OCTET STRING header: the content's offset, or 0 if the header is
 * not DER or its length is not exactly what follows it. */
static size_t der_head(const uint8_t *der, size_t len)
{
	size_t clen, hl;

	if (len < 2 || der[0] != DER_OCTET_STRING)
		return 0;
	if (der[1] < 0x80) {
		clen = der[1];
		hl = 2;
	} else if (der[1] == 0x81) {
		if (len < 3 || der[2] < 0x80)
			return 0;
		clen = der[2];
		hl = 3;
	} else if (der[1] == 0x82) {
		if (len < 4 || get16(der + 2) < 0x100)
			return 0;
		clen = get16(der + 2);
		hl = 4;
	} else {
		return 0;	/* indefinite, or longer than we ever write */
	}
	return clen == len - hl ? hl : 0;
}

int grants_decode(const uint8_t *der, size_t len, struct grants *g)
{
	const uint8_t *p, *end = der + len;
	struct grants t;
	struct grant *e;
	size_t hl = der_head(der, len);

	if (hl == 0 || hl == len || der[hl] != GRANTS_VERSION)
		return -1;
	memset(&t, 0, sizeof(t));
	for (p = der + hl + 1; p < end; p += grant_size(e)) {
		if (t.n == GRANTS_MAX || end - p < GRANT_INST_SIZE)
			return -1;
		e = &t.g[t.n++];
		e->kind = p[0];
		e->a.inst = get32(p + 1);
		if (e->kind == GRANT_INST)
			continue;
		if (e->kind != GRANT_PREFIX || end - p < GRANT_PREFIX_HEAD)
			return -1;
		e->a.len = p[5];
		e->a.plen = p[6];
		if ((e->a.len != 4 && e->a.len != 16) ||
		    (size_t)(end - p) < GRANT_PREFIX_HEAD + (size_t)e->a.len)
			return -1;
		memcpy(e->a.b, p + GRANT_PREFIX_HEAD, e->a.len);
		if (!grant_valid(e))
			return -1;
	}
	*g = t;
	return 0;
}

size_t grants_encode(const struct grants *g, uint8_t *buf, size_t cap)
{
	size_t clen = 1, hl, off, i;
	const struct grant *e;

	if (g->n > GRANTS_MAX)
		return 0;
	for (i = 0; i < g->n; i++) {
		if (!grant_valid(&g->g[i]))
			return 0;
		clen += grant_size(&g->g[i]);
	}
	hl = clen < 0x80 ? 2 : clen < 0x100 ? 3 : 4;
	if (cap < hl + clen)
		return 0;
	buf[0] = DER_OCTET_STRING;
	if (hl == 2) {
		buf[1] = (uint8_t)clen;
	} else if (hl == 3) {
		buf[1] = 0x81;
		buf[2] = (uint8_t)clen;
	} else {
		buf[1] = 0x82;
		put16(buf + 2, (uint16_t)clen);
	}
	off = hl;
	buf[off++] = GRANTS_VERSION;
	for (i = 0; i < g->n; i++) {
		e = &g->g[i];
		buf[off] = e->kind;
		put32(buf + off + 1, e->a.inst);
		if (e->kind == GRANT_PREFIX) {
			buf[off + 5] = e->a.len;
			buf[off + 6] = (uint8_t)e->a.plen;
			memcpy(buf + off + GRANT_PREFIX_HEAD, e->a.b, e->a.len);
		}
		off += grant_size(e);
	}
	return off;
}

/* s[0..n): decimal digits only, at most 4294967295. */
static int parse_u32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* "N:ADDRESS/LENGTH" into a prefix grant; -1 with err set. */
static int parse_prefix(const char *arg, struct grant *t, char *err,
			size_t errsz)
{
	const char *colon = strchr(arg, ':'), *slash = strrchr(arg, '/');
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
	uint32_t plen;
	size_t hlen;
	struct addr m;

	if (colon == NULL || slash == NULL || slash < colon ||
	    parse_u32(arg, (size_t)(colon - arg), &t->a.inst) < 0) {
		snprintf(err, errsz, "--prefix \"%s\": expected "
			 "INSTANCE:ADDRESS/LENGTH, e.g. 7:10.20.0.3/32", arg);
		return -1;
	}
	hlen = (size_t)(slash - colon - 1);
	if (hlen < sizeof(host)) {
		memcpy(host, colon + 1, hlen);
		host[hlen] = '\0';
	}
	if (hlen < sizeof(host) && inet_pton(AF_INET, host, t->a.b) == 1) {
		t->a.len = 4;
	} else if (hlen < sizeof(host) &&
		   inet_pton(AF_INET6, host, t->a.b) == 1) {
		t->a.len = 16;
	} else {
		snprintf(err, errsz, "--prefix \"%s\": \"%.*s\" is not an "
			 "IPv4 or IPv6 address", arg, (int)hlen, colon + 1);
		return -1;
	}
	if (parse_u32(slash + 1, strlen(slash + 1), &plen) < 0 ||
	    plen > 8u * t->a.len) {
		snprintf(err, errsz, "--prefix \"%s\": prefix length \"%s\" "
			 "is not 0 to %u", arg, slash + 1, 8u * t->a.len);
		return -1;
	}
	t->a.plen = (uint16_t)plen;
	t->kind = GRANT_PREFIX;
	m = t->a;
	addr_mask(&m);
	if (!addr_equal(&m, &t->a)) {
		inet_ntop(m.len == 4 ? AF_INET : AF_INET6, m.b, text,
			  sizeof(text));
		snprintf(err, errsz, "--prefix \"%s\": host bits set past "
			 "/%u (the prefix would be %u:%s/%u)", arg,
			 (unsigned)plen, (unsigned)m.inst, text,
			 (unsigned)plen);
		return -1;
	}
	return 0;
}

int grants_parse_arg(const char *kind, const char *arg, struct grant *out,
		     char *err, size_t errsz)
{
	const char *k = kind + strspn(kind, "-");
	struct grant t;

	memset(&t, 0, sizeof(t));
	if (strcmp(k, "instance") == 0) {
		if (parse_u32(arg, strlen(arg), &t.a.inst) < 0) {
			snprintf(err, errsz, "--instance \"%s\": expected an "
				 "instance number, 0 to 4294967295", arg);
			return -1;
		}
		t.kind = GRANT_INST;
	} else if (strcmp(k, "prefix") == 0) {
		if (parse_prefix(arg, &t, err, errsz) < 0)
			return -1;
	} else {
		snprintf(err, errsz, "unknown grant %s \"%s\": expected "
			 "--instance or --prefix", kind, arg);
		return -1;
	}
	*out = t;
	return 0;
}

int grants_allow(const struct grants *g, const struct addr *a)
{
	const struct grant *e;
	size_t i;

	for (i = 0; i < g->n && i < GRANTS_MAX; i++) {
		e = &g->g[i];
		if (e->a.inst != a->inst)
			continue;
		if (e->kind == GRANT_INST)
			return 1;
		if (e->kind == GRANT_PREFIX && a->len == e->a.len &&
		    a->plen >= e->a.plen && a->plen <= 8u * a->len &&
		    addr_match(&e->a, a->inst, a->b, a->len))
			return 1;
	}
	return 0;
}

int grants_allow_inst(const struct grants *g, uint32_t inst)
{
	size_t i;

	for (i = 0; i < g->n && i < GRANTS_MAX; i++)
		if (g->g[i].a.inst == inst)
			return 1;
	return 0;
}

size_t grants_format(const struct grants *g, char *buf, size_t cap)
{
	char text[INET6_ADDRSTRLEN];
	const struct grant *e;
	size_t off = 0, i;
	int n;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (g->n == 0) {
		n = snprintf(buf, cap, "-");
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	}
	for (i = 0; i < g->n && i < GRANTS_MAX; i++) {
		e = &g->g[i];
		if (e->kind == GRANT_PREFIX && (e->a.len == 4 || e->a.len == 16)) {
			inet_ntop(e->a.len == 4 ? AF_INET : AF_INET6, e->a.b,
				  text, sizeof(text));
			n = snprintf(buf + off, cap - off, "%s%u:%s/%u",
				     i ? "," : "", (unsigned)e->a.inst, text,
				     (unsigned)e->a.plen);
		} else {
			n = snprintf(buf + off, cap - off, "%s%u",
				     i ? "," : "", (unsigned)e->a.inst);
		}
		if (n < 0 || (size_t)n >= cap - off) {
			buf[0] = '\0';
			return 0;
		}
		off += (size_t)n;
	}
	return off;
}
