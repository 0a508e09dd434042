/* Names that others choose (a certificate's CN, a gate's name) made safe
 * to print as one word of a status line and one token of a log line. */
#ifndef CV_ESC_H
#define CV_ESC_H

#include <stddef.h>

/* The bytes of in, each of '!'..'~' but '=', '"' and '\' as it is, every
 * other byte (controls, space, 0x7f and up, and those three) as \xHH.
 * Cut after the last whole character that fits out[0..cap) with its NUL;
 * "-" for an empty name. in and out must not overlap; returns out. */
const char *esc_name(const char *in, char *out, size_t cap);

#endif
