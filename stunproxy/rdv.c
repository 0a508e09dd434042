/*
 * The rendezvous client: for nodes that have no mesh path to each other
 * yet. Every node of a group (one secret) registers at `stunproxy -serve`
 * from its punching socket, which tells it its public mapping; signalling
 * messages go through the server sealed with a key the server does not
 * know, addressed by node name inside the seal:
 * (sp_env_encode: the target's name, then the signalling message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf.h"
#include "log.h"
#include "mono.h"
#include "sp.h"

#define RDV_REG_MS 10000	/* re-register: holds the NAT mapping and our
				 * place in the group (the server forgets a
				 * member after 30 s) */
#define RDV_RETRY_MS 1000	/* until the first answer */

struct rdv {
	struct sockaddr_storage server;
	uint8_t group[SP_GROUP];
	uint8_t key[SP_KEY];
	uint64_t nonce;
	uint64_t next_reg;
	int registered;
};

struct rdv *rdv_new(struct sp *sp)
{
	struct rdv *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (sp_resolve(sp, "rendezvous", 0, &r->server) < 0) {
		free(r);
		return NULL;
	}
	sp_rv_keys(conf_str(sp->conf, "key"), r->group, r->key);
	return r;
}

void rdv_free(struct rdv *r)
{
	free(r);
}

static void rv_send(struct sp *sp, const struct sp_rv *m)
{
	uint8_t buf[SP_MSG_MAX];
	size_t len = sp_rv_encode(buf, sizeof(buf), m);

	if (len > 0)
		sp_sendto(sp, buf, len, &sp->rdv->server, 0);
}

void rdv_tick(struct sp *sp, uint64_t now)
{
	struct rdv *r = sp->rdv;
	struct sp_rv m = { .type = SP_RV_REG };

	if (!r || now < r->next_reg)
		return;
	r->next_reg = now + (r->registered ? RDV_REG_MS : RDV_RETRY_MS);
	if (getrandom(&r->nonce, sizeof(r->nonce), 0) != sizeof(r->nonce))
		return;
	memcpy(m.group, r->group, SP_GROUP);
	m.nonce = r->nonce;
	rv_send(sp, &m);
}

void rdv_send(struct sp *sp, const char *to, const uint8_t *msg, size_t len)
{
	struct rdv *r = sp->rdv;
	uint8_t plain[SP_MSG_MAX], sealed[SP_MSG_MAX];
	struct sp_rv m = { .type = SP_RV_SEND };
	size_t n;

	if (!r || !r->registered ||
	    !(n = sp_env_encode(plain, sizeof(plain), to, msg, len)) ||
	    !(n = sp_seal(sealed, sizeof(sealed), plain, n, r->key)))
		return;
	memcpy(m.group, r->group, SP_GROUP);
	m.body = sealed;
	m.body_len = n;
	rv_send(sp, &m);
}

static void on_fwd(struct sp *sp, const struct sp_rv *m)
{
	char to[SP_NAME_MAX + 1];
	const uint8_t *msg;
	struct sp_sig s;
	size_t len;

	if (sp_unseal(m->body, m->body_len, sp->rdv->key, &len) < 0 ||
	    sp_env_decode(m->body, len, to, &msg, &len) < 0) {
		log_debug("rendezvous: a message not sealed with our key");
		return;
	}
	if (to[0] && strcmp(to, sp->name))
		return;		/* for another node of the group */
	if (sp_sig_decode(msg, len, &s) < 0 || !memcmp(s.id, sp->id, SP_ID))
		return;
	punch_signal(sp, &s);
}

int rdv_input(struct sp *sp, const uint8_t *buf, size_t len,
	      const struct sockaddr_storage *from)
{
	struct rdv *r = sp->rdv;
	struct sp_rv m;
	char b[64];

	if (!r || !sp_same_addr(from, &r->server) ||
	    sp_rv_decode(buf, len, &m) < 0 ||
	    memcmp(m.group, r->group, SP_GROUP))
		return 0;
	if (m.type == SP_RV_FWD) {
		on_fwd(sp, &m);
		return 1;
	}
	if (m.type != SP_RV_REGACK || m.nonce != r->nonce)
		return 1;
	cand_learned(sp, &m.addr, "rendezvous");
	if (!r->registered) {
		log_info("rendezvous %s: registered",
			 sp_fmt(&r->server, b, sizeof(b)));
		r->registered = 1;
		r->next_reg = mono_ms() + RDV_REG_MS;
		punch_here(sp, NULL, SP_F_REPLY);
	}
	return 1;
}
