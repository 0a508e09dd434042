/*
 * handsock: hand one socket to a cloud daemon over its gate socket, as
 * stunproxy does, and print what becomes of the link (for t-handed.sh).
 *
 *   handsock GATE_PATH LOCAL_PORT PEER_ADDR PEER_PORT EXPECTED_ID_HEX
 *            [-tcp | -unconnected] [-note NAME TEXT]
 *
 * A UDP socket bound to LOCAL_PORT and connected to PEER_ADDR:PEER_PORT
 * (-unconnected: bound only; -tcp: a TCP socket instead) is handed for
 * the node EXPECTED_ID_HEX (64 hex digits). Prints "node NAME ID" (the
 * daemon's), "handed", then one line per LINK event, "up" or
 * "down: WHY", and runs until killed or the daemon goes away (exit 1).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloudgate.h"

enum mode { M_UDP, M_UNCONNECTED, M_TCP };

struct opts {
	const char *gate, *peer, *note_name, *note_text;
	int lport, pport;
	enum mode mode;
	uint8_t id[CG_NODE_ID];
};

static void usage(void)
{
	fprintf(stderr, "usage: handsock GATE_PATH LOCAL_PORT PEER_ADDR "
		"PEER_PORT EXPECTED_ID_HEX [-tcp | -unconnected] "
		"[-note NAME TEXT]\n");
	exit(2);
}

/* 64 hex digits (cg_parse_hex stops at an address's 16 bytes). */
static int parse_id(const char *s, uint8_t *id)
{
	unsigned v;
	int i;

	if (strlen(s) != 2 * CG_NODE_ID ||
	    strspn(s, "0123456789abcdefABCDEF") != 2 * CG_NODE_ID)
		return -1;
	for (i = 0; i < CG_NODE_ID; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (uint8_t)v;
	}
	return 0;
}

static void parse(int argc, char **argv, struct opts *o)
{
	int i;

	if (argc < 6)
		usage();
	memset(o, 0, sizeof(*o));
	o->gate = argv[1];
	o->lport = atoi(argv[2]);
	o->peer = argv[3];
	o->pport = atoi(argv[4]);
	if (parse_id(argv[5], o->id) < 0)
		usage();
	for (i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "-tcp"))
			o->mode = M_TCP;
		else if (!strcmp(argv[i], "-unconnected"))
			o->mode = M_UNCONNECTED;
		else if (!strcmp(argv[i], "-note") && i + 2 < argc) {
			o->note_name = argv[++i];
			o->note_text = argv[++i];
		} else
			usage();
	}
}

/* The socket to hand, as the mode says; -1 after a message. */
static int make_socket(const struct opts *o)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET };
	int one = 1;
	int fd = socket(AF_INET, o->mode == M_TCP ? SOCK_STREAM : SOCK_DGRAM,
			0);

	me.sin_port = htons((uint16_t)o->lport);
	to.sin_port = htons((uint16_t)o->pport);
	if (fd < 0 || inet_pton(AF_INET, o->peer, &to.sin_addr) != 1) {
		perror("handsock: socket or peer address");
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("handsock: bind");
		goto fail;
	}
	if (o->mode == M_UDP &&
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("handsock: connect");
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void on_link(void *arg, const struct cg_link_event *ev)
{
	(void)arg;
	if (ev->up)
		printf("up\n");
	else
		printf("down: %s\n", ev->why);
	fflush(stdout);
}

static void print_node(const struct cloudgate *g)
{
	const uint8_t *id = cg_node_id(g);
	int i;

	printf("node %s ", cg_node_name(g));
	for (i = 0; i < CG_NODE_ID; i++)
		printf("%02x", id[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct cloudgate *g;
	struct cg_packet p;
	struct opts o;
	char err[256];
	int fd;

	parse(argc, argv, &o);
	if ((fd = make_socket(&o)) < 0)
		return 1;
	if (!(g = cg_open(o.gate, "handsock", err, sizeof(err)))) {
		fprintf(stderr, "handsock: %s\n", err);
		close(fd);
		return 1;
	}
	cg_on_link(g, on_link, NULL);
	print_node(g);
	if (cg_hand_socket(g, fd, o.id) < 0 || cg_flush(g) < 0 ||
	    (o.note_name && cg_note(g, o.id, o.note_name, o.note_text) < 0)) {
		perror("handsock: hand");
		goto out;
	}
	close(fd);	/* the daemon has its own copy */
	fd = -1;
	printf("handed\n");
	fflush(stdout);
	while (cg_recv(g, &p, -1) >= 0)
		;
	printf("gate closed\n");
out:
	if (fd >= 0)
		close(fd);
	cg_close(g);
	return 1;
}
