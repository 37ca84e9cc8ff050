#include "csgb_cache.h"

#include <stdint.h>

int csgb_evict_supported(void) {
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}

int csgb_evict_range(void *base, size_t length) {
#if defined(__x86_64__)
    // clflush works on any line size; 64 bytes is the line of every x86_64 CPU csgb
    // runs on, and flushing a line twice is harmless if a CPU had larger ones.
    char *p = (char *)((uintptr_t)base & ~(uintptr_t)63);
    char *end = (char *)base + length;
    for (; p < end; p += 64) {
        __asm__ volatile("clflush (%0)" : : "r"(p) : "memory");
    }
    // clflush is ordered against stores only by a full fence: without it the next
    // pass could hit a line whose eviction has not taken effect yet.
    __asm__ volatile("mfence" : : : "memory");
    return 0;
#else
    (void)base;
    (void)length;
    return -1;
#endif
}
