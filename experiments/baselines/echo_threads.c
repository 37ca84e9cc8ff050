/*
 * echo_threads - N socket pairs, one kernel thread per side (2N threads),
 * blocking write(2)/read(2) of 1 byte.
 *
 * Iteration = one round trip of one pair: the initiator writes 1 byte to its
 * end, the responder (blocked in read on the other end) reads it and writes
 * it back, the initiator reads it. Exactly 2 writes and 2 reads per iteration.
 * On one CPU every read of the byte that is not there yet blocks, so each
 * round trip costs kernel context switches: this is the C reference for
 * `csgb socket N --mode thread`.
 */
#include "common.h"

typedef struct {
    int fd;
    bl_counter *counter; /* initiator only */
} side;

static void *initiator(void *arg) {
    side *s = (side *)arg;
    const int fd = s->fd;
    bl_counter *const counter = s->counter;
    char b = 'x';
    uint64_t n = 0;
    ssize_t rc;
    bl_thread_start();
    for (;;) {
        if ((rc = bl_put(fd, &b)) != 1) {
            bl_worker_ended("initiator write", rc, errno);
            break;
        }
        if ((rc = bl_get(fd, &b)) != 1) {
            bl_worker_ended("initiator read", rc, errno);
            break;
        }
        bl_count(counter, ++n);
    }
    return NULL;
}

static void *responder(void *arg) {
    side *s = (side *)arg;
    const int fd = s->fd;
    char b;
    ssize_t rc;
    bl_thread_start();
    for (;;) {
        if ((rc = bl_get(fd, &b)) != 1) {
            bl_worker_ended("responder read", rc, errno);
            break;
        }
        if ((rc = bl_put(fd, &b)) != 1) {
            bl_worker_ended("responder write", rc, errno);
            break;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    bl_parse_args(argc, argv, "socket pairs, two threads each", 1, 1);
    const long n = bl_opt.n;
    bl_setup((unsigned)(2 * n));

    bl_counter *counters = bl_counters_alloc(n);
    side *sides = (side *)calloc((size_t)(2 * n), sizeof(side));
    pthread_t *threads = (pthread_t *)calloc((size_t)(2 * n), sizeof(pthread_t));
    if (!sides || !threads)
        bl_die_errno("calloc");

    for (long i = 0; i < n; i++) {
        int fds[2];
        bl_socketpair(fds);
        sides[2 * i] = (side){fds[0], &counters[i]};
        sides[2 * i + 1] = (side){fds[1], NULL};
    }
    for (long i = 0; i < n; i++) {
        bl_create_thread(&threads[2 * i + 1], responder, &sides[2 * i + 1]);
        bl_create_thread(&threads[2 * i], initiator, &sides[2 * i]);
    }

    bl_window w = bl_measure(counters, n);

    /* Stop: shutdown makes blocked reads return 0 and writes fail with EPIPE
     * (SIGPIPE is ignored), so every thread leaves its loop. */
    bl_begin_stop();
    for (long i = 0; i < 2 * n; i++)
        shutdown(sides[i].fd, SHUT_RDWR);
    for (long i = 0; i < 2 * n; i++)
        pthread_join(threads[i], NULL);
    for (long i = 0; i < 2 * n; i++)
        close(sides[i].fd);
    if (bl_failed)
        return 1;

    bl_report(&w, "echo_threads");
    return 0;
}
