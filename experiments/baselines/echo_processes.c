/*
 * echo_processes - N socket pairs, one process per side (2N processes forked
 * before the window), blocking write(2)/read(2) of 1 byte: the C reference for
 * `csgb socket N --mode process`. Every switch between the two sides of a pair
 * changes address space.
 *
 * Extra options: -i sets PR_SPEC_INDIRECT_BRANCH to force-disable in every
 * child (the kernel then issues an IBPB when it switches into or out of it,
 * where its mode allows a task to ask: csgb --spec ibpb); -f PRIO runs every
 * child SCHED_FIFO at PRIO (csgb --sched fifo:PRIO).
 *
 * Counters and the start barrier live in a MAP_SHARED anonymous mapping made
 * before the forks; the children die with the parent (PR_SET_PDEATHSIG).
 */
#include "common.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

typedef struct {
    pthread_barrier_t barrier;
    int stopping;
    int failed;
} shared_state;

static shared_state *shared;
static int use_ibpb;
static int fifo_priority;

static void child_setup(void) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        bl_die_errno("prctl(PR_SET_PDEATHSIG)");
    bl_pin_self();
    if (fifo_priority > 0) {
        struct sched_param p = {.sched_priority = fifo_priority};
        if (sched_setscheduler(0, SCHED_FIFO, &p) != 0)
            _exit(1);
    }
    pthread_barrier_wait(&shared->barrier);
}

static void ended(const char *what, ssize_t rc) {
    if (__atomic_load_n(&shared->stopping, __ATOMIC_SEQ_CST))
        return;
    fprintf(stderr, "%s: %s returned %zd before the stop\n", bl_opt.prog, what, rc);
    __atomic_store_n(&shared->failed, 1, __ATOMIC_SEQ_CST);
}

static void initiator(int fd, bl_counter *counter) {
    char b = 'x';
    uint64_t n = 0;
    ssize_t rc;
    child_setup();
    for (;;) {
        if ((rc = write(fd, &b, 1)) != 1) { ended("initiator write", rc); break; }
        if ((rc = read(fd, &b, 1)) != 1) { ended("initiator read", rc); break; }
        bl_count(counter, ++n);
    }
    _exit(0);
}

static void responder(int fd) {
    char b;
    ssize_t rc;
    child_setup();
    for (;;) {
        if ((rc = read(fd, &b, 1)) != 1) { ended("responder read", rc); break; }
        if ((rc = write(fd, &b, 1)) != 1) { ended("responder write", rc); break; }
    }
    _exit(0);
}

int main(int argc, char **argv) {
    /* -i and -f are ours; the rest is the common command line. */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-i") == 0) { use_ibpb = 1; continue; }
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) { fifo_priority = atoi(argv[++i]); continue; }
        argv[kept++] = argv[i];
    }
    argc = kept;
    bl_parse_args(argc, argv, "socket pairs, two processes each", 1, 1);
    const long n = bl_opt.n;
    signal(SIGPIPE, SIG_IGN);
    bl_pin_self();
    /* Refused controls fail here, before any child waits at the barrier. The
     * speculation control is inherited by the forks; the policy is set by each. */
    if (use_ibpb && prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE, 0, 0) != 0)
        bl_die_errno("prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE)");
    if (fifo_priority > 0) {
        struct sched_param p = {.sched_priority = fifo_priority};
        if (sched_setscheduler(0, SCHED_FIFO, &p) != 0)
            bl_die_errno("sched_setscheduler(SCHED_FIFO)");
        /* The parent sleeps through the window one priority above, as csgb's coordinator. */
        p.sched_priority = fifo_priority < 99 ? fifo_priority + 1 : 99;
        sched_setscheduler(0, SCHED_FIFO, &p);
    }

    size_t bytes = sizeof(shared_state) + (size_t)n * sizeof(bl_counter) + BL_PAD;
    void *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        bl_die_errno("mmap");
    shared = (shared_state *)region;
    bl_counter *counters = (bl_counter *)((char *)region + BL_PAD * ((sizeof(shared_state) + BL_PAD - 1) / BL_PAD));
    pthread_barrierattr_t attr;
    pthread_barrierattr_init(&attr);
    pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (pthread_barrier_init(&shared->barrier, &attr, (unsigned)(2 * n + 1)) != 0)
        bl_die("%s", "pthread_barrier_init failed");

    int *fds = (int *)calloc((size_t)(2 * n), sizeof(int));
    pid_t *pids = (pid_t *)calloc((size_t)(2 * n), sizeof(pid_t));
    if (!fds || !pids)
        bl_die_errno("calloc");
    for (long i = 0; i < n; i++)
        bl_socketpair(&fds[2 * i]);
    for (long i = 0; i < 2 * n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            bl_die_errno("fork");
        if (pid == 0) {
            if (i % 2 == 0) initiator(fds[i], &counters[i / 2]);
            else responder(fds[i]);
        }
        pids[i] = pid;
    }

    pthread_barrier_wait(&shared->barrier);
    bl_sleep_until(bl_now() + bl_opt.warmup);
    uint64_t c0 = bl_sum(counters, n);
    double start = bl_now();
    bl_sleep_until(start + bl_opt.duration);
    uint64_t c1 = bl_sum(counters, n);
    double end = bl_now();

    __atomic_store_n(&shared->stopping, 1, __ATOMIC_SEQ_CST);
    for (long i = 0; i < 2 * n; i++)
        shutdown(fds[i], SHUT_RDWR);
    for (long i = 0; i < 2 * n; i++)
        waitpid(pids[i], NULL, 0);
    if (shared->failed)
        return 1;

    /* The four lines of every baseline; switches are not read at the window's
     * edges here (they are the children's), so the whole run's are on stderr. */
    double iterations = (double)(c1 - c0), seconds = end - start;
    printf("total iterations: %llu\n", (unsigned long long)(c1 - c0));
    printf("seconds: %.6f\n", seconds);
    printf("ns_per_iteration: %.3f\n", iterations > 0 ? seconds * 1e9 / iterations : 0.0);
    printf("iterations_per_second: %.1f\n", seconds > 0 ? iterations / seconds : 0.0);
    fflush(stdout);
    struct rusage children;
    getrusage(RUSAGE_CHILDREN, &children);
    fprintf(stderr, "workload: %s\n", use_ibpb ? "echo_processes (ibpb)" : "echo_processes");
    fprintf(stderr, "cpus: %s\n", bl_opt.cpulist ? bl_opt.cpulist : "(inherited)");
    fprintf(stderr, "children_voluntary_switches_whole_run: %ld\n", children.ru_nvcsw);
    fprintf(stderr, "children_involuntary_switches_whole_run: %ld\n", children.ru_nivcsw);
    return 0;
}
