#if canImport(Glibc)
import Glibc
#endif

/// Private anonymous memory from mmap: green stacks and work buffers. A plain value:
/// whoever maps it unmaps it exactly once.
public struct AnonymousMapping: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let length: Int

    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// `stack`: MAP_NORESERVE (only touched pages count against overcommit) and
    /// MAP_STACK (no huge pages). The policy is set before any page is touched, since
    /// it steers only pages not yet faulted in.
    /// `accessible: false` reserves the range PROT_NONE, to be opened piece by piece
    /// with `allowAccess`.
    public init(length: Int, stack: Bool = false, numa: NUMAPolicy = .off, accessible: Bool = true) throws(SystemError) {
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (stack ? MAP_NORESERVE | MAP_STACK : 0)
        guard let raw = mmap(nil, length, accessible ? PROT_READ | PROT_WRITE : PROT_NONE, flags, -1, 0), raw != MAP_FAILED else {
            throw SystemError("mmap of \(length) bytes")
        }
        base = raw
        self.length = length
        if let code = numa.apply(to: raw, length: length) {
            munmap(raw, length)
            throw SystemError("mbind (--numa \(numa.rawValue))", Errno(code))
        }
    }

    /// Makes the first `bytes` inaccessible: a guard page below a stack.
    public func protectBottom(_ bytes: Int) throws(SystemError) {
        if mprotect(base, bytes, PROT_NONE) != 0 { throw SystemError("mprotect") }
    }

    /// Makes `bytes` from `offset` readable and writable.
    public func allowAccess(offset: Int, bytes: Int) throws(SystemError) {
        if mprotect(base + offset, bytes, PROT_READ | PROT_WRITE) != 0 { throw SystemError("mprotect") }
    }

    public func unmap() {
        let result = munmap(base, length)
        precondition(result == 0, "munmap of \(length) bytes failed")
    }
}

extension AnonymousMapping {
    /// A mapping made earlier, to unmap it.
    public init(base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }
}
