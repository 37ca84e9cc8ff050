import CSGBSystem

/// What on this machine decides what a kernel switch costs, and what makes figures
/// noisy: the CPU vulnerabilities and their mitigations, the preemption model, the
/// clocksource, SMT, transparent huge pages, the cpufreq governor, isolated CPUs, a
/// hypervisor, a running DAMON monitor and the load. Read from /proc and /sys under `root` ("" on a real
/// machine), so the parsing can be tested on any machine with a faked tree.
public struct KernelEnvironment: Sendable, Equatable {
    /// Each file of /sys/devices/system/cpu/vulnerabilities, by name, as it reads.
    public var vulnerabilities: [(name: String, status: String)] = []
    /// The preemption configuration the kernel was built with (PREEMPT_DYNAMIC,
    /// PREEMPT, PREEMPT_RT, or none), from /proc/sys/kernel/version (= `uname -v`).
    public var preemptionBuild: String = "unknown"
    /// The active model where debugfs shows it (/sys/kernel/debug/sched/preempt).
    public var preemptionModel: String?
    public var clocksource: String?
    /// nil where the kernel has no SMT control.
    public var smtActive: Bool?
    public var smtControl: String?
    public var transparentHugePages: String?
    /// nil: no cpufreq driver (a VM, a fixed clock).
    public var governor: String?
    /// /sys/devices/system/cpu/isolated and nohz_full, and the command line's options.
    public var isolatedCPUs: String = ""
    public var nohzFull: String = ""
    public var commandLineIsolation: [String] = []
    public var hypervisor: String?
    /// DAMON monitors (kdamonds) that are on, as configured through its sysfs tree.
    public var damon: [DAMONMonitor] = []
    public var loadAverage: [Double] = []
    public var runnable: Int?

    public static func == (a: KernelEnvironment, b: KernelEnvironment) -> Bool {
        a.vulnerabilities.map { "\($0.name)=\($0.status)" } == b.vulnerabilities.map { "\($0.name)=\($0.status)" }
            && a.preemptionBuild == b.preemptionBuild && a.preemptionModel == b.preemptionModel
            && a.clocksource == b.clocksource && a.smtActive == b.smtActive && a.smtControl == b.smtControl
            && a.transparentHugePages == b.transparentHugePages && a.governor == b.governor
            && a.isolatedCPUs == b.isolatedCPUs && a.nohzFull == b.nohzFull
            && a.commandLineIsolation == b.commandLineIsolation && a.hypervisor == b.hypervisor && a.damon == b.damon
            && a.loadAverage == b.loadAverage && a.runnable == b.runnable
    }

    public init() {}

    /// Reads everything under `root`; a file that is missing leaves its field unknown.
    public static func read(root: String = "") -> KernelEnvironment {
        func text(_ path: String) -> String? {
            (try? ProcFile.read(root + path)).map { $0.trimming(.blanks) }
        }
        var environment = KernelEnvironment()
        let directory = "/sys/devices/system/cpu/vulnerabilities"
        let names = ((try? ProcFile.listDirectory(root + directory)) ?? []).sorted()
        environment.vulnerabilities = names.compactMap { name in text("\(directory)/\(name)").map { (name, $0) } }
        if let version = text("/proc/sys/kernel/version") {
            let words = version.split(separator: " ").map(String.init)
            environment.preemptionBuild = words.first { $0 == "PREEMPT_RT" || $0 == "PREEMPT_DYNAMIC" || $0 == "PREEMPT" }
                ?? (words.contains("PREEMPT_NONE") ? "PREEMPT_NONE" : "none (no PREEMPT in the version)")
        }
        environment.preemptionModel = text("/sys/kernel/debug/sched/preempt").flatMap(bracketed)
        environment.clocksource = text("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        environment.smtActive = text("/sys/devices/system/cpu/smt/active").map { $0 == "1" }
        environment.smtControl = text("/sys/devices/system/cpu/smt/control")
        environment.transparentHugePages = text("/sys/kernel/mm/transparent_hugepage/enabled").flatMap(bracketed)
        environment.governor = text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
        environment.isolatedCPUs = text("/sys/devices/system/cpu/isolated") ?? ""
        environment.nohzFull = text("/sys/devices/system/cpu/nohz_full") ?? ""
        if environment.nohzFull == "(null)" { environment.nohzFull = "" }
        environment.commandLineIsolation = (text("/proc/cmdline") ?? "").split(separator: " ").map(String.init).filter {
            $0.hasPrefix("isolcpus=") || $0.hasPrefix("nohz_full=") || $0.hasPrefix("rcu_nocbs=")
        }
        let flags = (text("/proc/cpuinfo") ?? "").split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        if let type = text("/sys/hypervisor/type"), !type.isEmpty {
            environment.hypervisor = type
        } else if flags.split(separator: " ").contains("hypervisor") {
            environment.hypervisor = "the CPU's hypervisor flag is set"
        }
        environment.damon = DAMONMonitor.running(text: text, list: { try? ProcFile.listDirectory(root + $0) })
        if let load = text("/proc/loadavg") {
            let fields = load.split(separator: " ")
            environment.loadAverage = fields.prefix(3).compactMap { Double($0) }
            if fields.count > 3, let running = fields[3].split(separator: "/").first.flatMap({ Int($0) }) {
                environment.runnable = running
            }
        }
        return environment
    }

    /// "always [madvise] never" → "madvise".
    static func bracketed(_ text: String) -> String? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else {
            return text.isEmpty ? nil : text
        }
        return String(text[text.index(after: open)..<close])
    }

    public var preemption: String {
        "\(preemptionBuild)" + (preemptionModel.map { ", current model \($0)" } ?? "")
    }

    public var smt: String {
        switch smtActive {
        case true?: return "on" + (smtControl.map { " (control: \($0))" } ?? "")
        case false?: return "off" + (smtControl.map { " (control: \($0))" } ?? "")
        case nil: return "unknown (no /sys/devices/system/cpu/smt)"
        }
    }

    public var json: JSON {
        .object([
            ("vulnerabilities", .array(vulnerabilities.map { .string("\($0.name): \($0.status)") })),
            ("preemption", .string(preemptionBuild)),
            ("preemption_model", preemptionModel.map { .string($0) } ?? .null),
            ("clocksource", clocksource.map { .string($0) } ?? .null),
            ("smt", smtActive.map { .bool($0) } ?? .null),
            ("transparent_hugepages", transparentHugePages.map { .string($0) } ?? .null),
            ("governor", governor.map { .string($0) } ?? .null),
            ("isolated_cpus", .string(isolatedCPUs)),
            ("nohz_full", .string(nohzFull)),
            ("cmdline_isolation", .string(commandLineIsolation.joined(separator: " "))),
            ("hypervisor", hypervisor.map { .string($0) } ?? .null),
            ("damon", .array(damon.map { .string($0.description) })),
            ("load_average", .array(loadAverage.map { .number($0) })),
        ])
    }

    public var rows: [(String, String)] {
        var rows: [(String, String)] = [
            ("preemption", preemption + (preemptionModel == nil ? " (the current model needs debugfs: /sys/kernel/debug/sched/preempt)" : "")),
            ("clocksource", clocksource ?? "unknown"),
            ("smt", smt),
            ("transparent hugepages", transparentHugePages ?? "unknown"),
            ("cpufreq governor", governor ?? "none (no cpufreq driver)"),
            ("isolated cpus", isolatedCPUs.isEmpty ? "none" : isolatedCPUs),
            ("nohz_full", nohzFull.isEmpty ? "none" : nohzFull),
            ("hypervisor", hypervisor ?? "none detected"),
            ("damon", damon.isEmpty ? "no monitor running" : damon.map(\.description).joined(separator: "; ")),
            ("load average", loadAverage.map { Fmt.fixed($0, 2) }.joined(separator: " ")
                + (runnable.map { " (\($0) runnable now)" } ?? "")),
        ]
        rows += vulnerabilities.map { ("vulnerability \($0.name)", $0.status) }
        return rows
    }

    /// What makes figures on this machine noisy or incomparable, each with what to
    /// do about it. `busyOnCPUs` counts other runnable tasks on the CPUs of --cpus.
    public func warnings(onlineCPUs: Int, cpus: CPUList?, busyOnCPUs: Int?) -> [String] {
        var warnings: [String] = []
        if isolatedCPUs.isEmpty && nohzFull.isEmpty {
            warnings.append("no CPU is isolated: other tasks and the kernel's housekeeping share the run's CPUs; boot with isolcpus=N nohz_full=N rcu_nocbs=N and run with --cpus N")
        }
        if smtActive == true {
            warnings.append("SMT is on: the sibling hardware thread's work slows the run's core; pin to one thread per core (see lscpu -e) or turn it off with `echo off > /sys/devices/system/cpu/smt/control`")
        }
        if let governor, governor != "performance" {
            warnings.append("the cpufreq governor is \(governor): the clock moves with load; `cpupower frequency-set -g performance` (or write performance to /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)")
        }
        if let hypervisor {
            warnings.append("running under a hypervisor (\(hypervisor)): vCPUs are descheduled and steal time is invisible to the guest; compare only ratios from one interleaved session, on a host with pinned vCPUs if you can")
        }
        if let first = loadAverage.first, first > Double(onlineCPUs) / 2 {
            warnings.append("the 1-minute load average is \(Fmt.fixed(first, 2)) on \(onlineCPUs) CPUs: other work competes with the run; wait for an idle machine or isolate CPUs")
        }
        if let cpus, let busyOnCPUs, busyOnCPUs > 0 {
            warnings.append("\(busyOnCPUs) other runnable task\(busyOnCPUs == 1 ? "" : "s") on CPU \(cpus) right now: they will share the run's CPUs; pick idle CPUs or stop them")
        }
        for monitor in damon where monitor.reclaims {
            warnings.append("DAMON's kdamond \(monitor.index) is on with a \(monitor.actions.joined(separator: ", ")) scheme: it may reclaim memory a run holds (its faults then count in the run), and it samples page accesses through every page's mappings, which costs it more the more processes share a page (actors that are processes); stop it with `echo off > /sys/kernel/mm/damon/admin/kdamonds/\(monitor.index)/state`")
        }
        if transparentHugePages == "always" {
            warnings.append("transparent huge pages are always on: --work-size buffers may get huge pages in one run and not the next; `echo madvise > /sys/kernel/mm/transparent_hugepage/enabled` makes runs comparable")
        }
        return warnings
    }

    /// Runnable tasks (state R) other than this process whose last CPU is in `cpus`,
    /// from /proc/*/task/*/stat under `root`.
    public static func runnableTasks(on cpus: CPUList, root: String = "", excluding pid: Int32) -> Int {
        let wanted = Set(cpus.cpus)
        var count = 0
        for process in (try? ProcFile.listDirectory(root + "/proc")) ?? [] where Int32(process) != nil && Int32(process) != pid {
            for task in (try? ProcFile.listDirectory(root + "/proc/\(process)/task")) ?? [] {
                guard let stat = try? ProcFile.read(root + "/proc/\(process)/task/\(task)/stat"),
                      let close = stat.lastIndex(of: ")") else { continue }
                // After the command: state is field 3, the last CPU field 39.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 36, fields[0] == "R", let cpu = Int32(fields[36]), wanted.contains(cpu) else { continue }
                count += 1
            }
        }
        return count
    }
}

/// One running DAMON monitor: what it watches (its contexts' operations) and what its
/// schemes do to the regions they match.
public struct DAMONMonitor: Sendable, Equatable {
    public let index: Int
    public let pid: Int?
    public let operations: [String]
    public let actions: [String]

    static let root = "/sys/kernel/mm/damon/admin/kdamonds"
    /// Scheme actions that take memory away from a process or push it down the LRU.
    static let reclaiming: Set<String> = ["pageout", "lru_deprio", "cold", "migrate_cold"]

    var reclaims: Bool { actions.contains { Self.reclaiming.contains($0) } }

    public var description: String {
        "kdamond \(index)" + (pid.map { " (pid \($0))" } ?? "") + " on: " + (operations.isEmpty ? "no context" : operations.joined(separator: ", "))
            + (actions.isEmpty ? ", no scheme" : ", schemes " + actions.joined(separator: ", "))
    }

    /// The kdamonds whose state reads "on", from `text` (a file's trimmed contents)
    /// and `list` (a directory's entries) over the sysfs tree.
    static func running(text: (String) -> String?, list: (String) -> [String]?) -> [DAMONMonitor] {
        func numbered(_ path: String) -> [Int] { (list(path) ?? []).compactMap { Int($0) }.sorted() }
        return numbered(root).compactMap { index in
            let monitor = "\(root)/\(index)"
            guard text("\(monitor)/state") == "on" else { return nil }
            var operations: [String] = [], actions: [String] = []
            for context in numbered("\(monitor)/contexts") {
                let path = "\(monitor)/contexts/\(context)"
                if let name = text("\(path)/operations") { operations.append(name) }
                for scheme in numbered("\(path)/schemes") {
                    if let action = text("\(path)/schemes/\(scheme)/action") { actions.append(action) }
                }
            }
            return DAMONMonitor(index: index, pid: text("\(monitor)/pid").flatMap { Int($0) }, operations: operations, actions: actions)
        }
    }
}
