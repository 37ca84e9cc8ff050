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
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

// Written by the handler so that a wait on a child (poll) wakes on a stop whichever
// thread the signal landed on; never drained, because a stop stays a stop.
static int stop_eventfd = -1;
// 1 once a command said it ends its runs on the stop flag; before that, a stop
// signal is only remembered, and a command that never arms dies of it at exit.
static atomic_int stop_armed;
static atomic_int continued;

// Sets the stop flag and wakes whoever waits for it: the coordinator's semaphore
// and the eventfd stat and explain poll. Async-signal-safe (atomics, sem_post and
// write only), so the signal handler and csgb_request_stop share it.
static void raise_stop(void) {
    atomic_store(&stop_flag, 1);
    sem_post(&stop_sem);
    if (stop_eventfd >= 0) {
        uint64_t one = 1;
        ssize_t ignored = write(stop_eventfd, &one, sizeof(one));
        (void)ignored;
    }
}

// The first stop signal: when it came and who sent it, to tell a stop's own
// SIGCONT (GNU timeout sends one after its signal) from a continue after a pause.
static _Atomic int64_t stop_signal_ns;
static atomic_int stop_sender;

// The continues so far (SIGCONT), each with its time and sender.
enum { continue_capacity = 64 };
static _Atomic int64_t continue_ns[continue_capacity];
static atomic_int continue_sender[continue_capacity];

static void on_stop_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    int saved = errno;
    int64_t none = 0;
    if (atomic_compare_exchange_strong(&stop_signal_ns, &none, csgb_monotonic_ns())) {
        atomic_store(&stop_sender, info ? info->si_pid : 0);
    }
    atomic_store(&stop_signal, sig);
    raise_stop();
    errno = saved;
}

static void on_continue(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    int index = atomic_fetch_add(&continued, 1);
    if (index < continue_capacity) {
        atomic_store(&continue_sender[index], info ? info->si_pid : 0);
        atomic_store(&continue_ns[index], csgb_monotonic_ns());
    }
}

int csgb_continues_between(int64_t start_ns, int64_t end_ns, int64_t follow_ns) {
    int total = atomic_load(&continued);
    int64_t stopped_at = atomic_load(&stop_signal_ns);
    int sender = atomic_load(&stop_sender);
    int counted = 0;
    for (int i = 0; i < total; i++) {
        if (i >= continue_capacity) { counted++; continue; }
        int64_t at = atomic_load(&continue_ns[i]);
        if (at == 0 || at < start_ns || at >= end_ns) continue;
        // The stop signal's sender continuing us at once: its own follow-up (two
        // signals sent together may be handled in either order), not a pause.
        if (stopped_at != 0 && sender != 0 && atomic_load(&continue_sender[i]) == sender
            && at - stopped_at < follow_ns && stopped_at - at < follow_ns) continue;
        counted++;
    }
    return counted;
}

int64_t csgb_stop_signal_time(void) { return atomic_load(&stop_signal_ns); }

static const int stop_signals_list[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP };
#define STOP_SIGNAL_COUNT (sizeof(stop_signals_list) / sizeof(stop_signals_list[0]))

static int install_handlers(void) {
    ensure_sem();
    if (stop_eventfd < 0) {
        // Above 2: with standard output closed at start, descriptor 1 must stay
        // free for the check that refuses to lose the report.
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd >= 0 && fd <= 2) {
            int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
            close(fd);
            fd = high;
        }
        stop_eventfd = fd;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_stop_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    // No SA_RESTART: a blocking call interrupted by the stop should return EINTR
    // so the caller looks at the flag.
    // SIGQUIT: the Swift runtime's backtracer would otherwise dump every thread and
    // let the run go on at its raised priority. SIGHUP: a closed terminal should
    // end the run with its report rather than kill it without one.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (size_t i = 0; i < STOP_SIGNAL_COUNT; i++) {
        if (sigaction(stop_signals_list[i], &sa, NULL) != 0) return -1;
        sigaddset(&stop_signals, stop_signals_list[i]);
    }
    struct sigaction cont;
    memset(&cont, 0, sizeof(cont));
    cont.sa_sigaction = on_continue;
    cont.sa_flags = SA_RESTART | SA_SIGINFO;
    sigemptyset(&cont.sa_mask);
    sigaction(SIGCONT, &cont, NULL);
    // Blocked by the parent (a test runner, a supervisor), the continue would be
    // done but never seen.
    sigaddset(&stop_signals, SIGCONT);
    // A parent may have started us with these blocked (the mask survives exec);
    // a stop that never arrives would hang the run, so unblock them.
    return pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL) == 0 ? 0 : -1;
}

int csgb_install_stop_handlers(void) {
    if (install_handlers() != 0) return -1;
    atomic_store(&stop_armed, 1);
    return 0;
}

void csgb_stop_signals_taken_over(void) { atomic_store(&stop_armed, 1); }

// A command that never armed the stop (--version, info, help) must still die of a
// signal that came while the handlers caught it early, as it would have without them.
static void die_of_unarmed_stop(void) {
    if (atomic_load(&stop_armed) || !atomic_load(&stop_flag)) return;
    int sig = atomic_load(&stop_signal);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
}

// As early as a program's own code can run: from the executable's preinit array,
// which the dynamic loader calls once every object is loaded and relocated and
// before any library's initializer (libstdc++, the Swift runtime, libnuma) or any
// constructor, so that a Ctrl-C during start-up is a stop rather than a death
// without a message. What comes before (exec, loading, relocation: about 2 to 5 ms
// here, docs/decisions.md) no program can handle.
// Only in the csgb program itself: a test runner linking this library keeps its
// own Ctrl-C. argv[0], not program_invocation_short_name: libc sets that in its
// own initializer, which has not run yet.
// Not in the process mode's actor host either (`csgb __process-actors …`): it is
// started with the stop signals blocked and ignores them, leaving the stop to the
// coordinator; a handler there would turn its blocking calls into EINTR.
static void install_early(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 1 || argv == NULL || argv[0] == NULL) return;
    const char *slash = strrchr(argv[0], '/');
    const char *name = slash ? slash + 1 : argv[0];
    if (strcmp(name, "csgb") != 0) return;
    if (argc > 1 && argv[1] != NULL && strcmp(argv[1], "__process-actors") == 0) return;
    if (install_handlers() == 0) atexit(die_of_unarmed_stop);
}

__attribute__((used, section(".preinit_array")))
static void (*const csgb_install_early)(int, char **, char **) = install_early;

int csgb_continue_count(void) { return atomic_load(&continued); }

int csgb_wait_forwarding_stop(pid_t pid, int forward, int *status) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int64_t last_forward = 0;
    for (;;) {
        pid_t done = waitpid(pid, status, WNOHANG);
        if (done == pid) { if (pidfd >= 0) close(pidfd); return 0; }
        if (done < 0 && errno != EINTR) { int e = errno; if (pidfd >= 0) close(pidfd); errno = e; return -1; }
        int stopping = forward && atomic_load(&stop_flag);
        if (stopping) {
            // csgb stat's perf and workload run in a process group of their own: the
            // stop is passed on as SIGINT, which perf survives to write its counts.
            // The first SIGINT can be lost: perf's forked child takes it with perf's
            // own handler in the moment before it execs the workload. So it is sent
            // again until the group is gone.
            int64_t now = csgb_monotonic_ns();
            if (now - last_forward >= 50000000LL) { kill(-pid, SIGINT); last_forward = now; }
        }
        struct pollfd fds[2];
        int count = 0;
        if (pidfd >= 0) { fds[count].fd = pidfd; fds[count].events = POLLIN; count++; }
        if (forward && !stopping && stop_eventfd >= 0) { fds[count].fd = stop_eventfd; fds[count].events = POLLIN; count++; }
        int timeout = stopping ? 10 : (pidfd >= 0 ? -1 : 10);
        poll(fds, (nfds_t)count, timeout);
    }
}

void csgb_request_stop(void) {
    ensure_sem();
    raise_stop();
}

int csgb_stop_requested(void) { return atomic_load_explicit(&stop_flag, memory_order_relaxed); }

int csgb_stop_signal(void) { return atomic_load(&stop_signal); }

int64_t csgb_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int csgb_current_cpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : cpu;
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


// The syscalls csgb stat counts, and the few a claim could name besides: each
// entry only where this architecture has the call (arm64 has no epoll_wait).
static const struct { const char *name; long number; } syscall_numbers[] = {
#ifdef SYS_read
    { "read", SYS_read },
#endif
#ifdef SYS_write
    { "write", SYS_write },
#endif
#ifdef SYS_readv
    { "readv", SYS_readv },
#endif
#ifdef SYS_writev
    { "writev", SYS_writev },
#endif
#ifdef SYS_recvfrom
    { "recvfrom", SYS_recvfrom },
#endif
#ifdef SYS_sendto
    { "sendto", SYS_sendto },
#endif
#ifdef SYS_recvmsg
    { "recvmsg", SYS_recvmsg },
#endif
#ifdef SYS_sendmsg
    { "sendmsg", SYS_sendmsg },
#endif
#ifdef SYS_futex
    { "futex", SYS_futex },
#endif
#ifdef SYS_epoll_wait
    { "epoll_wait", SYS_epoll_wait },
#endif
#ifdef SYS_epoll_pwait
    { "epoll_pwait", SYS_epoll_pwait },
#endif
#ifdef SYS_epoll_pwait2
    { "epoll_pwait2", SYS_epoll_pwait2 },
#endif
#ifdef SYS_io_uring_enter
    { "io_uring_enter", SYS_io_uring_enter },
#endif
#ifdef SYS_sched_yield
    { "sched_yield", SYS_sched_yield },
#endif
#ifdef SYS_poll
    { "poll", SYS_poll },
#endif
#ifdef SYS_ppoll
    { "ppoll", SYS_ppoll },
#endif
#ifdef SYS_select
    { "select", SYS_select },
#endif
#ifdef SYS_pselect6
    { "pselect6", SYS_pselect6 },
#endif
#ifdef SYS_nanosleep
    { "nanosleep", SYS_nanosleep },
#endif
#ifdef SYS_clock_nanosleep
    { "clock_nanosleep", SYS_clock_nanosleep },
#endif
};

long csgb_syscall_number(const char *name) {
    for (size_t i = 0; i < sizeof(syscall_numbers) / sizeof(syscall_numbers[0]); i++) {
        if (strcmp(syscall_numbers[i].name, name) == 0) return syscall_numbers[i].number;
    }
    return -1;
}
