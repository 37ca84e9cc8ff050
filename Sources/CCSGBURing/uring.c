#include "csgb_uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>

struct csgb_ring {
    struct io_uring ring;
    int sqpoll;
    unsigned setup;
    // What the kernel made: it rounds the entries asked for up to a power of two.
    unsigned sq_entries;
    unsigned cq_entries;
    unsigned pending;
    // The entry prepared last while it is not submitted, for csgb_ring_link_last.
    struct io_uring_sqe *last_sqe;
    uint64_t last_data;
    uint64_t enters;
    uint64_t submitted;
    uint64_t links;
    uint64_t cancelled;
};

#if defined(__x86_64__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

// Counters are read by the coordinator at the window's edges while the owner
// thread runs: relaxed atomics, a plain load and store on x86.
static void bump(uint64_t *counter, uint64_t by) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + by, __ATOMIC_RELAXED);
}

csgb_ring *csgb_ring_create(unsigned entries, int sqpoll, int sqpoll_cpu, unsigned setup, const csgb_ring *poller_of,
                            int *error) {
    csgb_ring *r = calloc(1, sizeof *r);
    if (!r) { *error = -ENOMEM; return NULL; }
    struct io_uring_params params = {0};
    // A single-issuer ring belongs to the task that creates it, which here is the
    // coordinator; made disabled, it belongs to the thread that enables it.
    if (setup & CSGB_RING_SINGLE_ISSUER) params.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED;
    if (setup & CSGB_RING_DEFER_TASKRUN) params.flags |= IORING_SETUP_DEFER_TASKRUN;
    if (setup & CSGB_RING_COOP_TASKRUN) params.flags |= IORING_SETUP_COOP_TASKRUN;
    if (setup & CSGB_RING_SUBMIT_ALL) params.flags |= IORING_SETUP_SUBMIT_ALL;
    if (sqpoll) {
        params.flags |= IORING_SETUP_SQPOLL;
        params.sq_thread_idle = 1000;  // ms of idleness before the poller sleeps
        if (poller_of) {
            // The poller of that ring serves this one too (its CPU stays as set).
            params.flags |= IORING_SETUP_ATTACH_WQ;
            params.wq_fd = (unsigned)poller_of->ring.ring_fd;
        } else if (sqpoll_cpu >= 0) {
            params.flags |= IORING_SETUP_SQ_AFF;
            params.sq_thread_cpu = (unsigned)sqpoll_cpu;
        }
    }
    int rc = io_uring_queue_init_params(entries, &r->ring, &params);
    if (rc < 0) { free(r); *error = rc; return NULL; }
    r->sqpoll = sqpoll;
    r->setup = setup;
    r->sq_entries = params.sq_entries;
    r->cq_entries = params.cq_entries;
    return r;
}

unsigned csgb_ring_sq_entries(const csgb_ring *r) { return r->sq_entries; }
unsigned csgb_ring_cq_entries(const csgb_ring *r) { return r->cq_entries; }

int csgb_ring_adopt(csgb_ring *r) {
    if (r->setup & CSGB_RING_SINGLE_ISSUER) {
        // io_uring_enable_rings is declared by liburing 2.3's header but not exported
        // by its library: the raw register call does the same.
        int rc = io_uring_register(r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
        if (rc < 0) return rc;
    }
    if (r->setup & CSGB_RING_REGISTER_RING_FD) {
        int rc = io_uring_register_ring_fd(&r->ring);
        if (rc < 0) return rc;
        if (rc != 1) return -EINVAL;
    }
    return 0;
}

void csgb_ring_release(csgb_ring *r) {
    if (r->setup & CSGB_RING_REGISTER_RING_FD) (void)io_uring_unregister_ring_fd(&r->ring);
}

void csgb_ring_destroy(csgb_ring *r) {
    io_uring_queue_exit(&r->ring);
    free(r);
}

int csgb_ring_register_files(csgb_ring *r, const int *fds, unsigned count) {
    return io_uring_register_files(&r->ring, fds, count);
}

int csgb_ring_prepare(csgb_ring *r, int op, int target, int fixed, void *buffer, unsigned length,
                      uint64_t user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    switch (op) {
    case CSGB_RING_WRITE: io_uring_prep_write(sqe, target, buffer, length, 0); break;
    case CSGB_RING_RECV: io_uring_prep_recv(sqe, target, buffer, length, 0); break;
    case CSGB_RING_SEND: io_uring_prep_send(sqe, target, buffer, length, 0); break;
    default: io_uring_prep_read(sqe, target, buffer, length, 0); break;
    }
    if (fixed) sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, user_data);
    r->pending++;
    r->last_sqe = sqe;
    r->last_data = user_data;
    return 0;
}

int csgb_ring_link_last(csgb_ring *r, uint64_t user_data) {
    if (!r->last_sqe || r->last_data != user_data) return 0;
    r->last_sqe->flags |= IOSQE_IO_LINK;
    r->last_sqe = NULL;
    bump(&r->links, 1);
    return 1;
}

int csgb_ring_submit_and_wait(csgb_ring *r, unsigned wait, int64_t timeout_ns) {
    int rc;
    unsigned pending = r->pending;
    // From here the kernel may take the entries: none may be changed any more.
    r->last_sqe = NULL;
    if (r->sqpoll) {
        // The poller takes the SQEs; an enter is needed only to wake it. Waiting is
        // a spin on the completion queue: a busy CPU instead of enters.
        if (IO_URING_READ_ONCE(*r->ring.sq.kflags) & IORING_SQ_NEED_WAKEUP) bump(&r->enters, 1);
        rc = io_uring_submit(&r->ring);
        if (rc >= 0 && wait > 0) {
            // Spin a little: the poller usually completes the entries within
            // microseconds. If it has not (it may share this CPU), wait in the
            // kernel like the other paths, and count that enter.
            unsigned spins = 0;
            while (io_uring_cq_ready(&r->ring) < wait && ++spins < 4096) cpu_relax();
            if (io_uring_cq_ready(&r->ring) < wait) {
                struct io_uring_cqe *cqe;
                struct __kernel_timespec ts = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
                bump(&r->enters, 1);
                int w = io_uring_wait_cqes(&r->ring, &cqe, wait, timeout_ns < 0 ? NULL : &ts, NULL);
                if (w < 0) rc = w;
            }
        }
    } else if (timeout_ns < 0) {
        bump(&r->enters, 1);
        rc = io_uring_submit_and_wait(&r->ring, wait);
    } else {
        struct __kernel_timespec ts = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
        struct io_uring_cqe *cqe;
        bump(&r->enters, 1);
        rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, wait, &ts, NULL);
        if (rc >= 0) rc = (int)pending;
    }
    if (rc >= 0 || rc == -ETIME) {
        // -ETIME: submitted, but nothing completed in time.
        bump(&r->submitted, pending);
        r->pending = 0;
    }
    return rc;
}

unsigned csgb_ring_reap(csgb_ring *r, uint64_t *user_data, int32_t *results, unsigned capacity) {
    struct io_uring_cqe *cqe;
    unsigned head, count = 0;
    io_uring_for_each_cqe(&r->ring, head, cqe) {
        if (count == capacity) break;
        user_data[count] = io_uring_cqe_get_data64(cqe);
        results[count] = cqe->res;
        if (cqe->res == -ECANCELED) bump(&r->cancelled, 1);
        count++;
    }
    io_uring_cq_advance(&r->ring, count);
    return count;
}

uint64_t csgb_ring_enters(const csgb_ring *r) { return __atomic_load_n(&r->enters, __ATOMIC_RELAXED); }
uint64_t csgb_ring_submitted(const csgb_ring *r) { return __atomic_load_n(&r->submitted, __ATOMIC_RELAXED); }
uint64_t csgb_ring_links(const csgb_ring *r) { return __atomic_load_n(&r->links, __ATOMIC_RELAXED); }
uint64_t csgb_ring_cancelled(const csgb_ring *r) { return __atomic_load_n(&r->cancelled, __ATOMIC_RELAXED); }
