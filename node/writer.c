/* writer.c - see writer.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "node/writer.h"

struct writer_job {
	struct writer_job *next;
	writer_job_fn fn;
	writer_done_fn done;
	void *arg;
	int rc;
};

/* A FIFO of jobs, linked through next. */
struct job_list {
	struct writer_job *head, *tail;
};

struct writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job_list todo, done;	/* guarded by lock */
	bool stopping;			/* guarded by lock */
	int pipefd[2];			/* store thread -> loop: "done" */
	struct event *ev;
};

static void
job_list_push(struct job_list *l, struct writer_job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct writer_job *
job_list_pop(struct job_list *l)
{
	struct writer_job *j = l->head;

	if (j != NULL && (l->head = j->next) == NULL)
		l->tail = NULL;
	return j;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writer_job *j;
	char one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->todo.head == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping || (j = job_list_pop(&w->todo)) == NULL)
			break;
		pthread_mutex_unlock(&w->lock);
		j->rc = j->fn(j->arg);
		pthread_mutex_lock(&w->lock);
		job_list_push(&w->done, j);
		/* A full pipe already holds a wake-up; losing this one is fine. */
		(void)!write(w->pipefd[1], &one, 1);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Runs the done callbacks of finished jobs on the loop thread. */
static void
writer_dispatch(struct writer *w)
{
	struct job_list done;
	struct writer_job *j;

	pthread_mutex_lock(&w->lock);
	done = w->done;
	w->done.head = w->done.tail = NULL;
	pthread_mutex_unlock(&w->lock);
	while ((j = job_list_pop(&done)) != NULL) {
		j->done(j->arg, j->rc);
		free(j);
	}
}

static void
writer_on_pipe(evutil_socket_t fd, short what, void *arg)
{
	char buf[256];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	writer_dispatch(arg);
}

int
writer_new(struct writer **out, struct event_base *base)
{
	struct writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL)
		return -1;
	w->pipefd[0] = w->pipefd[1] = -1;
	if (pipe2(w->pipefd, O_NONBLOCK | O_CLOEXEC) != 0)
		goto fail;
	w->ev = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST,
	    writer_on_pipe, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0)
		goto fail;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->pipefd[0] >= 0) {
		close(w->pipefd[0]);
		close(w->pipefd[1]);
	}
	free(w);
	return -1;
}

int
writer_submit(struct writer *w, writer_job_fn fn, writer_done_fn done,
    void *arg)
{
	struct writer_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -1;
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	job_list_push(&w->todo, j);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* Done callbacks may submit more work: cancel that too, until
	 * nothing is left. */
	for (;;) {
		struct writer_job *j;

		writer_dispatch(w);
		pthread_mutex_lock(&w->lock);
		j = job_list_pop(&w->todo);
		if (j != NULL) {
			j->rc = WRITER_ECANCELED;
			job_list_push(&w->done, j);
		}
		pthread_mutex_unlock(&w->lock);
		if (j == NULL)
			break;
	}
	event_free(w->ev);
	close(w->pipefd[0]);
	close(w->pipefd[1]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}
