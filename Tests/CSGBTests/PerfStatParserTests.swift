import Foundation
import CSGBSystem
import Testing
@testable import Analysis
@testable import CSGB

/// `perf stat -x, -o FILE` output captured on the development VM (perf 6.1.192, no
/// hardware PMU), for `csgb socket 1 --cpus 0 --duration 0.3` under
/// `--control fifo:… -D -1`.
let capturedPerfStat = """
# started on Mon Nov 23 16:11:28 2026

62430,,context-switches,299935380,100.00,208.154,K/sec
0,,cpu-migrations,299835130,100.00,0.000,/sec
299.92,msec,task-clock,299921829,100.00,0.678,CPUs utilized
46225,,syscalls:sys_enter_read,299951234,100.00,154.123,K/sec
46227,,syscalls:sys_enter_write,299999655,100.00,154.130,K/sec
1,,syscalls:sys_enter_futex,300028319,100.00,3.334,/sec
0,,syscalls:sys_enter_epoll_wait,300059725,100.00,0.000,/sec
0,,syscalls:sys_enter_epoll_pwait,300063961,100.00,0.000,/sec
0,,syscalls:sys_enter_io_uring_enter,300058573,100.00,0.000,/sec
0,,syscalls:sys_enter_sched_yield,300082289,100.00,0.000,/sec
<not supported>,,instructions,0,100.00,,
<not supported>,,cycles,0,100.00,,
<not supported>,,cache-misses,0,100.00,,
<not supported>,,dTLB-load-misses,0,100.00,,
<not supported>,,instructions:u,0,100.00,,
<not supported>,,instructions:k,0,100.00,,
<not supported>,,cycles:u,0,100.00,,
<not supported>,,cycles:k,0,100.00,,
"""

/// The same perf with `-D -1` and no enable ever sent: the window never opened.
/// perf's "Events disabled" chatter went to the same stream here.
let capturedNeverEnabled = """
Events disabled
<not counted>,,context-switches,0,100.00,,
<not counted>,msec,task-clock,0,100.00,,
<not counted>,,syscalls:sys_enter_read,0,100.00,,
<not supported>,,instructions:u,0,100.00,,
"""

/// What perf prints on a machine with a PMU: multiplexed counters (running share
/// below 100, values already scaled by perf) and the metric columns.
let pmuPerfStat = """
1200000,,instructions:u,980000000,62.50,0.80,insn per cycle
1500000,,cycles:u,980000000,62.50,,
3400000,,instructions:k,980000000,62.50,0.85,insn per cycle
4000000,,cycles:k,980000000,62.50,,
4600000,,instructions,980000000,75.00,0.84,insn per cycle
5500000,,cycles,980000000,75.00,,
1234,,cache-misses,980000000,75.00,,
567,,dTLB-load-misses,980000000,75.00,,
"""

@Suite struct PerfStatParserTests {
    @Test func parsesEveryRecordOfARealRun() throws {
        let output = try PerfStatOutput(parsing: capturedPerfStat)
        #expect(output.records.count == 18)
        let switches = try #require(output.record("context-switches"))
        #expect(switches.value == .counted(62430))
        #expect(switches.unit == "")
        #expect(switches.runTimeNanoseconds == 299_935_380)
        #expect(switches.runningPercent == 100)
        #expect(switches.metricValue == 208.154)
        #expect(switches.metricUnit == "K/sec")
        #expect(!switches.multiplexed)
        let clock = try #require(output.record("task-clock"))
        #expect(clock.count == 299.92)
        #expect(clock.unit == "msec")
        #expect(clock.metricUnit == "CPUs utilized")
    }

    @Test func readsTheSyscallTracepoints() throws {
        let output = try PerfStatOutput(parsing: capturedPerfStat)
        #expect(output.syscalls("read") == 46225)
        #expect(output.syscalls("write") == 46227)
        #expect(output.syscalls("futex") == 1)
        #expect(output.syscalls("epoll_wait") == 0)
        #expect(output.syscalls("io_uring_enter") == 0)
        #expect(output.syscalls("sched_yield") == 0)
        #expect(output.syscalls("nanosleep") == nil)
        #expect(output.record("syscalls:sys_enter_read")?.baseEvent == "syscalls:sys_enter_read")
    }

    @Test func notSupportedIsNotZero() throws {
        let output = try PerfStatOutput(parsing: capturedPerfStat)
        let instructions = try #require(output.record("instructions:u"))
        #expect(instructions.value == .notSupported)
        #expect(instructions.count == nil)
        #expect(output.count("cycles") == nil)
        #expect(!instructions.multiplexed)
    }

    @Test func notCountedAndChatterLines() throws {
        let output = try PerfStatOutput(parsing: capturedNeverEnabled)
        #expect(output.records.map(\.event) == ["context-switches", "task-clock", "syscalls:sys_enter_read", "instructions:u"])
        #expect(output.record("context-switches")?.value == .notCounted)
        #expect(output.record("task-clock")?.unit == "msec")
        #expect(output.record("instructions:u")?.value == .notSupported)
        #expect(!output.records.contains { $0.count != nil })
    }

    @Test func multiplexedCountersAndMetrics() throws {
        let output = try PerfStatOutput(parsing: pmuPerfStat)
        let instructions = try #require(output.record("instructions:u"))
        #expect(instructions.count == 1_200_000)
        #expect(instructions.runningPercent == 62.5)
        #expect(instructions.multiplexed)
        #expect(instructions.metricValue == 0.8)
        #expect(instructions.metricUnit == "insn per cycle")
        #expect(instructions.baseEvent == "instructions")
        #expect(instructions.modifiers == "u")
        #expect(output.multiplexed)
    }

    @Test func skipsCommentsBlankLinesAndPerfsChatterOnly() throws {
        let text = "# comment, with commas\r\n\r\nEvents enabled\r\n7,,page-faults,100,100.00\r\n3500,,cycles:k,100,100.00,,\r\n"
        let output = try PerfStatOutput(parsing: text)
        #expect(output.records.map(\.event) == ["page-faults", "cycles:k"])
        #expect(output.count("page-faults") == 7)
        #expect(output.record("page-faults")?.metricValue == nil)
        #expect(output.count("cycles:k") == 3500)
    }

    /// A fake or broken perf: a count perf never prints (negative, hexadecimal, an
    /// exponent) or a line that is no record is an error quoting the line, never a
    /// figure. Before, `-5` gave a green PASS, `0x0` read as 0 and garbage as "not measured".
    @Test(arguments: ["-5,,context-switches,100,100.00", "0x0,,context-switches,100,100.00",
                      "1e3,,context-switches,100,100.00", "garbage", "a,b", "12,,", ",,,", " ,,context-switches"])
    func refusesWhatPerfDoesNotWrite(line: String) throws {
        let text = "# started on Mon\n0,,cpu-migrations,100,100.00\n\(line)\n"
        #expect(throws: PerfOutputError.self) { try PerfStatOutput(parsing: text) }
        do {
            _ = try PerfStatOutput(parsing: text)
        } catch {
            #expect(error.line == 3)
            #expect(error.description.contains(line.trimmingCharacters(in: .whitespaces)))
        }
    }

    @Test(arguments: [
        ("instructions", "instructions", ""), ("instructions:u", "instructions", "u"), ("cycles:k", "cycles", "k"),
        ("syscalls:sys_enter_read", "syscalls:sys_enter_read", ""), ("sched:sched_switch", "sched:sched_switch", ""),
        ("syscalls:sys_enter_read:k", "syscalls:sys_enter_read", "k"), ("dTLB-load-misses:uk", "dTLB-load-misses", "uk"),
    ])
    func eventModifiers(name: String, base: String, modifiers: String) {
        let parsed = PerfEventName(name)
        #expect(parsed.base == base)
        #expect(parsed.modifiers == modifiers)
    }
}

@Suite struct StatEventTests {
    @Test func splitsListsKeepingGroupsWhole() {
        #expect(StatEvents.split("a,b:u,c") == ["a", "b:u", "c"])
        #expect(StatEvents.split("{instructions,cycles},cache-misses") == ["{instructions,cycles}", "cache-misses"])
        #expect(StatEvents.split("cpu/event=0x3c,umask=0/,x") == ["cpu/event=0x3c,umask=0/", "x"])
        #expect(StatEvents.split(",,") == [])
    }

    @Test func defaultsAlwaysCarryWhatTheVerificationNeeds() {
        let (events, absent) = StatEvents.resolve(user: nil) { _ in true }
        #expect(absent.isEmpty)
        for event in ["context-switches", "cpu-migrations", "task-clock", "syscalls:sys_enter_read",
                      "syscalls:sys_enter_write", "syscalls:sys_enter_futex", "syscalls:sys_enter_epoll_wait",
                      "syscalls:sys_enter_epoll_pwait", "syscalls:sys_enter_io_uring_enter", "syscalls:sys_enter_sched_yield",
                      "instructions", "cycles", "cache-misses", "dTLB-load-misses",
                      "instructions:u", "instructions:k", "cycles:u", "cycles:k"] {
            #expect(events.contains(event), "missing \(event)")
        }
        let custom = StatEvents.resolve(user: ["page-faults", "context-switches"]) { _ in true }.events
        #expect(custom.contains("page-faults"))
        #expect(custom.contains("syscalls:sys_enter_read"))
        #expect(!custom.contains("instructions"))
        #expect(custom.filter { $0 == "context-switches" }.count == 1)
    }

    /// perf refuses a whole list for one unknown tracepoint (arm64 has no epoll_wait).
    @Test func dropsTracepointsTheKernelLacks() {
        let (events, absent) = StatEvents.resolve(user: nil) { $0 == "syscalls:sys_enter_epoll_wait" ? false : true }
        #expect(!events.contains("syscalls:sys_enter_epoll_wait"))
        #expect(absent == ["syscalls:sys_enter_epoll_wait"])
        // Tracefs unreadable: keep everything and let perf say why.
        #expect(StatEvents.resolve(user: nil) { _ in nil }.absent.isEmpty)
    }

    @Test func thisKernelHasTheSyscallTracepoints() {
        #expect(StatEvents.tracepointExists("syscalls:sys_enter_read") != false)
        #expect(StatEvents.tracepointExists("syscalls:sys_enter_no_such_call") != true)
    }
}

@Suite struct JSONParsingTests {
    @Test func roundTripsAReport() throws {
        let report = sampleReport()
        let parsed = try JSON(parsing: report.json.rendered())
        #expect(parsed == report.json)
        #expect(parsed["iterations"]?.intValue == 1000)
        #expect(parsed["ns_per_iteration"]?.doubleValue == 2_000_000)
        #expect(parsed["environment"]?["cpu_model"]?.stringValue == "CPU \"X\"")
    }

    @Test func readsEscapesNumbersAndLiterals() throws {
        let parsed = try JSON(parsing: #"{"a": [1, -2.5, 3e2, true, false, null], "s": "x\n\u00e9\ud83d\ude00\"", "e": {}}"#)
        #expect(parsed["a"] == .array([.int(1), .double(-2.5), .double(300), .bool(true), .bool(false), .null]))
        #expect(parsed["s"]?.stringValue == "x\né😀\"")
        #expect(parsed["e"] == .object([]))
    }

    @Test(arguments: ["", "{", "[1,", "{\"a\" 1}", "tru", "1 2", "\"open", "{\"a\":}"])
    func rejectsMalformedText(text: String) {
        #expect(throws: JSONParseError.self) { try JSON(parsing: text) }
    }
}

/// `perf script -F comm,tid,event,ip,sym,dso` lines captured from
/// `perf record -e sched:sched_switch -g --kernel-callchains` of thread-mode socket 1.
let capturedPerfScript = """
csgb-actor-1 23001 sched:sched_switch: 
\tffffffff821facd8 __schedule ([kernel.kallsyms])
\tffffffff821fb643 schedule ([kernel.kallsyms])
\tffffffff821ff01c schedule_timeout ([kernel.kallsyms])
\tffffffff81f1e4f0 unix_stream_read_generic ([kernel.kallsyms])
\tffffffff81f1f3a2 unix_stream_recvmsg ([kernel.kallsyms])
\tffffffff81e2c9a5 sock_read_iter ([kernel.kallsyms])
\tffffffff8153b8a1 vfs_read ([kernel.kallsyms])
\tffffffff8153c4a7 ksys_read ([kernel.kallsyms])
\tffffffff821ef85b do_syscall_64 ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe ([kernel.kallsyms])

csgb-actor-0 23000 sched:sched_switch: 
\tffffffff821facd8 __schedule ([kernel.kallsyms])
\tffffffff821fb643 schedule ([kernel.kallsyms])
\tffffffff81417441 exit_to_user_mode_loop ([kernel.kallsyms])
\tffffffff821ef85b do_syscall_64 ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe ([kernel.kallsyms])
\t          1019b3 __write (/usr/lib/x86_64-linux-gnu/libc.so.6)

csgb-actor-0 23000 sched:sched_switch: 
\tffffffff821facd8 __schedule ([kernel.kallsyms])
\tffffffff821fb643 schedule ([kernel.kallsyms])
\tffffffff821ff01c schedule_timeout ([kernel.kallsyms])
\tffffffff81f1e4f0 unix_stream_read_generic ([kernel.kallsyms])
\tffffffff81f1f3a2 unix_stream_recvmsg ([kernel.kallsyms])
\tffffffff81e2c9a5 sock_read_iter ([kernel.kallsyms])
\tffffffff8153b8a1 vfs_read ([kernel.kallsyms])
\tffffffff8153c4a7 ksys_read ([kernel.kallsyms])
\tffffffff821ef85b do_syscall_64 ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe ([kernel.kallsyms])

"""

@Suite struct SwitchStackTests {
    @Test func foldsAndCountsKernelStacks() throws {
        let stacks = SwitchStacks(perfScript: capturedPerfScript)
        #expect(stacks.total == 3)
        #expect(stacks.top.count == 2)
        let first = try #require(stacks.top.first)
        #expect(first.count == 2)
        #expect(first.frames.first == "entry_SYSCALL_64_after_hwframe")
        #expect(first.frames.last == "__schedule")
        #expect(first.frames.contains("unix_stream_read_generic"))
        #expect(Set(first.threads) == ["csgb-actor-0", "csgb-actor-1"])
        // User-space frames are dropped: the question is why the kernel switched.
        #expect(stacks.top[1].folded == "entry_SYSCALL_64_after_hwframe;do_syscall_64;exit_to_user_mode_loop;schedule;__schedule")
        #expect(stacks.text.contains("66.7 % (2)"))
    }

    @Test func keepsOnlyTheTopStacks() {
        var text = ""
        for i in 0..<8 {
            for _ in 0...i { text += "t 1 sched:sched_switch: \n\tffffffff81000000 f\(i) ([kernel.kallsyms])\n\n" }
        }
        let stacks = SwitchStacks(perfScript: text, limit: 5)
        #expect(stacks.total == 36)
        #expect(stacks.top.map(\.count) == [8, 7, 6, 5, 4])
        #expect(stacks.top.first?.frames == ["f7"])
    }

    @Test func threadNamesWithSpacesAndOffsets() {
        #expect(SwitchStacks.threadName(header: "Dispatch worker 77 sched:sched_switch: ") == "Dispatch worker")
        #expect(SwitchStacks.kernelFrame("\tffffffff821facd8 __schedule+0x2c8 ([kernel.kallsyms])") == "__schedule")
        #expect(SwitchStacks.kernelFrame("\t          1019b3 __write (/usr/lib/libc.so.6)") == nil)
        #expect(SwitchStacks(perfScript: "").text.contains("no sched:sched_switch"))
    }
}
