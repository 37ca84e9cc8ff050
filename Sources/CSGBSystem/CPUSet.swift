import CCSGB

/// A list of CPUs as users write it for taskset: `0`, `0-3`, `0,2`, `0-1,4`.
public struct CPUList: Equatable, Sendable, CustomStringConvertible {
    public let cpus: [Int32]

    public init(cpus: [Int32]) { self.cpus = cpus }

    /// Parses the list; returns nil for anything malformed, empty or descending.
    public init?(parsing text: String) {
        var result: [Int32] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  let low = Int32(bounds[0]), low >= 0,
                  let high = bounds.count == 2 ? Int32(bounds[1]) : low,
                  high >= low, high < 1 << 20
            else { return nil }
            result.append(contentsOf: low...high)
        }
        var seen = Set<Int32>()
        cpus = result.filter { seen.insert($0).inserted }
        if cpus.isEmpty { return nil }
    }

    public var description: String {
        // Print back as compact ranges so reports read like the input.
        var ranges: [String] = []
        var index = 0
        let sorted = cpus.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            ranges.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return ranges.joined(separator: ",")
    }

    /// The CPUs this process may run on now (its affinity mask).
    public static func allowed() throws(SystemError) -> CPUList {
        var buffer = [Int32](repeating: 0, count: 1024)
        let count = Int(csgb_get_affinity(&buffer, buffer.count))
        if count < 0 { throw SystemError("sched_getaffinity") }
        return CPUList(cpus: Array(buffer.prefix(min(count, buffer.count))))
    }

    /// Restricts another task (a thread or a process's main thread) to these CPUs.
    public func pin(task pid: Int32) throws(SystemError) {
        let rc = cpus.withUnsafeBufferPointer { csgb_set_affinity(pid, $0.baseAddress, $0.count) }
        if rc != 0 { throw SystemError("sched_setaffinity(\(pid), \(description))") }
    }
}

/// How OS threads are placed on the CPUs of `--cpus`.
public enum Pinning: String, CaseIterable, Sendable {
    /// Every thread may run on every CPU of the list.
    case set
    /// Thread i gets CPU i mod count, round-robin.
    case each
}

/// The affinity for the threads of one run, applied once per thread at its start.
public struct Placement: Sendable {
    public let cpus: CPUList?
    public let pinning: Pinning

    public init(cpus: CPUList?, pinning: Pinning) {
        self.cpus = cpus
        self.pinning = pinning
    }

    /// The CPUs thread number `index` of the run is pinned to; nil when unpinned.
    public func cpus(forThread index: Int) -> [Int32]? {
        guard let cpus else { return nil }
        switch pinning {
        case .set: return cpus.cpus
        case .each: return [cpus.cpus[index % cpus.cpus.count]]
        }
    }

    /// Pins the calling thread.
    public func pinCurrentThread(index: Int) throws(SystemError) {
        guard let list = cpus(forThread: index) else { return }
        let rc = list.withUnsafeBufferPointer { csgb_set_affinity(0, $0.baseAddress, $0.count) }
        if rc != 0 { throw SystemError("sched_setaffinity") }
    }
}
