// The green-thread context switch for x86_64 System V (Linux).
//
// A suspended context is its stack pointer; the stack holds, from there upward:
//   +0  MXCSR (4 bytes), x87 control word (2 bytes), padding
//   +8  r15, r14, r13, r12, rbx, rbp
//   +56 return address
// The SysV ABI makes every other register caller-saved, so a switch that looks like
// a function call to both sides only has to keep these. MXCSR and the x87 control
// word are callee-saved too (rounding modes); their status flags come along for free.

#if defined(__x86_64__)

    .text

// void *csgb_jump_context(void **from, void *to, void *value)
    .globl  csgb_jump_context
    .type   csgb_jump_context, @function
    .p2align 4
csgb_jump_context:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)

    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    // The value is the jump's return value on a resumed context, and the entry's
    // argument on a fresh one (see csgb_context_trampoline).
    movq    %rdx, %rax
    movq    %rdx, %rdi
    // `ret`, not an indirect jump: the call that entered here pushed an entry on the
    // return-stack predictor, and only a `ret` pops it. With `jmp` every `ret` after
    // the switch was predicted one entry off (a green yield behind a function of its
    // own measured 15.7 ns instead of 11). The prediction itself is right whenever
    // the other side resumes where this one called from, as two fibers running the
    // same loop do.
    ret
    .cfi_endproc
    .size   csgb_jump_context, .-csgb_jump_context

// void *csgb_make_context(void *stack_top, void (*entry)(void *))
    .globl  csgb_make_context
    .type   csgb_make_context, @function
    .p2align 4
csgb_make_context:
    .cfi_startproc
    // The frame sits 80 bytes below the aligned top so that, after csgb_jump_context
    // pops it and returns into the trampoline, rsp is 16-byte aligned at the
    // trampoline's call: the entry then starts with (rsp + 8) % 16 == 0.
    movq    %rdi, %rax
    andq    $-16, %rax
    subq    $80, %rax
    // A fresh context starts with the creator's floating-point modes.
    stmxcsr (%rax)
    fnstcw  4(%rax)
    movw    $0, 6(%rax)
    movq    $0, 8(%rax)             // r15
    movq    $0, 16(%rax)            // r14
    movq    $0, 24(%rax)            // r13
    movq    %rsi, 32(%rax)          // r12 carries the entry into the trampoline
    movq    $0, 40(%rax)            // rbx
    movq    $0, 48(%rax)            // rbp = 0 ends frame-pointer walks here
    leaq    csgb_context_trampoline(%rip), %rcx
    movq    %rcx, 56(%rax)
    movq    $0, 64(%rax)
    movq    $0, 72(%rax)
    ret
    .cfi_endproc
    .size   csgb_make_context, .-csgb_make_context

// The first instruction a fresh context runs: rdi holds the first jump's value.
    .type   csgb_context_trampoline, @function
    .p2align 4
csgb_context_trampoline:
    .cfi_startproc
    // No caller: tell unwinders (the crash backtracer, perf) the stack ends here.
    .cfi_undefined rip
    callq   *%r12
    // An entry must switch away for good instead of returning.
    ud2
    .cfi_endproc
    .size   csgb_context_trampoline, .-csgb_context_trampoline

#endif

    .section .note.GNU-stack,"",@progbits
