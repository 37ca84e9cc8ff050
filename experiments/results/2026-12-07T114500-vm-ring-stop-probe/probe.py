import subprocess, sys, time, os, random, signal, json
B = sys.argv[1]
reps = int(sys.argv[2])
configs = [
  "socket 1 --mode async --io uring", "socket 1 --mode green --io uring",
  "socket 1 --mode thread --io uring", "socket 1 --mode process --io uring",
  "socket 1 --mode async --io uring --sqpoll", "socket 1 --mode green --io uring --sqpoll",
  "socket 1 --mode thread --io uring --sqpoll",
  "socket 4 --mode green --io uring --workers 2", "socket 4 --mode async --io uring --workers 2 --transport pipe",
  "socket 1 --mode async --io uring --cpus 0", "socket 1 --mode green --io uring --cpus 0 --sqpoll",
]
bad = []
for c in configs:
    stops = []
    for i in range(reps):
        wf = "/tmp/h29c-probe/window-%d" % os.getpid()
        if os.path.exists(wf): os.unlink(wf)
        sig = random.choice([signal.SIGTERM, signal.SIGINT])
        p = subprocess.Popen([B] + c.split() + ["-d", "5", "--window-file", wf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        t0 = time.time()
        while not os.path.exists(wf) and time.time() - t0 < 20: time.sleep(0.002)
        time.sleep(random.uniform(0, 0.2))
        os.kill(p.pid, sig)
        ts = time.time()
        try:
            out, err = p.communicate(timeout=10)
            dt = time.time() - ts
            ok = p.returncode == 0 and b"total iterations" in out
            stops.append(dt)
            if not ok or dt > 1: bad.append((c, sig, p.returncode, round(dt,3), err.decode()[-300:]))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL); p.communicate()
            bad.append((c, sig, "HANG", None, ""))
    print("%-60s n=%d max stop %.3f s" % (c, len(stops), max(stops) if stops else -1), flush=True)
for b in bad: print("BAD", b)
