// go_echo - the Go program users would write for `csgb socket N`: per socket pair
// a client goroutine writes a byte and reads the answer, a server goroutine reads it
// and writes it back, both through net.Conn, so a reader that finds no byte is parked
// by the netpoller (epoll) and woken when the peer writes. Iteration = one round trip
// of one pair. GOMAXPROCS = the CPUs of -c.
package main

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"

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

// byteIO moves one byte through c: net.Conn's write(2)/read(2), or with -S
// sendto(2)/recvfrom(2) on the same descriptor, parked by the same netpoller when
// nothing is there (syscall.RawConn retries the call once the fd is ready).
type byteIO struct {
	conn     net.Conn
	raw      syscall.RawConn
	sendRecv bool
}

func newByteIO(o *window.Options, c net.Conn) byteIO {
	b := byteIO{conn: c, sendRecv: o.SendRecv}
	if o.SendRecv {
		raw, err := c.(syscall.Conn).SyscallConn()
		if err != nil {
			window.Die(o.Prog, "SyscallConn", err)
		}
		b.raw = raw
	}
	return b
}

var errClosed = errors.New("end of file")

func (b byteIO) write(p []byte) error {
	if !b.sendRecv {
		_, err := b.conn.Write(p)
		return err
	}
	var opErr error
	err := b.raw.Write(func(fd uintptr) bool {
		// syscall.Sendto needs an address (Go 1.19 dereferences a nil one): the raw
		// call, as send(2) issues it on a connected socket.
		_, _, errno := syscall.Syscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, 0, 0)
		opErr = nil
		if errno != 0 {
			opErr = errno
		}
		return opErr != syscall.EAGAIN
	})
	if err != nil {
		return err
	}
	return opErr
}

func (b byteIO) read(p []byte) error {
	if !b.sendRecv {
		_, err := b.conn.Read(p)
		return err
	}
	var n int
	var opErr error
	err := b.raw.Read(func(fd uintptr) bool {
		n, _, opErr = syscall.Recvfrom(int(fd), p, 0)
		return opErr != syscall.EAGAIN
	})
	if err != nil {
		return err
	}
	if opErr == nil && n == 0 {
		return errClosed
	}
	return opErr
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
		ca, cb := conn(o, fds[0], "a"), conn(o, fds[1], "b")
		conns = append(conns, ca, cb)
		a, b := newByteIO(o, ca), newByteIO(o, cb)
		counter := &counters[i]
		done.Add(2)
		go func() {
			defer done.Done()
			x := []byte{'x'}
			barrier.Arrive()
			for !window.ShouldStop() {
				if err := a.write(x); err != nil {
					window.WorkerEnded(o.Prog, "write(a)", err)
					return
				}
				if err := a.read(x); err != nil {
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
				if err := b.read(y); err != nil {
					window.WorkerEnded(o.Prog, "read(b)", err)
					return
				}
				if err := b.write(y); err != nil {
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
