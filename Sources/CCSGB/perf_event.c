#define _GNU_SOURCE
#include "csgb_perf.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// The generalized-cache encoding: cache id | (operation << 8) | (result << 16).
#define CACHE_CONFIG(cache, op, result) \
    ((uint64_t)(cache) | ((uint64_t)(op) << 8) | ((uint64_t)(result) << 16))

static int event_type_config(int32_t event, uint32_t *type, uint64_t *config) {
    switch (event) {
    case CSGB_PERF_INSTRUCTIONS:
        *type = PERF_TYPE_HARDWARE; *config = PERF_COUNT_HW_INSTRUCTIONS; return 0;
    case CSGB_PERF_CYCLES:
        *type = PERF_TYPE_HARDWARE; *config = PERF_COUNT_HW_CPU_CYCLES; return 0;
    case CSGB_PERF_CACHE_MISSES:
        *type = PERF_TYPE_HARDWARE; *config = PERF_COUNT_HW_CACHE_MISSES; return 0;
    case CSGB_PERF_DTLB_LOAD_MISSES:
        *type = PERF_TYPE_HW_CACHE;
        *config = CACHE_CONFIG(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ,
                               PERF_COUNT_HW_CACHE_RESULT_MISS);
        return 0;
    case CSGB_PERF_CONTEXT_SWITCHES:
        *type = PERF_TYPE_SOFTWARE; *config = PERF_COUNT_SW_CONTEXT_SWITCHES; return 0;
    case CSGB_PERF_CPU_MIGRATIONS:
        *type = PERF_TYPE_SOFTWARE; *config = PERF_COUNT_SW_CPU_MIGRATIONS; return 0;
    case CSGB_PERF_PAGE_FAULTS:
        *type = PERF_TYPE_SOFTWARE; *config = PERF_COUNT_SW_PAGE_FAULTS; return 0;
    case CSGB_PERF_TASK_CLOCK:
        *type = PERF_TYPE_SOFTWARE; *config = PERF_COUNT_SW_TASK_CLOCK; return 0;
    default:
        return -1;
    }
}

int csgb_perf_event_is_hardware(int32_t event) {
    uint32_t type;
    uint64_t config;
    if (event_type_config(event, &type, &config) != 0) return -1;
    return type == PERF_TYPE_HARDWARE || type == PERF_TYPE_HW_CACHE;
}

int csgb_perf_open(int32_t event, pid_t tid, int32_t cpu, int32_t group, uint32_t flags) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    uint32_t type;
    uint64_t config;
    if (event_type_config(event, &type, &config) != 0) {
        errno = EINVAL;
        return -1;
    }
    attr.type = type;
    attr.config = config;
    attr.size = sizeof(attr);
    // Created disabled: the window's opening enables every counter at once.
    attr.disabled = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.exclude_user = (flags & CSGB_PERF_EXCLUDE_USER) ? 1 : 0;
    attr.exclude_kernel = (flags & CSGB_PERF_EXCLUDE_KERNEL) ? 1 : 0;
    // A guest's hypervisor time is neither our user nor our kernel time.
    attr.exclude_hv = 1;
    attr.inherit = (flags & CSGB_PERF_INHERIT) ? 1 : 0;
    long fd = syscall(SYS_perf_event_open, &attr, tid, cpu, group, PERF_FLAG_FD_CLOEXEC);
    return (int)fd;
}

int csgb_perf_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0); }
int csgb_perf_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }

int csgb_perf_enable_all_owned(void) { return prctl(PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0); }
int csgb_perf_disable_all_owned(void) { return prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0); }

int csgb_perf_read(int fd, csgb_perf_reading *reading) {
    // read_format without PERF_FORMAT_GROUP or _ID: exactly value, enabled, running.
    uint64_t data[3];
    ssize_t n;
    do {
        n = read(fd, data, sizeof(data));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    if (n != (ssize_t)sizeof(data)) { errno = EIO; return -1; }
    reading->value = data[0];
    reading->time_enabled = data[1];
    reading->time_running = data[2];
    return 0;
}
