#if canImport(Glibc)
import Glibc
#endif
import CCSGB
import Fibers

/// The actors' buffers for `--work-size`, allocated and faulted in before the run
/// so page faults stay out of the measured window.
public final class TouchBuffers: @unchecked Sendable {
    private var mapping: UnsafeMutableRawPointer?
    private var mappedBytes = 0
    private var buffers: [TouchBuffer]

    /// With `numa: .local` the pages land on the coordinator's node (it faults them
    /// in; with --cpus it is pinned to the list's first CPU); `.interleave` spreads
    /// them over every node.
    public init(actors: Int, size: Int, stride: Int, numa: NUMAPolicy = .off) throws(SystemError) {
        guard size > 0 else {
            buffers = Array(repeating: .none, count: actors)
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Page-aligned per actor so that actors never share a line or a page.
        let perActor = (size + page - 1) / page * page
        let total = perActor * actors
        guard let raw = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED
        else { throw SystemError("mmap (\(total) bytes of --work-size buffers)") }
        if let code = numa.apply(to: raw, length: total) {
            munmap(raw, total)
            throw SystemError("mbind (--numa \(numa.rawValue))", Errno(code))
        }
        // Faulted in a slice at a time: 2G takes seconds, and a stop meanwhile should
        // not wait for it (the coordinator then abandons the run before it starts).
        var faulted = 0
        while faulted < total && csgb_stop_requested() == 0 {
            let slice = min(Self.faultSlice, total - faulted)
            memset(raw + faulted, 1, slice)
            faulted += slice
        }
        mapping = raw
        mappedBytes = total
        buffers = (0..<actors).map {
            TouchBuffer(base: (raw + $0 * perActor).assumingMemoryBound(to: UInt8.self), size: size, stride: stride)
        }
    }

    static let faultSlice = 16 << 20

    deinit {
        if let mapping { munmap(mapping, mappedBytes) }
    }

    public subscript(actor: Int) -> TouchBuffer { buffers[actor] }
}
