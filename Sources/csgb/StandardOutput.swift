import CSGB
import CSGBSystem

/// Where reports go. A report that cannot be written is a failed run (exit 74), not
/// a success: a sweep appending rows to a full disk must notice.
enum StandardOutput {
    /// Called before anything starts: with descriptor 1 closed, the first socket or
    /// fifo the run opens would become "standard output" and swallow the report.
    static func ensureOpen() throws(CSGBError) {
        if !FileDescriptor.standardOutput.isOpen {
            throw .lostOutput("standard output is closed, so the report would be lost; redirect it (> file or > /dev/null) instead of closing it")
        }
    }

    /// Writes `text` and a newline with write(2), all of it or an error.
    static func write(_ text: String) throws(CSGBError) {
        let bytes = Array((text + "\n").utf8)
        var written = 0
        let failure: SystemError? = bytes.withUnsafeBytes { buffer in
            do throws(SystemError) { try FileDescriptor.standardOutput.write(buffer, written: &written) } catch { return error }
            return nil
        }
        if let failure {
            throw .lostOutput("the report could not be written to standard output: \(failure.errno) (\(written) of \(bytes.count) bytes written)")
        }
    }
}
