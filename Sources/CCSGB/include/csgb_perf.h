#ifndef CSGB_PERF_H
#define CSGB_PERF_H

// perf_event_open(2) shims for per-thread counters. Swift cannot call the variadic
// syscall() and would have to mirror struct perf_event_attr's bit fields by hand; here
// the attr is built in C, and Swift only names which event, which thread, and which
// privilege levels. Each function returns what the kernel returns and leaves errno
// alone; the Swift wrapper turns -1/errno into typed errors.

#include <stdint.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

// The events csgb counts. Mapped to a perf type and config in perf_event.c, so that
// the generalized-cache encoding of dTLB-load-misses lives next to the others.
#define CSGB_PERF_INSTRUCTIONS      0
#define CSGB_PERF_CYCLES            1
#define CSGB_PERF_CACHE_MISSES      2
#define CSGB_PERF_DTLB_LOAD_MISSES  3
#define CSGB_PERF_CONTEXT_SWITCHES  4
#define CSGB_PERF_CPU_MIGRATIONS    5
#define CSGB_PERF_PAGE_FAULTS       6
#define CSGB_PERF_TASK_CLOCK        7

// Flags for csgb_perf_open.
#define CSGB_PERF_EXCLUDE_USER    1u  // count kernel mode only
#define CSGB_PERF_EXCLUDE_KERNEL  2u  // count user mode only (hypervisor excluded too)
#define CSGB_PERF_INHERIT         4u  // also count threads the target creates later

/// One read of a counter opened by csgb_perf_open: the raw count and the two times
/// the kernel keeps for multiplexing. When time_running < time_enabled the counter
/// shared the PMU with others and value covers only time_running.
typedef struct csgb_perf_reading {
    uint64_t value;
    uint64_t time_enabled;
    uint64_t time_running;
} csgb_perf_reading;

/// 1 when `event` is a hardware or hardware-cache event (needs a PMU), 0 for
/// software events, -1 for an unknown event.
int csgb_perf_event_is_hardware(int32_t event);

/// Opens `event` created disabled, with read_format TOTAL_TIME_ENABLED |
/// TOTAL_TIME_RUNNING and close-on-exec: for thread `tid` on any CPU (cpu = -1), or
/// for every task on CPU `cpu` (tid = -1). `group` is the group leader's descriptor,
/// or -1 to lead a group of one's own. Returns the descriptor, or -1/errno (EINVAL for
/// an unknown event).
int csgb_perf_open(int32_t event, pid_t tid, int32_t cpu, int32_t group, uint32_t flags);

/// PERF_EVENT_IOC_ENABLE / _DISABLE on one descriptor. Return 0 or -1/errno.
int csgb_perf_enable(int fd);
int csgb_perf_disable(int fd);

/// prctl(PR_TASK_PERF_EVENTS_ENABLE / _DISABLE): every counter the calling thread
/// opened, whatever thread it watches, in one syscall, so that thousands of
/// counters start and stop at nearly the same instant. Return 0 or -1/errno.
int csgb_perf_enable_all_owned(void);
int csgb_perf_disable_all_owned(void);

/// Reads one counter. Returns 0, or -1/errno (EIO for a short read).
int csgb_perf_read(int fd, csgb_perf_reading *reading);

#pragma clang assume_nonnull end

#endif
