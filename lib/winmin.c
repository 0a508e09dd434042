/* A windowed minimum (winmin.h). */
#include "winmin.h"

void winmin_init(struct winmin *w)
{
	w->cur = w->prev = UINT64_MAX;
	w->n = 0;
}

void winmin_add(struct winmin *w, uint64_t v)
{
	if (v < w->cur)
		w->cur = v;
	if (++w->n < WINMIN_EPOCH)
		return;
	w->prev = w->cur;
	w->cur = UINT64_MAX;
	w->n = 0;
}

uint64_t winmin_get(const struct winmin *w)
{
	uint64_t m = w->cur < w->prev ? w->cur : w->prev;

	return m == UINT64_MAX ? 0 : m;
}
