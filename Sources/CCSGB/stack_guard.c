// Turns a fault on a green stack's guard page into a message naming the green thread
// and its stack size, instead of a bare SIGSEGV. The handler must be async-signal-safe:
// it only reads the registry (lock-free), formats by hand and calls write and _exit.
#define _GNU_SOURCE
#include "csgb_context.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
    NAME_CAPACITY = 64,
    CHUNK_SLOTS = 1024,
    MAX_CHUNKS = 4096,          // 4 Mi green threads; far beyond vm.max_map_count
    OVERFLOW_EXIT_CODE = 70,    // EX_SOFTWARE
    ALT_STACK_MIN = 64 * 1024,
};

// The registry grows in chunks that are never freed or moved, so the handler can
// read it while another thread registers, without a lock.
typedef struct guard_slot {
    _Atomic uintptr_t start;    // 0 when free; stored last so a reader never sees a half-written slot
    uintptr_t end;
    size_t stack_size;
    int32_t next_free;
    char name[NAME_CAPACITY];
} guard_slot;

static _Atomic(guard_slot *) chunks[MAX_CHUNKS];
static _Atomic int32_t slots_used;  // the handler scans [0, slots_used)
static _Atomic int32_t registered;
static int32_t free_head = -1;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static guard_slot *slot_at(int32_t index) {
    guard_slot *chunk = atomic_load_explicit(&chunks[index / CHUNK_SLOTS], memory_order_acquire);
    return chunk ? &chunk[index % CHUNK_SLOTS] : NULL;
}

int32_t csgb_stack_guard_register(const void *guard, size_t guard_len, size_t stack_size,
                                  const char *name) {
    pthread_mutex_lock(&registry_lock);
    int32_t index = free_head;
    guard_slot *slot;
    if (index >= 0) {
        slot = slot_at(index);
        free_head = slot->next_free;
    } else {
        index = atomic_load_explicit(&slots_used, memory_order_relaxed);
        int32_t chunk = index / CHUNK_SLOTS;
        if (chunk >= MAX_CHUNKS) goto out_of_memory;
        if (atomic_load_explicit(&chunks[chunk], memory_order_relaxed) == NULL) {
            guard_slot *fresh = calloc(CHUNK_SLOTS, sizeof(guard_slot));
            if (fresh == NULL) goto out_of_memory;
            atomic_store_explicit(&chunks[chunk], fresh, memory_order_release);
        }
        slot = slot_at(index);
        atomic_store_explicit(&slots_used, index + 1, memory_order_release);
    }
    slot->end = (uintptr_t)guard + guard_len;
    slot->stack_size = stack_size;
    strncpy(slot->name, name, NAME_CAPACITY - 1);
    slot->name[NAME_CAPACITY - 1] = '\0';
    atomic_store_explicit(&slot->start, (uintptr_t)guard, memory_order_release);
    atomic_fetch_add_explicit(&registered, 1, memory_order_relaxed);
    pthread_mutex_unlock(&registry_lock);
    return index;

out_of_memory:
    pthread_mutex_unlock(&registry_lock);
    errno = ENOMEM;
    return -1;
}

void csgb_stack_guard_unregister(int32_t index) {
    if (index < 0) return;
    pthread_mutex_lock(&registry_lock);
    guard_slot *slot = slot_at(index);
    atomic_store_explicit(&slot->start, 0, memory_order_release);
    slot->next_free = free_head;
    free_head = index;
    atomic_fetch_sub_explicit(&registered, 1, memory_order_relaxed);
    pthread_mutex_unlock(&registry_lock);
}

int32_t csgb_stack_guard_registered_count(void) {
    return atomic_load_explicit(&registered, memory_order_relaxed);
}

// MARK: The handler

static struct sigaction previous_segv, previous_bus;

static size_t append(char *buffer, size_t used, size_t capacity, const char *text) {
    while (*text && used < capacity) buffer[used++] = *text++;
    return used;
}

static size_t append_unsigned(char *buffer, size_t used, size_t capacity, size_t value) {
    char digits[24];
    size_t count = 0;
    do { digits[count++] = (char)('0' + value % 10); value /= 10; } while (value);
    while (count && used < capacity) buffer[used++] = digits[--count];
    return used;
}

static void report_overflow(const guard_slot *slot) {
    char message[256];
    size_t n = 0;
    n = append(message, n, sizeof message, "csgb: green thread '");
    n = append(message, n, sizeof message, slot->name);
    n = append(message, n, sizeof message, "' overflowed its stack (");
    n = append_unsigned(message, n, sizeof message, slot->stack_size);
    n = append(message, n, sizeof message, " bytes); raise --stack-size\n");
    for (size_t written = 0; written < n;) {
        ssize_t r = write(STDERR_FILENO, message + written, n - written);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        written += (size_t)r;
    }
    _exit(OVERFLOW_EXIT_CODE);
}

static void on_fault(int signal, siginfo_t *info, void *context) {
    (void)context;
    uintptr_t address = (uintptr_t)info->si_addr;
    int32_t used = atomic_load_explicit(&slots_used, memory_order_acquire);
    for (int32_t i = 0; i < used; i++) {
        const guard_slot *slot = slot_at(i);
        uintptr_t start = atomic_load_explicit(&slot->start, memory_order_acquire);
        if (start != 0 && address >= start && address < slot->end) report_overflow(slot);
    }
    // Not a green stack: hand the signal back to whoever had it before (the Swift
    // runtime's backtracer, or the default action) and return; the faulting
    // instruction runs again and crashes exactly as it would have without us.
    struct sigaction previous = signal == SIGBUS ? previous_bus : previous_segv;
    if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_IGN) {
        previous.sa_handler = SIG_DFL;  // ignoring would re-fault forever
    }
    sigaction(signal, &previous, NULL);
}

// MARK: Installation

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_errno;
static pthread_key_t alt_stack_key;
static size_t alt_stack_size;

static void release_alt_stack(void *stack) {
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    munmap(stack, alt_stack_size);
}

static void install_process_handler(void) {
    long minimum = sysconf(_SC_SIGSTKSZ);
    alt_stack_size = minimum > ALT_STACK_MIN ? (size_t)minimum : ALT_STACK_MIN;
    if ((install_errno = pthread_key_create(&alt_stack_key, release_alt_stack)) != 0) return;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &previous_segv) != 0 ||
        sigaction(SIGBUS, &action, &previous_bus) != 0) {
        install_errno = errno;
    }
}

int csgb_stack_guard_install_thread(void) {
    pthread_once(&install_once, install_process_handler);
    if (install_errno != 0) { errno = install_errno; return -1; }
    if (pthread_getspecific(alt_stack_key) != NULL) return 0;

    stack_t current;
    if (sigaltstack(NULL, &current) != 0) return -1;
    // Someone (the Swift runtime, a previous caller) already gave this thread one.
    if (!(current.ss_flags & SS_DISABLE) && current.ss_size >= alt_stack_size) return 0;

    void *stack = mmap(NULL, alt_stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    stack_t mine = { .ss_sp = stack, .ss_size = alt_stack_size, .ss_flags = 0 };
    if (sigaltstack(&mine, NULL) != 0) {
        int saved = errno;
        munmap(stack, alt_stack_size);
        errno = saved;
        return -1;
    }
    if (pthread_setspecific(alt_stack_key, stack) != 0) {
        release_alt_stack(stack);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}
