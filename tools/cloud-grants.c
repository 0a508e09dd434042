/*
 * cloud-grants: the certificate grants extension (lib/grants.h), for
 * cloud-cert to put into a node certificate and for people to read back.
 *
 *   cloud-grants [--instance N]... [--prefix N:CIDR]...   the value, hex
 *   cloud-grants -decode-cert FILE     the grants a certificate carries
 *   cloud-grants -oid                  the extension's OID
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "grants.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cloud-grants [--instance N]... "
		   "[--prefix N:CIDR]...\n"
		   "       cloud-grants -decode-cert FILE\n"
		   "       cloud-grants -oid\n"
		   "  prints the grants extension value as hex, for certtool's\n"
		   "  add_extension = \"OID 0xHEX\" (cloud-cert node does this);\n"
		   "  -decode-cert prints the grants in a PEM or DER\n"
		   "  certificate, \"-\" for none; -oid the extension's OID\n");
}

static int encode(int argc, char **argv)
{
	static struct grants g;
	uint8_t der[GRANTS_DER_MAX];
	char err[256];
	size_t n, i;
	int k;

	for (k = 1; k < argc; k += 2) {
		if (strcmp(argv[k], "--instance") != 0 &&
		    strcmp(argv[k], "--prefix") != 0) {
			fprintf(stderr, "cloud-grants: unknown option \"%s\"\n",
				argv[k]);
			return usage(stderr), 2;
		}
		if (k + 1 == argc) {
			fprintf(stderr, "cloud-grants: %s needs a value\n",
				argv[k]);
			return 2;
		}
		if (g.n == GRANTS_MAX) {
			fprintf(stderr, "cloud-grants: %s %s: more than %d "
				"grants\n", argv[k], argv[k + 1], GRANTS_MAX);
			return 1;
		}
		if (grants_parse_arg(argv[k], argv[k + 1], &g.g[g.n], err,
				     sizeof(err)) < 0) {
			fprintf(stderr, "cloud-grants: %s\n", err);
			return 1;
		}
		g.n++;
	}
	n = grants_encode(&g, der, sizeof(der));
	if (n == 0) {
		fprintf(stderr, "cloud-grants: cannot encode the grants\n");
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%02x", der[i]);
	printf("\n");
	return 0;
}

static int decode_cert(const char *path)
{
	static struct grants g;
	gnutls_datum_t file = { NULL, 0 }, ext = { NULL, 0 };
	gnutls_x509_crt_t crt;
	char text[GRANTS_STRLEN];
	unsigned critical;
	int r, rc = 1;

	r = gnutls_load_file(path, &file);
	if (r < 0) {
		fprintf(stderr, "cloud-grants: %s: %s\n", path,
			gnutls_strerror(r));
		return 1;
	}
	r = gnutls_x509_crt_init(&crt);
	if (r < 0)
		goto err_file;
	r = gnutls_x509_crt_import(crt, &file, GNUTLS_X509_FMT_PEM);
	if (r < 0)
		r = gnutls_x509_crt_import(crt, &file, GNUTLS_X509_FMT_DER);
	if (r < 0)
		goto err_crt;
	r = gnutls_x509_crt_get_extension_by_oid2(crt, GRANTS_OID, 0, &ext,
						  &critical);
	if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		g.n = 0;	/* no grants */
		r = 0;
	} else if (r < 0) {
		goto err_crt;
	} else if (grants_decode(ext.data, ext.size, &g) < 0) {
		goto err_ext;
	}
	grants_format(&g, text, sizeof(text));
	printf("%s\n", text);
	rc = 0;
err_ext:
	if (rc != 0)
		fprintf(stderr, "cloud-grants: %s: malformed grants extension "
			"(%s)\n", path, GRANTS_OID);
	gnutls_free(ext.data);
err_crt:
	gnutls_x509_crt_deinit(crt);
err_file:
	if (r < 0)
		fprintf(stderr, "cloud-grants: %s: %s\n", path,
			gnutls_strerror(r));
	gnutls_free(file.data);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout), 0;
	if (argc == 2 && strcmp(argv[1], "-oid") == 0)
		return printf("%s\n", GRANTS_OID), 0;
	if (argc == 3 && strcmp(argv[1], "-decode-cert") == 0)
		return decode_cert(argv[2]);
	if (argc < 3)
		return usage(stderr), 2;
	return encode(argc, argv);
}
