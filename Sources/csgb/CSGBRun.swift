import CSGBSystem
import CSGB

/// Process-wide set-up done once before a run.
enum CSGBRun {
    static func prepareProcess() throws {
        // SIGINT and SIGTERM end the window and still print the report.
        do {
            try StopRequest.installHandlers()
        } catch {
            throw CSGBError.system(error)
        }
    }

    /// For commands that write their report after their children ran (stat,
    /// explain): a reader that went away is a lost report (exit 74), not a death by
    /// SIGPIPE without a word.
    static func prepareReportingProcess() throws {
        try prepareProcess()
        StopRequest.ignoreBrokenPipes()
    }
}
