/* Signals for the gate programs (ether, stunproxy): read from a signalfd
 * in the poll loop, never handled asynchronously. */
#ifndef CV_SIG_H
#define CV_SIG_H

/* Ignore SIGPIPE, block SIGINT, SIGTERM and SIGHUP and return a
 * non-blocking signalfd for them; -1 on failure. */
int sig_open(void);
/* Read one signal from fd: 1 for SIGINT/SIGTERM (logged as the reason to
 * shut down), 0 for SIGHUP (logged: nothing to reload) or nothing. */
int sig_quit(int fd);

#endif
