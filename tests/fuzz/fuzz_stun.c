/*
 * libFuzzer target for the STUN codec: the input is one datagram. What
 * decodes must say only what its bytes can say (views inside the buffer,
 * an integrity offset that holds the attribute), and its fields must come
 * back the same through the encoders and the decoder again, with and
 * without MESSAGE-INTEGRITY and FINGERPRINT.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../stunproxy/stun.c"

#define FZ_SOFTWARE_MAX 400	/* leaves room for everything else */

static const uint8_t fz_key[] = "fuzz key";
static const uint8_t fz_other[] = "fuzz kez";

static void fz_check(int ok)
{
	if (!ok)
		abort();
}

static int fz_inside(const uint8_t *buf, size_t len, const void *p,
		     size_t n)
{
	const uint8_t *q = p;

	return q >= buf && q <= buf + len && n <= (size_t)(buf + len - q);
}

/* What stun_decode said is consistent with the bytes it read. */
static void fz_check_msg(const uint8_t *buf, size_t len,
			 const struct stun_msg *m)
{
	fz_check(stun_is_stun(buf, len) && len <= STUN_MSG_MAX);
	fz_check(memcmp(m->txid, buf + 8, STUN_TXID) == 0);
	fz_check(m->username == NULL ||
		 fz_inside(buf, len, m->username, m->username_len));
	fz_check(m->software == NULL ||
		 fz_inside(buf, len, m->software, m->software_len));
	fz_check(m->integrity_at == 0 ||
		 (m->integrity_at >= STUN_HDR &&
		  len - m->integrity_at >= 4 + 20 &&
		  get16(buf + m->integrity_at) == 0x0008));
	fz_check(m->error_code == 0 ||
		 (m->error_code >= 300 && m->error_code <= 699));
	fz_check(m->type != STUN_BINDING_ERROR || m->error_code != 0);
	fz_check(!m->has_mapped || m->mapped.ss_family == AF_INET ||
		 m->mapped.ss_family == AF_INET6);
	/* without the attribute, no key verifies */
	if (m->integrity_at == 0)
		fz_check(!stun_check_integrity(buf, len, m, fz_key,
					       sizeof(fz_key)));
	else
		(void)stun_check_integrity(buf, len, m, fz_key,
					   sizeof(fz_key));
}

/* Decode what an encoder wrote and hold it to what went in. */
static void fz_check_again(const uint8_t *out, size_t n,
			   const struct stun_msg *orig, const char *software,
			   int keyed, int fp)
{
	struct stun_msg m;

	fz_check(n != 0 && stun_decode(out, n, &m) == 0);
	fz_check(memcmp(m.txid, orig->txid, STUN_TXID) == 0);
	fz_check(m.software_len == strlen(software) &&
		 memcmp(m.software, software, m.software_len) == 0);
	fz_check(stun_check_integrity(out, n, &m, fz_key, sizeof(fz_key)) ==
		 keyed);
	fz_check(!stun_check_integrity(out, n, &m, fz_other,
				       sizeof(fz_other)));
	fz_check(m.has_fingerprint == fp);
	fz_check(m.has_mapped == orig->has_mapped);
	if (orig->has_mapped)
		fz_check(memcmp(&m.mapped, &orig->mapped,
				sizeof(m.mapped)) == 0);
}

static void fz_reencode(const struct stun_msg *m, int variant)
{
	char software[FZ_SOFTWARE_MAX + 1] = "";
	uint8_t out[STUN_MSG_MAX];
	int keyed = variant & 1, fp = variant >> 1 & 1;
	const uint8_t *key = keyed ? fz_key : NULL;
	size_t n;

	if (m->software != NULL && m->software_len <= FZ_SOFTWARE_MAX) {
		memcpy(software, m->software, m->software_len);
		software[m->software_len] = '\0';	/* up to a NUL in it */
	}
	if (m->has_mapped)
		n = stun_binding_response(out, sizeof(out), m->txid,
					  (const struct sockaddr *)&m->mapped,
					  software, key, sizeof(fz_key), fp);
	else
		n = stun_binding_request(out, sizeof(out), m->txid, software,
					 key, sizeof(fz_key), fp);
	fz_check_again(out, n, m, software, keyed, fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size > 0 ? size : 1);	/* exact size */
	struct stun_msg m;
	int variant;

	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	(void)stun_is_stun(copy, size);
	if (stun_decode(copy, size, &m) == 0) {
		fz_check_msg(copy, size, &m);
		for (variant = 0; variant < 4; variant++)
			fz_reencode(&m, variant);
	}
	free(copy);
	return 0;
}
