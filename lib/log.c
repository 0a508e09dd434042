/* Logging: one line per event to stderr, optionally to syslog. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

/* The only module state outside the daemon context: who we are and how
 * verbose, set once at start. */
static struct {
	const char *prog;
	int level;
	int use_syslog;
} lg = { "cloud", LOG_LVL_INFO, 0 };

void log_init(const char *prog, int level, int use_syslog)
{
	lg.prog = prog;
	lg.level = level;
	lg.use_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_level(void)
{
	return lg.level;
}

static void vlog(int lvl, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char msg[1024];
	int saved = errno;
	int n;

	if (lvl > lg.level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
			 strerror(saved));
	if (lg.use_syslog)
		syslog(prio[lvl], "%s", msg);
	fprintf(stderr, "%s: %s: %s\n", lg.prog, tag[lvl], msg);
	errno = saved;
}

#define LOGFN(fn, lvl, e)                      \
	void fn(const char *fmt, ...)          \
	{                                      \
		va_list ap;                    \
		va_start(ap, fmt);             \
		vlog(lvl, e, fmt, ap);         \
		va_end(ap);                    \
	}

LOGFN(log_error, LOG_LVL_ERR, 1)
LOGFN(log_errorx, LOG_LVL_ERR, 0)
LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)

void log_at(int lvl, int with_errno, const char *fmt, ...)
{
	va_list ap;

	if (lvl < LOG_LVL_ERR || lvl > LOG_LVL_DEBUG)
		lvl = LOG_LVL_ERR;
	va_start(ap, fmt);
	vlog(lvl, with_errno, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
