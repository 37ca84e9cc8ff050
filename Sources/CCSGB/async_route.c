#include "csgb_async.h"

#include <pthread.h>
#include <stddef.h>

// The runtime's own types, restated: a job is opaque here, and an executor reference
// is two words (identity, implementation), all zero for the generic executor.
typedef struct csgb_job csgb_job;
typedef struct { void *identity; uintptr_t implementation; } csgb_executor_ref;

typedef __attribute__((swiftcall)) void (*csgb_enqueue_original)(csgb_job *job);
typedef __attribute__((swiftcall)) void (*csgb_enqueue_hook)(csgb_job *job, csgb_enqueue_original original);

// Exported by libswift_Concurrency (SWIFT_CC(swift) in the runtime).
extern csgb_enqueue_hook swift_task_enqueueGlobal_hook;
extern __attribute__((swiftcall)) void swift_job_run(csgb_job *job, csgb_executor_ref executor);

__thread void *csgb_async_route_tls;
__thread void *csgb_async_worker_tls;

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int users;
static csgb_enqueue_hook previous;
// Read by the hook on any thread without the lock: it is written before the hook is
// installed and never changes while it is.
static csgb_async_push_fn push_routed;

static __attribute__((swiftcall)) void enqueue_routed(csgb_job *job, csgb_enqueue_original original) {
    void *worker = csgb_async_route_tls;
    if (worker) {
        push_routed(worker, job);
    } else if (previous) {
        previous(job, original);
    } else {
        original(job);
    }
}

void csgb_async_hook_retain(csgb_async_push_fn push) {
    pthread_mutex_lock(&install_lock);
    if (users++ == 0) {
        push_routed = push;
        previous = swift_task_enqueueGlobal_hook;
        __atomic_store_n(&swift_task_enqueueGlobal_hook, enqueue_routed, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&install_lock);
}

void csgb_async_hook_release(void) {
    pthread_mutex_lock(&install_lock);
    if (--users == 0 && swift_task_enqueueGlobal_hook == enqueue_routed) {
        // A thread may still be inside enqueue_routed; it only reads `previous`,
        // which stays valid, and with no route it forwards as before.
        __atomic_store_n(&swift_task_enqueueGlobal_hook, previous, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&install_lock);
}

void csgb_async_run_generic(void *job) {
    swift_job_run((csgb_job *)job, (csgb_executor_ref){ NULL, 0 });
}
