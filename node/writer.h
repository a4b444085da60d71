/*
 * writer.h - the store thread: runs blocking store work off the event loop.
 *
 * A durable LMDB commit takes about a millisecond of fsync; done on the
 * event loop it would stall every connection. Jobs submitted here run one
 * at a time, in order, on one thread; each job's done callback then runs
 * on the event loop thread with the job's result. So a put's batches are
 * committed in the order they were made, and callers need no locks.
 *
 * Ownership: writer_new() starts the thread; writer_free() lets it finish
 * the job it is running, joins it, and calls the done callback of every
 * job not started with WRITER_ECANCELED instead of running it (so a
 * shutdown waits for one job, not for a queue of uploads; nothing
 * acknowledged depends on a job not yet done). A job's arg belongs to the
 * submitter; it must stay valid until done runs.
 */
#ifndef UMBRA_WRITER_H
#define UMBRA_WRITER_H

#include <event2/event.h>

#define WRITER_ECANCELED (-100)

struct writer;

typedef int (*writer_job_fn)(void *arg);	/* on the store thread */
typedef void (*writer_done_fn)(void *arg, int rc);	/* on the loop */

int writer_new(struct writer **out, struct event_base *base);
void writer_free(struct writer *w);
int writer_submit(struct writer *w, writer_job_fn fn, writer_done_fn done,
    void *arg) __attribute__((warn_unused_result));

#endif
