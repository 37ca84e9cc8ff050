#ifndef CSGB_CONTEXT_H
#define CSGB_CONTEXT_H

// The green-thread primitives, in the style of Boost.Context's fcontext: a context is
// the saved stack pointer of a suspended flow of control, and nothing here knows about
// scheduling. The switch itself lives in context_x86_64.S; the stack-overflow reporter
// in stack_guard.c.

#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

/// Where a fresh context starts. It must never return: a finished flow jumps away for
/// good (the trampoline traps with ud2 if it returns).
typedef void (*csgb_context_entry)(void *_Nullable arg);

/// 1 when this architecture has a context switch (x86_64 SysV), 0 otherwise; on other
/// architectures the two functions below abort.
int csgb_context_supported(void);

/// Saves the callee-saved registers, MXCSR, the x87 control word and the stack pointer
/// into `*from`, resumes `to`, and hands it `value`: a suspended context sees `value`
/// as the return value of its own csgb_jump_context, a fresh one as its entry's `arg`.
void *_Nullable csgb_jump_context(void *_Nullable *_Nonnull from, void *to, void *_Nullable value);

/// Prepares the stack that ends at `stack_top` (exclusive, any alignment) so that the
/// first jump to the returned context calls `entry` with the jump's value, on a stack
/// aligned as the ABI requires at function entry.
void *csgb_make_context(void *stack_top, csgb_context_entry entry);

// MARK: Stack overflow reporting

/// Installs the process-wide SIGSEGV/SIGBUS handler (once) and an alternate signal
/// stack for the calling thread (once per thread; freed when the thread exits), so
/// a fault on a green stack's guard page can still run a handler.
/// Returns 0 or -1/errno.
int csgb_stack_guard_install_thread(void);

/// Registers the guard page [guard, guard + guard_len) of a green stack of
/// `stack_size` usable bytes owned by the green thread `name` (copied, truncated to
/// 63 bytes). A fault there prints
///   csgb: green thread '<name>' overflowed its stack (<size> bytes); raise --stack-size
/// and exits with 70. Returns a slot for csgb_stack_guard_unregister, or -1/ENOMEM.
int32_t csgb_stack_guard_register(const void *guard, size_t guard_len, size_t stack_size,
                                  const char *name);

/// Forgets a slot returned by csgb_stack_guard_register.
void csgb_stack_guard_unregister(int32_t slot);

/// How many guard pages are registered now (for tests and leak checks).
int32_t csgb_stack_guard_registered_count(void);

#pragma clang assume_nonnull end

#endif
