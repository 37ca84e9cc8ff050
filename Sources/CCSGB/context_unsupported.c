// The context switch exists only in assembly for x86_64 SysV (context_x86_64.S).
// Elsewhere the same symbols link, csgb_context_supported() says no, and Swift
// reports the mode as unsupported instead of failing to build.
#include "csgb_context.h"

#if defined(__x86_64__)

int csgb_context_supported(void) { return 1; }

#else

#include <stdlib.h>

int csgb_context_supported(void) { return 0; }

void *csgb_jump_context(void **from, void *to, void *value) {
    (void)from; (void)to; (void)value;
    abort();
}

void *csgb_make_context(void *stack_top, csgb_context_entry entry) {
    (void)stack_top; (void)entry;
    abort();
}

void csgb_test_trashing_entry(void *pair) { (void)pair; abort(); }

uint32_t csgb_test_registers_survive_jump(csgb_test_pair *pair) { (void)pair; abort(); }

uint64_t csgb_test_entry_misalignment(void) { return 0; }

#endif
