/* Mesh addresses: (instance, bytes, prefix length in bits). */
#ifndef CV_ADDR_H
#define CV_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_MAX 16		/* bytes: room for an IPv6 address */
#define ADDR_STRLEN (ADDR_MAX * 3 + 16)

struct addr {
	uint32_t inst;
	uint8_t len;		/* bytes used in b[] */
	uint16_t plen;		/* prefix length in bits, <= len * 8 */
	uint8_t b[ADDR_MAX];	/* bytes past len are zero */
};

/* "01:02:0a" or "01020a" or "" -> bytes; plen = len * 8. -1 on bad input. */
int addr_parse_hex(const char *s, uint32_t inst, struct addr *a);
/* "inst/hex/plen" for logs and status; returns buf. */
char *addr_fmt(const struct addr *a, char *buf, size_t size);
/* One hex digit's value, or -1. */
int addr_hexval(char ch);
/* bytes only, colon-separated hex ("" for the empty address). */
char *addr_hex(const uint8_t *b, size_t len, char *buf, size_t size);
/* Does destination (dst, dlen) of instance inst fall inside prefix a?
 * plen 0 matches every destination of the instance. */
int addr_match(const struct addr *a, uint32_t inst, const uint8_t *dst,
	       size_t dlen);
int addr_equal(const struct addr *a, const struct addr *b);
/* Zero the bits past plen (and bytes past len). */
void addr_mask(struct addr *a);

#endif
