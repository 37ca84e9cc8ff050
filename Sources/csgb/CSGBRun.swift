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
}
