/*
 * yield_threads - N kernel threads (default 1), each calling sched_yield(2)
 * in a loop. Iteration = one sched_yield of one thread.
 *
 * The C reference for `csgb yield N --mode thread`. With one thread on a CPU
 * there is nothing to switch to, so it measures the bare syscall; with two or
 * more threads on one CPU every yield is a kernel context switch.
 */
#include "common.h"

static bl_counter *counters;

static void *yielder(void *arg) {
    bl_counter *const c = &counters[(long)(intptr_t)arg];
    uint64_t n = 0;
    bl_thread_start();
    while (!bl_should_stop()) {
        sched_yield();
        bl_count(c, ++n);
    }
    return NULL;
}

int main(int argc, char **argv) {
    bl_parse_args(argc, argv, "threads calling sched_yield", 1, 1);
    const long n = bl_opt.n;
    bl_setup((unsigned)n);

    counters = bl_counters_alloc(n);
    pthread_t *threads = (pthread_t *)calloc((size_t)n, sizeof(pthread_t));
    if (!threads)
        bl_die_errno("calloc");
    for (long i = 0; i < n; i++)
        bl_create_thread(&threads[i], yielder, (void *)(intptr_t)i);

    bl_window w = bl_measure(counters, n);

    bl_begin_stop();
    for (long i = 0; i < n; i++)
        pthread_join(threads[i], NULL);

    bl_report(&w, "yield_threads");
    return 0;
}
