import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// The file-system edge: listing documents, finding the configuration brat would use, bytes in and out.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratDirectoryTests {
    @Test func listsReadsWritesAndFindsTheConfiguration() throws {
        let tmp = try TemporaryDirectory("brat-dir")
        defer { tmp.remove() }
        let dir = BratDirectory(tmp.url)
        try dir.write(Data("[entities]\nPerson\n".utf8), to: "annotation.conf")
        try dir.write(Data("T1\tPerson 0 5\tAlice\n".utf8), to: "a/b/doc1.ann")
        try dir.write(Data("Alice".utf8), to: "a/b/doc1.txt")
        try dir.write(Data("".utf8), to: "a/doc0.ann")
        try dir.write(Data("[entities]\nOrg\n".utf8), to: "a/annotation.conf")
        #expect(try dir.documents() == ["a/b/doc1", "a/doc0"])
        #expect(try dir.configurations() == ["a/annotation.conf", "annotation.conf"])
        // The nearest configuration up the tree.
        #expect(dir.configuration(for: "a/b/doc1") == "a/annotation.conf")
        #expect(dir.configuration(for: "top") == "annotation.conf")
        #expect(try dir.read("a/b/doc1.txt") == Data("Alice".utf8))
        do {
            _ = try dir.read("a/doc0.txt")
            Issue.record("read a missing file")
        } catch {
            #expect(error.code == .fileUnreadable && error.file == "a/doc0.txt")
        }
        // A folder without any configuration.
        let bare = try TemporaryDirectory("brat-bare")
        defer { bare.remove() }
        #expect(BratDirectory(bare.url).configuration(for: "x/doc") == nil)
    }

    @Test func exampleDataLayout() throws {
        let examples = BratFixtures.examples
        #expect(try examples.configurations().count == 4)
        #expect(examples.configuration(for: "corpora/TDT/b105") == "corpora/TDT/annotation.conf")
    }
}
