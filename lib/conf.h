/*
 * Classic CloudVPN configuration: "-name value" arguments, "-@include FILE",
 * files of "name value" lines. Every option is defined once in a table
 * (struct conf_opt) from which the parser, -h and the man pages come.
 */
#ifndef CV_CONF_H
#define CV_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
	CONF_STR,	/* any non-empty string */
	CONF_INT,	/* decimal or classic hex "x1F" / "0x1F", >= 0 */
	CONF_BOOL,	/* yes/no (also true/false, 1/0) */
	CONF_DUR,	/* bare microseconds or with unit: us ms s m h */
	CONF_ADDR,	/* "host port" (IPv4, IPv6, name) or a UNIX path (has '/') */
	CONF_MODE,	/* octal file mode, e.g. 0660 */
};

#define CONF_LIST 0x1	/* repeatable: every value is kept, in order */
/* A classic option with no effect here: its value is parsed and kept, and
 * the first one read prints "FILE:LINE: NAME: accepted for compatibility,
 * has no effect here (HELP)" on stderr; help says why, and -h shows it
 * as "no effect here: HELP". */
#define CONF_COMPAT 0x2

struct conf_opt {
	const char *name;
	enum conf_type type;
	unsigned flags;
	const char *def;	/* default as text, or NULL for none */
	const char *help;
};

struct conf_addr {
	int is_unix;
	char host[256];		/* "" or "*" means any address */
	char port[32];
	char path[108];
};

struct conf_val {
	const char *raw;	/* the text as written */
	const char *file;	/* "command line", or the file it came from */
	int line;		/* 0 for defaults and the command line */
	union {
		long long i;		/* CONF_INT, CONF_BOOL, CONF_MODE */
		uint64_t us;		/* CONF_DUR */
		struct conf_addr addr;	/* CONF_ADDR */
	} v;
};

struct conf;

struct conf *conf_new(const struct conf_opt *opts, const char *prog);
void conf_free(struct conf *c);
/*
 * Parse argv[1..]: "-name value" pairs; "-@include FILE" reads a file.
 * In names '-' and '_' are the same ("-status_file" is "-status-file").
 * "-h" / "--help" prints conf_usage() to stdout and returns 1; so does
 * "-V" / "-version" / "--version" with conf_version().
 * On any error prints "FILE:LINE: OPTION: REASON" (or "command line:
 * OPTION: REASON") to stderr and returns -1. Returns 0 on success.
 */
int conf_args(struct conf *c, int argc, char **argv);
/* Read one file (with nested includes); same error rules. */
int conf_file(struct conf *c, const char *path);
/* Files are opened by fn (as open(2): a descriptor, or -1 with errno set)
 * instead of open(2): the daemon reads its files again from a chroot. */
void conf_set_open(struct conf *c, int (*fn)(void *arg, const char *path,
					     int flags), void *arg);
/* Each file read so far (includes too), by the name it was opened by. */
void conf_each_file(const struct conf *c,
		    void (*fn)(void *arg, const char *path), void *arg);
/* Values of a list option, or 1/0 for a last-wins one (defaults count). */
size_t conf_count(const struct conf *c, const char *name);
/* i-th value of a list option; NULL past the end. */
const struct conf_val *conf_get(const struct conf *c, const char *name,
				size_t i);
/* Last value of an option (or its parsed default); NULL if neither. */
const struct conf_val *conf_last(const struct conf *c, const char *name);
/* Shorthands on conf_last(); the option must have a default. */
const char *conf_str(const struct conf *c, const char *name);
long long conf_int(const struct conf *c, const char *name);
uint64_t conf_us(const struct conf *c, const char *name);
/* "FILE:LINE: NAME: " prefix of a value, for errors found later on. */
const char *conf_where(const struct conf_val *v, const char *name, char *buf,
		       size_t size);
/* For checks after parsing, in the programs: log "FILE:LINE: NAME: why"
 * for value v (NULL: the option's last value, if any). Always -1. */
int conf_fail(const struct conf *c, const struct conf_val *v,
	      const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The option's integer, which must be lo..hi (else conf_fail). */
int conf_range(const struct conf *c, const char *name, long long lo,
	       long long hi, long long *out);
/* The gate programs' "gate" option: the daemon's socket, a UNIX path;
 * NULL after conf_fail if it is missing or not a path. */
const char *conf_gate(const struct conf *c);
void conf_usage(const struct conf *c, FILE *f);
/* "PROG (cloudvpn) VERSION" and a newline: for programs without a table. */
void conf_version(const char *prog, FILE *f);

#endif
