import Foundation
import GlossTestSupport

/// A server with a corpus `news`, an admin workspace `a` holding the sample document `fed`,
/// and helpers to run `gloss` in it: the set-up most end-to-end tests share.
final class CLIFixture {
    let directory: TemporaryDirectory
    let daemon: GlossDaemon
    let admin: [String: String]
    /// The admin's workspace.
    let a: URL

    init(_ name: String, schema: String? = nil) async throws {
        directory = try TemporaryDirectory(name)
        daemon = try await GlossDaemon(data: directory.url.appendingPathComponent("srv"))
        admin = ["GLOSS_TOKEN": daemon.adminToken]
        var create = ["corpus", "create", daemon.url, "news", "--pin", daemon.pin]
        if let schema {
            let file = directory.url.appendingPathComponent("schema.json")
            try Data(schema.utf8).write(to: file)
            create += ["--schema", file.path]
        }
        try Self.expectOK(await GlossProcesses.gloss(create, in: directory.url, env: admin), create)
        a = directory.url.appendingPathComponent("a")
        try Self.expectOK(
            await GlossProcesses.gloss(["clone", "\(daemon.url)/news", a.path, "--pin", daemon.pin], in: directory.url, env: admin),
            ["clone"])
    }

    /// Adds the sample document as `fed` and syncs.
    func addSample() async throws {
        try await ok(["doc", "add", GlossProcesses.sampleDocument.path, "--id", "fed"])
        try await ok(["sync"])
    }

    /// The sample with a TITLE span and a PER span (with an attribute), exported as W3C
    /// JSON-LD into a directory, which it returns.
    func sampleExportedAsW3C() async throws -> URL {
        try await addSample()
        try await ok(["span", "add", "fed", "1", "35", "TITLE"])
        try await ok(["span", "add", "fed", "86", "95", "PER", "--attr", "role=author"])
        let w3c = directory.url.appendingPathComponent("w3c")
        try await ok(["export", "w3c", w3c.path])
        return w3c
    }

    /// Adds a user with a role on `news` and clones a workspace for them; returns its directory.
    func annotator(_ name: String, role: String = "annotator") async throws -> URL {
        let token = try await daemon.addUser(name)
        try Self.expectOK(
            await GlossProcesses.gloss(
                ["corpus", "grant", daemon.url, "news", name, role, "--pin", daemon.pin], in: directory.url, env: admin),
            ["grant"])
        let dir = directory.url.appendingPathComponent(name)
        try Self.expectOK(
            await GlossProcesses.gloss(
                ["clone", "\(daemon.url)/news", dir.path, "--pin", daemon.pin, "--token", token], in: directory.url),
            ["clone", name])
        return dir
    }

    /// Runs gloss in `dir` (default: the admin's workspace).
    @discardableResult
    func gloss(_ args: [String], in dir: URL? = nil, env: [String: String] = [:], input: String? = nil) async throws
        -> GlossProcesses.Result
    {
        try await GlossProcesses.gloss(args, in: dir ?? a, env: env, input: input)
    }

    /// Runs gloss and requires exit status 0.
    @discardableResult
    func ok(_ args: [String], in dir: URL? = nil, env: [String: String] = [:], input: String? = nil) async throws
        -> GlossProcesses.Result
    {
        try Self.expectOK(await gloss(args, in: dir, env: env, input: input), args)
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var args: [String]
        var result: GlossProcesses.Result
        var description: String { "gloss \(args.joined(separator: " ")) exited \(result.status): \(result.err)" }
    }

    @discardableResult
    static func expectOK(_ result: GlossProcesses.Result, _ args: [String]) throws -> GlossProcesses.Result {
        guard result.status == 0 else { throw CommandFailed(args: args, result: result) }
        return result
    }

    deinit {
        daemon.process.terminateAndWait()
        directory.remove()
    }
}
