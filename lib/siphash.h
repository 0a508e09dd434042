/* SipHash-2-4: a keyed hash for tables indexed by values peers choose. */
#ifndef CV_SIPHASH_H
#define CV_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* The 64-bit SipHash-2-4 of data[0..len) under key (Aumasson and
 * Bernstein, "SipHash: a fast short-input PRF", 2012). */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data,
		   size_t len);

#endif
