// go_gosched - Go's user-mode yield: N goroutines (default 2) each loop on
// runtime.Gosched(), which puts the caller at the back of the run queue and runs the
// next one. Iteration = one yield. GOMAXPROCS = the CPUs of -c; the reference for
// `csgb yield 2 --mode async`.
package main

import (
	"runtime"
	"sync"

	"csgb/baselines/window"
)

func main() {
	o := window.Parse("goroutines yielding with runtime.Gosched", 2, 1)
	barrier := window.NewBarrier(o.N)
	counters := make([]window.Counter, o.N)
	var done sync.WaitGroup
	for i := 0; i < o.N; i++ {
		counter := &counters[i]
		done.Add(1)
		go func() {
			defer done.Done()
			barrier.Arrive()
			for !window.ShouldStop() {
				counter.Bump()
				runtime.Gosched()
			}
		}()
	}
	w := window.Measure(barrier, o, counters)
	window.BeginStop()
	done.Wait()
	window.Report(w, o, "go_gosched")
}
