// go_echo - the Go program users would write for `csgb socket N`: per socket pair
// a client goroutine writes a byte and reads the answer, a server goroutine reads it
// and writes it back, both through net.Conn, so a reader that finds no byte is parked
// by the netpoller (epoll) and woken when the peer writes. Iteration = one round trip
// of one pair. GOMAXPROCS = the CPUs of -c.
package main

import (
	"net"
	"os"
	"sync"
	"syscall"

	"csgb/baselines/window"
)

func conn(o *window.Options, fd int, name string) net.Conn {
	f := os.NewFile(uintptr(fd), name)
	c, err := net.FileConn(f) // dups the descriptor and registers it with the netpoller
	if err != nil {
		window.Die(o.Prog, "net.FileConn", err)
	}
	f.Close()
	return c
}

func main() {
	o := window.Parse("socket pairs, one client and one server goroutine each", 1, 1)
	barrier := window.NewBarrier(2 * o.N)
	counters := make([]window.Counter, o.N)
	var conns []net.Conn
	var done sync.WaitGroup
	for i := 0; i < o.N; i++ {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			window.Die(o.Prog, "socketpair (raise the open-file limit with ulimit -n?)", err)
		}
		a, b := conn(o, fds[0], "a"), conn(o, fds[1], "b")
		conns = append(conns, a, b)
		counter := &counters[i]
		done.Add(2)
		go func() {
			defer done.Done()
			x := []byte{'x'}
			barrier.Arrive()
			for !window.ShouldStop() {
				if _, err := a.Write(x); err != nil {
					window.WorkerEnded(o.Prog, "write(a)", err)
					return
				}
				if _, err := a.Read(x); err != nil {
					window.WorkerEnded(o.Prog, "read(a)", err)
					return
				}
				counter.Bump()
			}
		}()
		go func() {
			defer done.Done()
			y := []byte{0}
			barrier.Arrive()
			for {
				if _, err := b.Read(y); err != nil {
					window.WorkerEnded(o.Prog, "read(b)", err)
					return
				}
				if _, err := b.Write(y); err != nil {
					window.WorkerEnded(o.Prog, "write(b)", err)
					return
				}
			}
		}()
	}
	w := window.Measure(barrier, o, counters)
	window.BeginStop()
	// Closing wakes every parked reader with an error, seen after the stop.
	for _, c := range conns {
		c.Close()
	}
	done.Wait()
	window.Report(w, o, "go_echo")
}
