#define _GNU_SOURCE
#include "csgb_system.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pid_t csgb_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int csgb_set_affinity(pid_t tid, const int32_t *cpus, size_t count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) { errno = EINVAL; return -1; }
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(tid, sizeof(set), &set);
}

int csgb_get_affinity(int32_t *cpus, size_t capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if ((size_t)n < capacity) cpus[n] = cpu;
        n++;
    }
    return n;
}

void csgb_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}

int csgb_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csgb_dup_onto(int old, int target) { return dup3(old, target, O_CLOEXEC); }

int csgb_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

int csgb_futex_wait(uint32_t *word, uint32_t expected) {
    return (int)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

int csgb_futex_wake(uint32_t *word, int count) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

void csgb_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

// The stop state lives here rather than in Swift because the signal handler may
// only touch lock-free atomics and async-signal-safe calls (sem_post is one).
static atomic_int stop_flag;
static atomic_int stop_signal;
static sem_t stop_sem;
static atomic_int stop_sem_ready;

static void ensure_sem(void) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&stop_sem_ready, &expected, 1)) {
        sem_init(&stop_sem, 0, 0);
        atomic_store(&stop_sem_ready, 2);
    }
    while (atomic_load(&stop_sem_ready) != 2) { }
}

static atomic_int forward_group;

static void on_stop_signal(int sig) {
    int saved = errno;
    atomic_store(&stop_signal, sig);
    atomic_store(&stop_flag, 1);
    sem_post(&stop_sem);
    // csgb stat's perf and workload run in their own process group: the stop is
    // passed on as SIGINT, which perf stat survives to write its counts.
    int group = atomic_load(&forward_group);
    if (group > 0) kill(-group, SIGINT);
    errno = saved;
}

void csgb_forward_stop_to_group(pid_t group) {
    atomic_store(&forward_group, (int)group);
    if (group > 0 && atomic_load(&stop_flag)) kill(-group, SIGINT);
}

int csgb_install_stop_handlers(void) {
    ensure_sem();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    // No SA_RESTART: a blocking call interrupted by the stop should return EINTR
    // so the caller looks at the flag.
    // SIGQUIT: the Swift runtime's backtracer would otherwise dump every thread and
    // let the run go on at its raised priority. SIGHUP: a closed terminal should
    // end the run with its report rather than kill it without one.
    const int signals[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP };
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        if (sigaction(signals[i], &sa, NULL) != 0) return -1;
        sigaddset(&stop_signals, signals[i]);
    }
    // A parent may have started us with these blocked (the mask survives exec);
    // a stop that never arrives would hang the run, so unblock them.
    return pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL) == 0 ? 0 : -1;
}

void csgb_request_stop(void) {
    ensure_sem();
    atomic_store(&stop_flag, 1);
    sem_post(&stop_sem);
}

int csgb_stop_requested(void) { return atomic_load_explicit(&stop_flag, memory_order_relaxed); }

int csgb_stop_signal(void) { return atomic_load(&stop_signal); }

int64_t csgb_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int csgb_sleep_until_stop(double seconds) {
    ensure_sem();
    struct timespec deadline;
    if (seconds >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        long long ns = (long long)(seconds * 1e9);
        deadline.tv_sec += ns / 1000000000LL;
        deadline.tv_nsec += ns % 1000000000LL;
        if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    }
    for (;;) {
        if (atomic_load(&stop_flag)) return 1;
        int rc = seconds >= 0 ? sem_clockwait(&stop_sem, CLOCK_MONOTONIC, &deadline)
                              : sem_wait(&stop_sem);
        if (rc == 0) {
            // A stale post from before a reset is consumed; a real stop leaves its
            // post for the next sleeper, because a stop stays a stop.
            if (!atomic_load(&stop_flag)) continue;
            sem_post(&stop_sem);
            return 1;
        }
        if (errno == ETIMEDOUT) return atomic_load(&stop_flag) ? 1 : 0;
        // EINTR: look at the flag again.
    }
}

