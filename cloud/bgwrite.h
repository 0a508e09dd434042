/*
 * A file replaced atomically (temp file beside it + rename) by a thread of
 * its own, so the event loop never waits for the filesystem: on ext4 the
 * rename over the old file starts writeback of the new one and waits for
 * the journal, which took 2 ms typically and up to 129 ms on a busy disk,
 * and every packet the daemon relays waited as long.
 *
 * The loop hands over a buffer; the newest one wins: a buffer the thread
 * has not started yet is replaced, never queued behind it.
 */
#ifndef CV_BGWRITE_H
#define CV_BGWRITE_H

#include <stddef.h>

struct bgw;

/* The result of the last write the thread finished. */
enum bgw_result {
	BGW_OK,
	BGW_NONE,		/* no write finished yet */
	BGW_CREATE,		/* no temp file beside the path */
	BGW_WRITE,		/* writing or renaming failed */
};

/* A writer for path (kept, not copied), its thread started with every
 * signal blocked; NULL after logging. */
struct bgw *bgw_new(const char *path);
/* Write buf[0..len) (malloc'd) to the path: buf is the writer's now. */
void bgw_put(struct bgw *w, char *buf, size_t len);
/* The last write's result, and its errno in *err. */
enum bgw_result bgw_result(struct bgw *w, int *err);
/* Finish the write in progress and the one waiting, then stop the
 * thread and free everything. */
void bgw_free(struct bgw *w);

/* Make a temp file beside path (mkstemp's, 0600, O_CLOEXEC) and name it
 * in tmp: its descriptor, or -1. */
int bgw_tmp(const char *path, char *tmp, size_t size);

#endif
