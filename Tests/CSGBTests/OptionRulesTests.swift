import Foundation
import Testing
@testable import CSGB

/// The option table: one rule per option, every mode option asked of the modes, and
/// every rule's refusal as a user meets it (one line, exit 64, nothing started).
@Suite struct OptionRulesTests {
    @Test func everyOptionHasOneRuleAndEveryModeOptionIsAskedOfTheModes() {
        #expect(OptionRules.declarationProblems(OptionRules.all) == [])
    }

    /// The check itself: a table with an option twice and a mode option without its
    /// rule is caught, each by name.
    @Test func theDeclarationCheckCatchesATwiceDeclaredOptionAndAMissingModeRule() {
        let broken = OptionRules.all.filter { $0.name != "--latency" } + [OptionRules.stride]
        let problems = OptionRules.declarationProblems(broken)
        #expect(problems.contains("--stride is declared more than once"), "\(problems)")
        #expect(problems.contains("--latency has 0 rules asking the mode (one expected)"), "\(problems)")
        #expect(problems.count == 2, "\(problems)")
    }

    /// The help of a mode option is made from the modes' own refusals.
    @Test func helpNamesTheModesFromTheirTraits() {
        let taking = Mode.allCases.filter { $0.refusal(.stackSize) == nil }.map(\.rawValue)
        #expect(taking.count == 1)
        #expect(OptionRules.stackSize.help("x").hasPrefix("With --mode \(taking[0]): x"), "\(OptionRules.stackSize.help("x"))")
        let refusing = Mode.allCases.filter { $0.refusal(.latency) != nil }.map(\.rawValue)
        #expect(OptionRules.latency.help("x") == "x Not with --mode \(refusing.joined(separator: ", ")).")
        #expect(OptionRules.ringEntries.help("x") == "With --io uring: x")
    }

    /// Every option's mode facts in `csgb info` come from the same rules the run uses.
    @Test func modeFactsAreTheRunsRefusals() {
        for mode in Mode.allCases {
            let facts = OptionRules.modeFacts(mode)
            #expect(Set(facts.map(\.option)).isSuperset(of: ModeOption.allCases.map(\.rawValue)))
            for option in ModeOption.allCases {
                #expect(facts.first { $0.option == option.rawValue }?.refusal == mode.refusal(option))
            }
        }
    }

    /// Each rule's refusal as a user meets it: the command and the words of its line.
    static let refusals: [([String], String)] = [
        // Applies with --io uring only.
        (["socket", "1", "--ring-entries", "8"], "--ring-entries applies to --io uring only: --io direct has no ring"),
        (["socket", "1", "--sqpoll"], "--sqpoll applies to --io uring only: --io direct has no ring"),
        (["socket", "1", "--fixed-files"], "--fixed-files applies to --io uring only: --io direct has no ring"),
        (["socket", "1", "--ring-setup", "none"], "--ring-setup applies to --io uring only: --io direct has no ring"),
        (["socket", "1", "--ring-link"], "--ring-link applies to --io uring only: --io direct has no ring"),
        (["socket", "1", "--no-ring-link"], "--no-ring-link applies to --io uring only: --io direct has no ring"),
        // Applies with --work-size.
        (["socket", "1", "--stride", "128"], "--stride applies to --work-size: without a work size nothing is touched"),
        (["socket", "1", "--access", "li"], "--access applies to --work-size: without a work size nothing is touched"),
        (["socket", "1", "--work-size", "4100", "--access", "li"],
         "--access li visits 8-byte words, so --work-size must be a multiple of 8 (got 4100)"),
        // Needs --cpus.
        (["socket", "1", "--pin", "each"], "--pin each needs --cpus LIST"),
        (["socket", "1", "--counters", "cpu"], "--counters cpu counts the CPUs the run is pinned to: give them with --cpus LIST"),
        // Asked of the mode (its traits).
        (["socket", "1", "--mode", "process", "--latency"],
         "--latency is not available with --mode process: each actor's histogram would live in its own process"),
        (["socket", "1", "--mode", "process", "--workers", "2"],
         "--workers applies to modes with workers; --mode process runs one process per actor"),
        (["socket", "1", "--workers", "2"], "--workers applies to modes with workers; --mode thread runs one kernel thread per actor"),
        (["socket", "1", "--mode", "green", "--executor", "global"],
         "--executor chooses the executor of Swift tasks; --mode green runs none"),
        (["socket", "1", "--mode", "process", "--counters"],
         "--counters counts csgb's own threads and getrusage, and the actors of --mode process are other processes"),
        (["socket", "1", "--mode", "async", "--executor", "global", "--sched", "batch"],
         "--sched sets the threads that carry actors, and this run's actors also run on threads csgb does not own"),
        (["socket", "1", "--mode", "async", "--executor", "global", "--spec", "ssbd"],
         "--spec sets the threads that carry actors, and this run's actors also run on threads csgb does not own"),
        (["socket", "1", "--mode", "async", "--executor", "global", "--cpus", "0", "--counters", "cpu"],
         "--counters cpu needs every thread of the run pinned"),
        (["socket", "2", "--mode", "green", "--workers", "3"],
         "--workers 3 is more than the 2 pairs to spread over them; at most 2 (the others would sit idle)"),
        // The plan's rules.
        (["yield", "1", "--io", "uring"], "--io uring puts reads and writes on a ring, and yield makes none"),
        (["socket", "1", "--mode", "async", "--executor", "global", "--io", "uring"],
         "--io uring needs worker threads the run owns to carry its rings"),
        (["yield", "1", "--syscalls", "send-recv"], "--syscalls applies to workloads that move bytes; yield makes no read or write"),
        (["socket", "1", "--transport", "pipe", "--syscalls", "send-recv"], "--syscalls send-recv needs a socket"),
        (["socket", "1", "--io", "uring", "--ring-link"], "--ring-link: --mode thread gives each actor its own ring"),
        (["socket", "1", "--mode", "green", "--io", "uring", "--ring-link", "--sqpoll"], "--ring-link with --sqpoll: linked"),
        (["socket", "1", "--inject-cold-work"], "--inject-cold-work evicts the work buffer, and there is none: give --work-size"),
        (["socket", "1", "--stack-size", "64K"], "--stack-size sets green thread stacks; --mode thread has none"),
    ]

    /// Every rule that can refuse an option given has its message among `refusals`:
    /// a rule added to the table without a test of its words fails here.
    @Test func everyRefusingRuleHasItsMessageTested() {
        for rule in OptionRules.all where !rule.needs.isEmpty || rule.given != nil || rule.plan != nil {
            let tested = Self.refusals.contains { arguments, message in
                rule.names.contains { name in arguments.contains(name) && message.hasPrefix(name) }
            }
            #expect(tested, "\(rule.name) refuses, and no test checks its message")
        }
    }

    @Test(arguments: OptionRulesTests.refusals)
    func eachRuleSaysWhatIsWrong(arguments: [String], message: String) throws {
        let result = try CSGBProcess.run(arguments + ["-d", "0.1"], timeout: 20)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(arguments): \(result.stderr)")
        #expect(lines.first?.hasPrefix("csgb: ") == true && result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }
}
