import Foundation
import GlossTestSupport
import Testing

/// Manners a git user expects of `gloss`: help that reads well with examples, --version,
/// "did you mean", -q everywhere, a pager on a terminal, progress in bytes, a span in its
/// context, and label colours that do not collide and are named inline.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct TerminalMannersTests {
    /// Every command path: the root's subcommands and their subcommands, from the help itself.
    static func commands(in dir: URL) async throws -> [[String]] {
        func subcommands(_ path: [String]) async throws -> [String] {
            let help = try await GlossProcesses.gloss(["help"] + path, in: dir, env: ["COLUMNS": "80"]).out
            guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
            return section.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first else { return nil }
                return String(word)
            }.filter { $0 != "help" && $0.first?.isLowercase == true }
        }
        var out: [[String]] = []
        for top in try await subcommands([]) {
            out.append([top])
            for sub in try await subcommands([top]) { out.append([top, sub]) }
        }
        return out
    }

    @Test func everyCommandsHelpIsParagraphsWithExamples() async throws {
        let dir = try TemporaryDirectory("help")
        defer { dir.remove() }
        let commands = try await Self.commands(in: dir.url)
        #expect(commands.count > 30, "\(commands)")
        for command in commands {
            let help = try await GlossProcesses.gloss(["help"] + command, in: dir.url, env: ["COLUMNS": "80"]).out
            #expect(help.contains("Example"), "gloss \(command.joined(separator: " ")) has no examples")
            // The discussion: between the overview and USAGE. A line that wraps onto a next
            // prose line must be nearly full; a short one followed by more prose is ragged.
            let body = help.components(separatedBy: "USAGE:").first ?? ""
            let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (line, next) in zip(lines, lines.dropFirst()) {
                let prose = !line.hasPrefix(" ") && !next.hasPrefix(" ") && !next.isEmpty && !line.isEmpty
                    && !line.hasSuffix(":") && !next.hasSuffix(":")
                if prose {
                    #expect(line.count >= 55, "ragged help in gloss \(command.joined(separator: " ")): \"\(line)\" then \"\(next)\"")
                }
            }
        }
    }

    @Test func versionSuggestionsAndQuietEverywhere() async throws {
        let f = try await CLIFixture("manners")
        try await f.addSample()
        let version = try await f.ok(["--version"])
        #expect(version.line.split(separator: ".").count == 3, "\(version.out)")
        #expect(try await GlossProcesses.glossd(["--version"], in: f.a).line == version.line)
        let typo = try await f.gloss(["stauts"])
        #expect(typo.status == 2 && typo.err.contains("status"), "\(typo.err)")
        // -q is accepted by every command that runs (not refused as unknown).
        for args in [["status"], ["docs"], ["annotations"], ["log"], ["diff"], ["blame", "fed"], ["show", "fed"], ["conflicts"], ["sync"], ["pull"], ["push"]] {
            let r = try await f.gloss(args + ["-q"])
            #expect(r.status == 0, "gloss \(args.joined(separator: " ")) -q: \(r.err)")
        }
    }

    @Test func progressCountsBytesAndListingsUseAPagerOnATerminal() async throws {
        let f = try await CLIFixture("pager")
        try await f.addSample()
        let span = try await f.ok(["span", "add", "fed", "66", "72", "LOC"]).line
        try await f.ok(["span", "add", "fed", "1", "35", "TITLE"])
        try await f.ok(["sync"])

        // Piped progress: a line per tenth, with the bytes received and the rate.
        let clone = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/news", "b", "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(clone.err.range(of: #"clone: ([0-9]+)/\1 \(100%\), [0-9.]+ (B|kB) \([0-9.]+ (B|kB|MB)/s\)"#, options: .regularExpression) != nil, "\(clone.err)")

        // On a terminal (script gives a pseudo-terminal), log goes through the pager.
        let workspace = f.a
        let script = try await GlossProcesses.onOwnThread {
            try Self.runInTerminal("\(GlossProcesses.products.path)/gloss log", in: workspace, env: ["GLOSS_PAGER": "sed s/^/PAGED:/"])
        }
        #expect(script.contains("PAGED:r3"), "\(script)")
        let unpaged = try await GlossProcesses.onOwnThread {
            try Self.runInTerminal("\(GlossProcesses.products.path)/gloss log --no-pager", in: workspace, env: ["GLOSS_PAGER": "sed s/^/PAGED:/"])
        }
        #expect(!unpaged.contains("PAGED:") && unpaged.contains("r3"), "\(unpaged)")
        // Piped, never.
        #expect(!(try await f.ok(["log"], env: ["GLOSS_PAGER": "sed s/^/PAGED:/"]).out.contains("PAGED")))

        // A span in its context: the lines around it, numbered, the span marked.
        let context = try await f.ok(["show", "fed", "--span", String(span.prefix(6)), "--context", "1"]).out
        #expect(context.contains("> 4 | Interview with *Inprecorr*, [[Moscow]], circa"), "\(context)")
        #expect(context.hasPrefix("fed:4: LOC 66-72"), "\(context)")

        // Colours: one per label, and each label named after its span.
        let colored = try await f.ok(["show", "fed"], env: ["NO_COLOR": "", "GLOSS_COLOR": "always"]).out
        let codes = Set(colored.matches(of: /\u{1B}\[([0-9;]+)m(Moscow|The Federation)/).map { String($0.output.1) })
        #expect(codes.count == 2, "\(colored.debugDescription)")
        #expect(colored.contains("[LOC]") && colored.contains("[TITLE]"))
    }

    /// Runs a shell command under `script`, which gives it a pseudo-terminal, and returns what
    /// it printed (with carriage returns removed).
    static func runInTerminal(_ command: String, in dir: URL, env: [String: String]) throws -> String {
        // script -q writes nothing of its own: what the terminal showed is its standard output.
        let result = try GlossProcesses.runBlocking(
            URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"], in: dir,
            env: env.merging(["TERM": "dumb"]) { a, _ in a })
        return (result.out + result.err).replacingOccurrences(of: "\r", with: "")
    }
}
