/*
 * Origins: the certificates of the nodes that originate routes, carried
 * over links (FR_CERT) ahead of the first route of each origin, checked
 * against our CAs and CRLs once and cached; their grants; the signatures
 * of what they announce, checked before a route is selected or relayed;
 * and ours (doc/PROTOCOL.md 2.4-2.5).
 */
#ifndef CV_ORIGIN_H
#define CV_ORIGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

struct addr;
struct cloud;
struct route_update;
struct origins;

/* Our own certificate and key from conf (cert, key); require_grants. */
struct origins *origins_new(struct cloud *c);
void origins_free(struct origins *o);

/* An FR_CERT payload from peer: 0 (kept, or refused and logged), or -1 if
 * malformed (the link fails). */
int origins_recv_cert(struct origins *o, uint32_t peer, const uint8_t *der,
		      size_t len);
/* Route ops (route.h): check an update's signature and grants; sign
 * ours. */
int origins_verify(struct origins *o, uint32_t peer,
		   const struct route_update *u);
int origins_sign(struct origins *o, struct route_update *u);
/* Other things an origin signs (node records, doc/PROTOCOL.md 2.7): 0 if
 * origin's key signed data (we hold its certificate, not revoked), else
 * -1; and our signature of data, siglen bytes of at most cap. */
int origins_verify_data(struct origins *o, const struct node_id *origin,
			const uint8_t *data, size_t len, const uint8_t *sig,
			size_t siglen);
int origins_sign_data(struct origins *o, const uint8_t *data, size_t len,
		      uint8_t *sig, size_t cap, size_t *siglen);
/* The certificate peer still needs before a route of origin: its DER, or
 * NULL if it has it (or we have none). Counts it as sent. */
const uint8_t *origins_cert_for(struct origins *o, uint32_t peer,
				const struct node_id *origin, size_t *len);
/* A link (peer handle) is new or gone: it has no certificate of ours. */
void origins_peer_reset(struct origins *o, uint32_t peer);
/* May our local gates use instance inst? */
int origins_self_inst(const struct origins *o, uint32_t inst);
/* After a CRL reload: check every cached certificate again. */
void origins_recheck(struct origins *o);
/* The name in the certificate of node id (escaped as at entry), or "-"
 * if we hold none: a route's origin by name. */
const char *origins_name(const struct origins *o, const struct node_id *id);
/* One "origin" status line per known origin. */
void origins_status(const struct origins *o, FILE *f);

#endif
