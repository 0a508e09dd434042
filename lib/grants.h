/*
 * Certificate grants: the instances, and within IP instances the prefixes,
 * a node certificate allows its holder. They travel in a private X.509
 * extension (GRANTS_OID); this is its codec and its test.
 */
#ifndef CV_GRANTS_H
#define CV_GRANTS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * Ours: the UUID 3efd37d5-cba9-4736-8ef3-391b761f0819, generated once for
 * cloudvpn grants, as an OID. Not 2.25.<the UUID as one 128-bit integer>
 * (X.667): GnuTLS (libtasn1 4.19) keeps OID arcs in 64 bits, so certtool
 * writes such an arc as 2.25.9223372036854775807, and GnuTLS refuses to
 * parse a certificate that carries one ("Error in DER parsing"). So the
 * UUID goes under 1.2.840.113556.1.8000.2554, the arc Microsoft set aside
 * for OIDs made from GUIDs: aaaabbbb-cccc-dddd-eeee-ffffffgggggg becomes
 * .A.B.C.D.E.F.G, each chunk read as hex and written in decimal.
 */
#define GRANTS_OID \
	"1.2.840.113556.1.8000.2554.16125.14293.52137.18230.36595.3742582.2033689"

#define GRANTS_VERSION 1
#define GRANTS_MAX 64		/* entries in one certificate */
#define GRANT_INST 1		/* a whole instance */
#define GRANT_PREFIX 2		/* one IP prefix of an instance */

/*
 * The extension value (the extnValue bytes), byte by byte:
 *
 *   0x04                  DER OCTET STRING tag
 *   L                     DER length of the content: one byte 0..127, or
 *                         0x81 n (128..255), or 0x82 n n (256..65535,
 *                         big-endian); the shortest form only, nothing
 *                         after the content
 *   content:
 *     u8  version         1
 *     then 0 to GRANTS_MAX entries, each one of:
 *     u8  kind 1          instance grant
 *     u32 instance        big-endian
 *   or
 *     u8  kind 2          prefix grant
 *     u32 instance        big-endian
 *     u8  len             4 (IPv4) or 16 (IPv6)
 *     u8  plen            prefix length in bits, <= len * 8
 *     len bytes           the address, bits past plen zero
 *
 * Anything else (another tag, version or kind, a length form not the
 * shortest, a short or over-long entry, host bits, more entries) is
 * malformed, and the whole extension with it.
 */
#define GRANT_INST_SIZE 5
#define GRANT_PREFIX_HEAD 7	/* kind, instance, len, plen */
#define GRANTS_DER_MAX (4 + 1 + GRANTS_MAX * (GRANT_PREFIX_HEAD + 16))
/* grants_format of a full set fits, with its NUL */
#define GRANTS_STRLEN (GRANTS_MAX * 64)

struct grant {
	uint8_t kind;		/* GRANT_INST or GRANT_PREFIX */
	struct addr a;		/* GRANT_INST: a.inst only, the rest zero */
};

struct grants {
	size_t n;
	struct grant g[GRANTS_MAX];
};

/* The extension value der[0..len) into *g: 0, or -1 if malformed (then
 * *g is unchanged). */
int grants_decode(const uint8_t *der, size_t len, struct grants *g);
/* *g as an extension value into buf: its size, or 0 if g is not valid
 * (as grants_decode would read it) or it does not fit in cap. */
size_t grants_encode(const struct grants *g, uint8_t *buf, size_t cap);

/*
 * One command-line grant: kind "instance" with arg "N" (a decimal u32),
 * or kind "prefix" with arg "N:CIDR" (7:10.20.0.3/32, 7:fd00::/64); the
 * kind may carry leading dashes ("--prefix"). 0, or -1 with a message
 * naming the value in err.
 */
int grants_parse_arg(const char *kind, const char *arg, struct grant *out,
		     char *err, size_t errsz);

/* 1 if a lies inside the grants: its instance is granted whole, or a
 * prefix grant of its instance and address length covers it (a->plen at
 * least the grant's, the grant's first plen bits equal). 0 otherwise,
 * also for an empty set: what that means is the caller's to say. */
int grants_allow(const struct grants *g, const struct addr *a);
/* 1 if any grant names instance inst. */
int grants_allow_inst(const struct grants *g, uint32_t inst);

/* "8,7:10.20.0.3/32,7:fd00::/64", or "-" for none: one word, for a
 * status-file key=value. Its length, or 0 if it does not fit in cap
 * (GRANTS_STRLEN always does). */
size_t grants_format(const struct grants *g, char *buf, size_t cap);

#endif
