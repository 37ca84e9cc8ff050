/*
 * fiber_rr_yield - Boost.Fiber's yield: N fibers (default 2) on one thread, each
 * looping on boost::this_fiber::yield() under the library's default round_robin
 * scheduler, which queues the caller at the back of its ready queue and resumes the
 * next fiber (through the scheduler's dispatcher context when the queue is empty).
 * Iteration = one yield. The reference for `csgb yield 2 --mode async` (a scheduler
 * with a run queue), where fiber_yield (a raw Boost.Context jump, no scheduler) is the
 * reference for green mode.
 */
#include "common.h"

#include <boost/fiber/all.hpp>
#include <vector>

static bl_counter *counter;

static void *run_fibers(void *arg) {
    (void)arg;
    const long n = bl_opt.n;
    bl_thread_start();
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve((size_t)n);
    for (long i = 0; i < n; i++)
        fibers.emplace_back([] {
            while (!bl_should_stop()) {
                bl_count_inc(counter);
                boost::this_fiber::yield();
            }
        });
    for (auto &f : fibers)
        f.join();
    return NULL;
}

int main(int argc, char **argv) {
    bl_parse_args(argc, argv, "fibers yielding under Boost.Fiber's round_robin scheduler", 2, 1);
    bl_setup(1);
    counter = bl_counters_alloc(1);

    pthread_t t;
    bl_create_thread(&t, run_fibers, NULL);

    bl_window w = bl_measure(counter, 1);

    bl_begin_stop();
    pthread_join(t, NULL);

    bl_report(&w, "fiber_rr_yield");
    return 0;
}
