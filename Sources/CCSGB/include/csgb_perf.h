#ifndef CSGB_PERF_H
#define CSGB_PERF_H
// Owned by the measurement work (issue 6): perf_event_open shims.
#endif
