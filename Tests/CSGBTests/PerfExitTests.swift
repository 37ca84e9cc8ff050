import CSGBSystem
import Foundation
import Testing
@testable import Analysis
@testable import CSGB

/// What lets a stopped `csgb stat` or `csgb explain` end soon after its workload:
/// perf stat counts the syscalls on one tracepoint (the kernel waits a grace period
/// per tracepoint when its last event closes), and perf record skips its build-id
/// pass and its BPF side-band thread.
@Suite struct PerfExitTests {
    static let numbers = ["read": 0, "write": 1, "futex": 202]

    @Test func syscallTracepointsShareTheRawEntryTracepoint() {
        let events = ["context-switches", "syscalls:sys_enter_read", "instructions:u", "syscalls:sys_enter_write",
                      "syscalls:sys_enter_futex"]
        let plan = StatEvents.perfArguments(events, number: { Self.numbers[$0] }, rawAvailable: true)
        #expect(plan.arguments == ["-e", "context-switches",
                                   "-e", "raw_syscalls:sys_enter", "--filter", "id == 0",
                                   "-e", "instructions:u",
                                   "-e", "raw_syscalls:sys_enter", "--filter", "id == 1",
                                   "-e", "raw_syscalls:sys_enter", "--filter", "id == 202"])
        #expect(plan.rawRecordNames == ["syscalls:sys_enter_read", "syscalls:sys_enter_write", "syscalls:sys_enter_futex"])
        // Not one syscall tracepoint is left for perf to close on its own.
        #expect(!plan.arguments.contains { $0.hasPrefix("syscalls:") })
    }

    @Test func aSyscallWithoutANumberKeepsItsTracepoint() {
        let events = ["syscalls:sys_enter_read", "syscalls:sys_enter_madeup", "raw_syscalls:sys_enter"]
        let plan = StatEvents.perfArguments(events, number: { Self.numbers[$0] }, rawAvailable: true)
        #expect(plan.arguments == ["-e", "raw_syscalls:sys_enter", "--filter", "id == 0",
                                   "-e", "syscalls:sys_enter_madeup", "-e", "raw_syscalls:sys_enter"])
        // The user's own unfiltered raw_syscalls:sys_enter is a record of its own, in its place.
        #expect(plan.rawRecordNames == ["syscalls:sys_enter_read", "raw_syscalls:sys_enter"])
        let none = StatEvents.perfArguments(events, number: { Self.numbers[$0] }, rawAvailable: false)
        #expect(none.arguments == ["-e", "syscalls:sys_enter_read", "-e", "syscalls:sys_enter_madeup",
                                   "-e", "raw_syscalls:sys_enter"])
    }

    @Test func rawRecordsAreNamedInPerfsOrder() throws {
        let output = try PerfStatOutput(parsing: """
            1800,,context-switches,1000,100.00,,
            2000,,raw_syscalls:sys_enter,1000,100.00,,
            3000,,raw_syscalls:sys_enter,1000,100.00,,
            <not counted>,,raw_syscalls:sys_enter,1000,0.00,,
            """)
        let named = try output.naming(rawRecords: ["syscalls:sys_enter_read", "syscalls:sys_enter_write", "syscalls:sys_enter_futex"])
        #expect(named.syscalls("read") == 2000)
        #expect(named.syscalls("write") == 3000)
        #expect(named.record("syscalls:sys_enter_futex")?.value == .notCounted)
        #expect(named.tracedSyscalls == ["read", "write", "futex"])
        #expect(named.count("context-switches") == 1800)
    }

    @Test func rawRecordsThatCannotBeMatchedAreAnError() throws {
        let output = try PerfStatOutput(parsing: "2000,,raw_syscalls:sys_enter,1000,100.00,,\n")
        #expect(throws: PerfOutputError.self) {
            try output.naming(rawRecords: ["syscalls:sys_enter_read", "syscalls:sys_enter_write"])
        }
        // A perf that printed none of them: its figures are missing, as any missing row is.
        let none = try PerfStatOutput(parsing: "10,,context-switches,1000,100.00,,\n")
        #expect(try none.naming(rawRecords: ["syscalls:sys_enter_read"]) == none)
    }

    @Test func syscallNumbersAreThisArchitecturesOwn() {
        // From the kernel's syscall tables.
        #if arch(x86_64)
        #expect(SyscallNumbers.of("read") == 0)
        #expect(SyscallNumbers.of("sched_yield") == 24)
        #expect(SyscallNumbers.of("epoll_wait") == 232)
        #elseif arch(arm64)
        #expect(SyscallNumbers.of("read") == 63)
        #expect(SyscallNumbers.of("sched_yield") == 124)
        #expect(SyscallNumbers.of("epoll_wait") == nil)
        #endif
        #expect(SyscallNumbers.of("io_uring_enter") == 426)
        #expect(SyscallNumbers.of("no_such_call") == nil)
        for name in Claims.alwaysTraced where name != "epoll_wait" {
            #expect(SyscallNumbers.of(name) != nil, "\(name)")
        }
    }

    /// The arguments csgb stat and the switch-stacks record really hand perf, and
    /// the figures read back from the raw records in their order.
    @Test func statHandsPerfTheRawFiltersAndReadsTheirRecords() throws {
        let perf = try FakePerf()
        let argsPath = perf.file("args")
        let csvPath = perf.file("stat.csv")
        let numbers = ["read", "write", "futex", "epoll_wait", "epoll_pwait", "io_uring_enter", "sched_yield", "recvfrom", "sendto"]
            .filter { StatEvents.tracepointExists("syscalls:sys_enter_\($0)") != false && SyscallNumbers.of($0) != nil }
        // read counted 3 times as often as write: the order decides which is which.
        let raw = numbers.map { name in name == "read" ? "3000000" : name == "write" ? "1000000" : "0" }
            .map { "\($0),,raw_syscalls:sys_enter,1000000000,100.00,," }
        try (["100,,context-switches,1000000000,100.00,,"] + raw).joined(separator: "\n")
            .write(toFile: csvPath, atomically: true, encoding: .utf8)
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--duration", "0.3"], timeout: 60,
                                         shellPrefix: perf.shellPrefix(["FAKE_PERF_CSV": csvPath, "FAKE_PERF_ARGS": argsPath]))
        let arguments = try String(contentsOfFile: argsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(!arguments.contains { $0.hasPrefix("syscalls:sys_enter_") }, "\(arguments)")
        #expect(arguments.filter { $0 == "--filter" }.count == numbers.count, "\(arguments)")
        let read = try #require(SyscallNumbers.of("read"))
        #expect(arguments.contains("id == \(read)"))
        let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("syscalls:") }, "\(result.stdout)\n\(result.stderr)")
        let figures = Dictionary(uniqueKeysWithValues: line.split(separator: ":", maxSplits: 1)[1].split(separator: ",").compactMap { part -> (String, Double)? in
            let words = part.split(separator: " ")
            guard words.count == 2, let value = Double(words[1]) else { return nil }
            return (String(words[0]), value)
        })
        let readValue = try #require(figures["read"]), writeValue = try #require(figures["write"])
        #expect(writeValue > 0 && abs(readValue / writeValue - 3) < 0.01, "\(line)")
        // 3 reads per write is not the 1 the claims say: the verdict is FAIL, and the
        // switch stacks are recorded, by a perf record told to skip its slow exit.
        #expect(result.status == 3, "\(result.stderr)")
        let record = try #require(arguments.firstIndex(of: "record"), "\(arguments)")
        let recordOptions = arguments[record...].prefix { $0 != "--" }
        #expect(recordOptions.contains("--no-buildid") && recordOptions.contains("--no-bpf-event"), "\(recordOptions)")
    }

    /// The stop handlers are in place before any library's initializer runs: a
    /// preloaded library's constructor, which runs before every constructor of the
    /// program, already sees them.
    @Test func stopHandlersComeBeforeEveryLibraryInitializer() throws {
        guard let compiler = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("skipped stopHandlersComeBeforeEveryLibraryInitializer: no C compiler to build the preloaded probe")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-preinit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("probe.c").path
        let library = directory.appendingPathComponent("probe.so").path
        let out = directory.appendingPathComponent("seen").path
        try """
            #include <signal.h>
            #include <stdio.h>
            #include <stdlib.h>
            __attribute__((constructor)) static void probe(void) {
                const char *out = getenv("CSGB_PROBE_OUT");
                if (out == NULL) return;
                struct sigaction sa;
                sigaction(SIGINT, NULL, &sa);
                FILE *f = fopen(out, "w");
                if (f == NULL) return;
                fputs(sa.sa_handler == SIG_DFL ? "default\\n" : "handler\\n", f);
                fclose(f);
            }

            """.write(toFile: source, atomically: true, encoding: .utf8)
        let build = Process()
        build.executableURL = URL(fileURLWithPath: compiler)
        build.arguments = ["-shared", "-fPIC", "-o", library, source]
        try build.run()
        build.waitUntilExit()
        try #require(build.terminationStatus == 0)
        let result = try CSGBProcess.run(["--version"], timeout: 60,
                                         shellPrefix: "LD_PRELOAD='\(library)' CSGB_PROBE_OUT='\(out)'")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "handler\n")
    }
}
