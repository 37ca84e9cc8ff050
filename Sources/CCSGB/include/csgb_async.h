#ifndef CSGB_ASYNC_H
#define CSGB_ASYNC_H

// Lets a worker thread of ours keep Swift tasks that have no task-executor
// preference. Such a task is enqueued on the "generic" executor, which the runtime
// forwards to swift_task_enqueueGlobal; while the hook below is installed, that call
// goes to the worker named by the enqueuing thread's route, and only threads without
// a route reach Swift's real global executor.
//
// Why bother: with a preference record, every resume and every executor switch of
// the task looks the preference up under the task's status-record lock. Without one
// the runtime checks a status flag and moves on.

#include <stdint.h>

/// Receives every routed job: `worker` is the route it was enqueued under.
typedef void (*csgb_async_push_fn)(void *worker, void *job);

/// The worker that generic jobs enqueued on this thread go to, or NULL for Swift's
/// global executor. Thread-local: each worker sets it to itself on its own thread.
/// Inline because every notify and every wait reads it.
extern __thread void *csgb_async_route_tls;
static inline void *csgb_async_route(void) { return csgb_async_route_tls; }
static inline void csgb_async_set_route(void *worker) { csgb_async_route_tls = worker; }

/// The worker whose own thread this is, or NULL. Set by each worker thread before it
/// runs a job; "is this the worker's thread?" is asked at every enqueue, and a
/// thread-local load answers it without a call.
extern __thread void *csgb_async_worker_tls;
static inline void *csgb_async_worker(void) { return csgb_async_worker_tls; }
static inline void csgb_async_set_worker(void *worker) { csgb_async_worker_tls = worker; }

/// Installs the enqueue hook (first caller) or counts one more user. Every call must
/// be balanced by csgb_async_hook_release; the last release puts back whatever hook
/// was installed before, so Swift's global executor is untouched between runs.
/// `push` must be the same function on every call.
void csgb_async_hook_retain(csgb_async_push_fn push);
void csgb_async_hook_release(void);

/// Runs `job` as the runtime runs a global-executor job: on the generic executor,
/// with no task executor in the tracking info (so the job's task, having no
/// preference either, never needs an executor switch here).
void csgb_async_run_generic(void *job);

#endif
