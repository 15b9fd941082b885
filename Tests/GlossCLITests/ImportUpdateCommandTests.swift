import Foundation
import GlossTestSupport
import Testing

/// `gloss import` into documents that exist updates them (issue 14, point 1), through the binaries.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ImportUpdateCommandTests {
    static let news = SharedData.root.appendingPathComponent("data/brat-example-data/tutorials/news")

    /// One `.ann` file with `edit` applied to its lines.
    static func edit(_ file: URL, _ edit: (inout [String]) -> Void) throws {
        var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
        edit(&lines)
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    }

    static func annotations(_ f: CLIFixture) async throws -> [[String: Any]] {
        try await f.ok(["annotations", "--json"]).jsonLines()
    }

    @Test func bratExportEditImportIsAnUpdateNotACopy() async throws {
        let f = try await CLIFixture("brat-update")
        let first = try await f.ok(["import", "brat", Self.news.path])
        #expect(first.out.contains("imported: 183 created, 0 changed, 0 deleted, 0 unchanged on 13 document(s) (13 new)"))
        let out = f.directory.url.appendingPathComponent("out")
        try await f.ok(["export", "brat", out.path])

        // The files as exported: nothing to do.
        let same = try await f.ok(["import", "brat", out.path])
        #expect(same.out.contains("imported: 0 created, 0 changed, 0 deleted, 183 unchanged on 13 document(s)"), "\(same.out)")
        #expect(same.out.contains("nothing to record"))

        // One label changed in one file (T7 Switzerland: GPE → Organization).
        let ann = out.appendingPathComponent("000-introduction.ann")
        try Self.edit(ann) { lines in
            let i = lines.firstIndex { $0.hasPrefix("T7\tGPE ") }!
            lines[i] = lines[i].replacingOccurrences(of: "T7\tGPE ", with: "T7\tOrganization ")
        }
        let before = try await Self.annotations(f)
        let switzerland = try #require(before.first { $0["label"] as? String == "GPE" && $0["text"] as? String == "Switzerland" })

        let dry = try await f.ok(["import", "brat", out.path, "--dry-run"])
        #expect(dry.out.contains("would import: 0 created, 1 changed, 0 deleted, 182 unchanged"), "\(dry.out)")
        #expect(dry.out.contains("nothing recorded"))
        #expect(try await Self.annotations(f).first { $0["id"] as? String == switzerland["id"] as? String }?["label"] as? String == "GPE")

        let update = try await f.ok(["import", "brat", out.path])
        #expect(update.out.contains("imported: 0 created, 1 changed, 0 deleted, 182 unchanged"), "\(update.out)")
        let after = try await Self.annotations(f)
        #expect(after.count == 183)
        // The same annotation, by id, now an Organization.
        #expect(after.first { $0["id"] as? String == switzerland["id"] as? String }?["label"] as? String == "Organization")
        #expect(try await f.ok(["import", "brat", out.path]).out.contains("0 changed, 0 deleted, 183 unchanged"))

        // A relation removed from the file is deleted.
        try Self.edit(ann) { lines in lines.removeAll { $0.hasPrefix("R2\tOrigin ") } }
        let removed = try await f.ok(["import", "brat", out.path])
        #expect(removed.out.contains("imported: 0 created, 0 changed, 1 deleted, 182 unchanged"), "\(removed.out)")
        #expect(try await Self.annotations(f).count == 182)

        // Pushed and pulled by another annotator: one relation fewer, the label changed, no copies.
        try await f.ok(["sync"])
        let bob = try await f.annotator("bob", role: "viewer")
        let bobs = try await f.ok(["annotations", "--json"], in: bob).jsonLines()
        #expect(bobs.count == 182)

        // --add-only is the old behaviour: everything again, as new annotations.
        let copies = try await f.ok(["import", "brat", out.path, "--add-only"])
        #expect(copies.out.contains("imported: 182 created"), "\(copies.out)")
        #expect(try await Self.annotations(f).count == 364)
    }

    @Test func aFileWithProblemsDeletesNothing() async throws {
        let f = try await CLIFixture("brat-update-problems")
        try await f.ok(["import", "brat", Self.news.path])
        let out = f.directory.url.appendingPathComponent("out")
        try await f.ok(["export", "brat", out.path])
        // A span line removed, and another line broken: the broken one is reported and skipped,
        // so nothing missing from this file is taken as deleted.
        try Self.edit(out.appendingPathComponent("000-introduction.ann")) { lines in
            lines.removeAll { $0.hasPrefix("N1\t") }
            let i = lines.firstIndex { $0.hasPrefix("T7\t") }!
            lines[i] = "T7\tGPE 549 oops\tSwitzerland"
        }
        let result = try await f.ok(["import", "brat", out.path])
        #expect(result.err.contains("000-introduction.ann"), "\(result.err)")
        #expect(result.out.contains("0 deleted"), "\(result.out)")
        #expect(result.out.contains("kept annotations the files no longer hold in 1 document(s) whose files had problems"))
        #expect(try await Self.annotations(f).count == 183)
    }

    @Test func w3cIdsCarryIdentityThroughALabelChange() async throws {
        let f = try await CLIFixture("w3c-update")
        let dir = try await f.sampleExportedAsW3C()
        let file = try #require(FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).first)
        let json = try String(contentsOf: file, encoding: .utf8)
        #expect(json.contains("\"PER\""))
        try json.replacingOccurrences(of: "\"PER\"", with: "\"ORG\"").write(to: file, atomically: true, encoding: .utf8)
        let before = try await Self.annotations(f).first { $0["label"] as? String == "PER" }
        let result = try await f.ok(["import", "w3c", dir.path])
        #expect(result.out.contains("imported: 0 created, 1 changed, 0 deleted, 1 unchanged"), "\(result.out)")
        let after = try await Self.annotations(f)
        #expect(after.count == 2)
        #expect(after.first { $0["id"] as? String == before?["id"] as? String }?["label"] as? String == "ORG")
    }
}
