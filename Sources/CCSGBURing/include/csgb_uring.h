#ifndef CSGB_URING_H
#define CSGB_URING_H

#include <stdint.h>

// One io_uring (liburing) per worker OS thread or per actor thread, for `--io uring`.
// Functions return 0 (or a count) on success and -errno on failure, as liburing does.

#pragma clang assume_nonnull begin

typedef struct csgb_ring csgb_ring;

/// Setup options of `csgb_ring_create`, one bit each (not the kernel's values).
enum {
    /// IORING_SETUP_SINGLE_ISSUER (Linux 6.0): one task submits. The ring is made
    /// disabled and becomes the submitter's when that thread calls csgb_ring_adopt.
    CSGB_RING_SINGLE_ISSUER = 1 << 0,
    /// IORING_SETUP_DEFER_TASKRUN (Linux 6.1, needs single issuer): completion work
    /// runs only when the owner waits in io_uring_enter, never as an interrupt.
    CSGB_RING_DEFER_TASKRUN = 1 << 1,
    /// IORING_SETUP_COOP_TASKRUN (Linux 5.19): completion work is not forced on the
    /// task by an inter-processor interrupt; it runs at its next kernel entry.
    CSGB_RING_COOP_TASKRUN = 1 << 2,
    /// io_uring_register_ring_fd (Linux 5.18), done by csgb_ring_adopt: enters name
    /// the ring by a registered index and skip the descriptor lookup.
    CSGB_RING_REGISTER_RING_FD = 1 << 3,
    /// IORING_SETUP_SUBMIT_ALL (Linux 5.18): a batch goes on past an entry that
    /// fails at submission instead of stopping there.
    CSGB_RING_SUBMIT_ALL = 1 << 4,
};

/// What a ring entry does with its one buffer.
enum {
    CSGB_RING_READ = 0,
    CSGB_RING_WRITE = 1,
    /// IORING_OP_RECV and IORING_OP_SEND, flags 0 (sockets only).
    CSGB_RING_RECV = 2,
    CSGB_RING_SEND = 3,
};

/// A ring of `entries` SQEs (the kernel rounds them up to a power of two) with the
/// CSGB_RING_* `setup` bits. `sqpoll`: a kernel thread polls the SQ, so submitting
/// needs no io_uring_enter while it is awake; `sqpoll_cpu` >= 0 pins that thread to
/// the CPU. `poller_of`, an SQPOLL ring of this process: no new poller thread, that
/// ring's serves this one too (IORING_SETUP_ATTACH_WQ, Linux 5.11).
/// Returns NULL and stores -errno in *error when the ring cannot be made.
csgb_ring *_Nullable csgb_ring_create(unsigned entries, int sqpoll, int sqpoll_cpu, unsigned setup,
                                      const csgb_ring *_Nullable poller_of, int *error);

/// The submission and completion queue entries the kernel gave the ring.
unsigned csgb_ring_sq_entries(const csgb_ring *ring);
unsigned csgb_ring_cq_entries(const csgb_ring *ring);

/// Called once by the thread that will submit and wait on the ring, before it
/// does: enables a single-issuer ring for that thread and registers the ring's
/// descriptor with it. Returns 0 or -errno.
int csgb_ring_adopt(csgb_ring *ring);

/// Called by the owner thread when it is done with the ring: drops the ring-fd
/// registration of that thread (it would otherwise last until the thread exits).
void csgb_ring_release(csgb_ring *ring);

void csgb_ring_destroy(csgb_ring *ring);

/// Registers `count` descriptors; SQEs then name index i instead of fds[i].
int csgb_ring_register_files(csgb_ring *ring, const int *fds, unsigned count);

/// Prepares one CSGB_RING_* `op` of `length` bytes. `target` is a descriptor, or an
/// index into the registered files when `fixed` is 1. Returns 0, or -EBUSY when the
/// submission queue is full.
int csgb_ring_prepare(csgb_ring *ring, int op, int target, int fixed, void *buffer,
                      unsigned length, uint64_t user_data);

/// Links the entry prepared last to the next one (IOSQE_IO_LINK: the kernel starts
/// the next only after it completed, and cancels the next if it failed), provided
/// that entry has user data `user_data` and is not submitted yet. Returns 1 when
/// linked, 0 when the last prepared entry is another one or already submitted.
int csgb_ring_link_last(csgb_ring *ring, uint64_t user_data);

/// Submits what was prepared and waits for at least `wait` completions, at most
/// `timeout_ns` (negative: no limit). Returns the SQEs submitted, or -errno
/// (-ETIME: the time ran out first, -EINTR: a signal).
int csgb_ring_submit_and_wait(csgb_ring *ring, unsigned wait, int64_t timeout_ns);

/// Copies up to `capacity` completions out and marks them seen; returns how many.
unsigned csgb_ring_reap(csgb_ring *ring, uint64_t *user_data, int32_t *results, unsigned capacity);

/// io_uring_enter calls this ring made (submissions that did not need one under
/// SQPOLL are not counted), SQEs it submitted, links it formed, and completions
/// reaped with -ECANCELED (an entry linked after one that failed).
uint64_t csgb_ring_enters(const csgb_ring *ring);
uint64_t csgb_ring_submitted(const csgb_ring *ring);
uint64_t csgb_ring_links(const csgb_ring *ring);
uint64_t csgb_ring_cancelled(const csgb_ring *ring);

#pragma clang assume_nonnull end

#endif
