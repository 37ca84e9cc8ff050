#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

/// Whether a binary's own Swift functions keep frame pointers, read from its
/// machine code: perf walks user stacks through `%rbp`, and a function that does
/// not set it up silently drops its caller from every stack (the stacks still
/// reach `start_thread`, so the samples alone cannot tell). A function keeps one
/// when it starts with `push %rbp; mov %rsp,%rbp` (after an `endbr64`, if any).
public struct FramePointerCheck: Sendable, Equatable {
    public var functions = 0
    public var withFramePointer = 0

    public var share: Double? { functions == 0 ? nil : Double(withFramePointer) / Double(functions) }

    /// Below this share, user stacks are called unreliable.
    public static let threshold = 0.5

    /// The prologue test on a function's first bytes.
    public static func setsUpFramePointer(_ bytes: ArraySlice<UInt8>) -> Bool {
        var code = bytes
        if code.starts(with: [0xf3, 0x0f, 0x1e, 0xfa]) { code = code.dropFirst(4) }     // endbr64
        return code.starts(with: [0x55, 0x48, 0x89, 0xe5])                              // push %rbp; mov %rsp,%rbp
    }

    /// Scans an x86_64 ELF image's symbol table for functions whose names start
    /// with one of `prefixes` (Swift's mangling of our modules). Nil when the image
    /// is no ELF64 file or has no symbol table (stripped): then nothing can be said.
    public init?(elf image: [UInt8], prefixes: [String]) {
        func u16(_ at: Int) -> Int { at + 2 <= image.count ? Int(image[at]) | Int(image[at + 1]) << 8 : 0 }
        func u32(_ at: Int) -> Int { at + 4 <= image.count ? u16(at) | u16(at + 2) << 16 : 0 }
        func u64(_ at: Int) -> Int { at + 8 <= image.count ? u32(at) | u32(at + 4) << 32 : 0 }
        guard image.count > 64, image.starts(with: [0x7f, 0x45, 0x4c, 0x46]), image[4] == 2 else { return nil }
        struct Section { let type: Int, address: Int, offset: Int, size: Int, link: Int, entrySize: Int }
        let sectionOffset = u64(0x28), entrySize = u16(0x3a), count = u16(0x3c)
        guard entrySize >= 64, sectionOffset + count * entrySize <= image.count else { return nil }
        let sections = (0..<count).map { index -> Section in
            let base = sectionOffset + index * entrySize
            return Section(type: u32(base + 4), address: u64(base + 16), offset: u64(base + 24), size: u64(base + 32),
                           link: u32(base + 40), entrySize: u64(base + 56))
        }
        guard let symbols = sections.first(where: { $0.type == 2 }), symbols.link < sections.count,
              symbols.entrySize >= 24, symbols.offset + symbols.size <= image.count else { return nil }
        let strings = sections[symbols.link]
        let patterns = prefixes.map { Array($0.utf8) }
        for index in 0..<(symbols.size / symbols.entrySize) {
            let base = symbols.offset + index * symbols.entrySize
            guard image[base + 4] & 0xf == 2 else { continue }                            // STT_FUNC
            let sectionIndex = u16(base + 6), value = u64(base + 8), size = u64(base + 16)
            guard size >= 8, sectionIndex > 0, sectionIndex < sections.count else { continue }
            let nameStart = strings.offset + u32(base)
            guard nameStart < image.count,
                  patterns.contains(where: { pattern in image[nameStart...].starts(with: pattern) }) else { continue }
            let section = sections[sectionIndex]
            let start = value - section.address + section.offset
            guard start >= 0, start + 8 <= image.count else { continue }
            functions += 1
            if Self.setsUpFramePointer(image[start..<(start + 8)]) { withFramePointer += 1 }
        }
    }

    /// The check on a file: our modules' Swift functions.
    public static func of(executable path: String) -> FramePointerCheck? {
        guard let image = try? ProcFile.bytes(path) else { return nil }
        return FramePointerCheck(elf: image, prefixes: ["$s4CSGB", "$s6Fibers", "$s12AsyncWorkers"])
    }
}
