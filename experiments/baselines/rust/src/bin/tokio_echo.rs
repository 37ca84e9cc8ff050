//! tokio_echo - the tokio program of the same design as `csgb socket N --mode async`.
//!
//! One current-thread runtime on one pinned thread; per socket pair a client task
//! and a server task paired by `tokio::sync::Notify`. The client writes a byte and
//! notifies the server, the server reads it, writes it back and notifies the client,
//! which reads it: 4 syscalls on non-blocking sockets that always find the byte, and
//! two task wake-ups. Iteration = one round trip of one pair.

use csgb_rust_baselines::*;
use std::sync::Arc;
use tokio::sync::Notify;

static COUNTER: Counter = Counter::new();

/// -S: send/recv (what Rust's UnixStream issues, as sendto/recvfrom) instead of write/read.
static SEND_RECV: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn transfer(prog: &str, write: bool, fd: i32, byte: &mut u8, what: &str) -> bool {
    let socket_calls = SEND_RECV.load(std::sync::atomic::Ordering::Relaxed);
    let rc = unsafe {
        match (write, socket_calls) {
            (true, false) => libc::write(fd, byte as *const u8 as *const _, 1),
            (false, false) => libc::read(fd, byte as *mut u8 as *mut _, 1),
            (true, true) => libc::send(fd, byte as *const u8 as *const _, 1, 0),
            (false, true) => libc::recv(fd, byte as *mut u8 as *mut _, 1, 0),
        }
    };
    if rc == 1 {
        return true;
    }
    worker_ended(prog, what, rc as isize);
    false
}

fn main() {
    let o = Arc::new(Options::parse("socket pairs, all driven by one current-thread runtime", 1, 1));
    SEND_RECV.store(o.send_recv, std::sync::atomic::Ordering::Relaxed);
    let barrier = Arc::new(setup(&o, 1));
    let pairs: Vec<(i32, i32, Arc<Notify>, Arc<Notify>)> = (0..o.n)
        .map(|_| {
            let (a, b) = nonblocking_socketpair(&o.prog);
            (a, b, Arc::new(Notify::new()), Arc::new(Notify::new()))
        })
        .collect();
    let notifies: Vec<Arc<Notify>> =
        pairs.iter().flat_map(|p| [p.2.clone(), p.3.clone()]).collect();

    let worker = {
        let (o, barrier, prog) = (o.clone(), barrier.clone(), o.prog.clone());
        std::thread::Builder::new().stack_size(256 * 1024).spawn(move || {
            o.pin_self();
            let rt = tokio::runtime::Builder::new_current_thread().build()
                .unwrap_or_else(|_| die(&o.prog, "building the tokio runtime"));
            barrier.wait();
            rt.block_on(async move {
                let mut handles = Vec::new();
                for (a, b, client, server) in pairs {
                    let prog = o.prog.clone();
                    let (c, s) = (client.clone(), server.clone());
                    handles.push(tokio::spawn(async move {
                        let mut x = b'x';
                        while !should_stop() {
                            if !transfer(&prog, true, a, &mut x, "write(a)") { break; }
                            s.notify_one();
                            c.notified().await;
                            if should_stop() { break; }
                            if !transfer(&prog, false, a, &mut x, "read(a)") { break; }
                            COUNTER.bump();
                        }
                        s.notify_one();
                    }));
                    let prog = o.prog.clone();
                    handles.push(tokio::spawn(async move {
                        let mut y = 0u8;
                        loop {
                            server.notified().await;
                            if should_stop() { break; }
                            if !transfer(&prog, false, b, &mut y, "read(b)") { break; }
                            if !transfer(&prog, true, b, &mut y, "write(b)") { break; }
                            client.notify_one();
                        }
                        client.notify_one();
                    }));
                }
                for h in handles {
                    let _ = h.await;
                }
            });
        }).unwrap_or_else(|_| die(&prog, "spawning the worker thread"))
    };

    let w = measure(&barrier, &o, &[&COUNTER]);
    begin_stop();
    // Wakes every task that waits, so that it sees the stop.
    for n in &notifies { n.notify_one(); }
    let _ = worker.join();
    report(&w, &o, "tokio_echo");
    if failed() { std::process::exit(1); }
}
