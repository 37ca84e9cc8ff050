#ifndef CSGB_TEST_SUPPORT_H
#define CSGB_TEST_SUPPORT_H

#include <stdint.h>

// Checks of the context switch that can only be written in assembly (compiled code
// chooses its own registers). Linked into the tests only, never into csgb.

#pragma clang assume_nonnull begin

/// A test context pair: the caller's saved context and the test context's.
typedef struct csgb_test_pair {
    void *_Nullable main;
    void *_Nullable fiber;
} csgb_test_pair;

/// Entry for a test context made with csgb_make_context, entered with a
/// csgb_test_pair* as its value: each time it runs, it fills every callee-saved
/// register, MXCSR and the x87 control word with other values, then jumps back to
/// pair->main.
void csgb_test_trashing_entry(void *_Nullable pair);

/// Loads known values into the callee-saved registers, MXCSR and the x87 control
/// word, jumps to pair->fiber (saving into pair->main) and, once back, returns a
/// bit mask of those that changed: 0 means the switch preserved them all.
uint32_t csgb_test_registers_survive_jump(csgb_test_pair *pair);

/// (rsp + 8) % 16 at this function's entry: 0 when the caller's stack is aligned as
/// the SysV ABI requires.
uint64_t csgb_test_entry_misalignment(void);

#pragma clang assume_nonnull end

#endif
