/* Logging to stderr (and syslog when asked), in the style of bgpd. */
#ifndef CV_LOG_H
#define CV_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *prog, int level, int use_syslog);
int log_level(void);
/* The *x forms do not append ": strerror(errno)"; the others do.
 * log_error: a failure the program exits on ("error:", even at loglevel
 * 0); fatal()/fatalx() only for states that cannot happen. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* At level lvl (an enum log_level), with strerror(errno) if with_errno:
 * for code whose failure is fatal at start and only a warning later. */
void log_at(int lvl, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
