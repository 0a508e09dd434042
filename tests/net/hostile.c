/*
 * hostile: a mesh member that lies, for tests/net/t-trust-*.sh. It holds
 * a valid node certificate, links to one daemon over TCP+TLS like a cloud
 * daemon would (hello, pongs to pings), reads the routes and broadcasts
 * it is sent, and then attacks in one of five ways:
 *
 *   hostile -connect HOST PORT -cert F -key F -ca F -mode MODE [ARG]
 *           [-duration SECS]
 *
 *   forge-route PREFIX   once PREFIX (INST/HEX/PLEN, as in the status
 *                        file) is heard, announce it with its origin's
 *                        id, seqno + 30000, metric 0, hops 0; again each
 *                        time the peer announces a seqno we did not forge
 *   seqreq-flood PREFIX  ask PREFIX's origin for seqno + 32767, every
 *                        10 ms and on every new seqno, 300 times at most
 *   route-flood N        announce N prefixes 1/f0xxxxxx/32 of our own
 *   forge-bcast          replay the first broadcast heard with its origin
 *                        and sequence + 2^31 - 1 (which silences it)
 *   offload INST         broadcast in INST two offloaded TCP frames of our
 *                        own: a sound one (3000 bytes, gso_size 1000: 3
 *                        segments), then one with gso_size 1 (8000 bytes:
 *                        8000 segments, if a segmenter believed it)
 *
 * One line per event on stdout, for the scripts to wait on: "up NAME",
 * "offload sent",
 * "route PREFIX ...", "forged ...", "seqreq ...", "flooded N", "acked
 * WHAT" (the peer answered a ping sent after WHAT, so it has processed
 * WHAT), "broadcast ...", "data ...", and "done ..." at the end. Exits 0
 * at -duration (default 20 s), 1 if the link fails, 2 on bad usage.
 *
 * The lies are each made in one small function (forge_route, seqreq_one,
 * flood_one, forge_bcast). Routes of its own it signs with its key and
 * sends its certificate first (FR_CERT), as a daemon does, so a flood is
 * refused for its size, not for a bad signature. A forged route carries,
 * in turn, the victim's own signature of its real seqno (replayed) and
 * our key's signature of the forged one: neither is the origin's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "addr.h"
#include "bytes.h"
#include "mono.h"
#include "proto.h"
#include "route.h"
#include "wire.h"

#define IO_TIMEOUT_S 10		/* connect, handshake, one blocking send */
#define ROUTE_FRAME 16384	/* payload of an FR_ROUTE frame we send */
#define ROUTE_ENTRY_MAX (ROUTE_ENTRY_FIXED + ADDR_MAX + ROUTE_SIG_MAX)
#define FLOOD_MAX 1000000u
#define FORGE_MAX 100		/* route forgeries at most */
#define SEQREQ_MAX 300		/* seqno requests at most */
#define SEQREQ_EVERY_MS 10
#define SEQREQ_JUMP 32767	/* the largest step seq_newer accepts */
#define FORGE_SEQ_JUMP 30000
#define BCAST_JUMP 0x7fffffffu	/* the largest step dup_seen accepts */
#define BCAST_STEP 1000000u	/* forgeries climb to it in these steps */
#define BCAST_STEPS 5
#define PING_MAGIC 0x686f7374696c6500ull	/* "hostile\0": our pings */

enum mode { M_FORGE_ROUTE, M_SEQREQ, M_FLOOD, M_BCAST, M_OFFLOAD };

struct hostile {
	gnutls_session_t s;
	gnutls_privkey_t key;		/* signs routes of our own */
	gnutls_datum_t der;		/* our certificate, for FR_CERT */
	int cert_sent;
	int fd;
	enum mode mode;
	struct node_id self;
	char name[NODE_NAME_MAX + 1];
	struct addr target;		/* forge-route, seqreq-flood */
	unsigned long nflood;		/* route-flood */
	uint32_t inst;			/* offload */
	int offload_sent;
	uint64_t deadline_ms;
	int up;
	uint8_t *in;			/* received bytes not yet framed */
	size_t inlen;
	struct route_update *scratch;
	uint64_t ping_seq;
	char ack_what[64];		/* said when our last ping comes back */
	/* what we heard and did */
	int have_victim;
	struct node_id victim;		/* target's origin */
	uint16_t vseq;			/* its latest seqno as heard */
	uint16_t forged_seq;
	unsigned forged, requests, flooded, bcasts;
	uint64_t last_req_ms;
	unsigned long routes_heard, data_heard;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "hostile: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hostile -connect HOST PORT -cert F -key F -ca F\n"
		"               -mode forge-route PREFIX | seqreq-flood PREFIX"
		" | route-flood N | forge-bcast | offload INST\n"
		"               [-duration SECS]   (PREFIX: INST/HEX/PLEN)\n");
	exit(2);
}

static char *id8(const struct node_id *id, char *buf)
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(buf + 2 * i, 3, "%02x", id->b[i]);
	return buf;
}

/* "1/0b/8" -> addr; -1 if malformed. */
static int parse_prefix(const char *s, struct addr *a)
{
	char hex[2 * ADDR_MAX + 1];
	unsigned inst, plen;
	int n = 0;

	if (sscanf(s, "%u/%32[0-9a-fA-F:]/%u%n", &inst, hex, &plen, &n) != 3 ||
	    s[n] != '\0' || addr_parse_hex(hex, inst, a) < 0 ||
	    plen > a->len * 8u)
		return -1;
	a->plen = (uint16_t)plen;
	addr_mask(a);
	return 0;
}

/* ---- output ---------------------------------------------------------- */

static void send_bytes(struct hostile *h, const uint8_t *b, size_t len)
{
	ssize_t r;
	int i;

	for (i = 0; len > 0 && i < 1000; i++) {
		r = gnutls_record_send(h->s, b, len);
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r < 0)
			die("send: %s", gnutls_strerror((int)r));
		b += r;
		len -= (size_t)r;
	}
	if (len > 0)
		die("send: no progress");
}

static void send_frame(struct hostile *h, uint8_t type, const uint8_t *p,
		       size_t plen)
{
	uint8_t buf[FRAME_HDR + ROUTE_FRAME];

	if (plen > ROUTE_FRAME)
		die("frame of %zu bytes", plen);
	wire_put_hdr(buf, type, plen);
	if (plen)
		memcpy(buf + FRAME_HDR, p, plen);
	send_bytes(h, buf, FRAME_HDR + plen);
}

static void send_routes(struct hostile *h, const struct route_update *u,
			size_t n)
{
	uint8_t buf[ROUTE_FRAME];
	size_t used, len;

	while (n > 0) {
		len = route_encode(u, n, buf, sizeof(buf), &used);
		if (used == 0)
			die("route entry does not fit a frame");
		send_frame(h, FR_ROUTE, buf, len);
		u += used;
		n -= used;
	}
}

/* A ping after what we just sent: its pong says the peer processed it. */
static void ask_ack(struct hostile *h, const char *what)
{
	uint8_t p[8];

	put64(p, PING_MAGIC | (++h->ping_seq & 0xff));
	snprintf(h->ack_what, sizeof(h->ack_what), "%s", what);
	send_frame(h, FR_PING, p, sizeof(p));
}

/* Sign u with our key (what a daemon does for its own routes). */
static void sign_route(const struct hostile *h, struct route_update *u)
{
	uint8_t d[ROUTE_SIG_DATA_MAX];
	gnutls_datum_t data = { d, 0 }, sig = { NULL, 0 };
	unsigned bits;
	int pk = gnutls_privkey_get_pk_algorithm(h->key, &bits);

	u->cbase = u->seqno;	/* a chain of its own at each seqno */
	data.size = (unsigned)route_sig_data(u, d);
	if (gnutls_privkey_sign_data2(h->key, pk == GNUTLS_PK_ECDSA ?
				      GNUTLS_SIGN_ECDSA_SHA256 :
				      GNUTLS_SIGN_EDDSA_ED25519, 0, &data,
				      &sig) < 0 || sig.size > ROUTE_SIG_MAX)
		die("cannot sign a route");
	memcpy(u->sig, sig.data, sig.size);
	u->siglen = (uint8_t)sig.size;
	gnutls_free(sig.data);
}

/* Our certificate, once, before the first route of our own. */
static void send_cert(struct hostile *h)
{
	if (h->cert_sent++)
		return;
	send_frame(h, FR_CERT, h->der.data, h->der.size);
}

/* ---- the lies ---------------------------------------------------------- */

/* The victim's prefix, in its name, much newer and at no cost. */
static void forge_route(struct hostile *h, const struct route_update *heard)
{
	struct route_update u;
	char a[ADDR_STRLEN], o[17];

	memset(&u, 0, sizeof(u));
	u.prefix = heard->prefix;
	u.origin = heard->origin;
	u.seqno = (uint16_t)(heard->seqno + FORGE_SEQ_JUMP);
	u.metric = 0;
	u.hops = 0;
	if (h->forged % 2 == 0) {	/* the victim's, of its real seqno */
		u.siglen = heard->siglen;
		memcpy(u.sig, heard->sig, heard->siglen);
	} else {			/* ours, of the forged one */
		sign_route(h, &u);
	}
	send_routes(h, &u, 1);
	h->forged_seq = u.seqno;
	h->forged++;
	printf("forged route %s origin=%s seqno=%u (heard %u)\n",
	       addr_fmt(&u.prefix, a, sizeof(a)), id8(&u.origin, o), u.seqno,
	       heard->seqno);
	ask_ack(h, "forged route");
}

/* Ask the victim for a seqno half the circle ahead of its own. */
static void seqreq_one(struct hostile *h)
{
	struct route_seqreq r;
	uint8_t buf[128];
	size_t len;

	memset(&r, 0, sizeof(r));
	r.prefix = h->target;
	r.origin = h->victim;
	r.seqno = (uint16_t)(h->vseq + SEQREQ_JUMP);
	r.hop_count = 64;
	len = route_seqreq_encode(&r, buf, sizeof(buf));
	if (len == 0)
		die("seqno request does not encode");
	send_frame(h, FR_SEQREQ, buf, len);
	h->requests++;
	h->last_req_ms = mono_ms();
	printf("seqreq seqno=%u (heard %u)\n", r.seqno, h->vseq);
}

/* Route i of the flood: a prefix of our own, 1/f0xxxxxx/32. */
static void flood_one(const struct hostile *h, unsigned long i,
		      struct route_update *u)
{
	memset(u, 0, sizeof(*u));
	u->prefix.inst = 1;
	u->prefix.len = 4;
	u->prefix.plen = 32;
	put32(u->prefix.b, 0xf0000000u | (uint32_t)i);
	u->origin = h->self;
	u->seqno = 1;
	u->metric = 0;
	u->hops = 0;
	sign_route(h, u);
}

static void pump(struct hostile *h, int wait_ms);

static void route_flood(struct hostile *h)
{
	struct route_update u[ROUTE_FRAME / ROUTE_ENTRY_MAX];
	unsigned long i = 0;
	size_t n;

	send_cert(h);
	while (i < h->nflood) {
		for (n = 0; n < sizeof(u) / sizeof(u[0]) && i < h->nflood;
		     n++, i++)
			flood_one(h, i, &u[n]);
		send_routes(h, u, n);
		pump(h, 0);	/* answer pings while we talk */
	}
	h->flooded = (unsigned)i;
	printf("flooded %lu routes\n", i);
	ask_ack(h, "flood");
}

/*
 * The broadcast heard, replayed under its own origin and sequence +
 * 2^31 - 1 (climbing there in steps of BCAST_STEP, each one ahead of
 * the last): every daemon's window for that origin jumps as far as it
 * goes, and the origin's next 2^31 - 1024 broadcasts look old to it.
 * A last step past + 2^31 - 1 would undo that, so there is none.
 */
static void forge_bcast(struct hostile *h, const struct pkt *heard)
{
	static const uint8_t text[] = "forged";
	uint8_t buf[WIRE_DATA_HDR_MAX + sizeof(text)];
	struct pkt p;
	size_t len;
	int k;

	for (k = BCAST_STEPS - 1; k >= 0; k--) {
		memset(&p, 0, sizeof(p));
		p.inst = heard->inst;
		p.ttl = DEF_TTL;
		p.slen = heard->slen;
		p.src = heard->src;
		p.bc_origin = heard->bc_origin;
		p.bc_seq = heard->bc_seq + BCAST_JUMP - (uint32_t)k * BCAST_STEP;
		p.data = text;
		p.len = sizeof(text) - 1;
		len = wire_data_hdr(&p, buf);
		memcpy(buf + len, p.data, p.len);
		send_bytes(h, buf, len + p.len);
		printf("forged broadcast inst=%u origin=%016llx seq=%u\n",
		       p.inst, (unsigned long long)p.bc_origin, p.bc_seq);
	}
	h->bcasts++;
	ask_ack(h, "forged broadcasts");
}

/*
 * A virtio_net_hdr (TCPV4, partial checksum) and an Ethernet/IPv4/TCP
 * frame to the broadcast MAC carrying plen bytes of payload, at buf; its
 * length. Only gso_size is a lie, when we choose it to be.
 */
#define OFF_HDRS (10 + 14 + 20 + 20)
#define OFF_PAYLOAD_MAX 8000

static size_t offload_frame(uint8_t *b, size_t plen, uint16_t gso_size)
{
	uint8_t *eth = b + 10, *ip = eth + 14, *tcp = ip + 20;
	size_t i;

	memset(b, 0, OFF_HDRS);
	b[0] = 0x01;				/* NEEDS_CSUM */
	b[1] = 0x01;				/* GSO TCPV4 */
	b[2] = 54;				/* hdr_len, little-endian */
	b[4] = (uint8_t)gso_size;
	b[5] = (uint8_t)(gso_size >> 8);
	b[6] = 34;				/* csum_start */
	b[8] = 16;				/* csum_offset */
	memset(eth, 0xff, 6);
	eth[6] = 0x02;
	eth[11] = 0x58;
	put16(eth + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + plen));
	ip[8] = 64;
	ip[9] = 6;				/* TCP */
	put32(ip + 12, 0x0a4d6301);		/* 10.77.99.1 -> .2 */
	put32(ip + 16, 0x0a4d6302);
	put16(tcp, 40000);
	put16(tcp + 2, 9);
	put32(tcp + 4, 1);
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;				/* ACK PSH */
	put16(tcp + 14, 65535);
	for (i = 0; i < plen; i++)
		tcp[20 + i] = (uint8_t)('a' + i % 26);
	return OFF_HDRS + plen;
}

static void offload_one(struct hostile *h, size_t plen, uint16_t gso_size,
			uint32_t seq)
{
	uint8_t buf[WIRE_DATA_HDR_MAX + OFF_HDRS + OFF_PAYLOAD_MAX];
	uint8_t frame[OFF_HDRS + OFF_PAYLOAD_MAX];
	struct pkt p;
	size_t len;

	memset(&p, 0, sizeof(p));
	p.inst = h->inst;
	p.ttl = DEF_TTL;
	p.flags = PKT_OFFLOAD;
	p.bc_origin = get64(h->self.b);
	p.bc_seq = seq;
	p.data = frame;
	p.len = offload_frame(frame, plen, gso_size);
	len = wire_data_hdr(&p, buf);
	memcpy(buf + len, p.data, p.len);
	send_bytes(h, buf, len + p.len);
}

static void offload_send(struct hostile *h)
{
	offload_one(h, 3000, 1000, 1);
	offload_one(h, OFF_PAYLOAD_MAX, 1, 2);
	h->offload_sent = 1;
	printf("offload sent\n");
	ask_ack(h, "offload");
}

/* ---- input ------------------------------------------------------------- */

static void on_route(struct hostile *h, const struct route_update *u)
{
	char a[ADDR_STRLEN], o[17];

	h->routes_heard++;
	if (h->mode == M_FLOOD || !addr_equal(&u->prefix, &h->target))
		return;
	printf("route %s origin=%s seqno=%u metric=%u hops=%u\n",
	       addr_fmt(&u->prefix, a, sizeof(a)), id8(&u->origin, o),
	       u->seqno, u->metric, u->hops);
	if (u->metric == ROUTE_INF || !memcmp(u->origin.b, h->self.b,
					      NODE_ID_LEN))
		return;
	if (h->have_victim && memcmp(u->origin.b, h->victim.b, NODE_ID_LEN))
		return;	/* another origin of the prefix: not our victim */
	h->victim = u->origin;
	if (h->mode == M_FORGE_ROUTE) {
		/* heard a seqno not ours: the peer went back to the truth */
		if ((!h->have_victim || u->seqno != h->forged_seq) &&
		    h->forged < FORGE_MAX)
			forge_route(h, u);
	} else if (h->mode == M_SEQREQ) {
		int fresh = !h->have_victim || u->seqno != h->vseq;

		h->vseq = u->seqno;
		if (fresh && h->requests < SEQREQ_MAX)
			seqreq_one(h);
	}
	h->have_victim = 1;
}

static void frame_route(struct hostile *h, const uint8_t *p, size_t len)
{
	size_t n, i;

	if (route_decode(p, len, h->scratch, FRAME_MAX / ROUTE_ENTRY_FIXED, &n) < 0)
		die("malformed route frame");
	for (i = 0; i < n; i++)
		on_route(h, &h->scratch[i]);
}

static void frame_data(struct hostile *h, const uint8_t *p, size_t len)
{
	struct pkt pk;
	char hex[ADDR_STRLEN];

	if (wire_data_decode(p, len, &pk) < 0)
		die("malformed data frame");
	h->data_heard++;
	if (pk.dlen) {
		if (h->data_heard <= 5)
			printf("data inst=%u dst=%s len=%zu\n", pk.inst,
			       addr_hex(pk.dst, pk.dlen, hex, sizeof(hex)),
			       pk.len);
		return;
	}
	printf("broadcast inst=%u origin=%016llx seq=%u\n", pk.inst,
	       (unsigned long long)pk.bc_origin, pk.bc_seq);
	if (h->mode == M_BCAST && h->bcasts == 0)
		forge_bcast(h, &pk);
}

static void frame_pong(struct hostile *h, const uint8_t *p, size_t len)
{
	if (len == 8 && get64(p) == (PING_MAGIC | (h->ping_seq & 0xff)) &&
	    h->ack_what[0]) {
		printf("acked %s\n", h->ack_what);
		h->ack_what[0] = '\0';
	}
}

static void frame_hello(struct hostile *h, const uint8_t *p, size_t len)
{
	struct wire_hello w;

	if (wire_hello_decode(p, len, &w) < 0)
		die("malformed hello");
	h->up = 1;
	printf("up %s\n", w.name);
}

static void on_frame(struct hostile *h, uint8_t type, const uint8_t *p,
		     size_t len)
{
	switch (type) {
	case FR_HELLO:
		frame_hello(h, p, len);
		break;
	case FR_PING:
		if (len == 8)
			send_frame(h, FR_PONG, p, 8);
		break;
	case FR_PONG:
		frame_pong(h, p, len);
		break;
	case FR_ROUTE:
		frame_route(h, p, len);
		break;
	case FR_DATA:
		frame_data(h, p, len);
		break;
	case FR_BYE:
		die("closed by peer");
	}
}

/* Read one record (waiting up to wait_ms) and act on every whole frame. */
static void pump(struct hostile *h, int wait_ms)
{
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	size_t cap = FRAME_HDR + FRAME_MAX, plen, off = 0;
	uint8_t type;
	ssize_t r;
	int f;

	if (gnutls_record_check_pending(h->s) == 0 &&
	    poll(&pfd, 1, wait_ms) <= 0)
		return;
	r = gnutls_record_recv(h->s, h->in + h->inlen, cap - h->inlen);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return;
	if (r == 0)
		die("connection closed by peer");
	if (r < 0)
		die("receive: %s", gnutls_strerror((int)r));
	h->inlen += (size_t)r;
	while ((f = wire_frame(h->in + off, h->inlen - off, FRAME_MAX, &type,
			       &plen)) > 0 &&
	       h->inlen - off >= FRAME_HDR + plen) {
		on_frame(h, type, h->in + off + FRAME_HDR, plen);
		off += FRAME_HDR + plen;
	}
	if (f < 0)
		die("frame too large");
	memmove(h->in, h->in + off, h->inlen - off);
	h->inlen -= off;
}

/* ---- setup --------------------------------------------------------------- */

/* Our node id (SHA-256 of the public key, as the daemons compute it) and
 * our name (the CN). */
static void load_key(struct hostile *h, const char *key)
{
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_load_file(key, &d) < 0 || gnutls_privkey_init(&h->key) < 0 ||
	    gnutls_privkey_import_x509_raw(h->key, &d, GNUTLS_X509_FMT_PEM,
					   NULL, 0) < 0)
		die("%s: cannot read the key", key);
	gnutls_free(d.data);
}

static void load_identity(struct hostile *h, const char *cert)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_x509_crt_t crt;
	size_t sz = NODE_ID_LEN;

	if (gnutls_load_file(cert, &d) < 0 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, h->self.b,
				       &sz) < 0 || sz != NODE_ID_LEN)
		die("%s: cannot read the certificate", cert);
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &h->der) < 0)
		die("%s: cannot export the certificate", cert);
	sz = sizeof(h->name);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, h->name, &sz) < 0)
		snprintf(h->name, sizeof(h->name), "hostile");
	gnutls_x509_crt_deinit(crt);
	gnutls_free(d.data);
}

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd, r;

	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
		die("%s %s: %s", host, port, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect %s %s: %s", host, port, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

static void tls_start(struct hostile *h, const char *cert, const char *key,
		      const char *ca)
{
	gnutls_certificate_credentials_t cred;
	int r, i;

	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_key_file(cred, cert, key,
						 GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_certificate_set_x509_trust_file(cred, ca,
						   GNUTLS_X509_FMT_PEM) <= 0)
		die("cannot load %s, %s or %s", cert, key, ca);
	if (gnutls_init(&h->s, GNUTLS_CLIENT) < 0 ||
	    gnutls_set_default_priority(h->s) < 0 ||
	    gnutls_credentials_set(h->s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		die("gnutls session");
	gnutls_session_set_verify_cert(h->s, NULL, 0);
	gnutls_transport_set_int(h->s, h->fd);
	gnutls_handshake_set_timeout(h->s, IO_TIMEOUT_S * 1000);
	for (i = 0; i < 100; i++) {
		r = gnutls_handshake(h->s);
		if (r >= 0)
			return;
		if (gnutls_error_is_fatal(r))
			break;
	}
	die("handshake: %s", gnutls_strerror(r));
}

static void send_hello(struct hostile *h)
{
	struct wire_hello w;
	uint8_t buf[WIRE_HELLO_MAX];

	memset(&w, 0, sizeof(w));
	w.version = PROTO_VERSION;
	w.id = h->self;
	snprintf(w.name, sizeof(w.name), "%s", h->name);
	send_frame(h, FR_HELLO, buf, wire_hello_encode(&w, buf, sizeof(buf)));
}

/* What the mode does when no frame comes. */
static void tick(struct hostile *h)
{
	if (!h->up)
		return;
	if (h->mode == M_FLOOD && !h->flooded)
		route_flood(h);
	if (h->mode == M_OFFLOAD && !h->offload_sent)
		offload_send(h);
	if (h->mode == M_SEQREQ && h->have_victim &&
	    h->requests < SEQREQ_MAX &&
	    mono_ms() - h->last_req_ms >= SEQREQ_EVERY_MS)
		seqreq_one(h);
}

static void parse_mode(struct hostile *h, int argc, char **argv, int *i)
{
	const char *m = argv[*i];
	char *end;

	if (!strcmp(m, "forge-bcast")) {
		h->mode = M_BCAST;
		return;
	}
	if (*i + 1 >= argc)
		usage();
	(*i)++;
	if (!strcmp(m, "route-flood")) {
		h->mode = M_FLOOD;
		h->nflood = strtoul(argv[*i], &end, 10);
		if (*end || h->nflood == 0 || h->nflood > FLOOD_MAX)
			die("route-flood: bad count \"%s\"", argv[*i]);
		return;
	}
	if (!strcmp(m, "offload")) {
		h->mode = M_OFFLOAD;
		h->inst = (uint32_t)strtoul(argv[*i], &end, 10);
		if (*end)
			die("offload: bad instance \"%s\"", argv[*i]);
		return;
	}
	if (!strcmp(m, "forge-route"))
		h->mode = M_FORGE_ROUTE;
	else if (!strcmp(m, "seqreq-flood"))
		h->mode = M_SEQREQ;
	else
		die("unknown mode \"%s\"", m);
	if (parse_prefix(argv[*i], &h->target) < 0)
		die("%s: bad prefix \"%s\" (INST/HEX/PLEN)", m, argv[*i]);
}

int main(int argc, char **argv)
{
	static struct hostile h;
	const char *host = NULL, *port = NULL, *cert = NULL, *key = NULL,
		   *ca = NULL;
	int i, mode = 0;
	unsigned long duration = 20;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-connect") && i + 2 < argc) {
			host = argv[++i];
			port = argv[++i];
		} else if (!strcmp(argv[i], "-cert") && i + 1 < argc) {
			cert = argv[++i];
		} else if (!strcmp(argv[i], "-key") && i + 1 < argc) {
			key = argv[++i];
		} else if (!strcmp(argv[i], "-ca") && i + 1 < argc) {
			ca = argv[++i];
		} else if (!strcmp(argv[i], "-mode") && i + 1 < argc) {
			i++;
			parse_mode(&h, argc, argv, &i);
			mode = 1;
		} else if (!strcmp(argv[i], "-duration") && i + 1 < argc) {
			duration = strtoul(argv[++i], NULL, 10);
		} else {
			usage();
		}
	}
	if (!host || !cert || !key || !ca || !mode || duration == 0 ||
	    duration > 3600)
		usage();
	h.in = malloc(FRAME_HDR + FRAME_MAX);
	h.scratch = calloc(FRAME_MAX / ROUTE_ENTRY_FIXED, sizeof(*h.scratch));
	if (!h.in || !h.scratch)
		die("out of memory");
	load_identity(&h, cert);
	load_key(&h, key);
	h.deadline_ms = mono_ms() + duration * 1000;
	h.fd = tcp_connect(host, port);
	tls_start(&h, cert, key, ca);
	send_hello(&h);
	while (mono_ms() < h.deadline_ms) {
		pump(&h, SEQREQ_EVERY_MS);
		tick(&h);
	}
	send_frame(&h, FR_BYE, NULL, 0);
	gnutls_bye(h.s, GNUTLS_SHUT_WR);
	printf("done routes_heard=%lu data_heard=%lu forged=%u requests=%u "
	       "flooded=%u bcast_forgeries=%u\n", h.routes_heard, h.data_heard,
	       h.forged, h.requests, h.flooded, h.bcasts);
	return 0;
}
