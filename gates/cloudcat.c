/*
 * cloudcat: netcat for the mesh. Announces one address, sends each line of
 * stdin as a packet, prints each packet received as "SOURCE_HEX<TAB>DATA".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloudgate.h"
#include "conf.h"
#include "mono.h"

#define CAT_LINE_MAX CG_PAYLOAD_MAX
#define CAT_TICK_MS 1000	/* keepalive duty runs at least this often */
#define CAT_LINGER_MS 300	/* -v: reports awaited after the last send */
#define CAT_WAIT_STEP_MS 20	/* -wait: tries this often */

struct cat {
	const char *path;
	struct cg_addr self;
	uint8_t to[CG_ADDR_MAX];
	int tolen;
	long count;		/* -1: until stdin ends */
	long received;
	struct cloudgate *g;
	char *buf;		/* stdin bytes not yet sent: buf[head..tail) */
	size_t head, tail;
	int eof;
	int full;		/* the gate queue is full: wait for POLLOUT */
	int split;		/* a long line was cut at the last byte sent */
	int verbose;		/* -v: report packets the daemon dropped */
	uint64_t sent_all;	/* -v: when stdin was all sent (ms), or 0 */
	long wait_ms;		/* -wait: for the daemon at start */
};

static void cat_usage(FILE *f)
{
	fprintf(f, "usage: cloudcat -gate PATH -instance N -address HEX "
		"[-to HEX] [-count K] [-wait MS]\n"
		"  -gate PATH     the daemon's gate socket\n"
		"  -instance N    the instance to join\n"
		"  -address HEX   address to announce (\"01:02\" or \"0102\"; "
		"\"\" = every packet of the instance)\n"
		"  -to HEX        destination of stdin lines (absent or \"\": "
		"broadcast)\n"
		"  -count K       exit after K packets received (stdin EOF "
		"does not end it)\n"
		"  -wait MS       retry a daemon not there yet (no socket, "
		"refused) for MS\n"
		"  -v             say so when the daemon has no route for a "
		"line sent\n"
		"  -V             print the version and exit\n");
}

static int cat_num(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return errno != 0 || *s == '\0' || *end != '\0' || *out < 0 ? -1 : 0;
}

static int cat_opt(struct cat *ct, const char *name, const char *val)
{
	long n;
	int len;

	if (strcmp(name, "-gate") == 0) {
		ct->path = val;
	} else if (strcmp(name, "-instance") == 0) {
		if (cat_num(val, &n) < 0 || n > 0xffffffffL)
			return -1;
		ct->self.instance = (uint32_t)n;
	} else if (strcmp(name, "-address") == 0) {
		len = cg_parse_hex(val, ct->self.bytes, CG_ADDR_MAX);
		if (len < 0)
			return -1;
		ct->self.len = (uint8_t)len;
		ct->self.plen = (uint16_t)(len * 8);
	} else if (strcmp(name, "-to") == 0) {
		ct->tolen = cg_parse_hex(val, ct->to, CG_ADDR_MAX);
		if (ct->tolen < 0)
			return -1;
	} else if (strcmp(name, "-count") == 0) {
		if (cat_num(val, &ct->count) < 0)
			return -1;
	} else if (strcmp(name, "-wait") == 0) {
		if (cat_num(val, &ct->wait_ms) < 0)
			return -1;
	} else {
		fprintf(stderr, "cloudcat: unknown option %s\n", name);
		cat_usage(stderr);
		exit(2);
	}
	return 0;
}

static void cat_args(struct cat *ct, int argc, char **argv)
{
	int i, seen_addr = 0;

	for (i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			cat_usage(stdout);
			exit(0);
		}
		if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "-version") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			conf_version("cloudcat", stdout);
			exit(0);
		}
		if (strcmp(argv[i], "-v") == 0) {
			ct->verbose = 1;
			i--;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "cloudcat: %s: missing value\n",
				argv[i]);
			exit(2);
		}
		if (cat_opt(ct, argv[i], argv[i + 1]) < 0) {
			fprintf(stderr, "cloudcat: %s: bad value \"%s\"\n",
				argv[i], argv[i + 1]);
			exit(2);
		}
		if (strcmp(argv[i], "-address") == 0)
			seen_addr = 1;
	}
	if (ct->path == NULL || !seen_addr) {
		fprintf(stderr, "cloudcat: -gate and -address are required\n");
		cat_usage(stderr);
		exit(2);
	}
}

static void cat_lost(const char *what)
{
	fprintf(stderr, "cloudcat: %s: connection to the daemon lost: %s\n",
		what, strerror(errno));
	exit(1);
}

/* Send one chunk of stdin; 0 sent, 1 the queue is full (retry later). */
static int cat_send(struct cat *ct, const char *data, size_t len)
{
	struct cg_packet p = {
		.instance = ct->self.instance,
		.dlen = (uint8_t)ct->tolen, .slen = ct->self.len,
		.dst = ct->to, .src = ct->self.bytes,
		.data = (const uint8_t *)data, .len = len,
	};

	if (cg_send(ct->g, &p) == 0)
		return 0;
	if (errno != EAGAIN)
		cat_lost("send");
	ct->full = 1;
	return 1;
}

/* Send every whole line buffered (and the rest at EOF); a line longer
 * than CG_PAYLOAD_MAX goes in pieces. Stops early when the gate queue is
 * full. */
static void cat_send_lines(struct cat *ct)
{
	char *s, *nl;
	size_t len, adv;

	while (ct->head < ct->tail) {
		s = ct->buf + ct->head;
		len = ct->tail - ct->head;
		if (ct->split && s[0] == '\n') { /* end of the cut line */
			ct->split = 0;
			ct->head++;
			continue;
		}
		nl = memchr(s, '\n', len);
		if (nl != NULL) {
			adv = (size_t)(nl - s) + 1;
			len = adv - 1;
		} else if (ct->eof || len == CAT_LINE_MAX) {
			adv = len;
		} else {
			break;
		}
		if (cat_send(ct, s, len) != 0)
			return;
		ct->split = nl == NULL && len == CAT_LINE_MAX;
		ct->head += adv;
	}
	if (ct->head == ct->tail)
		ct->head = ct->tail = 0;
}

static void cat_read_stdin(struct cat *ct)
{
	ssize_t n;

	if (ct->head > 0) {
		memmove(ct->buf, ct->buf + ct->head, ct->tail - ct->head);
		ct->tail -= ct->head;
		ct->head = 0;
	}
	n = read(STDIN_FILENO, ct->buf + ct->tail, CAT_LINE_MAX - ct->tail);
	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		perror("cloudcat: stdin");
		exit(1);
	}
	if (n == 0)
		ct->eof = 1;
	if (n > 0)
		ct->tail += (size_t)n;
}

static void cat_print(const struct cg_packet *p)
{
	size_t i;

	for (i = 0; i < p->slen; i++)
		printf("%02x", p->src[i]);
	putchar('\t');
	fwrite(p->data, 1, p->len, stdout);
	putchar('\n');
}

static void cat_recv_all(struct cat *ct)
{
	struct cg_packet p;
	int r;

	while (ct->count < 0 || ct->received < ct->count) {
		r = cg_recv(ct->g, &p, 0);
		if (r < 0)
			cat_lost("receive");
		if (r == 0)
			break;
		cat_print(&p);
		ct->received++;
	}
	if (fflush(stdout) == EOF) {
		perror("cloudcat: stdout");
		exit(1);
	}
}

static void cat_noroute(void *arg, const struct cg_noroute *nr)
{
	size_t i;

	(void)arg;
	fprintf(stderr, "cloudcat: no route to ");
	for (i = 0; i < nr->dlen; i++)
		fprintf(stderr, "%02x", nr->dst[i]);
	fprintf(stderr, " in instance %u: the daemon dropped it\n",
		(unsigned)nr->instance);
}

/* Done? Without -count: stdin ended and all of it is written (and, with
 * -v, CAT_LINGER_MS passed for the daemon's reports). */
static int cat_done(struct cat *ct)
{
	if (ct->count >= 0)
		return ct->received >= ct->count;
	if (!ct->eof || ct->head != ct->tail || cg_flush(ct->g) != 0)
		return 0;
	if (!ct->verbose)
		return 1;
	if (!ct->sent_all)
		ct->sent_all = mono_ms();
	return mono_ms() - ct->sent_all >= CAT_LINGER_MS;
}

static void cat_loop(struct cat *ct)
{
	struct pollfd pfd[2];
	int r, tick;

	for (;;) {
		cat_send_lines(ct);
		cat_recv_all(ct);
		if (cat_done(ct))
			return;
		pfd[0].fd = cg_fd(ct->g);
		pfd[0].events = POLLIN;
		r = cg_flush(ct->g);
		if (r < 0)
			cat_lost("write");
		if (r == 1)
			pfd[0].events |= POLLOUT;
		else
			ct->full = 0;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		if (ct->eof || ct->full || ct->tail - ct->head == CAT_LINE_MAX)
			pfd[1].fd = -1;
		tick = ct->sent_all ? CAT_LINGER_MS / 10 : CAT_TICK_MS;
		if (poll(pfd, 2, tick) < 0 && errno != EINTR) {
			perror("cloudcat: poll");
			exit(1);
		}
		if (pfd[1].revents != 0)
			cat_read_stdin(ct);
	}
}

/* cg_open; with -wait, again every CAT_WAIT_STEP_MS while the daemon is
 * not there yet (no socket, or nobody listening on it), until wait_ms. */
static struct cloudgate *cat_open(const struct cat *ct, char *err,
				  size_t errsize)
{
	struct timespec step = { 0, CAT_WAIT_STEP_MS * 1000000L };
	uint64_t until = mono_ms() + (uint64_t)ct->wait_ms;
	struct cloudgate *g;

	for (;;) {
		g = cg_open(ct->path, "cloudcat", err, errsize);
		if (g != NULL || (errno != ENOENT && errno != ECONNREFUSED) ||
		    mono_ms() >= until)
			return g;
		nanosleep(&step, NULL);
	}
}

int main(int argc, char **argv)
{
	struct cat ct;
	char err[256];
	int code = 0;

	memset(&ct, 0, sizeof(ct));
	ct.count = -1;
	cat_args(&ct, argc, argv);
	ct.buf = malloc(CAT_LINE_MAX);
	if (ct.buf == NULL) {
		perror("cloudcat");
		return 1;
	}
	ct.g = cat_open(&ct, err, sizeof(err));
	if (ct.g == NULL) {
		fprintf(stderr, "cloudcat: %s\n", err);
		free(ct.buf);
		return 1;
	}
	if (ct.verbose)
		cg_on_noroute(ct.g, cat_noroute, NULL);
	if (cg_announce(ct.g, &ct.self, 1) < 0) {
		fprintf(stderr, "cloudcat: announce: %s\n", strerror(errno));
		code = 1;
	} else {
		cat_loop(&ct);
	}
	cg_close(ct.g);
	free(ct.buf);
	return code;
}
