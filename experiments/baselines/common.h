/*
 * common.c - shared harness of the csgb C/C++ baselines.
 *
 * Not a separate translation unit: every baseline does `#include "common.c"`,
 * so each program stays one self-contained binary with no shared object or
 * header to keep in sync. The code is written in the common subset of C11 and
 * C++17 so fiber_yield.cpp can include it too.
 *
 * What it provides:
 *   - the common command line: PROG [-n N] [-d SECONDS] [-w WARMUP] [-c CPULIST]
 *   - CPU list parsing ("0", "0-1", "0,2", "0-3,6") and pinning of the calling
 *     thread with sched_setaffinity
 *   - per-thread counters padded to their own cache lines (two lines, so the
 *     adjacent-line prefetcher does not pair them up)
 *   - the measured window: a start barrier that every worker thread and the
 *     main thread pass, then warm-up, then counters and the clock are read at
 *     window start and window end
 *   - the report: exactly four `key: value` lines on stdout, and extra
 *     diagnostics (context switches per iteration) on stderr
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* Each program uses only part of the harness. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BL_PAD 128

/* One counter per thread, alone on its cache lines. The owner stores with a
 * relaxed atomic store (a plain mov on x86_64); the main thread loads it. */
typedef struct {
    uint64_t value;
    char pad[BL_PAD - sizeof(uint64_t)];
} __attribute__((aligned(BL_PAD))) bl_counter;

typedef struct {
    const char *prog;
    long n;              /* pairs, threads or fibers, depending on the program */
    double duration;     /* measured window, seconds */
    double warmup;       /* unmeasured time after the start barrier, seconds */
    const char *cpulist; /* as given, for messages */
    cpu_set_t cpus;
    int send_recv;       /* -S: send(2)/recv(2) instead of write(2)/read(2) */
} bl_options;

static bl_options bl_opt;
static pthread_barrier_t bl_start_barrier;

static void bl_die(const char *fmt, const char *arg) {
    fprintf(stderr, "%s: ", bl_opt.prog ? bl_opt.prog : "baseline");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static void bl_die_errno(const char *what) {
    fprintf(stderr, "%s: %s: %s\n", bl_opt.prog ? bl_opt.prog : "baseline", what,
            strerror(errno));
    exit(1);
}

static void bl_usage(const char *what_n, long default_n, int status) {
    FILE *out = status == 0 ? stdout : stderr;
    fprintf(out,
            "usage: %s [-n N] [-d SECONDS] [-w WARMUP_SECONDS] [-c CPULIST] [-S]\n"
            "  -n N        %s (default %ld)\n"
            "  -d SECONDS  measured window (default 2)\n"
            "  -w SECONDS  warm-up after every thread is running, not measured (default 0.5)\n"
            "  -c CPULIST  pin every thread to these CPUs, e.g. 0, 0-1, 0,2 (default: all allowed)\n"
            "  -S          move bytes with send(2)/recv(2), flags 0 (the kernel sees sendto/recvfrom)\n"
            "              instead of write(2)/read(2); programs that move none ignore it\n",
            bl_opt.prog, what_n, default_n);
    exit(status);
}

/* Parses "0", "0-3", "0,2", "0-3,6" into set. Returns 0 on success. */
static int bl_parse_cpulist(const char *s, cpu_set_t *set) {
    CPU_ZERO(set);
    if (*s == '\0')
        return -1;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long lo = strtol(p, &end, 10);
        if (end == p || errno || lo < 0 || lo >= CPU_SETSIZE)
            return -1;
        long hi = lo;
        p = end;
        if (*p == '-') {
            p++;
            errno = 0;
            hi = strtol(p, &end, 10);
            if (end == p || errno || hi < lo || hi >= CPU_SETSIZE)
                return -1;
            p = end;
        }
        for (long c = lo; c <= hi; c++)
            CPU_SET((int)c, set);
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return -1;
        else
            break;
    }
    return 0;
}

static double bl_parse_seconds(const char *s, const char *opt, int allow_zero) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || v < 0 || (!allow_zero && v == 0) || v > 1e6) {
        fprintf(stderr, "%s: option %s: expected a number of seconds %s\n", bl_opt.prog, opt,
                allow_zero ? ">= 0" : "> 0");
        exit(64);
    }
    return v;
}

/* Parses the common command line. `what_n` describes -n in the usage text. */
static void bl_parse_args(int argc, char **argv, const char *what_n, long default_n,
                          long min_n) {
    const char *slash = strrchr(argv[0], '/');
    bl_opt.prog = slash ? slash + 1 : argv[0];
    bl_opt.n = default_n;
    bl_opt.duration = 2.0;
    bl_opt.warmup = 0.5;
    bl_opt.cpulist = NULL;
    if (sched_getaffinity(0, sizeof(cpu_set_t), &bl_opt.cpus) != 0)
        bl_die_errno("sched_getaffinity");

    int c;
    while ((c = getopt(argc, argv, "n:d:w:c:Sh")) != -1) {
        switch (c) {
        case 'n': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || errno || v < min_n || v > 100000) {
                char msg[64];
                snprintf(msg, sizeof msg, "%ld..100000", min_n);
                fprintf(stderr, "%s: option -n: expected an integer in %s\n", bl_opt.prog,
                        msg);
                exit(64);
            }
            bl_opt.n = v;
            break;
        }
        case 'd':
            bl_opt.duration = bl_parse_seconds(optarg, "-d", 0);
            break;
        case 'w':
            bl_opt.warmup = bl_parse_seconds(optarg, "-w", 1);
            break;
        case 'c':
            if (bl_parse_cpulist(optarg, &bl_opt.cpus) != 0) {
                fprintf(stderr, "%s: option -c: expected a CPU list such as 0, 0-1 or 0,2\n",
                        bl_opt.prog);
                exit(64);
            }
            bl_opt.cpulist = optarg;
            break;
        case 'S':
            bl_opt.send_recv = 1;
            break;
        case 'h':
            bl_usage(what_n, default_n, 0);
            break;
        default:
            bl_usage(what_n, default_n, 64);
        }
    }
    if (optind != argc)
        bl_usage(what_n, default_n, 64);
}

/* Pins the calling thread to the CPU set of -c. */
static void bl_pin_self(void) {
    if (sched_setaffinity(0, sizeof(cpu_set_t), &bl_opt.cpus) != 0)
        bl_die_errno("sched_setaffinity (is every CPU of -c online?)");
}

/* Process-wide setup done by main before creating threads. `workers` is the
 * number of threads that will wait on the start barrier besides main. */
static void bl_setup(unsigned workers) {
    signal(SIGPIPE, SIG_IGN);
    bl_pin_self();
    if (pthread_barrier_init(&bl_start_barrier, NULL, workers + 1) != 0)
        bl_die("%s", "pthread_barrier_init failed");
}

/* Called by each worker thread first thing: pin, then wait for everyone. */
static void bl_thread_start(void) {
    bl_pin_self();
    pthread_barrier_wait(&bl_start_barrier);
}

static void bl_create_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        bl_die_errno("pthread_create");
    }
}

static bl_counter *bl_counters_alloc(long n) {
    bl_counter *c = (bl_counter *)aligned_alloc(BL_PAD, (size_t)n * sizeof(bl_counter));
    if (c == NULL)
        bl_die_errno("aligned_alloc");
    memset(c, 0, (size_t)n * sizeof(bl_counter));
    return c;
}

/* Set by main when the window has closed. Workers that see a syscall fail
 * before this is set report it as an error (it would be a bug). */
static int bl_stopping;
static int bl_failed;

static inline int bl_should_stop(void) {
    return __atomic_load_n(&bl_stopping, __ATOMIC_RELAXED);
}

static void bl_begin_stop(void) {
    __atomic_store_n(&bl_stopping, 1, __ATOMIC_SEQ_CST);
}

/* A worker's loop ended: fine during the stop, a failure before it. */
static void bl_worker_ended(const char *what, ssize_t rc, int err) {
    if (__atomic_load_n(&bl_stopping, __ATOMIC_SEQ_CST))
        return;
    fprintf(stderr, "%s: %s returned %zd before the stop (%s)\n", bl_opt.prog, what, rc,
            rc < 0 ? strerror(err) : "end of file");
    __atomic_store_n(&bl_failed, 1, __ATOMIC_SEQ_CST);
}

static inline void bl_count(bl_counter *c, uint64_t v) {
    __atomic_store_n(&c->value, v, __ATOMIC_RELAXED);
}

static inline void bl_count_inc(bl_counter *c) {
    __atomic_store_n(&c->value, __atomic_load_n(&c->value, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
}

static uint64_t bl_sum(bl_counter *cs, long n) {
    uint64_t s = 0;
    for (long i = 0; i < n; i++)
        s += __atomic_load_n(&cs[i].value, __ATOMIC_RELAXED);
    return s;
}

static double bl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bl_sleep_until(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Context switches of the worker threads: the whole process minus main. */
typedef struct {
    long nvcsw, nivcsw;
} bl_switches;

static bl_switches bl_worker_switches(void) {
    struct rusage self, mine;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_THREAD, &mine);
    bl_switches s;
    s.nvcsw = self.ru_nvcsw - mine.ru_nvcsw;
    s.nivcsw = self.ru_nivcsw - mine.ru_nivcsw;
    return s;
}

/*
 * Runs the measured window from the main thread. Call after every worker has
 * been created; main joins the start barrier here, so the window opens only
 * when all workers are running. Returns after the window has closed; the
 * caller then stops and joins the workers and calls bl_report().
 */
typedef struct {
    uint64_t iterations;
    double seconds;
    bl_switches switches;
} bl_window;

static bl_window bl_measure(bl_counter *counters, long ncounters) {
    pthread_barrier_wait(&bl_start_barrier);
    double t0 = bl_now();
    bl_sleep_until(t0 + bl_opt.warmup);

    bl_switches s0 = bl_worker_switches();
    uint64_t c0 = bl_sum(counters, ncounters);
    double start = bl_now();

    bl_sleep_until(start + bl_opt.duration);

    uint64_t c1 = bl_sum(counters, ncounters);
    double end = bl_now();
    bl_switches s1 = bl_worker_switches();

    bl_window w;
    w.iterations = c1 - c0;
    w.seconds = end - start;
    w.switches.nvcsw = s1.nvcsw - s0.nvcsw;
    w.switches.nivcsw = s1.nivcsw - s0.nivcsw;
    return w;
}

static void bl_report(const bl_window *w, const char *workload) {
    double n = (double)w->iterations;
    printf("total iterations: %llu\n", (unsigned long long)w->iterations);
    printf("seconds: %.6f\n", w->seconds);
    printf("ns_per_iteration: %.3f\n", n > 0 ? w->seconds * 1e9 / n : 0.0);
    printf("iterations_per_second: %.1f\n", w->seconds > 0 ? n / w->seconds : 0.0);
    fflush(stdout);
    /* Diagnostics, not part of the machine-readable stdout contract. */
    fprintf(stderr, "workload: %s\n", workload);
    fprintf(stderr, "n: %ld\n", bl_opt.n);
    fprintf(stderr, "cpus: %s\n", bl_opt.cpulist ? bl_opt.cpulist : "(inherited)");
    fprintf(stderr, "warmup: %.3f\n", bl_opt.warmup);
    fprintf(stderr, "voluntary_switches_per_iteration: %.6f\n",
            n > 0 ? (double)w->switches.nvcsw / n : 0.0);
    fprintf(stderr, "involuntary_switches_per_iteration: %.6f\n",
            n > 0 ? (double)w->switches.nivcsw / n : 0.0);
}

/* One byte out or in, with the syscalls -S chose. */
static inline ssize_t bl_put(int fd, const char *byte) {
    return bl_opt.send_recv ? send(fd, byte, 1, 0) : write(fd, byte, 1);
}

static inline ssize_t bl_get(int fd, char *byte) {
    return bl_opt.send_recv ? recv(fd, byte, 1, 0) : read(fd, byte, 1);
}

/* Creates a connected AF_UNIX SOCK_STREAM pair (blocking). */
static void bl_socketpair(int fds[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        bl_die_errno("socketpair (raise the open-file limit with ulimit -n?)");
}
