import CSGBSystem
import Glibc

/// The actors' buffers for `--work-size`, allocated and faulted in before the run
/// so page faults stay out of the measured window.
public final class TouchBuffers: @unchecked Sendable {
    private var mapping: AnonymousMapping?
    private var buffers: [TouchBuffer]

    /// With `numa: .local` the pages land on the coordinator's node (it faults them
    /// in; with --cpus it is pinned to the list's first CPU); `.interleave` spreads
    /// them over every node.
    public init(actors: Int, size: Int, stride: Int, access: AccessPattern = .stride, evictsBeforePass: Bool = false,
                numa: NUMAPolicy = .off) throws(SystemError) {
        guard size > 0 else {
            buffers = Array(repeating: .none, count: actors)
            return
        }
        let page = AnonymousMapping.pageSize
        // Page-aligned per actor so that actors never share a line or a page.
        let perActor = (size + page - 1) / page * page
        let region = try AnonymousMapping(length: perActor * actors, numa: numa)
        mapping = region
        // Faulted in a slice at a time: 2G takes seconds, and a stop meanwhile should
        // not wait for it (the coordinator then abandons the run before it starts).
        var faulted = 0
        while faulted < region.length && !StopRequest.isRequested {
            let slice = min(Self.faultSlice, region.length - faulted)
            memset(region.base + faulted, 1, slice)
            faulted += slice
        }
        let raw = region.base
        buffers = (0..<actors).map {
            TouchBuffer(base: (raw + $0 * perActor).assumingMemoryBound(to: UInt8.self), size: size, stride: stride,
                        access: access, evictsBeforePass: evictsBeforePass)
        }
    }

    static let faultSlice = 16 << 20

    deinit {
        mapping?.unmap()
    }

    public subscript(actor: Int) -> TouchBuffer { buffers[actor] }
}
