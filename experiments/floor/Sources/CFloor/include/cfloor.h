#ifndef CFLOOR_H
#define CFLOOR_H
#include <stdint.h>

/// Routes every global enqueue of the Swift runtime (tasks with no executor
/// preference) into the job ring. Call before creating any task.
void floor_install_hook(void);
/// Pushes a job (a preferred task's ExecutorJob) into the ring.
void floor_push(void *job);
/// The next job, or NULL when the ring is empty. One thread only.
void *floor_pop(void);
/// Runs a job taken from the hook the way the global executor would.
void floor_run_generic(void *job);
/// Pins the calling thread to the listed CPUs; 0 on success, else errno.
int floor_pin_self(const int32_t *cpus, int32_t count);
/// Context switches of the process minus the calling thread.
void floor_worker_switches(long *voluntary, long *involuntary);
#endif
