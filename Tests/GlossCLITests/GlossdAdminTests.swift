import Foundation
import GlossTestSupport
import Testing

/// `glossd`'s admin commands as an admin runs them, through the real binary: a mistyped
/// `--data` is refused rather than given a new store, users and tokens are listed (never a
/// secret), a port in use is named, and the help reads as paragraphs with examples.
@Suite struct GlossdAdminTests {
    // MARK: A data directory without a store

    @Test func adminCommandsRefuseADirectoryWithoutAStoreAndCreateNothing() async throws {
        let dir = try TemporaryDirectory("admin-typo")
        defer { dir.remove() }
        let typo = dir.url.appendingPathComponent("srv-typo")
        let empty = dir.url.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let commands: [[String]] = [
            ["user", "add", "carol"], ["user", "add", "root", "--admin"], ["user", "list"], ["user", "list", "--json"],
            ["token", "issue", "carol"], ["token", "list"], ["token", "list", "carol", "--json"],
            ["token", "revoke", "3f9a0c12"],
        ]
        for data in [typo, empty] {
            for command in commands {
                let result = try await GlossProcesses.glossd(command + ["--data", data.path], in: dir.url)
                #expect(result.status == 1, "\(command): \(result.err)")
                // No token, nor anything else a script could take for output.
                #expect(result.out.isEmpty, "\(command): \(result.out)")
                #expect(result.err.contains("not-a-data-directory"), "\(command): \(result.err)")
                #expect(result.err.contains(data.path), "\(command): \(result.err)")
                #expect(result.err.contains("glossd serve --data \(data.path)"), "\(command): \(result.err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: typo.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
        // GLOSSD_DATA is held to the same rule.
        let viaEnvironment = try await GlossProcesses.glossd(["user", "add", "carol"], in: dir.url, env: ["GLOSSD_DATA": typo.path])
        #expect(viaEnvironment.status == 1 && viaEnvironment.err.contains(typo.path), "\(viaEnvironment.err)")
        #expect(!FileManager.default.fileExists(atPath: typo.path))
    }

    // MARK: Listings

    @Test func userAndTokenListsShowAccountsButNoSecret() async throws {
        let dir = try TemporaryDirectory("admin-lists")
        defer { dir.remove() }
        let daemon = try await GlossDaemon(data: dir.url.appendingPathComponent("srv"))
        let data = ["--data", daemon.data.path]
        func glossd(_ args: [String]) async throws -> GlossProcesses.Result {
            try await GlossProcesses.glossd(args + data, in: dir.url)
        }
        // Admin commands work on the store while the server runs.
        let alice = try await glossd(["user", "add", "alice"])
        let bob = try await glossd(["user", "add", "bob", "--admin"])
        let laptop = try await glossd(["token", "issue", "alice", "--label", "laptop"])
        for result in [alice, bob, laptop] { #expect(result.status == 0 && result.line.hasPrefix("gls_"), "\(result.err)") }
        let secrets = [daemon.adminToken, alice.line, bob.line, laptop.line]
        // A role, granted the way an admin does it, so that the listing has one to show.
        let admin = ["GLOSS_TOKEN": daemon.adminToken]
        #expect(try await GlossProcesses.gloss(["corpus", "create", daemon.url, "news", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        #expect(try await GlossProcesses.gloss(["corpus", "grant", daemon.url, "news", "alice", "curator", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)

        // Tokens: ids, never secrets. Revoke bob's by the id the listing gives.
        let bobsTokens = try await glossd(["token", "list", "bob", "--json"])
        #expect(bobsTokens.status == 0, "\(bobsTokens.err)")
        let bobsID = try #require(try bobsTokens.jsonLines().first?["id"] as? String)
        #expect(try bobsTokens.jsonLines().count == 1)
        #expect(try await glossd(["token", "revoke", bobsID]).out == "revoked \(bobsID)\n")

        let tokens = try await glossd(["token", "list", "--json"])
        let rows = try tokens.jsonLines()
        #expect(rows.count == 4)
        #expect(Set(rows.map { $0.keys.sorted() }) == [["created", "id", "label", "revoked", "user"]])
        #expect(rows.map { $0["user"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == ["admin", "alice", "alice", "bob"])
        let revoked = rows.filter { $0["revoked"] as? Bool == true }
        #expect(revoked.count == 1 && revoked.first?["id"] as? String == bobsID)
        #expect(rows.contains { $0["user"] as? String == "alice" && $0["label"] as? String == "laptop" })
        #expect(rows.allSatisfy { ($0["id"] as? String)?.count == 8 && ($0["created"] as? String)?.hasSuffix("Z") == true })

        let alicesTokens = try await glossd(["token", "list", "alice"])
        let alicesLines = alicesTokens.out.split(separator: "\n").map(String.init)
        #expect(alicesLines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["ID", "USER", "CREATED", "STATUS", "LABEL"])
        #expect(alicesLines.count == 3)
        #expect(alicesLines.dropFirst().allSatisfy { $0.contains("alice") && $0.contains("active") })
        #expect(alicesLines.contains { $0.hasSuffix("laptop") })
        let allTokens = try await glossd(["token", "list"])
        #expect(allTokens.out.split(separator: "\n").contains { $0.hasPrefix(bobsID) && $0.contains("revoked") }, "\(allTokens.out)")

        // Users: admin or not, roles, token counts.
        let users = try await glossd(["user", "list", "--json"])
        let byName = Dictionary(uniqueKeysWithValues: try users.jsonLines().map { ($0["name"] as? String ?? "?", $0) })
        #expect(byName.keys.sorted() == ["admin", "alice", "bob"])
        #expect(byName["alice"]?["admin"] as? Bool == false)
        #expect(byName["alice"]?["tokens"] as? Int == 2)
        #expect(byName["alice"]?["revokedTokens"] as? Int == 0)
        let grants = byName["alice"]?["corpora"] as? [[String: String]]
        #expect(grants == [["corpus": "news", "role": "curator"]])
        #expect(byName["bob"]?["admin"] as? Bool == true)
        #expect(byName["bob"]?["tokens"] as? Int == 0)
        #expect(byName["bob"]?["revokedTokens"] as? Int == 1)
        #expect(byName["admin"]?["tokens"] as? Int == 1)
        // The admin created the corpus, so owns it by grant as well as by being admin.
        #expect(byName["admin"]?["corpora"] as? [[String: String]] == [["corpus": "news", "role": "owner"]])

        let table = try await glossd(["user", "list"])
        let lines = table.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ") == ["NAME", "ADMIN", "TOKENS", "CREATED", "CORPORA"])
        let aliceLine = try #require(lines.first { $0.hasPrefix("alice ") })
        #expect(aliceLine.contains(" no ") && aliceLine.hasSuffix("news (curator)"), "\(aliceLine)")
        let bobLine = try #require(lines.first { $0.hasPrefix("bob ") })
        #expect(bobLine.contains(" yes ") && bobLine.contains("0 (+1 revoked)") && bobLine.hasSuffix("all, as admin"), "\(bobLine)")

        // No listing shows a secret, or anything shaped like one.
        for result in [bobsTokens, tokens, alicesTokens, allTokens, users, table] {
            for secret in secrets { #expect(!result.out.contains(secret) && !result.err.contains(secret)) }
            #expect(!result.out.contains("gls_"))
        }
        let unknown = try await glossd(["token", "list", "zed"])
        #expect(unknown.status == 1 && unknown.err.contains("unknown-user") && unknown.err.contains("zed"), "\(unknown.err)")
        #expect(await daemon.terminate() == 0)
    }

    // MARK: Ports in use

    @Test func aSecondGlossdOnTheSamePortNamesTheAddress() async throws {
        let dir = try TemporaryDirectory("admin-port")
        defer { dir.remove() }
        let first = try await GlossDaemon(data: dir.url.appendingPathComponent("srv"))
        let other = dir.url.appendingPathComponent("other")
        let second = try await GlossProcesses.glossd(
            ["serve", "--data", other.path, "--listen", "127.0.0.1:\(first.port)", "--metrics-listen", "off"], in: dir.url)
        #expect(second.status == 1)
        #expect(
            second.err.contains(
                "cannot listen on 127.0.0.1:\(first.port): address already in use; is another glossd running? change --listen"),
            "\(second.err)")
        #expect(!second.out.contains("listening on"))
        // Refused before anything was created: no store, certificate or admin token.
        #expect(!FileManager.default.fileExists(atPath: other.path))
        #expect(first.process.isRunning)
        #expect(await first.terminate() == 0)
    }

    @Test func aMetricsPortInUseIsNamedToo() async throws {
        let dir = try TemporaryDirectory("admin-metrics-port")
        defer { dir.remove() }
        let first = try await GlossDaemon(
            data: dir.url.appendingPathComponent("srv"), environment: ["GLOSSD_METRICS_LISTEN": "127.0.0.1:0"])
        let said = first.startupOutput
        let metricsPort = try #require(
            said.range(of: #"http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression)
                .flatMap { Int(said[$0].dropFirst("http://127.0.0.1:".count).dropLast()) })
        let other = dir.url.appendingPathComponent("other")
        let second = try await GlossProcesses.glossd(
            ["serve", "--data", other.path, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:\(metricsPort)"],
            in: dir.url)
        #expect(second.status == 1)
        #expect(
            second.err.contains(
                "cannot listen for metrics on 127.0.0.1:\(metricsPort): address already in use; is another glossd running? change --metrics-listen"),
            "\(second.err)")
        #expect(!second.out.contains("listening on"))
        #expect(!FileManager.default.fileExists(atPath: other.path))
        #expect(await first.terminate() == 0)
    }

    // MARK: Help

    /// Every command's help, found by walking the SUBCOMMANDS sections from the root, so a new
    /// command is checked without being listed here.
    @Test func everyCommandsHelpIsParagraphsWithExamples() async throws {
        let dir = try TemporaryDirectory("admin-help")
        defer { dir.remove() }
        var pending: [[String]] = [[]]
        var seen: [[String]] = []
        while let path = pending.popLast() {
            seen.append(path)
            // 80 columns whatever terminal runs the suite (ArgumentParser reads COLUMNS).
            let help = try await GlossProcesses.glossd(["help"] + path, in: dir.url, env: ["COLUMNS": "80"])
            let name = (["glossd"] + path).joined(separator: " ")
            #expect(help.status == 0, "\(name): \(help.err)")
            pending += Self.subcommands(in: help.out).map { path + [$0] }
            #expect(help.out.contains("\nExamples:\n  "), "\(name) has no examples")
            for problem in Self.raggedLines(in: help.out) {
                Issue.record("\(name): \(problem)")
            }
        }
        // The walk found the commands this suite is about.
        for command in [["serve"], ["user", "add"], ["user", "list"], ["token", "issue"], ["token", "list"], ["token", "revoke"]] {
            #expect(seen.contains(command), "\(command)")
        }
    }

    /// The names listed under SUBCOMMANDS: (ArgumentParser's `help` itself is not listed).
    static func subcommands(in help: String) -> [String] {
        guard let section = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.isEmpty }
            .compactMap { line -> String? in
                // "  name   abstract": a name at two spaces; wrapped abstracts are indented further.
                guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
                return line.split(separator: " ").first.map(String.init)
            }
    }

    /// Lines of the overview and discussion (everything before USAGE:) that read as fragments
    /// of a hard-wrapped paragraph: a line that the next line of its paragraph continues but
    /// that is much shorter than the 80 columns ArgumentParser fills; a line over 80 columns;
    /// and in an Examples: block, a line that is not an indented example (a wrapped one).
    static func raggedLines(in help: String) -> [String] {
        let text = help.range(of: "\nUSAGE:").map { String(help[..<$0.lowerBound]) } ?? help
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var problems: [String] = []
        var inExamples = false
        for (index, line) in lines.enumerated() {
            let next = index + 1 < lines.count ? lines[index + 1] : ""
            if line.count > 80 { problems.append("longer than 80 columns: \(line)") }
            if line.isEmpty {
                inExamples = false
                continue
            }
            if line == "Examples:" {
                inExamples = true
                continue
            }
            if inExamples {
                if !line.hasPrefix("  ") { problems.append("a wrapped example: \(line)") }
                continue
            }
            if !line.hasPrefix(" "), !next.isEmpty, !next.hasPrefix(" "), line.count < 50 {
                problems.append("a ragged line (\(line.count) columns) the next continues: \(line)")
            }
        }
        return problems
    }
}
