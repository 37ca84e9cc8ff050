/*
 * enter_cost - what one kernel entry costs here, to read io_uring figures against:
 * a bare getppid(2), and one io_uring_enter that submits a NOP and waits for its
 * completion, on a ring made with no setup flags and on one made as csgb's default
 * (single issuer, deferred task work, registered ring fd, submit-all).
 *
 *   enter_cost [-d SECONDS] [-c CPU]      prints one "name: ns per call" line each
 *
 * Each figure is the best of 5 rounds of SECONDS/5 (default 1 s in all), pinned.
 */
#include "common.h"

#include <liburing.h>

static double per_call(void (*body)(void *), void *arg, double seconds) {
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        uint64_t calls = 0;
        double start = bl_now(), end = start + seconds / 5;
        double now = start;
        while (now < end) {
            for (int i = 0; i < 1000; i++) body(arg);
            calls += 1000;
            now = bl_now();
        }
        double ns = (now - start) * 1e9 / (double)calls;
        if (ns < best) best = ns;
    }
    return best;
}

static void call_getppid(void *arg) {
    (void)arg;
    (void)getppid();
}

static void enter_nop(void *arg) {
    struct io_uring *ring = (struct io_uring *)arg;
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_nop(sqe);
    if (io_uring_submit_and_wait(ring, 1) < 1) bl_die("%s", "io_uring_submit_and_wait failed");
    struct io_uring_cqe *cqe;
    if (io_uring_peek_cqe(ring, &cqe) == 0) io_uring_cqe_seen(ring, cqe);
}

static void make_ring(struct io_uring *ring, unsigned flags, int register_fd) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    int rc = io_uring_queue_init_params(8, ring, &p);
    if (rc < 0) {
        errno = -rc;
        bl_die_errno("io_uring_queue_init_params");
    }
    if (register_fd && io_uring_register_ring_fd(ring) != 1) bl_die("%s", "io_uring_register_ring_fd failed");
}

int main(int argc, char **argv) {
    bl_parse_args(argc, argv, "unused", 1, 1);
    bl_pin_self();
    double seconds = bl_opt.duration;
    printf("getppid_ns: %.1f\n", per_call(call_getppid, NULL, seconds));
    struct io_uring plain, tuned;
    make_ring(&plain, 0, 0);
    printf("enter_nop_setup_none_ns: %.1f\n", per_call(enter_nop, &plain, seconds));
    make_ring(&tuned, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL, 1);
    printf("enter_nop_setup_default_ns: %.1f\n", per_call(enter_nop, &tuned, seconds));
    io_uring_queue_exit(&plain);
    io_uring_queue_exit(&tuned);
    return 0;
}
