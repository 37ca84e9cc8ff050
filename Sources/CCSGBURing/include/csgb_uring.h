#ifndef CSGB_URING_H
#define CSGB_URING_H

#include <stdint.h>

// One io_uring (liburing) per worker OS thread or per actor thread, for `--io uring`.
// Functions return 0 (or a count) on success and -errno on failure, as liburing does.

#pragma clang assume_nonnull begin

typedef struct csgb_ring csgb_ring;

/// A ring of `entries` SQEs (a power of two is not required). `sqpoll`: a kernel
/// thread polls the SQ, so submitting needs no io_uring_enter while it is awake;
/// `sqpoll_cpu` >= 0 pins that thread to the CPU. Returns NULL and stores -errno in
/// *error when the ring cannot be made.
csgb_ring *_Nullable csgb_ring_create(unsigned entries, int sqpoll, int sqpoll_cpu, int *error);

void csgb_ring_destroy(csgb_ring *ring);

/// Registers `count` descriptors; SQEs then name index i instead of fds[i].
int csgb_ring_register_files(csgb_ring *ring, const int *fds, unsigned count);

/// Prepares a read (write = 0) or write (write = 1) of `length` bytes. `target` is
/// a descriptor, or an index into the registered files when `fixed` is 1. Returns 0,
/// or -EBUSY when the submission queue is full.
int csgb_ring_prepare(csgb_ring *ring, int write, int target, int fixed, void *buffer,
                      unsigned length, uint64_t user_data);

/// Submits what was prepared and waits for at least `wait` completions, at most
/// `timeout_ns` (negative: no limit). Returns the SQEs submitted, or -errno
/// (-ETIME: the time ran out first, -EINTR: a signal).
int csgb_ring_submit_and_wait(csgb_ring *ring, unsigned wait, int64_t timeout_ns);

/// Copies up to `capacity` completions out and marks them seen; returns how many.
unsigned csgb_ring_reap(csgb_ring *ring, uint64_t *user_data, int32_t *results, unsigned capacity);

/// io_uring_enter calls this ring made (submissions that did not need one under
/// SQPOLL are not counted), and SQEs it submitted.
uint64_t csgb_ring_enters(const csgb_ring *ring);
uint64_t csgb_ring_submitted(const csgb_ring *ring);

#pragma clang assume_nonnull end

#endif
