#ifndef CSGB_CONTEXT_H
#define CSGB_CONTEXT_H
// Owned by the green-thread work (issue 4): the x86_64 context switch.
#endif
