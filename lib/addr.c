/* Mesh addresses: parsing, printing and prefix matching. */
#include <stdio.h>
#include <string.h>

#include "addr.h"

int addr_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Two hex digits at s into *out; -1 if either is not a hex digit. */
static int addr_byte(const char *s, uint8_t *out)
{
	int hi, lo;

	hi = addr_hexval(s[0]);
	if (hi < 0)
		return -1;
	lo = addr_hexval(s[1]);
	if (lo < 0)
		return -1;
	*out = (uint8_t)(hi << 4 | lo);
	return 0;
}

/*
 * Either "01:02:0a" (every group exactly two digits) or "01020a" (an even
 * number of digits). The colon form is chosen when the string has a colon.
 */
int addr_parse_hex(const char *s, uint32_t inst, struct addr *a)
{
	struct addr t;
	int colons;

	memset(&t, 0, sizeof(t));
	t.inst = inst;
	colons = strchr(s, ':') != NULL;
	while (*s != '\0') {
		if (t.len == ADDR_MAX || addr_byte(s, &t.b[t.len]) < 0)
			return -1;
		t.len++;
		s += 2;
		if (colons && *s == ':') {
			if (s[1] == '\0')
				return -1;
			s++;
		} else if (colons && *s != '\0') {
			return -1;
		}
	}
	t.plen = (uint16_t)(t.len * 8);
	*a = t;
	return 0;
}

char *addr_hex(const uint8_t *b, size_t len, char *buf, size_t size)
{
	size_t i, off = 0;
	int n;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < len; i++) {
		n = snprintf(buf + off, size - off, i ? ":%02x" : "%02x", b[i]);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

char *addr_fmt(const struct addr *a, char *buf, size_t size)
{
	char hex[ADDR_MAX * 2 + 1];
	size_t i, len = a->len > ADDR_MAX ? ADDR_MAX : a->len;

	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", a->b[i]);
	hex[2 * len] = '\0';
	if (size > 0)
		snprintf(buf, size, "%u/%s/%u", (unsigned)a->inst, hex,
			 (unsigned)a->plen);
	return buf;
}

/* Compare the first plen bits of x and y. */
static int addr_prefix_eq(const uint8_t *x, const uint8_t *y, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	uint8_t mask;

	if (memcmp(x, y, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (x[full] & mask) == (y[full] & mask);
}

int addr_match(const struct addr *a, uint32_t inst, const uint8_t *dst,
	       size_t dlen)
{
	unsigned len = a->len > ADDR_MAX ? ADDR_MAX : a->len;
	unsigned plen = a->plen > len * 8 ? len * 8 : a->plen;

	if (a->inst != inst)
		return 0;
	if (a->plen == 0)
		return 1;
	if (dlen != a->len)
		return 0;
	return addr_prefix_eq(a->b, dst, plen);
}

int addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->inst != b->inst || a->len != b->len || a->plen != b->plen)
		return 0;
	if (a->len > ADDR_MAX)
		return 0;
	return memcmp(a->b, b->b, a->len) == 0;
}

void addr_mask(struct addr *a)
{
	unsigned i, full, rest;

	if (a->len > ADDR_MAX)
		a->len = ADDR_MAX;
	if (a->plen > a->len * 8)
		a->plen = (uint16_t)(a->len * 8);
	full = a->plen / 8;
	rest = a->plen % 8;
	i = full;
	if (rest != 0) {
		a->b[full] &= (uint8_t)(0xff << (8 - rest));
		i++;
	}
	for (; i < ADDR_MAX; i++)
		a->b[i] = 0;
}
