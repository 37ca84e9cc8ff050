#ifndef CSGB_SYSTEM_H
#define CSGB_SYSTEM_H

// Thin shims for what Swift cannot call directly: variadic syscall(2), the CPU_*
// macros, gettid and futex. They return what the kernel returns and leave errno
// alone; the Swift wrapper above them turns -1/errno into typed errors.

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/// The calling thread's kernel id.
pid_t csgb_gettid(void);

/// Pin thread `tid` (0 = caller) to the `count` CPUs in `cpus`. Returns 0 or -1/errno.
int csgb_set_affinity(pid_t tid, const int32_t *cpus, size_t count);

/// Writes up to `capacity` CPUs of the caller's affinity mask to `cpus` and returns
/// how many there are, or -1/errno.
int csgb_get_affinity(int32_t *cpus, size_t capacity);

/// Names the calling thread (at most 15 bytes are kept), as top and perf show it.
void csgb_set_thread_name(const char *name);

/// pipe2(fds, O_CLOEXEC). Returns 0 or -1/errno.
int csgb_pipe(int fds[2]);

/// dup3(old, target, O_CLOEXEC): makes `target` refer to what `old` refers to,
/// atomically. Returns target or -1/errno.
int csgb_dup_onto(int old, int target);

/// accept4(fd, NULL, NULL, SOCK_CLOEXEC). Returns the descriptor or -1/errno.
int csgb_accept(int fd);

/// FUTEX_WAIT_PRIVATE: sleep while *word == expected. Returns 0 or -1/errno.
int csgb_futex_wait(uint32_t *word, uint32_t expected);

/// FUTEX_WAKE_PRIVATE: wake up to `count` waiters. Returns the number woken or -1/errno.
int csgb_futex_wake(uint32_t *word, int count);

/// Ignore SIGPIPE so that a last write racing the peer's close returns EPIPE.
void csgb_ignore_sigpipe(void);

/// Install SIGINT, SIGTERM, SIGQUIT and SIGHUP handlers that set the flag returned by
/// csgb_stop_requested and post a semaphore the coordinator sleeps on.
/// Returns 0 or -1/errno.
int csgb_install_stop_handlers(void);

/// Waits for child `pid` to end and stores its waitpid status. With `forward`, a
/// stop signal (before or during the wait) is sent as SIGINT to the child's process
/// group, again every 50 ms until the child is gone. Returns 0 or -1/errno.
int csgb_wait_forwarding_stop(pid_t pid, int forward, int *status);

/// How many times this process was continued (SIGCONT) after a stop.
int csgb_continue_count(void);

/// SIGCONTs handled in [start_ns, end_ns) (CLOCK_MONOTONIC), leaving out one sent by
/// the sender of the first stop signal within follow_ns of it (GNU timeout's SIGCONT
/// after its SIGINT or SIGTERM). Only the first 64 continues have times; later ones
/// all count.
int csgb_continues_between(int64_t start_ns, int64_t end_ns, int64_t follow_ns);

/// When the first stop signal was handled (CLOCK_MONOTONIC ns), 0 before one came.
int64_t csgb_stop_signal_time(void);

/// A stop from inside the process (no signal): what a signal does, with
/// csgb_stop_signal left at 0. For a run that must end because part of it died.
void csgb_request_stop(void);

/// The command decided what stop signals do (the actor host ignores them): a stop
/// caught before that by the early handlers is not re-raised at exit.
void csgb_stop_signals_taken_over(void);

/// 1 once a stop signal arrived.
int csgb_stop_requested(void);

/// Which signal stopped the run, 0 if none.
int csgb_stop_signal(void);

/// Sleep until a stop is requested or `seconds` pass (a negative value waits for
/// the stop only). Returns 1 if a stop was requested, 0 on timeout.
int csgb_sleep_until_stop(double seconds);

/// CLOCK_MONOTONIC in nanoseconds.
int64_t csgb_monotonic_ns(void);

/// The CPU the calling thread runs on (sched_getcpu through the vDSO), 0 when unknown.
int csgb_current_cpu(void);

/// This architecture's number of the syscall `name` (as in `syscalls:sys_enter_NAME`),
/// or -1 when it has none or csgb does not know it.
long csgb_syscall_number(const char *name);

#endif
