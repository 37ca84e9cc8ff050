#include "csgb_numa.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>

int csgb_numa_available(void) { return numa_available() >= 0; }

int csgb_numa_nodes(void) { return numa_num_configured_nodes(); }

int csgb_numa_bind(void *address, size_t length, int policy) {
    long rc;
    switch (policy) {
    case 1:
        rc = mbind(address, length, MPOL_LOCAL, NULL, 0, 0);
        break;
    case 2:
        rc = mbind(address, length, MPOL_INTERLEAVE, numa_all_nodes_ptr->maskp, numa_all_nodes_ptr->size + 1, 0);
        break;
    default:
        return 0;
    }
    return rc == 0 ? 0 : errno;
}
