/*
 * fiber_yield - plain C++ user-mode switching with Boost.Context.
 *
 * N fibers (default 2) on one thread yield round-robin: fiber i switches
 * directly to fiber (i+1) mod N, with no scheduler context in between.
 * Iteration = one yield, i.e. one switch from one fiber to the next.
 * No syscalls in the loop. The reference for `csgb yield 2 --mode green`.
 *
 * boost::context::fiber is a one-shot continuation: resume() consumes the
 * target and, when this fiber is resumed later, returns the fiber that
 * resumed it. In a ring that is always the previous fiber, so on every return
 * fiber i parks the handle it got in slot i-1, and slot i+1 holds the fiber it
 * resumes next.
 */
#include "common.h"

#include <boost/context/fiber.hpp>
#include <utility>
#include <vector>

namespace ctx = boost::context;

static std::vector<ctx::fiber> slots; /* slots[i]: fiber i while suspended */
static ctx::fiber carrier;            /* the worker thread's own context */
static bl_counter *counter;

static ctx::fiber fiber_body(long self, ctx::fiber &&caller) {
    const long n = bl_opt.n;
    const long next = (self + 1) % n;
    const long prev = (self + n - 1) % n;
    /* Fiber 0 is first entered from the carrier thread, the others from
     * their predecessor in the ring. */
    if (self == 0)
        carrier = std::move(caller);
    else
        slots[prev] = std::move(caller);
    while (!bl_should_stop()) {
        bl_count_inc(counter);
        slots[prev] = std::move(slots[next]).resume();
    }
    /* Ends this fiber and switches back to the carrier; the other fibers stay
     * suspended in their slots and are unwound when the slots are cleared. */
    return std::move(carrier);
}

static void *run_fibers(void *arg) {
    (void)arg;
    const long n = bl_opt.n;
    slots.clear();
    slots.reserve((size_t)n);
    for (long i = 0; i < n; i++)
        slots.emplace_back([i](ctx::fiber &&caller) { return fiber_body(i, std::move(caller)); });
    bl_thread_start();
    ctx::fiber back = std::move(slots[0]).resume();
    (void)back;
    slots.clear(); /* unwinds the suspended fibers' stacks */
    return NULL;
}

int main(int argc, char **argv) {
    bl_parse_args(argc, argv, "fibers yielding round-robin on one thread", 2, 2);
    bl_setup(1);
    counter = bl_counters_alloc(1);

    pthread_t t;
    bl_create_thread(&t, run_fibers, NULL);

    bl_window w = bl_measure(counter, 1);

    bl_begin_stop();
    pthread_join(t, NULL);

    bl_report(&w, "fiber_yield");
    return 0;
}
