/*
 * `metrics HOST PORT`: the node's figures for Prometheus, in its text
 * exposition format (version 0.0.4), served over HTTP/1.x: GET /metrics.
 * doc/cloud.8 lists the metrics.
 */
#ifndef CV_METRICS_H
#define CV_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct cloud;
struct conf;

/* The `metrics` option names a host and port, not a path: 0, or -1 after
 * logging "FILE:LINE: metrics: why". */
int metrics_check_conf(const struct conf *conf);
/* Listen where the `metrics` option says (nothing without it); -1 after
 * logging "FILE:LINE: metrics: why". */
int metrics_init(struct cloud *c);
/* Drop every client, close the listening sockets. */
void metrics_shutdown(struct cloud *c);

/* What an HTTP request head asks for. */
enum metrics_req {
	METRICS_MORE,		/* the head is not whole yet */
	METRICS_GET,		/* GET /metrics: 200 */
	METRICS_HEAD,		/* HEAD /metrics: 200 without a body */
	METRICS_NOT_FOUND,	/* GET or HEAD of another path: 404 */
	METRICS_BAD_METHOD,	/* another method: 405 */
	METRICS_BAD,		/* not an HTTP/1.0 or 1.1 request: 400 */
};
/* Read the head of a request, buf[0..len): the request line and header
 * lines up to an empty line (CRLF or LF line ends). Only the request
 * line matters; the headers and whatever follows them are ignored. */
enum metrics_req metrics_parse(const char *buf, size_t len);

/* in as a label value: \ " and newline escaped with a backslash. Cut
 * before an escape that does not fit out[0..cap) with its NUL; returns
 * the length written. cap must be at least 1. */
size_t metrics_esc(char *out, size_t cap, const char *in);

/* Every metric, as the body of a GET /metrics; -1 if f failed. */
int metrics_write(struct cloud *c, FILE *f);

#endif
