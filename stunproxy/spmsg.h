/*
 * stunproxy's own messages, byte by byte (doc/PROTOCOL.md §4):
 *  - signalling between two stunproxies: over the mesh as gate packets in
 *    SP_INSTANCE, or through a rendezvous server sealed with its secret;
 *  - probes on the punching socket, authenticated with a key the two
 *    sides agreed by signalling;
 *  - rendezvous datagrams between a client and `stunproxy -serve`.
 * All integers are big-endian. Encoders return the size written, or 0 if
 * it does not fit or the input is invalid; decoders return 0, or -1 on any
 * malformation (a message must fill its buffer exactly).
 */
#ifndef SP_SPMSG_H
#define SP_SPMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SP_VERSION 1
#define SP_INSTANCE 0xfffffff0u	/* reserved: stunproxies' mesh addresses */
#define SP_ADDR_LEN 16
#define SP_ID 32		/* a node ID */
#define SP_NAME_MAX 64
#define SP_CAND_MAX 8
#define SP_KEYHALF 16		/* each side's share of the probe key */
#define SP_KEY 32		/* a derived key (HMAC-SHA256) */
#define SP_TAG 16		/* truncated HMAC-SHA256 */
#define SP_WHY_MAX 128
#define SP_GROUP 16		/* a rendezvous group ID */
#define SP_MSG_MAX 512		/* the largest datagram of this file */

/* A node's stunproxy address in SP_INSTANCE: the first 16 bytes of
 * SHA-256("cloudvpn stunproxy " + node name). */
void sp_addr_of(const char *name, uint8_t out[SP_ADDR_LEN]);

/* ---- signalling --------------------------------------------------------- */

enum sp_sig_type {
	SP_HERE = 1,		/* I run a stunproxy (broadcast, or reply) */
	SP_OFFER = 2,		/* let us punch: my candidates, key half */
	SP_ANSWER = 3,		/* mine (my mapping toward yours is open) */
	SP_GO = 4,		/* my mapping toward yours is open: probe */
	SP_FAIL = 5,		/* I give this session up, and why */
};

#define SP_F_REPLY 0x1		/* HERE: please send a HERE back to me */

enum sp_cand_kind {
	SP_CAND_HOST = 1,	/* a local interface address */
	SP_CAND_SRFLX = 2,	/* what a STUN server saw (server reflexive) */
	SP_CAND_FIXED = 3,	/* given by the operator (a forwarded port) */
};

enum sp_nat {
	SP_NAT_UNKNOWN = 0,	/* fewer than two STUN answers */
	SP_NAT_NONE = 1,	/* the STUN-seen address is a local one */
	SP_NAT_EIM = 2,		/* same mapping toward every server */
	SP_NAT_EDM = 3,		/* a mapping per destination ("symmetric") */
};

struct sp_cand {
	uint8_t kind;		/* enum sp_cand_kind */
	struct sockaddr_storage sa;	/* AF_INET or AF_INET6, port set */
};

struct sp_sig {
	uint8_t type;		/* enum sp_sig_type */
	uint8_t flags;		/* SP_F_* */
	char name[SP_NAME_MAX + 1];	/* the sender's node name */
	uint8_t id[SP_ID];	/* the sender's node ID */
	uint64_t sid;		/* session ID, chosen by the offerer; 0 in HERE */
	/* OFFER, ANSWER: */
	uint8_t key[SP_KEYHALF];
	uint8_t nat;		/* enum sp_nat */
	size_t ncand;
	struct sp_cand cand[SP_CAND_MAX];
	/* FAIL: */
	char why[SP_WHY_MAX + 1];
};

size_t sp_sig_encode(uint8_t *buf, size_t cap, const struct sp_sig *s);
/* Names must be printable ASCII without spaces (as gate names); why is
 * printable ASCII, spaces allowed. */
int sp_sig_decode(const uint8_t *buf, size_t len, struct sp_sig *s);

/* ---- probes ------------------------------------------------------------- */

enum sp_probe_type {
	SP_PROBE = 1,		/* are you there? (echo my stamp) */
	SP_ACK = 2,		/* yes: your stamp, and where you came from */
	SP_OPEN = 3,		/* sent with a small TTL to open my own NAT;
				 * not meant to arrive */
};

#define SP_P_USE 0x1		/* the controlling side nominates this pair */

struct sp_probe {
	uint8_t type;		/* enum sp_probe_type */
	uint8_t flags;		/* SP_P_* */
	uint64_t sid;
	uint32_t seq;
	uint64_t stamp;		/* the prober's clock; echoed in the ACK */
	struct sockaddr_storage seen;	/* ACK: the probe's source address */
};

/* The probe key of a session: HMAC-SHA256 keyed with the offer's key half
 * then the answer's, over "cloudvpn probe" and the session ID. */
void sp_probe_key(const uint8_t offer[SP_KEYHALF],
		  const uint8_t answer[SP_KEYHALF], uint64_t sid,
		  uint8_t out[SP_KEY]);
/* Is this datagram a probe (magic and length), and of which session? */
int sp_probe_peek(const uint8_t *buf, size_t len, uint64_t *sid);
size_t sp_probe_encode(uint8_t *buf, size_t cap, const struct sp_probe *p,
		       const uint8_t key[SP_KEY]);
/* Also -1 when the tag is wrong (compared in constant time). */
int sp_probe_decode(const uint8_t *buf, size_t len, const uint8_t key[SP_KEY],
		    struct sp_probe *p);

/* ---- rendezvous --------------------------------------------------------- */

enum sp_rv_type {
	SP_RV_REG = 1,		/* client -> server: I am in this group */
	SP_RV_REGACK = 2,	/* server -> client: nonce, your address */
	SP_RV_SEND = 3,		/* client -> server: body for the group */
	SP_RV_FWD = 4,		/* server -> client: body, and its sender */
};

struct sp_rv {
	uint8_t type;		/* enum sp_rv_type */
	uint8_t group[SP_GROUP];
	uint64_t nonce;		/* REG, REGACK */
	struct sockaddr_storage addr;	/* REGACK: yours; FWD: the sender's */
	const uint8_t *body;	/* SEND, FWD: a sealed signalling message */
	size_t body_len;
};

/* A rendezvous secret's group ID and sealing key (both SHA-256 of a label
 * and the secret); the server learns only the group ID. */
void sp_rv_keys(const char *secret, uint8_t group[SP_GROUP],
		uint8_t key[SP_KEY]);
int sp_rv_is(const uint8_t *buf, size_t len);
size_t sp_rv_encode(uint8_t *buf, size_t cap, const struct sp_rv *m);
int sp_rv_decode(const uint8_t *buf, size_t len, struct sp_rv *m);

/* What a rendezvous SEND seals: u8 name length N (0: every member of the
 * group), N bytes of the target node's name, a signalling message (at
 * least 1 byte). sp_env_decode NUL-terminates the name into to. */
size_t sp_env_encode(uint8_t *buf, size_t cap, const char *to,
		     const uint8_t *msg, size_t len);
int sp_env_decode(const uint8_t *buf, size_t len, char to[SP_NAME_MAX + 1],
		  const uint8_t **msg, size_t *msg_len);

/* msg || HMAC-SHA256(key, msg)[0..SP_TAG); sp_unseal checks the tag in
 * constant time and sets *msg_len. */
size_t sp_seal(uint8_t *buf, size_t cap, const uint8_t *msg, size_t len,
	       const uint8_t key[SP_KEY]);
int sp_unseal(const uint8_t *buf, size_t len, const uint8_t key[SP_KEY],
	      size_t *msg_len);

#endif
