import ArgumentParser
import CSGB
#if canImport(Glibc)
import Glibc
#endif

struct CSGBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csgb",
        abstract: "Context switches go brrr: what a kernel context switch costs against a user-mode switch, with the syscalls held identical.",
        discussion: """
            Every workload runs in every mode that can interpret it: \
            \(Mode.allCases.map { "\($0.summary) (--mode \($0.rawValue))" }.joined(separator: ", ")). \
            The report's first line is `total iterations: N`; an iteration is \
            \(WorkloadRegistry.all.map { "\($0.command.iteration) (\($0.command.name))" }.joined(separator: ", ")). \
            docs/reading-reports.md explains every figure.
            Exit codes: 0 ok, 3 the run is not what it claims (failed transfers, a lost \
            actor; csgb stat: verification failed), 64 bad usage, 69 perf missing or not \
            permitted, 71 system limit or failed call, 74 the report could not be written, \
            130 stopped by a signal before anything was measured.
            SIGINT, SIGTERM, SIGQUIT and SIGHUP end the window and still print the report.
            Priority: while the window is open the coordinator thread (which sleeps through \
            it) raises itself to nice -20 when permitted, so it takes the window's edges on \
            time; started under a positive nice value, csgb raises nothing. The report's \
            `priority` line says what it did.
            """,
        version: "csgb " + BuildInfo.version,
        subcommands: WorkloadRegistry.all.map { $0.subcommand } + [StatCommand.self, ExplainCommand.self, CostCommand.self, InfoCommand.self])

    /// Parses and runs; errors become one line on stderr and a sysexits code.
    static func main(arguments: [String]) {
        if arguments.first == ProcessActorHost.command { ProcessActorHost.main(arguments) }
        do {
            let arguments = ArgumentScreen.normalize(arguments)
            try ArgumentScreen.check(arguments)
            try checkHelpTopic(arguments)
            try checkCommandName(arguments)
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let error as CSGBError {
            fail(error.description, code: error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            // One line: the option and what it accepts, not the whole usage.
            let first = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            let message = OptionRules.rewrite(parserMessage: first) ?? first
            fail(message, code: code == .validationFailure ? 64 : code.rawValue)
        }
    }

    /// `csgb help NAME` for a NAME that is no command would print the overview and
    /// exit 0, as if the topic existed: a script asking for help on a misspelt
    /// command would never learn it.
    static func checkHelpTopic(_ arguments: [String]) throws(CSGBError) {
        guard arguments.first == "help" else { return }
        var subcommands: [any ParsableCommand.Type] = configuration.subcommands
        var path = "csgb"
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            if subcommands.isEmpty { return }
            var names: [String] = []
            var found: (any ParsableCommand.Type)?
            for subcommand in subcommands {
                let known = subcommand._commandName
                names.append(known)
                if known == name || subcommand.configuration.aliases.contains(name) { found = subcommand }
            }
            guard let found else {
                throw .usage("help \(name): \(path) has no command \(name); it has \(names.joined(separator: ", "))")
            }
            subcommands = found.configuration.subcommands
            path += " " + name
        }
    }

    /// A first word that is no command ("sockt 1") would read as two unexpected
    /// arguments: name the nearest command instead.
    static func checkCommandName(_ arguments: [String]) throws(CSGBError) {
        guard let word = arguments.first, !word.hasPrefix("-"), word != "help" else { return }
        var names: [String] = []
        for subcommand in configuration.subcommands {
            names.append(subcommand._commandName)
            names += subcommand.configuration.aliases
        }
        if names.contains(word) { return }
        let nearest = names.min { editDistance(word, $0) < editDistance(word, $1) }
        let suggestion = nearest.flatMap { editDistance(word, $0) <= max(2, $0.count / 3) ? "did you mean '\($0)'? " : nil } ?? ""
        throw .usage("unknown command '\(word)'; \(suggestion)the commands are \(names.joined(separator: ", "))")
    }

    /// Levenshtein distance, for suggesting a command.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }

    static func fail(_ message: String, code: Int32) -> Never {
        var line = message
        if line.hasPrefix("Error: ") { line.removeFirst("Error: ".count) }
        writeStandardError("csgb: \(line)\n")
        Glibc.exit(code)
    }
}

/// stderr without the C `stderr` global, which Swift 6 rejects as shared state.
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
}
