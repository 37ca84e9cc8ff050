//! The window harness of the Rust baselines: the same command line, pinning,
//! start barrier, warm-up, window counters and report as experiments/baselines/common.h,
//! so bench.py reads these programs exactly like the C ones.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

pub struct Options {
    pub prog: String,
    pub n: usize,
    pub duration: f64,
    pub warmup: f64,
    pub cpulist: Option<String>,
    /// -S: send(2)/recv(2) instead of write(2)/read(2).
    pub send_recv: bool,
    cpus: libc::cpu_set_t,
}

fn usage(prog: &str, what_n: &str, default_n: usize, status: i32) -> ! {
    let text = format!(
        "usage: {prog} [-n N] [-d SECONDS] [-w WARMUP_SECONDS] [-c CPULIST] [-S]\n\
         \x20 -n N        {what_n} (default {default_n})\n\
         \x20 -d SECONDS  measured window (default 2)\n\
         \x20 -w SECONDS  warm-up after every thread is running, not measured (default 0.5)\n\
         \x20 -c CPULIST  pin every thread to these CPUs, e.g. 0, 0-1, 0,2 (default: all allowed)\n\
         \x20 -S          send(2)/recv(2), flags 0, instead of write(2)/read(2) (programs that move no bytes ignore it)"
    );
    if status == 0 { println!("{text}") } else { eprintln!("{text}") }
    std::process::exit(status)
}

fn bad(prog: &str, msg: &str) -> ! {
    eprintln!("{prog}: {msg}");
    std::process::exit(64)
}

fn parse_cpulist(s: &str) -> Option<libc::cpu_set_t> {
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if s.is_empty() {
        return None;
    }
    for part in s.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let v = part.parse::<usize>().ok()?;
                (v, v)
            }
        };
        if hi < lo || hi >= libc::CPU_SETSIZE as usize {
            return None;
        }
        for c in lo..=hi {
            unsafe { libc::CPU_SET(c, &mut set) };
        }
    }
    Some(set)
}

fn parse_seconds(prog: &str, opt: &str, v: Option<String>, allow_zero: bool) -> f64 {
    let ok = v.as_deref().and_then(|s| s.parse::<f64>().ok()).filter(|x| {
        x.is_finite() && *x <= 1e6 && (*x > 0.0 || (allow_zero && *x == 0.0))
    });
    match ok {
        Some(x) => x,
        None => bad(prog, &format!("option {opt}: expected a number of seconds {}",
                                   if allow_zero { ">= 0" } else { "> 0" })),
    }
}

impl Options {
    /// Parses PROG [-n N] [-d SECONDS] [-w WARMUP] [-c CPULIST]; bad input exits 64.
    pub fn parse(what_n: &str, default_n: usize, min_n: usize) -> Options {
        let mut args = std::env::args();
        let argv0 = args.next().unwrap_or_default();
        let prog = argv0.rsplit('/').next().unwrap_or("baseline").to_string();
        let mut o = Options {
            prog: prog.clone(), n: default_n, duration: 2.0, warmup: 0.5, cpulist: None, send_recv: false,
            cpus: unsafe { std::mem::zeroed() },
        };
        if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut o.cpus) } != 0 {
            die(&prog, "sched_getaffinity");
        }
        while let Some(a) = args.next() {
            match a.as_str() {
                "-n" => {
                    o.n = args.next().and_then(|s| s.parse::<usize>().ok())
                        .filter(|v| *v >= min_n && *v <= 100_000)
                        .unwrap_or_else(|| bad(&prog, &format!("option -n: expected an integer in {min_n}..100000")));
                }
                "-d" => o.duration = parse_seconds(&prog, "-d", args.next(), false),
                "-w" => o.warmup = parse_seconds(&prog, "-w", args.next(), true),
                "-c" => {
                    let s = args.next().unwrap_or_default();
                    o.cpus = parse_cpulist(&s).unwrap_or_else(|| {
                        bad(&prog, "option -c: expected a CPU list such as 0, 0-1 or 0,2")
                    });
                    o.cpulist = Some(s);
                }
                "-S" => o.send_recv = true,
                "-h" => usage(&prog, what_n, default_n, 0),
                _ => usage(&prog, what_n, default_n, 64),
            }
        }
        o
    }

    /// Pins the calling thread to the CPUs of -c.
    pub fn pin_self(&self) {
        if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &self.cpus) } != 0 {
            die(&self.prog, "sched_setaffinity (is every CPU of -c online?)");
        }
    }
}

pub fn die(prog: &str, what: &str) -> ! {
    eprintln!("{prog}: {what}: {}", std::io::Error::last_os_error());
    std::process::exit(1)
}

/// One counter alone on its cache lines; the owner stores, main loads.
#[repr(align(128))]
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter { Counter(AtomicU64::new(0)) }
    /// A relaxed load and store, no read-modify-write: only the owner writes.
    #[inline(always)]
    pub fn bump(&self) {
        self.0.store(self.0.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 { self.0.load(Ordering::Relaxed) }
}

pub static STOP: AtomicBool = AtomicBool::new(false);

#[inline(always)]
pub fn should_stop() -> bool { STOP.load(Ordering::Relaxed) }

#[derive(Clone, Copy, Default)]
struct Switches { nvcsw: i64, nivcsw: i64 }

/// Context switches of the worker threads: the whole process minus main.
fn worker_switches() -> Switches {
    unsafe {
        let mut me: libc::rusage = std::mem::zeroed();
        let mut all: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut all);
        libc::getrusage(libc::RUSAGE_THREAD, &mut me);
        Switches { nvcsw: all.ru_nvcsw - me.ru_nvcsw, nivcsw: all.ru_nivcsw - me.ru_nivcsw }
    }
}

pub struct Window { iterations: u64, seconds: f64, switches: Switches }

/// The process set-up: pins main and makes the start barrier for `workers` threads.
pub fn setup(o: &Options, workers: usize) -> Barrier {
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    o.pin_self();
    Barrier::new(workers + 1)
}

/// Runs the window on main: passes the start barrier, sleeps the warm-up, reads the
/// counters and the clock, sleeps the window, reads them again.
pub fn measure(barrier: &Barrier, o: &Options, counters: &[&Counter]) -> Window {
    barrier.wait();
    let t0 = Instant::now();
    sleep_until(t0 + Duration::from_secs_f64(o.warmup));
    let s0 = worker_switches();
    let c0: u64 = counters.iter().map(|c| c.get()).sum();
    let start = Instant::now();
    sleep_until(start + Duration::from_secs_f64(o.duration));
    let c1: u64 = counters.iter().map(|c| c.get()).sum();
    let end = Instant::now();
    let s1 = worker_switches();
    Window {
        iterations: c1 - c0,
        seconds: (end - start).as_secs_f64(),
        switches: Switches { nvcsw: s1.nvcsw - s0.nvcsw, nivcsw: s1.nivcsw - s0.nivcsw },
    }
}

fn sleep_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t { return; }
        std::thread::sleep(t - now);
    }
}

pub fn begin_stop() { STOP.store(true, Ordering::SeqCst); }

/// The four stdout lines bench.py reads, diagnostics on stderr (as common.h).
pub fn report(w: &Window, o: &Options, workload: &str) {
    let n = w.iterations as f64;
    println!("total iterations: {}", w.iterations);
    println!("seconds: {:.6}", w.seconds);
    println!("ns_per_iteration: {:.3}", if n > 0.0 { w.seconds * 1e9 / n } else { 0.0 });
    println!("iterations_per_second: {:.1}", if w.seconds > 0.0 { n / w.seconds } else { 0.0 });
    eprintln!("workload: {workload}");
    eprintln!("n: {}", o.n);
    eprintln!("cpus: {}", o.cpulist.as_deref().unwrap_or("(inherited)"));
    eprintln!("warmup: {:.3}", o.warmup);
    eprintln!("voluntary_switches_per_iteration: {:.6}",
              if n > 0.0 { w.switches.nvcsw as f64 / n } else { 0.0 });
    eprintln!("involuntary_switches_per_iteration: {:.6}",
              if n > 0.0 { w.switches.nivcsw as f64 / n } else { 0.0 });
}

static FAILED: AtomicBool = AtomicBool::new(false);

/// A worker's loop ended: fine during the stop, a failure before it.
pub fn worker_ended(o_prog: &str, what: &str, rc: isize) {
    if STOP.load(Ordering::SeqCst) {
        return;
    }
    let why = if rc < 0 { std::io::Error::last_os_error().to_string() } else { "end of file".into() };
    eprintln!("{o_prog}: {what} returned {rc} before the stop ({why})");
    FAILED.store(true, Ordering::SeqCst);
}

pub fn failed() -> bool { FAILED.load(Ordering::SeqCst) }

/// A connected AF_UNIX stream pair, non-blocking: the byte is always there when read.
pub fn nonblocking_socketpair(prog: &str) -> (i32, i32) {
    let mut fds = [0i32; 2];
    let rc = unsafe {
        libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                         0, fds.as_mut_ptr())
    };
    if rc != 0 {
        die(prog, "socketpair (raise the open-file limit with ulimit -n?)");
    }
    (fds[0], fds[1])
}
