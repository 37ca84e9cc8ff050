//! tokio_notify - the runtime floor of tokio: `tokio_echo` without the sockets.
//!
//! Two tasks on a current-thread runtime ping-pong through two `tokio::sync::Notify`:
//! each notifies the other and waits for its own. Iteration = one round trip, i.e.
//! two hops (notify, enqueue, poll of the woken task). -n runs that many independent
//! pairs on the same runtime.

use csgb_rust_baselines::*;
use std::sync::Arc;
use tokio::sync::Notify;

static COUNTER: Counter = Counter::new();

fn main() {
    let o = Arc::new(Options::parse("task pairs ping-ponging on one current-thread runtime", 1, 1));
    let barrier = Arc::new(setup(&o, 1));
    let pairs: Vec<(Arc<Notify>, Arc<Notify>)> =
        (0..o.n).map(|_| (Arc::new(Notify::new()), Arc::new(Notify::new()))).collect();
    let notifies: Vec<Arc<Notify>> =
        pairs.iter().flat_map(|p| [p.0.clone(), p.1.clone()]).collect();

    let worker = {
        let (o, barrier, prog) = (o.clone(), barrier.clone(), o.prog.clone());
        std::thread::Builder::new().stack_size(256 * 1024).spawn(move || {
            o.pin_self();
            let rt = tokio::runtime::Builder::new_current_thread().build()
                .unwrap_or_else(|_| die(&o.prog, "building the tokio runtime"));
            barrier.wait();
            rt.block_on(async move {
                let mut handles = Vec::new();
                for (ping, pong) in pairs {
                    let (p, q) = (ping.clone(), pong.clone());
                    handles.push(tokio::spawn(async move {
                        while !should_stop() {
                            q.notify_one();
                            p.notified().await;
                            COUNTER.bump();
                        }
                        q.notify_one();
                    }));
                    handles.push(tokio::spawn(async move {
                        loop {
                            pong.notified().await;
                            if should_stop() { break; }
                            ping.notify_one();
                        }
                        ping.notify_one();
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
    for n in &notifies { n.notify_one(); }
    let _ = worker.join();
    report(&w, &o, "tokio_notify");
}
