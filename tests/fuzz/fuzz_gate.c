/*
 * libFuzzer target for the gate protocol: the input is a byte stream as a
 * gate or the daemon would send it. Every whole message the deframer finds
 * goes through every decoder; whatever decodes must encode back to the
 * same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateproto.c"

static uint8_t fz_out[GP_MSG_MAX];
static struct addr fz_addrs[GP_ANNOUNCE_MAX];
static struct gp_prefix fz_prefixes[GP_PREFIX_MAX];

static void fz_check_same(const uint8_t *msg, size_t n, size_t m)
{
	if (m != n || memcmp(fz_out, msg, n) != 0)
		abort();
}

/* SUBSCRIBE, PREFIX: what decodes encodes back to the same size (PREFIX
 * clears host bits) or bytes. */
static void fz_subs(const uint8_t *msg, size_t n, uint8_t type,
		    const uint8_t *pl, size_t plen)
{
	uint32_t inst;
	uint8_t flags;
	size_t count;

	if (gp_subscribe_decode(pl, plen, &inst) == 0 && type == GP_SUBSCRIBE)
		fz_check_same(msg, n, gp_subscribe_encode(fz_out,
							  sizeof(fz_out),
							  inst));
	if (gp_prefix_decode(pl, plen, &flags, fz_prefixes, GP_PREFIX_MAX,
			     &count) == 0 && type == GP_PREFIX &&
	    gp_prefix_encode(fz_out, sizeof(fz_out), flags, fz_prefixes,
			     count) != n)
		abort();
}

/* NODE, SOCKET, LINK, NOTE, NOROUTE: what decodes encodes back to the
 * same bytes. */
static void fz_events(const uint8_t *msg, size_t n, uint8_t type,
		      const uint8_t *pl, size_t plen)
{
	uint8_t id[GP_ID_LEN];
	struct gp_link l;
	struct gp_note nt;
	struct gp_noroute nr;

	if (gp_node_decode(pl, plen, id) == 0 && type == GP_NODE)
		fz_check_same(msg, n, gp_node_encode(fz_out, sizeof(fz_out),
						     id));
	if (gp_socket_decode(pl, plen, id) == 0 && type == GP_SOCKET)
		fz_check_same(msg, n, gp_socket_encode(fz_out, sizeof(fz_out),
						       id));
	if (gp_link_decode(pl, plen, &l) == 0 && type == GP_LINK)
		fz_check_same(msg, n, gp_link_encode(fz_out, sizeof(fz_out),
						     &l));
	if (gp_note_decode(pl, plen, &nt) == 0 && type == GP_NOTE)
		fz_check_same(msg, n, gp_note_encode(fz_out, sizeof(fz_out),
						     &nt));
	if (gp_noroute_decode(pl, plen, &nr) == 0 && type == GP_NOROUTE)
		fz_check_same(msg, n, gp_noroute_encode(fz_out, sizeof(fz_out),
							&nr));
}

/* The decoders read an exact-size copy of the payload, so ASan sees any
 * read past its end. */
static void fz_message(const uint8_t *msg, size_t n, uint8_t type,
		       const uint8_t *raw, size_t plen)
{
	char name[GP_NAME_MAX + 1];
	struct gp_packet p;
	uint16_t version;
	size_t count;
	uint8_t *pl = malloc(plen ? plen : 1);

	if (pl == NULL)
		return;
	memcpy(pl, raw, plen);
	if (gp_hello_decode(pl, plen, &version, name) == 0 &&
	    type == GP_HELLO)
		fz_check_same(msg, n, gp_hello_encode(fz_out, sizeof(fz_out),
						      version, name));
	if (gp_announce_decode(pl, plen, fz_addrs, GP_ANNOUNCE_MAX,
			       &count) == 0 && type == GP_ANNOUNCE) {
		/* host bits are cleared, so only the size must match */
		if (gp_announce_encode(fz_out, sizeof(fz_out), fz_addrs,
				       count) != n)
			abort();
	}
	if (gp_packet_decode(pl, plen, &p) == 0 && type == GP_PACKET)
		fz_check_same(msg, n, gp_packet_encode(fz_out, sizeof(fz_out),
						       &p));
	/* a flow of 0 is sent as a plain PACKET: only nonzero round-trips */
	if (gp_fpacket_decode(pl, plen, &p) == 0 && type == GP_FPACKET &&
	    p.flow != 0)
		fz_check_same(msg, n, gp_packet_encode(fz_out, sizeof(fz_out),
						       &p));
	fz_events(msg, n, type, pl, plen);
	fz_subs(msg, n, type, pl, plen);
	free(pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pl;
	size_t plen;
	uint8_t type;
	long n;

	/* the decoders alone, on the raw input */
	fz_message(data, size, 0, data, size);
	while ((n = gp_frame(data, size, &type, &pl, &plen)) > 0) {
		if ((size_t)n > size || pl + plen != data + n)
			abort();
		fz_message(data, (size_t)n, type, pl, plen);
		data += n;
		size -= (size_t)n;
	}
	return 0;
}
