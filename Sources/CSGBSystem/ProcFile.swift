#if canImport(Glibc)
import Glibc
#endif

/// Reads small kernel files (/proc, /sys) without Foundation.
public enum ProcFile {
    public static func read(_ path: String) throws(SystemError) -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }

    /// The whole file as bytes (a binary, for the frame-pointer check).
    public static func bytes(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SystemError("open \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The `Name:  123 kB` lines of /proc/meminfo, /proc/PID/status or smaps_rollup,
    /// by name ("MemAvailable", "VmSize", "Pss_Anon"), in bytes; a figure without a
    /// unit (HugePages_Total) as it stands. Lines of another shape are left out.
    public static func sizeFields(_ text: String) -> [String: UInt64] {
        var figures: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0].hasSuffix(":"), let value = UInt64(fields[1]) else { continue }
            figures[String(fields[0].dropLast())] = fields.count > 2 && fields[2] == "kB" ? value * 1024 : value
        }
        return figures
    }
}

extension StringProtocol {
    public func trimming(_ set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension Set where Element == Character {
    public static let blanks: Set<Character> = [" ", "\t", "\n", "\r"]
}
