import Foundation
import GlossTestSupport
import Testing

/// Drives the built `glossd` and `gloss` binaries as processes, as a user would.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct BinaryEndToEndTests {
    static func gloss(_ args: [String], in dir: URL, env: [String: String] = [:]) async throws -> GlossProcesses.Result {
        try await GlossProcesses.gloss(args, in: dir, env: env)
    }

    @Test func annotatorsCloneAnnotateConflictResolveAndConverge() async throws {
        let dir = try TemporaryDirectory("e2e")
        defer { dir.remove() }
        let daemon = try await GlossDaemon(data: dir.url.appendingPathComponent("srv"))
        let admin = ["GLOSS_TOKEN": daemon.adminToken]

        #expect(try await Self.gloss(["corpus", "create", daemon.url, "news", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        let bob = try await daemon.addUser("bob")
        let vic = try await daemon.addUser("vic")
        #expect(try await Self.gloss(["corpus", "grant", daemon.url, "news", "bob", "annotator", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        #expect(try await Self.gloss(["corpus", "grant", daemon.url, "news", "vic", "viewer", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)

        // Without a pin and without a terminal, the client refuses and shows the fingerprint.
        let unpinned = try await Self.gloss(["clone", "\(daemon.url)/news", "x"], in: dir.url, env: admin)
        #expect(unpinned.status == 3)
        #expect(unpinned.err.contains(daemon.pin))

        let a = dir.url.appendingPathComponent("a"), b = dir.url.appendingPathComponent("b")
        #expect(try await Self.gloss(["clone", "\(daemon.url)/news", a.path, "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        let sample = GlossProcesses.sampleDocument
        #expect(try await Self.gloss(["doc", "add", sample.path, "--id", "fed"], in: a).status == 0)
        let added = try await Self.gloss(["span", "add", "fed", "1", "35", "TITLE"], in: a)
        #expect(added.status == 0)
        let spanID = added.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.gloss(["sync"], in: a).status == 0)

        #expect(try await Self.gloss(["clone", "\(daemon.url)/news", b.path, "--pin", daemon.pin, "--token", bob], in: dir.url).status == 0)
        let listed = try await Self.gloss(["annotations", "fed"], in: b)
        #expect(listed.out.contains("\"The Federation of Soviet Republics\""))

        // Both relabel the same span; the second to sync has a conflict (exit 1).
        #expect(try await Self.gloss(["span", "set", String(spanID.prefix(8)), "--label", "ORG"], in: a).status == 0)
        #expect(try await Self.gloss(["sync"], in: a).status == 0)
        #expect(try await Self.gloss(["span", "set", String(spanID.prefix(8)), "--label", "EVENT"], in: b).status == 0)
        #expect(try await Self.gloss(["sync"], in: b).status == 1)
        let conflicts = try await Self.gloss(["conflicts", "--json"], in: b)
        #expect(conflicts.status == 1)
        let conflict = try JSONSerialization.jsonObject(with: Data(conflicts.out.split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect(conflict["kind"] as? String == "field")
        let conflictID = conflict["id"] as! String
        #expect(try await Self.gloss(["resolve", String(conflictID.prefix(6)), "--value", "PER"], in: b).status == 0)
        #expect(try await Self.gloss(["sync"], in: b).status == 0)
        #expect(try await Self.gloss(["pull"], in: a).status == 0)
        let left = try await Self.gloss(["annotations", "--json"], in: a).out
        let right = try await Self.gloss(["annotations", "--json"], in: b).out
        #expect(left == right)
        #expect(left.contains("\"label\":\"PER\""))

        // A viewer's edit is refused with the auth/permission exit code, before it is recorded
        // (the workspace learnt its role at clone).
        let v = dir.url.appendingPathComponent("v")
        #expect(try await Self.gloss(["clone", "\(daemon.url)/news", v.path, "--pin", daemon.pin, "--token", vic], in: dir.url).status == 0)
        let refused = try await Self.gloss(["span", "add", "fed", "40", "50", "X"], in: v)
        #expect(refused.status == 4)
        #expect(refused.err.contains("viewer"))
        #expect(try await Self.gloss(["status"], in: v).out.contains("nothing to push"))

        // A wrong pin is refused loudly.
        let wrong = try await Self.gloss(["clone", "\(daemon.url)/news", "w", "--pin", "sha256:" + String(repeating: "0", count: 64)], in: dir.url, env: admin)
        #expect(wrong.status == 3)
        #expect(wrong.err.contains("CERTIFICATE HAS CHANGED"))

        #expect(await daemon.terminate() == 0)
    }
}
