/*
 * libFuzzer: what tun does with each packet, from its TUN (parse) and
 * from the mesh (strip the pseudo-Ethernet header, parse, filter). The
 * input is parsed both as an IP packet and as a frame, each from an
 * exact-size copy; what parse returns must stay inside the packet.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tun/tunpkt.c"

static void check(const uint8_t *b, size_t len, const struct tunpkt *p)
{
	if (p->len > len || (p->version != 4 && p->version != 6) ||
	    p->alen != (p->version == 4 ? 4 : 16) ||
	    p->src < b || p->src + p->alen > b + p->len ||
	    p->dst < b || p->dst + p->alen > b + p->len)
		abort();
	if (p->ports && (p->later_frag ||
	    (p->proto != TUNPKT_TCP && p->proto != TUNPKT_UDP)))
		abort();
}

static void as_packet(const uint8_t *buf, size_t len,
		      const struct tunpkt_filter *f)
{
	uint8_t *c = malloc(len ? len : 1);
	struct tunpkt p;

	if (c == NULL)
		return;
	memcpy(c, buf, len);
	if (tunpkt_parse(c, len, &p) == 0) {
		check(c, len, &p);
		if (tunpkt_allow(f, &p) && f->on && !p.ports &&
		    p.proto != TUNPKT_ICMP && p.proto != TUNPKT_ICMPV6)
			abort();
	}
	free(c);
}

/* The frame tun would send for this packet, stripped again. */
static void as_frame(const uint8_t *buf, size_t len)
{
	uint8_t *c = malloc(TUNPKT_ETH_LEN + len);
	int v;

	if (c == NULL)
		return;
	memcpy(c + TUNPKT_ETH_LEN, buf, len);
	tunpkt_eth_put(c, len && buf[0] >> 4 == 6 ? 6 : 4);
	v = tunpkt_eth_strip(c, TUNPKT_ETH_LEN + len);
	if (len > 0 && (buf[0] >> 4 == 4 || buf[0] >> 4 == 6) &&
	    v != buf[0] >> 4)
		abort();
	free(c);
	/* and the input itself taken as a frame from the mesh */
	if (tunpkt_eth_strip(buf, len) >= 0) {
		if (len <= TUNPKT_ETH_LEN)
			abort();
		as_packet(buf + TUNPKT_ETH_LEN, len - TUNPKT_ETH_LEN,
			  &(struct tunpkt_filter){ 0 });
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static struct tunpkt_filter f;

	if (!f.on) {
		tunpkt_filter_add(&f, 22, TUNPKT_F_TCP);
		tunpkt_filter_add(&f, 53, TUNPKT_F_UDP);
		tunpkt_filter_add(&f, 7000, TUNPKT_F_TCP | TUNPKT_F_UDP);
	}
	as_packet(buf, len, &f);
	as_frame(buf, len);
	return 0;
}
