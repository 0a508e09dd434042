/*
 * The status file's writer thread (bgwrite.h). The loop and the thread
 * share one slot under a mutex, held only to swap pointers: the loop
 * never waits for a write, the thread never for the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgwrite.h"
#include "log.h"

struct bgw {
	const char *path;
	char *tmp;		/* path + ".XXXXXX" */
	size_t tmpsize;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu: */
	char *next;		/* waiting for the thread, or NULL */
	size_t next_len;
	int stop;
	enum bgw_result result;
	int err;
};

/* mkstemp's file (O_EXCL, 0600) in the path's own directory, so rename()
 * is atomic and no symlink planted at a known name is followed; the file
 * stays 0600, like the control socket that serves the same snapshot. */
int bgw_tmp(const char *path, char *tmp, size_t size)
{
	if ((size_t)snprintf(tmp, size, "%s.XXXXXX", path) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(tmp, O_CLOEXEC);
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* On the thread: the temp file, then the rename over the path. */
static enum bgw_result bgw_replace(struct bgw *w, const char *buf,
				   size_t len, int *err)
{
	int fd = bgw_tmp(w->path, w->tmp, w->tmpsize);

	if (fd < 0) {
		*err = errno;
		return BGW_CREATE;
	}
	if (write_all(fd, buf, len) < 0 || close(fd) < 0 ||
	    rename(w->tmp, w->path) < 0) {
		*err = errno;
		unlink(w->tmp);
		return BGW_WRITE;
	}
	*err = 0;
	return BGW_OK;
}

static void *bgw_main(void *arg)
{
	struct bgw *w = arg;
	enum bgw_result r;
	size_t len;
	char *buf;
	int err;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->next == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->next == NULL)
			break;
		buf = w->next;
		len = w->next_len;
		w->next = NULL;
		pthread_mutex_unlock(&w->mu);
		r = bgw_replace(w, buf, len, &err);
		free(buf);
		pthread_mutex_lock(&w->mu);
		w->result = r;
		w->err = err;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Signals stay the loop's: the thread starts with all of them blocked. */
static int bgw_start(struct bgw *w)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, bgw_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

struct bgw *bgw_new(const char *path)
{
	struct bgw *w = calloc(1, sizeof(*w));
	int r;

	if (w == NULL)
		goto err;
	w->path = path;
	w->tmpsize = strlen(path) + sizeof(".XXXXXX");
	if ((w->tmp = malloc(w->tmpsize)) == NULL)
		goto err_w;
	w->result = BGW_NONE;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* one malloc arena: the writer's first free would reserve 64 MB of
	 * address space for an arena of its own (t-conn-flood bounds it) */
	mallopt(M_ARENA_MAX, 1);
	if ((r = bgw_start(w)) != 0) {
		errno = r;
		goto err_sync;
	}
	return w;
err_sync:
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->tmp);
err_w:
	free(w);
err:
	log_warn("status-file: writer for \"%s\"", path);
	return NULL;
}

void bgw_put(struct bgw *w, char *buf, size_t len)
{
	char *old;

	pthread_mutex_lock(&w->mu);
	old = w->next;
	w->next = buf;
	w->next_len = len;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	free(old);
}

enum bgw_result bgw_result(struct bgw *w, int *err)
{
	enum bgw_result r;

	pthread_mutex_lock(&w->mu);
	r = w->result;
	*err = w->err;
	pthread_mutex_unlock(&w->mu);
	return r;
}

void bgw_free(struct bgw *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->next);
	free(w->tmp);
	free(w);
}
