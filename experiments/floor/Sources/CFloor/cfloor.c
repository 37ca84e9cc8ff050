#define _GNU_SOURCE
#include "cfloor.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <sys/resource.h>

// The runtime's types, restated: a job is opaque; an executor reference is two words,
// both zero for the generic executor.
typedef struct floor_job floor_job;
typedef struct { void *identity; uintptr_t implementation; } floor_executor_ref;
typedef __attribute__((swiftcall)) void (*floor_enqueue_original)(floor_job *job);
typedef __attribute__((swiftcall)) void (*floor_enqueue_hook)(floor_job *job, floor_enqueue_original original);
extern floor_enqueue_hook swift_task_enqueueGlobal_hook;
extern __attribute__((swiftcall)) void swift_job_run(floor_job *job, floor_executor_ref executor);

// The program has at most a few hundred runnable jobs (two tasks per pair); the
// ring holds that many and is touched by one thread at a time (the main thread
// before the worker starts, then only the worker), so it needs no atomics.
#define RING 65536
static void *ring[RING];
static unsigned head, tail;

void floor_push(void *job) { ring[tail++ & (RING - 1)] = job; }

void *floor_pop(void) {
    if (head == tail)
        return NULL;
    return ring[head++ & (RING - 1)];
}

static __attribute__((swiftcall)) void enqueue_hook(floor_job *job, floor_enqueue_original original) {
    (void)original;
    floor_push(job);
}

void floor_install_hook(void) { swift_task_enqueueGlobal_hook = enqueue_hook; }

void floor_run_generic(void *job) { swift_job_run((floor_job *)job, (floor_executor_ref){ NULL, 0 }); }

int floor_pin_self(const int32_t *cpus, int32_t count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int32_t i = 0; i < count; i++)
        CPU_SET(cpus[i], &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

void floor_worker_switches(long *voluntary, long *involuntary) {
    struct rusage self, mine;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_THREAD, &mine);
    *voluntary = self.ru_nvcsw - mine.ru_nvcsw;
    *involuntary = self.ru_nivcsw - mine.ru_nivcsw;
}
