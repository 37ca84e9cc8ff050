#ifndef CSGB_PROCESS_H
#define CSGB_PROCESS_H

// Processes, shared memory, scheduling policy and speculation controls: the kernel
// calls of the process mode and of --sched/--spec. Each returns what the kernel
// returns (-1 with errno set, unless said otherwise); the Swift wrapper in
// CSGBSystem turns that into typed errors.

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/// memfd_create(name, MFD_CLOEXEC) and ftruncate to `length`. Returns the fd or -1.
int csgb_shared_memory_create(const char *name, size_t length);

/// mmap(length, PROT_READ|PROT_WRITE, MAP_SHARED, fd). Returns NULL with errno set.
void *csgb_shared_memory_map(int fd, size_t length);

/// fork, then in the child (async-signal-safe calls only, since the caller may
/// run threads): PR_SET_PDEATHSIG(death_signal), exit 127 if the parent is
/// already gone, clear FD_CLOEXEC on the `keep_count` descriptors of `keep`, block
/// SIGINT, SIGTERM, SIGQUIT and SIGHUP (the mask survives exec; the new program
/// decides what they mean), and execve(path, argv, envp). Returns the child's pid
/// in the parent, or -1.
pid_t csgb_spawn_with_death_signal(const char *path, char *const argv[], char *const envp[],
                                   const int *keep, size_t keep_count, int death_signal);

/// fork, then in the child (async-signal-safe calls only): PR_SET_PDEATHSIG(SIGKILL)
/// (exit 127 if the parent is already gone), its own process group when `new_group`,
/// SIGINT, SIGTERM, SIGQUIT, SIGHUP and SIGPIPE at their defaults and nothing
/// blocked, stdin /dev/null, stdout and stderr into the two files (created, truncated,
/// 0600), and execve. Returns the pid, or -1 with errno set when fork, a file or exec
/// failed (exec's errno comes back over a close-on-exec pipe). A tool such as perf
/// started this way dies with csgb, however csgb ends.
pid_t csgb_spawn_dying_with_parent(const char *path, char *const argv[], char *const envp[],
                                   const char *stdout_path, const char *stderr_path, int new_group);

/// prctl(PR_SET_PDEATHSIG, SIGKILL) for the calling thread's process: it dies when
/// the thread that started it ends.
int csgb_die_with_parent(void);

/// fork in a single-threaded process; the child gets PR_SET_PDEATHSIG(death_signal)
/// and exits 127 if the parent is already gone. Returns the pid, 0 in the child, or -1.
pid_t csgb_fork_with_death_signal(int death_signal);

/// waitpid(pid, &status, flags) retried on EINTR. Returns the pid, 0 (WNOHANG and
/// nothing exited), or -1. `*exit_code` is the exit status, or -1 when a signal
/// ended it; `*signal` is that signal or 0.
pid_t csgb_wait_child(pid_t pid, int no_hang, int *exit_code, int *signal);

/// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC): a channel that carries
/// descriptors (SCM_RIGHTS) one message at a time. Returns 0 or -1.
int csgb_descriptor_socket_pair(int fds[2]);

/// sendmsg of a 4-byte `tag` with the `count` descriptors of `fds` (at most 8)
/// attached, retried on EINTR. Returns 0 or -1 (EPIPE once the peer is gone).
int csgb_send_descriptors(int socket, uint32_t tag, const int *fds, int count);

/// recvmsg of one such message (MSG_CMSG_CLOEXEC); the descriptors go to `fds`
/// (room for `capacity`). Returns how many arrived, -2 at end of stream, or -1.
int csgb_receive_descriptors(int socket, uint32_t *tag, int *fds, int capacity);

/// kill(pid, signal).
int csgb_send_signal(pid_t pid, int signal);

/// Sets SIGINT, SIGTERM, SIGQUIT and SIGHUP to SIG_IGN and SIGPIPE to SIG_IGN, and
/// unblocks them: in an actor process only the coordinator decides when to stop.
int csgb_ignore_stop_signals(void);

/// FUTEX_WAIT / FUTEX_WAKE without FUTEX_PRIVATE_FLAG: the word lives in memory
/// shared between processes.
int csgb_futex_wait_shared(uint32_t *word, uint32_t expected);
int csgb_futex_wake_shared(uint32_t *word, int count);

/// getrusage(RUSAGE_SELF) as microseconds of user and system time, voluntary and
/// involuntary switches, and peak RSS in KiB. Returns 0 or -1.
int csgb_self_usage(int64_t *user_us, int64_t *system_us, int64_t *voluntary, int64_t *involuntary, int64_t *max_rss_kib);

// Scheduling policies, as sched_setscheduler(2) names them.
#define CSGB_SCHED_OTHER 0
#define CSGB_SCHED_FIFO  1
#define CSGB_SCHED_RR    2
#define CSGB_SCHED_BATCH 3
#define CSGB_SCHED_IDLE  5

/// sched_setscheduler(0, policy, {priority}) for the calling thread.
int csgb_set_scheduler(int policy, int priority);

/// sched_setscheduler(pid, policy | SCHED_RESET_ON_FORK, {priority}): the task gets
/// the policy, and whatever it starts afterwards (threads, processes) gets the
/// default policy back, so a real-time perf or coordinator never hands it on.
int csgb_set_scheduler_resetting_on_fork(int pid, int policy, int priority);

/// The calling thread's policy (sched_getscheduler) and priority; -1 on error.
int csgb_get_scheduler(int *priority);

/// sched_get_priority_min / max for a policy.
int csgb_scheduler_priority_min(int policy);
int csgb_scheduler_priority_max(int policy);

/// RLIMIT_RTPRIO soft limit (-1 = unlimited).
long long csgb_rtprio_limit(void);

// Per-task speculation controls (PR_SET_SPECULATION_CTRL).
#define CSGB_SPEC_STORE_BYPASS    0
#define CSGB_SPEC_INDIRECT_BRANCH 1
#define CSGB_SPEC_L1D_FLUSH       2

/// prctl(PR_GET_SPECULATION_CTRL, which): the PR_SPEC_* bits, or -1.
int csgb_speculation_get(int which);

/// prctl(PR_SET_SPECULATION_CTRL, which, PR_SPEC_FORCE_DISABLE) for the store-bypass
/// and indirect-branch controls, PR_SPEC_ENABLE for the L1D flush (which is the
/// "flush on switch" request). Returns 0 or -1.
int csgb_speculation_request(int which);

// The PR_SPEC_* bits the get call returns.
#define CSGB_PR_SPEC_PRCTL         1
#define CSGB_PR_SPEC_ENABLE        2
#define CSGB_PR_SPEC_DISABLE       4
#define CSGB_PR_SPEC_FORCE_DISABLE 8
#define CSGB_PR_SPEC_DISABLE_NOEXEC 16

#endif
