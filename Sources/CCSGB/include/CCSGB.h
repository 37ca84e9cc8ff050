#ifndef CCSGB_H
#define CCSGB_H

// The umbrella header of the C target. Each header below owns one job.
#include "csgb_system.h"
#include "csgb_context.h"
#include "csgb_perf.h"
#include "csgb_async.h"
#include "csgb_process.h"
#include "csgb_cache.h"

#endif
