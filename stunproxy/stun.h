/*
 * STUN (RFC 8489): the Binding request and response, both ways. A client
 * asks a server what address its request came from (XOR-MAPPED-ADDRESS);
 * `stunproxy -stun_listen` and `-serve` answer such requests. Only what
 * Binding needs is here: attributes this codec does not know are skipped
 * when they are comprehension-optional (0x8000-0xFFFF) and make the
 * message malformed otherwise, as RFC 8489 §14 says.
 */
#ifndef SP_STUN_H
#define SP_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_PORT 3478
#define STUN_HDR 20
#define STUN_MAGIC 0x2112A442u
#define STUN_TXID 12
#define STUN_MSG_MAX 548		/* what we send and accept, bytes */

#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111

/* What a decoded message said. Views point into the decoded buffer. */
struct stun_msg {
	uint16_t type;
	uint8_t txid[STUN_TXID];
	int has_mapped;			/* XOR-MAPPED-ADDRESS, or else
					 * MAPPED-ADDRESS (RFC 3489 servers) */
	struct sockaddr_storage mapped;	/* AF_INET or AF_INET6, port set */
	const uint8_t *username;	/* USERNAME, or NULL */
	size_t username_len;
	const char *software;		/* SOFTWARE (not NUL-terminated) */
	size_t software_len;
	size_t integrity_at;		/* offset of MESSAGE-INTEGRITY, 0: none */
	int has_fingerprint;		/* FINGERPRINT present and right */
	uint16_t error_code;		/* ERROR-CODE as 300..699, 0: none */
};

/* Quick test for demultiplexing one socket: the first two bits are zero,
 * the length is a multiple of 4 that fits, and the magic cookie is there. */
int stun_is_stun(const uint8_t *buf, size_t len);

/* Parse and check a whole message: header, every attribute's length and
 * padding, known attributes' values, FINGERPRINT (when present, it must be
 * last and right). 0, or -1 on any malformation. */
int stun_decode(const uint8_t *buf, size_t len, struct stun_msg *m);

/* Check MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) of a message that
 * stun_decode accepted, with key (a short-term password as is, or the
 * long-term MD5(username:realm:password)). 1 right, 0 wrong or absent. */
int stun_check_integrity(const uint8_t *buf, size_t len,
			 const struct stun_msg *m, const uint8_t *key,
			 size_t keylen);

/* Encoders write a whole message and return its size, or 0 if it does not
 * fit in cap. software may be NULL; key NULL adds no MESSAGE-INTEGRITY;
 * fingerprint adds FINGERPRINT last. */
size_t stun_binding_request(uint8_t *buf, size_t cap,
			    const uint8_t txid[STUN_TXID],
			    const char *software, const uint8_t *key,
			    size_t keylen, int fingerprint);
/* A success response telling the client its address, as
 * XOR-MAPPED-ADDRESS. */
size_t stun_binding_response(uint8_t *buf, size_t cap,
			     const uint8_t txid[STUN_TXID],
			     const struct sockaddr *mapped,
			     const char *software, const uint8_t *key,
			     size_t keylen, int fingerprint);

/* The long-term credential key, MD5(username ":" realm ":" password)
 * (RFC 8489 §9.2.2), from strings already prepared as OpaqueString
 * (SASLprep) would. 0, or -1 if they are too long. */
#define STUN_LT_KEY 16
int stun_long_term_key(const char *username, const char *realm,
		       const char *password, uint8_t key[STUN_LT_KEY]);

#endif
