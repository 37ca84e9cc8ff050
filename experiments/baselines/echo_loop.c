/*
 * echo_loop - the syscall floor: ONE thread, N socket pairs (default 1).
 *
 * Each iteration does, on blocking sockets, write(a,1), read(b,1), write(b,1),
 * read(a,1): the same 2 writes and 2 reads as one round trip of a pair, but
 * the byte is always already there, so nothing ever blocks and nothing
 * switches. It is what the 4 syscalls cost alone; `csgb socket N --mode green`
 * and `--mode async` pay this plus their user-mode switching.
 *
 * The loop runs on a worker thread; the main thread only sleeps and reads the
 * counter at window start and end.
 *
 * Built twice: bin/echo_loop on blocking sockets (as thread mode uses them) and,
 * with -DECHO_LOOP_NONBLOCKING, bin/echo_loop_nonblocking on O_NONBLOCK sockets (as
 * green and async mode use them). The byte is always there, so both run the same
 * four syscalls; only the kernel's path for a non-blocking descriptor differs.
 */
#include "common.h"

#include <fcntl.h>

#ifdef ECHO_LOOP_NONBLOCKING
#define ECHO_LOOP_NAME "echo_loop_nonblocking"
#else
#define ECHO_LOOP_NAME "echo_loop"
#endif

typedef struct {
    int a, b;
} pair;

static pair *pairs;
static bl_counter *counter;

static void *loop(void *arg) {
    (void)arg;
    const long npairs = bl_opt.n;
    bl_counter *const c = counter;
    char x = 'x', y;
    uint64_t n = 0;
    ssize_t rc;
    bl_thread_start();
    for (;;) {
        for (long i = 0; i < npairs; i++) {
            const int a = pairs[i].a, b = pairs[i].b;
            if ((rc = bl_put(a, &x)) != 1) {
                bl_worker_ended("write(a)", rc, errno);
                return NULL;
            }
            if ((rc = bl_get(b, &y)) != 1) {
                bl_worker_ended("read(b)", rc, errno);
                return NULL;
            }
            if ((rc = bl_put(b, &y)) != 1) {
                bl_worker_ended("write(b)", rc, errno);
                return NULL;
            }
            if ((rc = bl_get(a, &x)) != 1) {
                bl_worker_ended("read(a)", rc, errno);
                return NULL;
            }
            bl_count(c, ++n);
        }
    }
}

int main(int argc, char **argv) {
    bl_parse_args(argc, argv, "socket pairs, all driven by one thread", 1, 1);
    const long n = bl_opt.n;
    bl_setup(1);

    counter = bl_counters_alloc(1);
    pairs = (pair *)calloc((size_t)n, sizeof(pair));
    if (!pairs)
        bl_die_errno("calloc");
    for (long i = 0; i < n; i++) {
        int fds[2];
        bl_socketpair(fds);
#ifdef ECHO_LOOP_NONBLOCKING
        for (int k = 0; k < 2; k++)
            if (fcntl(fds[k], F_SETFL, fcntl(fds[k], F_GETFL) | O_NONBLOCK) != 0)
                bl_die_errno("fcntl(O_NONBLOCK)");
#endif
        pairs[i].a = fds[0];
        pairs[i].b = fds[1];
    }

    pthread_t t;
    bl_create_thread(&t, loop, NULL);

    bl_window w = bl_measure(counter, 1);

    /* Stop: after shutdown every write fails with EPIPE and every read of an
     * empty socket returns 0, so the loop ends within one iteration. */
    bl_begin_stop();
    for (long i = 0; i < n; i++) {
        shutdown(pairs[i].a, SHUT_RDWR);
        shutdown(pairs[i].b, SHUT_RDWR);
    }
    pthread_join(t, NULL);
    for (long i = 0; i < n; i++) {
        close(pairs[i].a);
        close(pairs[i].b);
    }
    if (bl_failed)
        return 1;

    bl_report(&w, ECHO_LOOP_NAME);
    return 0;
}
