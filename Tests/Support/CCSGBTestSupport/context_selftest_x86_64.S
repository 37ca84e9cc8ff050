// Test support for the context switch: checks that can only be written in assembly,
// because compiled code chooses its own registers. Used by Tests/FibersTests.

#if defined(__x86_64__)

    .text

// The values the caller keeps live across a jump, and the ones the other side leaves.
#define KEEP_MXCSR  0x3F80      /* round down, all exceptions masked */
#define KEEP_FCW    0x077F      /* round down */
#define TRASH_MXCSR 0xFF80      /* flush to zero, round toward zero */
#define TRASH_FCW   0x0F7F      /* round toward zero */

// uint32_t csgb_test_registers_survive_jump(csgb_test_pair *pair)
    .globl  csgb_test_registers_survive_jump
    .type   csgb_test_registers_survive_jump, @function
    .p2align 4
csgb_test_registers_survive_jump:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    // 0: caller's MXCSR, 4: caller's FCW, 8: scratch; leaves rsp aligned for the call.
    subq    $24, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movl    $KEEP_MXCSR, 8(%rsp)
    ldmxcsr 8(%rsp)
    movw    $KEEP_FCW, 8(%rsp)
    fldcw   8(%rsp)

    movabsq $0x1111111111111111, %rbx
    movabsq $0x2222222222222222, %rbp
    movabsq $0x3333333333333333, %r12
    movabsq $0x4444444444444444, %r13
    movabsq $0x5555555555555555, %r14
    movabsq $0x6666666666666666, %r15
    movq    %rdi, %rdx              // value = pair
    movq    8(%rdi), %rsi           // to = pair->fiber
    // from = &pair->main, already in rdi
    call    csgb_jump_context

    xorl    %eax, %eax
    movabsq $0x1111111111111111, %rcx
    cmpq    %rcx, %rbx
    je      1f
    orl     $0x01, %eax
1:  movabsq $0x2222222222222222, %rcx
    cmpq    %rcx, %rbp
    je      2f
    orl     $0x02, %eax
2:  movabsq $0x3333333333333333, %rcx
    cmpq    %rcx, %r12
    je      3f
    orl     $0x04, %eax
3:  movabsq $0x4444444444444444, %rcx
    cmpq    %rcx, %r13
    je      4f
    orl     $0x08, %eax
4:  movabsq $0x5555555555555555, %rcx
    cmpq    %rcx, %r14
    je      5f
    orl     $0x10, %eax
5:  movabsq $0x6666666666666666, %rcx
    cmpq    %rcx, %r15
    je      6f
    orl     $0x20, %eax
6:  stmxcsr 8(%rsp)
    movl    8(%rsp), %ecx
    andl    $0xFFC0, %ecx           // ignore the sticky exception flags
    cmpl    $KEEP_MXCSR, %ecx
    je      7f
    orl     $0x40, %eax
7:  fnstcw  8(%rsp)
    movzwl  8(%rsp), %ecx
    cmpl    $KEEP_FCW, %ecx
    je      8f
    orl     $0x80, %eax
8:  ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $24, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .cfi_endproc
    .size   csgb_test_registers_survive_jump, .-csgb_test_registers_survive_jump

// void csgb_test_trashing_entry(void *pair)
    .globl  csgb_test_trashing_entry
    .type   csgb_test_trashing_entry, @function
    .p2align 4
csgb_test_trashing_entry:
    .cfi_startproc
    .cfi_undefined rip
    subq    $8, %rsp                // align for the call below, and scratch space
1:  movq    %rdi, %rdx              // value = pair (each jump back passes it again)
    leaq    8(%rdi), %rdi           // from = &pair->fiber
    movq    -8(%rdi), %rsi          // to = pair->main
    movabsq $0x9999999999999999, %rbx
    movabsq $0xAAAAAAAAAAAAAAAA, %rbp
    movabsq $0xBBBBBBBBBBBBBBBB, %r12
    movabsq $0xCCCCCCCCCCCCCCCC, %r13
    movabsq $0xDDDDDDDDDDDDDDDD, %r14
    movabsq $0xEEEEEEEEEEEEEEEE, %r15
    movl    $TRASH_MXCSR, (%rsp)
    ldmxcsr (%rsp)
    movw    $TRASH_FCW, (%rsp)
    fldcw   (%rsp)
    call    csgb_jump_context
    movq    %rax, %rdi
    jmp     1b
    .cfi_endproc
    .size   csgb_test_trashing_entry, .-csgb_test_trashing_entry

// uint64_t csgb_test_entry_misalignment(void)
    .globl  csgb_test_entry_misalignment
    .type   csgb_test_entry_misalignment, @function
    .p2align 4
csgb_test_entry_misalignment:
    .cfi_startproc
    leaq    8(%rsp), %rax
    andq    $15, %rax
    ret
    .cfi_endproc
    .size   csgb_test_entry_misalignment, .-csgb_test_entry_misalignment

#endif

    .section .note.GNU-stack,"",@progbits
