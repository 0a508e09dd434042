/*
 * libFuzzer: the certificate grants extension (lib/grants.c), decoded
 * from an exact-size copy. The encoding is canonical, so what decodes
 * must encode to the very same bytes and decode to the same grants; each
 * grant must allow its own address, and the status word must parse back
 * grant by grant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/grants.c"

static void same(const struct grants *x, const struct grants *y)
{
	size_t i;

	if (x->n != y->n)
		abort();
	for (i = 0; i < x->n; i++)
		if (x->g[i].kind != y->g[i].kind ||
		    !addr_equal(&x->g[i].a, &y->g[i].a))
			abort();
}

/* grants_format's word, split at the commas, through grants_parse_arg. */
static void reparse(const struct grants *g)
{
	static char text[GRANTS_STRLEN];
	char err[256], *item, *save;
	struct grant e;
	size_t i = 0;

	if (grants_format(g, text, sizeof(text)) == 0 ||
	    strchr(text, ' ') != NULL)
		abort();
	if (g->n == 0) {
		if (strcmp(text, "-") != 0)
			abort();
		return;
	}
	for (item = strtok_r(text, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save), i++) {
		if (i >= g->n ||
		    grants_parse_arg(strchr(item, ':') ? "prefix" : "instance",
				     item, &e, err, sizeof(err)) != 0 ||
		    e.kind != g->g[i].kind || !addr_equal(&e.a, &g->g[i].a))
			abort();
	}
	if (i != g->n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static struct grants g, back;
	static uint8_t der[GRANTS_DER_MAX];
	uint8_t *c = malloc(len ? len : 1);
	size_t n, i;

	if (c == NULL)
		return 0;
	memcpy(c, buf, len);
	if (grants_decode(c, len, &g) == 0) {
		n = grants_encode(&g, der, sizeof(der));
		if (n != len || memcmp(der, buf, len) != 0)
			abort();
		if (grants_decode(der, n, &back) != 0)
			abort();
		same(&g, &back);
		for (i = 0; i < g.n; i++)
			if (!grants_allow(&g, &g.g[i].a) ||
			    !grants_allow_inst(&g, g.g[i].a.inst))
				abort();
		reparse(&g);
	}
	free(c);
	return 0;
}
