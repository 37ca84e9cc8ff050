#ifndef CSGB_CACHE_H
#define CSGB_CACHE_H

#include <stddef.h>

/// Writes back and evicts every cache line of [base, base + length) from every
/// level of the cache hierarchy (clflush on x86_64, then a fence so the next
/// access really misses). Returns 0, or -1 where the architecture has no such
/// instruction (nothing is evicted then). A test fault: it makes an actor's work
/// run on cold caches, as the indirect cost of a switch would.
int csgb_evict_range(void *base, size_t length);

/// 1 when csgb_evict_range can evict on this architecture.
int csgb_evict_supported(void);

#endif
