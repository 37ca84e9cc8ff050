import CSGBSystem
import Foundation
import Testing
@testable import CSGB

/// The environment's parsing, on faked /proc and /sys trees: any machine can run it.
@Suite struct KernelEnvironmentTests {
    /// Writes `files` (path under the root → content) into a new directory.
    func fakeRoot(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-root-\(UUID().uuidString)").path
        for (path, content) in files {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    static let noisy: [String: String] = [
        "/sys/devices/system/cpu/vulnerabilities/spectre_v2": "Mitigation: Retpolines; IBPB: conditional; IBRS_FW; STIBP: disabled\n",
        "/sys/devices/system/cpu/vulnerabilities/meltdown": "Not affected\n",
        "/proc/sys/kernel/version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0\n",
        "/sys/kernel/debug/sched/preempt": "none voluntary (full) [lazy]\n",
        "/sys/devices/system/clocksource/clocksource0/current_clocksource": "kvm-clock\n",
        "/sys/devices/system/cpu/smt/active": "1\n",
        "/sys/devices/system/cpu/smt/control": "on\n",
        "/sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never\n",
        "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": "powersave\n",
        "/sys/devices/system/cpu/isolated": "\n",
        "/sys/devices/system/cpu/nohz_full": "(null)\n",
        "/proc/cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet\n",
        "/proc/cpuinfo": "processor\t: 0\nflags\t\t: fpu vme hypervisor sse2\n",
        "/proc/loadavg": "3.50 2.00 1.00 4/300 12345\n",
        "/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds": "1\n",
        "/sys/kernel/mm/damon/admin/kdamonds/0/state": "on\n",
        "/sys/kernel/mm/damon/admin/kdamonds/0/pid": "77\n",
        "/sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/operations": "paddr\n",
        "/sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/schemes/0/action": "pageout\n",
    ]

    @Test func everyItemIsParsed() throws {
        let environment = KernelEnvironment.read(root: try fakeRoot(Self.noisy))
        #expect(environment.vulnerabilities.map(\.name) == ["meltdown", "spectre_v2"])
        #expect(environment.vulnerabilities.last?.status.hasPrefix("Mitigation: Retpolines; IBPB: conditional") == true)
        #expect(environment.preemptionBuild == "PREEMPT_DYNAMIC")
        #expect(environment.preemptionModel == "lazy")
        #expect(environment.clocksource == "kvm-clock")
        #expect(environment.smtActive == true)
        #expect(environment.transparentHugePages == "always")
        #expect(environment.governor == "powersave")
        #expect(environment.isolatedCPUs.isEmpty && environment.nohzFull.isEmpty)
        #expect(environment.hypervisor != nil)
        #expect(environment.loadAverage == [3.5, 2.0, 1.0])
        #expect(environment.runnable == 4)
        #expect(environment.damon == [DAMONMonitor(index: 0, pid: 77, operations: ["paddr"], actions: ["pageout"])])
        #expect(environment.rows.contains { $0 == ("damon", "kdamond 0 (pid 77) on: paddr, schemes pageout") })
        let json = environment.json.rendered()
        for key in ["vulnerabilities", "preemption", "clocksource", "smt", "transparent_hugepages", "governor",
                    "isolated_cpus", "nohz_full", "hypervisor", "damon", "load_average"] {
            #expect(json.contains("\"\(key)\""), "\(key)")
        }
    }

    @Test func aNoisyMachineGetsEveryWarning() throws {
        let environment = KernelEnvironment.read(root: try fakeRoot(Self.noisy))
        let warnings = environment.warnings(onlineCPUs: 2, cpus: CPUList(parsing: "0"), busyOnCPUs: 3)
        for phrase in ["no CPU is isolated", "SMT is on", "governor is powersave", "hypervisor", "load average is 3.50",
                       "3 other runnable tasks on CPU 0", "huge pages are always",
                       "kdamond 0 is on with a pageout scheme", "kdamonds/0/state"] {
            #expect(warnings.contains { $0.contains(phrase) }, "\(phrase)")
        }
    }

    @Test func aQuietMachineGetsNone() throws {
        var files = Self.noisy
        files["/sys/devices/system/cpu/smt/active"] = "0\n"
        files["/sys/kernel/mm/transparent_hugepage/enabled"] = "always [madvise] never\n"
        files["/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"] = "performance\n"
        files["/sys/devices/system/cpu/isolated"] = "1\n"
        files["/sys/devices/system/cpu/nohz_full"] = "1\n"
        files["/proc/cmdline"] = "root=/dev/sda1 isolcpus=1 nohz_full=1\n"
        files["/proc/cpuinfo"] = "flags\t\t: fpu sse2\n"
        files["/proc/loadavg"] = "0.10 0.05 0.01 1/200 99\n"
        // A monitor that is off is not running; one that only watches reclaims nothing.
        files["/sys/kernel/mm/damon/admin/kdamonds/0/state"] = "off\n"
        files["/sys/kernel/mm/damon/admin/kdamonds/1/state"] = "on\n"
        files["/sys/kernel/mm/damon/admin/kdamonds/1/contexts/0/operations"] = "vaddr\n"
        files["/sys/kernel/mm/damon/admin/kdamonds/1/contexts/0/schemes/0/action"] = "stat\n"
        let environment = KernelEnvironment.read(root: try fakeRoot(files))
        #expect(environment.damon.map(\.index) == [1])
        #expect(environment.commandLineIsolation == ["isolcpus=1", "nohz_full=1"])
        #expect(environment.warnings(onlineCPUs: 2, cpus: CPUList(parsing: "1"), busyOnCPUs: 0).isEmpty)
    }

    @Test func missingFilesAreUnknownNotInvented() throws {
        let environment = KernelEnvironment.read(root: try fakeRoot(["/proc/loadavg": "0.00 0.00 0.00 1/1 1\n"]))
        #expect(environment.vulnerabilities.isEmpty)
        #expect(environment.governor == nil && environment.smtActive == nil && environment.clocksource == nil)
        #expect(environment.preemptionModel == nil)
        #expect(environment.damon.isEmpty)
        #expect(environment.rows.contains { $0 == ("damon", "no monitor running") })
        #expect(environment.rows.contains { $0.0 == "cpufreq governor" && $0.1.hasPrefix("none") })
    }

    @Test func runnableTasksAreCountedOnTheListedCPUs() throws {
        // Field 39 (the last CPU) is the 37th after the command's closing parenthesis.
        func stat(state: String, cpu: Int) -> String {
            "1 (x y) \(state) " + (4...38).map { _ in "0" }.joined(separator: " ") + " \(cpu) 0 0\n"
        }
        let root = try fakeRoot([
            "/proc/10/task/10/stat": stat(state: "R", cpu: 0),
            "/proc/10/task/11/stat": stat(state: "S", cpu: 0),
            "/proc/20/task/20/stat": stat(state: "R", cpu: 1),
            "/proc/30/task/30/stat": stat(state: "R", cpu: 0),
        ])
        #expect(KernelEnvironment.runnableTasks(on: CPUList(parsing: "0")!, root: root, excluding: 30) == 1)
        #expect(KernelEnvironment.runnableTasks(on: CPUList(parsing: "0-1")!, root: root, excluding: 0) == 3)
    }

    @Test func infoCheckExitsZeroWithWarnings() throws {
        let result = try CSGBProcess.run(["info", "--check", "--cpus", "0"], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout.contains("preemption:") && result.stdout.contains("vulnerability spectre_v2"))
        #expect(result.stdout.contains("warning: ") || result.stdout.contains("check: nothing found"))
        let json = try CSGBProcess.run(["info", "--check", "--format", "json"], timeout: 30)
        let object = try CSGBProcess.json(json.stdout)
        #expect(object["warnings"] is [Any])
        #expect(object["vulnerabilities"] is [Any])
    }
}
