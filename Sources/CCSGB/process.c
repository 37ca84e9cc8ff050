#define _GNU_SOURCE
#include "csgb_process.h"
#include "csgb_system.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int csgb_shared_memory_create(const char *name, size_t length) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

void *csgb_shared_memory_map(int fd, size_t length) {
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void block_stop_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

pid_t csgb_spawn_with_death_signal(const char *path, char *const argv[], char *const envp[],
                                   const int *keep, size_t keep_count, int death_signal) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    // The child of a process that may run threads: async-signal-safe calls only.
    if (prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) _exit(127);
    if (getppid() != parent) _exit(127);
    for (size_t i = 0; i < keep_count; i++) {
        if (fcntl(keep[i], F_SETFD, 0) != 0) _exit(127);
    }
    block_stop_signals();
    execve(path, argv, envp);
    _exit(127);
}

pid_t csgb_spawn_dying_with_parent(const char *path, char *const argv[], char *const envp[],
                                   const char *stdout_path, const char *stderr_path, int new_group) {
    // exec's failure comes back over a close-on-exec pipe: end of file means exec worked.
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        // The child of a process that runs threads: async-signal-safe calls only.
        int failure = 0;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) _exit(127);
        if (new_group) setpgid(0, 0);
        struct sigaction fallback;
        memset(&fallback, 0, sizeof fallback);
        fallback.sa_handler = SIG_DFL;
        const int defaults[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE };
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) sigaction(defaults[i], &fallback, NULL);
        sigset_t empty;
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        int input = open("/dev/null", O_RDONLY);
        int output = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int error = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (input < 0 || output < 0 || error < 0 || dup2(input, 0) < 0 || dup2(output, 1) < 0 || dup2(error, 2) < 0) {
            failure = errno;
        } else {
            execve(path, argv, envp);
            failure = errno;
        }
        ssize_t ignored = write(report[1], &failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }
    close(report[1]);
    // Set from both sides, so that a signal to the group cannot miss the child.
    if (new_group) setpgid(pid, pid);
    int failure = 0;
    ssize_t got;
    do {
        got = read(report[0], &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof failure) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        errno = failure;
        return -1;
    }
    return pid;
}

int csgb_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }

pid_t csgb_fork_with_death_signal(int death_signal) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) _exit(127);
    if (getppid() != parent) _exit(127);
    return 0;
}

pid_t csgb_wait_child(pid_t pid, int no_hang, int *exit_code, int *signal) {
    int status = 0;
    pid_t rc;
    do {
        rc = waitpid(pid, &status, no_hang ? WNOHANG : 0);
    } while (rc < 0 && errno == EINTR);
    if (rc > 0) {
        if (WIFSIGNALED(status)) { *exit_code = -1; *signal = WTERMSIG(status); }
        else { *exit_code = WEXITSTATUS(status); *signal = 0; }
    }
    return rc;
}

int csgb_descriptor_socket_pair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

enum { descriptor_batch = 8 };

int csgb_send_descriptors(int socket, uint32_t tag, const int *fds, int count) {
    if (count < 0 || count > descriptor_batch) { errno = EINVAL; return -1; }
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int) * descriptor_batch)]; } control;
    memset(&control, 0, sizeof control);
    struct iovec payload = { .iov_base = &tag, .iov_len = sizeof tag };
    struct msghdr message = { .msg_iov = &payload, .msg_iovlen = 1 };
    if (count > 0) {
        message.msg_control = control.space;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    }
    ssize_t rc;
    do {
        rc = sendmsg(socket, &message, MSG_NOSIGNAL);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : 0;
}

int csgb_receive_descriptors(int socket, uint32_t *tag, int *fds, int capacity) {
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int) * descriptor_batch)]; } control;
    struct iovec payload = { .iov_base = tag, .iov_len = sizeof *tag };
    struct msghdr message = { .msg_iov = &payload, .msg_iovlen = 1,
                              .msg_control = control.space, .msg_controllen = sizeof control.space };
    ssize_t rc;
    do {
        rc = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -1;
    if (rc == 0) return -2;
    int count = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        int arrived = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        const int *received = (const int *)CMSG_DATA(header);
        for (int i = 0; i < arrived; i++) {
            if (count < capacity) fds[count++] = received[i];
            else close(received[i]);
        }
    }
    if ((size_t)rc != sizeof *tag || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        for (int i = 0; i < count; i++) close(fds[i]);
        errno = EBADMSG;
        return -1;
    }
    return count;
}

int csgb_send_signal(pid_t pid, int signal) { return kill(pid, signal); }

int csgb_ignore_stop_signals(void) {
    csgb_stop_signals_taken_over();
    const int signals[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE };
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        if (signal(signals[i], SIG_IGN) == SIG_ERR) return -1;
        sigaddset(&set, signals[i]);
    }
    return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int csgb_futex_wait_shared(uint32_t *word, uint32_t expected) {
    return (int)syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

int csgb_futex_wake_shared(uint32_t *word, int count) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

int csgb_self_usage(int64_t *user_us, int64_t *system_us, int64_t *voluntary, int64_t *involuntary, int64_t *max_rss_kib) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return -1;
    *user_us = (int64_t)u.ru_utime.tv_sec * 1000000 + u.ru_utime.tv_usec;
    *system_us = (int64_t)u.ru_stime.tv_sec * 1000000 + u.ru_stime.tv_usec;
    *voluntary = u.ru_nvcsw;
    *involuntary = u.ru_nivcsw;
    *max_rss_kib = u.ru_maxrss;
    return 0;
}

static int kernel_policy(int policy) {
    switch (policy) {
    case CSGB_SCHED_FIFO: return SCHED_FIFO;
    case CSGB_SCHED_RR: return SCHED_RR;
    case CSGB_SCHED_BATCH: return SCHED_BATCH;
    case CSGB_SCHED_IDLE: return SCHED_IDLE;
    default: return SCHED_OTHER;
    }
}

int csgb_set_scheduler(int policy, int priority) {
    struct sched_param param;
    memset(&param, 0, sizeof(param));
    param.sched_priority = priority;
    return sched_setscheduler(0, kernel_policy(policy), &param);
}

int csgb_set_scheduler_resetting_on_fork(int pid, int policy, int priority) {
    struct sched_param param;
    memset(&param, 0, sizeof(param));
    param.sched_priority = priority;
    return sched_setscheduler(pid, kernel_policy(policy) | SCHED_RESET_ON_FORK, &param);
}

int csgb_get_scheduler(int *priority) {
    struct sched_param param;
    memset(&param, 0, sizeof(param));
    int policy = sched_getscheduler(0);
    if (policy < 0) return -1;
    if (sched_getparam(0, &param) != 0) return -1;
    *priority = param.sched_priority;
    switch (policy & ~SCHED_RESET_ON_FORK) {
    case SCHED_FIFO: return CSGB_SCHED_FIFO;
    case SCHED_RR: return CSGB_SCHED_RR;
    case SCHED_BATCH: return CSGB_SCHED_BATCH;
    case SCHED_IDLE: return CSGB_SCHED_IDLE;
    default: return CSGB_SCHED_OTHER;
    }
}

int csgb_scheduler_priority_min(int policy) { return sched_get_priority_min(kernel_policy(policy)); }
int csgb_scheduler_priority_max(int policy) { return sched_get_priority_max(kernel_policy(policy)); }

long long csgb_rtprio_limit(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_RTPRIO, &r) != 0) return 0;
    return r.rlim_cur == RLIM_INFINITY ? -1 : (long long)r.rlim_cur;
}

#ifndef PR_SPEC_L1D_FLUSH
#define PR_SPEC_L1D_FLUSH 2
#endif

static int kernel_spec(int which) {
    switch (which) {
    case CSGB_SPEC_INDIRECT_BRANCH: return PR_SPEC_INDIRECT_BRANCH;
    case CSGB_SPEC_L1D_FLUSH: return PR_SPEC_L1D_FLUSH;
    default: return PR_SPEC_STORE_BYPASS;
    }
}

int csgb_speculation_get(int which) {
    return prctl(PR_GET_SPECULATION_CTRL, kernel_spec(which), 0, 0, 0);
}

int csgb_speculation_request(int which) {
    unsigned long value = which == CSGB_SPEC_L1D_FLUSH ? PR_SPEC_ENABLE : PR_SPEC_FORCE_DISABLE;
    return prctl(PR_SET_SPECULATION_CTRL, kernel_spec(which), value, 0, 0);
}
