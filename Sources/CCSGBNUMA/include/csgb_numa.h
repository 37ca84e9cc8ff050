#ifndef CSGB_NUMA_H
#define CSGB_NUMA_H

#include <stddef.h>

// Memory placement for `--numa`, through libnuma's mbind. Applied to a fresh
// mapping before its first touch, since a policy only steers pages not yet faulted.

/// 1 when the kernel supports NUMA policies (even with one node), else 0.
int csgb_numa_available(void);

/// The number of configured NUMA nodes.
int csgb_numa_nodes(void);

/// policy: 1 = local (pages on the node of the CPU that first touches them),
/// 2 = interleave (round-robin over every node). Returns 0 or an errno.
int csgb_numa_bind(void *address, size_t length, int policy);

#endif
