// Package window is the harness of the Go baselines: the command line, pinning,
// start barrier, warm-up, window counters and report of
// experiments/baselines/common.h, so bench.py reads these programs like the C ones.
package window

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

type Options struct {
	Prog     string
	N        int
	Duration float64
	Warmup   float64
	CPUList  string
	// SendRecv (-S): send/recv (sendto/recvfrom) instead of write/read.
	SendRecv bool
	cpus     []int
}

// Counter is one goroutine's iteration count, alone on its cache lines.
type Counter struct {
	value uint64
	_     [120]byte
}

// Bump adds one with a load and a store (no read-modify-write): only the owner writes.
func (c *Counter) Bump() { atomic.StoreUint64(&c.value, atomic.LoadUint64(&c.value)+1) }

func (c *Counter) get() uint64 { return atomic.LoadUint64(&c.value) }

var stop int32

// ShouldStop is true once the window has closed.
func ShouldStop() bool { return atomic.LoadInt32(&stop) != 0 }

var failed int32

func bad(prog, msg string) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", prog, msg)
	os.Exit(64)
}

// Die reports a failed call and exits 1.
func Die(prog, what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %s: %v\n", prog, what, err)
	os.Exit(1)
}

func parseCPUList(s string) ([]int, bool) {
	if s == "" {
		return nil, false
	}
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi := part, part
		if i := strings.IndexByte(part, '-'); i >= 0 {
			lo, hi = part[:i], part[i+1:]
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 0 || b < a || b >= 1024 {
			return nil, false
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, true
}

func seconds(prog, opt, v string, allowZero bool) float64 {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 || x > 1e6 || (!allowZero && x == 0) || x != x {
		if allowZero {
			bad(prog, "option "+opt+": expected a number of seconds >= 0")
		}
		bad(prog, "option "+opt+": expected a number of seconds > 0")
	}
	return x
}

func usage(prog, whatN string, defaultN, status int) {
	out := os.Stderr
	if status == 0 {
		out = os.Stdout
	}
	fmt.Fprintf(out, "usage: %s [-n N] [-d SECONDS] [-w WARMUP_SECONDS] [-c CPULIST] [-S]\n"+
		"  -n N        %s (default %d)\n"+
		"  -d SECONDS  measured window (default 2)\n"+
		"  -w SECONDS  warm-up after every goroutine is running, not measured (default 0.5)\n"+
		"  -c CPULIST  pin every thread to these CPUs, GOMAXPROCS = their number (default: all allowed)\n"+
		"  -S          send/recv (sendto/recvfrom, flags 0) instead of write/read (programs that move no bytes ignore it)\n",
		prog, whatN, defaultN)
	os.Exit(status)
}

// Parse reads PROG [-n N] [-d SECONDS] [-w WARMUP] [-c CPULIST] (bad input: exit 64),
// pins every thread of the process to the CPUs of -c and sets GOMAXPROCS to their number.
func Parse(whatN string, defaultN, minN int) *Options {
	o := &Options{Prog: filepath.Base(os.Args[0]), N: defaultN, Duration: 2, Warmup: 0.5}
	args := os.Args[1:]
	next := func() string {
		if len(args) < 2 {
			usage(o.Prog, whatN, defaultN, 64)
		}
		v := args[1]
		args = args[2:]
		return v
	}
	for len(args) > 0 {
		switch args[0] {
		case "-n":
			v, err := strconv.Atoi(next())
			if err != nil || v < minN || v > 100000 {
				bad(o.Prog, fmt.Sprintf("option -n: expected an integer in %d..100000", minN))
			}
			o.N = v
		case "-d":
			o.Duration = seconds(o.Prog, "-d", next(), false)
		case "-w":
			o.Warmup = seconds(o.Prog, "-w", next(), true)
		case "-c":
			o.CPUList = next()
			cpus, ok := parseCPUList(o.CPUList)
			if !ok {
				bad(o.Prog, "option -c: expected a CPU list such as 0, 0-1 or 0,2")
			}
			o.cpus = cpus
		case "-S":
			o.SendRecv = true
			args = args[1:]
		case "-h":
			usage(o.Prog, whatN, defaultN, 0)
		default:
			usage(o.Prog, whatN, defaultN, 64)
		}
	}
	if o.cpus != nil {
		o.pinProcess()
		runtime.GOMAXPROCS(len(o.cpus))
	}
	return o
}

// pinProcess pins every thread the runtime has started so far; threads it starts
// later are cloned from these and inherit the mask.
func (o *Options) pinProcess() {
	var mask [1024 / 64]uint64
	for _, c := range o.cpus {
		mask[c/64] |= 1 << (c % 64)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		Die(o.Prog, "reading /proc/self/task", err)
	}
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid),
			unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
		if e != 0 {
			Die(o.Prog, "sched_setaffinity (is every CPU of -c online?)", e)
		}
	}
}

// Barrier: every worker goroutine calls Arrive and blocks until the window harness
// has seen them all, as the C start barrier.
type Barrier struct {
	ready sync.WaitGroup
	start chan struct{}
}

func NewBarrier(workers int) *Barrier {
	b := &Barrier{start: make(chan struct{})}
	b.ready.Add(workers)
	return b
}

func (b *Barrier) Arrive() {
	b.ready.Done()
	<-b.start
}

// WorkerEnded records a loop that ended before the stop as a failure.
func WorkerEnded(prog, what string, err error) {
	if ShouldStop() {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: %s failed before the stop: %v\n", prog, what, err)
	atomic.StoreInt32(&failed, 1)
}

type Window struct {
	iterations    uint64
	seconds       float64
	nvcsw, nivcsw int64
}

func switches() (int64, int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw, ru.Nivcsw
}

func sum(cs []Counter) uint64 {
	var s uint64
	for i := range cs {
		s += cs[i].get()
	}
	return s
}

// Measure opens the start barrier once every worker arrived, sleeps the warm-up,
// then reads the counters and the clock across the window.
func Measure(b *Barrier, o *Options, counters []Counter) Window {
	b.ready.Wait()
	close(b.start)
	time.Sleep(time.Duration(o.Warmup * 1e9))
	v0, i0 := switches()
	c0 := sum(counters)
	start := time.Now()
	time.Sleep(time.Until(start.Add(time.Duration(o.Duration * 1e9))))
	c1 := sum(counters)
	end := time.Now()
	v1, i1 := switches()
	return Window{c1 - c0, end.Sub(start).Seconds(), v1 - v0, i1 - i0}
}

func BeginStop() { atomic.StoreInt32(&stop, 1) }

// Report prints the four stdout lines bench.py reads and diagnostics on stderr.
// Switches are the whole process's (goroutines move between threads), main included.
func Report(w Window, o *Options, workload string) {
	n := float64(w.iterations)
	per := func(x float64) float64 {
		if n > 0 {
			return x / n
		}
		return 0
	}
	fmt.Printf("total iterations: %d\n", w.iterations)
	fmt.Printf("seconds: %.6f\n", w.seconds)
	fmt.Printf("ns_per_iteration: %.3f\n", per(w.seconds*1e9))
	ips := 0.0
	if w.seconds > 0 {
		ips = n / w.seconds
	}
	fmt.Printf("iterations_per_second: %.1f\n", ips)
	cpus := o.CPUList
	if cpus == "" {
		cpus = "(inherited)"
	}
	fmt.Fprintf(os.Stderr, "workload: %s\nn: %d\ncpus: %s\ngomaxprocs: %d\nwarmup: %.3f\n",
		workload, o.N, cpus, runtime.GOMAXPROCS(0), o.Warmup)
	fmt.Fprintf(os.Stderr, "voluntary_switches_per_iteration: %.6f\n", per(float64(w.nvcsw)))
	fmt.Fprintf(os.Stderr, "involuntary_switches_per_iteration: %.6f\n", per(float64(w.nivcsw)))
	if atomic.LoadInt32(&failed) != 0 {
		os.Exit(1)
	}
}
