/*
 * One escaping for names the mesh chooses: what comes out is printable
 * ASCII without space, '=' or '"', so it cannot end a status word, start
 * a status line or drive a terminal; '\' only ever starts an escape, so
 * the name can be read back whole (but an empty one, "-", or one cut).
 */
#include "esc.h"

static int esc_plain(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '=' && ch != '"' && ch != '\\';
}

const char *esc_name(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t n = 0;

	if (cap == 0)
		return out;
	if (!*s)
		s = (const unsigned char *)"-";
	for (; *s; s++) {
		if (esc_plain(*s)) {
			if (n + 1 >= cap)
				break;
			out[n++] = (char)*s;
			continue;
		}
		if (n + 4 >= cap)
			break;
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[*s >> 4];
		out[n++] = hex[*s & 15];
	}
	out[n] = '\0';
	return out;
}
