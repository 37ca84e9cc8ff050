import CSGB
#if canImport(Glibc)
import Glibc
#endif

/// Where reports go. A report that cannot be written is a failed run (exit 74), not
/// a success: a sweep appending rows to a full disk must notice.
enum StandardOutput {
    /// Called before anything starts: with descriptor 1 closed, the first socket or
    /// fifo the run opens would become "standard output" and swallow the report.
    static func ensureOpen() throws(CSGBError) {
        if fcntl(1, F_GETFD) == -1 {
            throw .lostOutput("standard output is closed, so the report would be lost; redirect it (> file or > /dev/null) instead of closing it")
        }
    }

    /// Writes `text` and a newline with write(2), all of it or an error.
    static func write(_ text: String) throws(CSGBError) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        let failure: Int32? = bytes.withUnsafeBytes { buffer -> Int32? in
            while offset < buffer.count {
                let written = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure {
            throw .lostOutput("the report could not be written to standard output: \(String(cString: strerror(failure))) (\(offset) of \(bytes.count) bytes written)")
        }
    }
}
