import CSGBSystem
import CCSGB
import CSGB

/// Process-wide set-up done once before a run.
enum CSGBRun {
    static func prepareProcess() throws {
        // SIGINT and SIGTERM end the window and still print the report.
        if csgb_install_stop_handlers() != 0 {
            throw CSGBError.system(SystemError("sigaction"))
        }
    }
}
