/* The Internet checksum, naively, for the offload fuzz targets' checks. */
#ifndef CV_FZ_CSUM_H
#define CV_FZ_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "fz_quiet.h"

/* Ones' complement sum of p[0, n), added to s, folded to 16 bits. */
FZ_QUIET static inline uint32_t fz_sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i < n; i++)
		s += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

#endif
