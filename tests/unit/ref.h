/*
 * Reference helpers for the offload tests (test_gso, test_gro): byte
 * order and the Internet checksum, written as naively as possible, so that
 * they can be trusted to check the real code.
 */
#ifndef CV_TEST_REF_H
#define CV_TEST_REF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void wbe16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wbe32(uint8_t *p, uint32_t v)
{
	wbe16(p, (uint16_t)(v >> 16));
	wbe16(p + 2, (uint16_t)v);
}

static inline void wle16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t ref_fold(uint32_t s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static inline uint32_t ref_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s = ref_fold(s + (i % 2 ? p[i] : (uint32_t)p[i] << 8));
	return s;
}

/* Sum of the TCP pseudo-header for a segment of tcplen bytes. */
static inline uint32_t ref_pseudo(const uint8_t *ip, int v6, size_t tcplen)
{
	uint8_t ph[40];

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, ip + 8, 32);
		wbe32(ph + 32, (uint32_t)tcplen);
		ph[39] = 6;
		return ref_sum(ph, 40);
	}
	memcpy(ph, ip + 12, 8);
	ph[9] = 6;
	wbe16(ph + 10, (uint16_t)tcplen);
	return ref_sum(ph, 12);
}

#endif
