import Foundation
import GlossBenchCorpus
import GlossClient
import GlossModel
import GlossStore
import GlossStoreSQLite

// The workspace the commands are timed in: the storage benchmark's synthetic corpus written
// straight into a glossd data directory (no network), served by the real glossd, cloned by the
// real gloss, then given pending edits of every kind spread over the documents.

struct Options {
    var seed: UInt64 = 42
    var documents = 1_000
    var annotations = 500_000
    /// Revisions of edits on the server after the import, so the replica has a history.
    var serverEdits = 1_000
    /// Pending changesets (one edit each, as `gloss span …` makes them) in the workspace.
    var pending = 1_000
    var runs = 5
    var dir: String?
    var keep = false
    var jsonOut: String?
    var git = true
    /// Where gloss and glossd are (default: next to this executable).
    var bin: String?

    static let usage = """
        usage: gloss-local-bench [--documents 1000] [--annotations 500000] [--server-edits 1000]
                                 [--pending 1000] [--runs 5] [--seed 42] [--dir PARENT] [--keep]
                                 [--json-out FILE] [--no-git] [--bin DIR]
        """
}

/// What the timed commands work on, and what the setup cost.
struct Prepared {
    var workspace: URL
    var user: String
    /// Unique id prefixes of annotations in the replica for `span set`, and others for `span rm`.
    var setTargets: [String]
    var removeTargets: [String]
    /// `span add DOC START END LABEL` arguments.
    var addTargets: [[String]]
    /// A document for `show` and `annotations --doc`.
    var document: String
    /// Documents the pending edits touch (the git baseline modifies the same files).
    var pendingDocuments: [DocumentID]
    var figures: [String: Double]
}

enum Setup {
    static let corpus = "bench"
    static let user = "kim"

    static func run(_ o: Options, work: URL, gloss: String, glossd: String) throws -> (Prepared, Daemon) {
        let clock = ContinuousClock()
        var figures: [String: Double] = [:]
        let data = work.appendingPathComponent("server")
        try FileManager.default.createDirectory(
            at: data.appendingPathComponent("corpora"), withIntermediateDirectories: true)

        // The corpus file first: glossd opens it when the corpus is created below.
        var t0 = clock.now
        var gen = Generator(seed: o.seed, documents: o.documents, annotations: o.annotations)
        let head = try buildCorpus(
            &gen, path: data.appendingPathComponent("corpora/\(corpus).sqlite").path, edits: o.serverEdits)
        figures["buildSeconds"] = seconds(clock.now - t0)
        log("corpus: \(o.documents) documents, \(o.annotations) annotations, head revision \(head)")

        let daemon = try Daemon(glossd: glossd, data: data)
        let pinned = ["--pin", daemon.pin]
        try Child.ok(gloss, ["corpus", "create", daemon.url, corpus, "--token", daemon.adminToken] + pinned, in: work.path)
        let token = try Child.ok(glossd, ["user", "add", user, "--data", data.path], in: work.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try Child.ok(
            gloss, ["corpus", "grant", daemon.url, corpus, user, "annotator", "--token", daemon.adminToken] + pinned,
            in: work.path)

        let workspace = work.appendingPathComponent("ws")
        let clone = try Child.run(
            gloss, ["clone", "\(daemon.url)/\(corpus)", workspace.path, "--token", token] + pinned, in: work.path)
        guard clone.status == 0 else { throw BenchError("clone failed: \(clone.stderr)") }
        figures["cloneSeconds"] = clone.wallSeconds
        figures["clonePeakRSS"] = Double(clone.peakRSS)
        log(String(format: "cloned in %.2f s, peak %.0f MB", clone.wallSeconds, Double(clone.peakRSS) / 1e6))

        t0 = clock.now
        let w = try Workspace.open(containing: workspace)
        var touched = Set<DocumentID>()
        var changesets: [Changeset] = []
        let base = try w.replica.headRevision()
        try w.mintingIDs { mint in
            for k in 0..<o.pending {
                let doc = gen.pickDocument()
                touched.insert(doc.id)
                changesets.append(
                    Changeset(
                        author: user, replica: ReplicaID(w.config.replica), base: base,
                        timestamp: 1_800_000_000 + Int64(k), ops: [pendingEdit(doc, &gen.rng, mint: mint)]))
            }
        }
        try w.replacePending(changesets)
        figures["pendingWriteSeconds"] = seconds(clock.now - t0)

        // The targets of the timed edits, chosen so that every run of every command is valid.
        var setTargets: [String] = []
        var removeTargets: [String] = []
        var addTargets: [[String]] = []
        for _ in 0..<o.runs {
            let a = gen.docs[gen.rng.below(gen.docs.count)]
            setTargets.append(String(a.live[gen.rng.below(a.live.count)].description.prefix(8)))
            let b = gen.docs[gen.rng.below(gen.docs.count)]
            let gone = b.live[gen.rng.below(b.live.count)]
            b.removeLive(gone)
            removeTargets.append(String(gone.description.prefix(8)))
            let c = gen.docs[gen.rng.below(gen.docs.count)]
            let range = c.randomRanges(&gen.rng)[0]
            addTargets.append([c.id.rawValue, String(range.start), String(range.end), Labels.label(&gen.rng)])
        }
        let shown = gen.docs[gen.hotOrder[0]].id.rawValue
        return (
            Prepared(
                workspace: workspace, user: user, setTargets: setTargets, removeTargets: removeTargets,
                addTargets: addTargets, document: shown, pendingDocuments: touched.sorted(), figures: figures),
            daemon
        )
    }

    /// The import (one changeset per document) and `edits` edit revisions, appended in batches
    /// as a server accepts them; every outcome is checked.
    static func buildCorpus(_ gen: inout Generator, path: String, edits: Int) throws -> Int {
        let store = try CorpusStore.sqlite(path: path)
        var revision = 0
        func append(_ batch: [Changeset]) throws {
            for (i, outcome) in try store.append(batch: batch).enumerated()
            where outcome != .accepted(revision: revision + 1 + i) {
                throw BenchError("changeset \(revision + 1 + i) of the build: \(outcome)")
            }
            revision += batch.count
        }
        while revision < gen.documentCount {
            let n = min(50, gen.documentCount - revision)
            let first = revision + 1
            try append((0..<n).map { gen.importChangeset(revision: first + $0) })
        }
        var done = 0
        while done < edits {
            let n = min(100, edits - done)
            let first = revision + 1
            try append((0..<n).map { gen.editChangeset(revision: first + $0, base: first + $0 - 1) })
            done += n
        }
        if let sqlite = store.backend as? SQLiteCorpusBackend { try sqlite.checkpoint() }
        return revision
    }

    /// One pending edit as the CLI makes them: a label or range change, a new span, or a removal,
    /// kept valid by the generator's model of the document.
    static func pendingEdit(_ doc: DocModel, _ rng: inout SplitMix64, mint: () -> AnnotationID) -> Op {
        let r = rng.below(100)
        if r < 25 || doc.live.count < 50 {
            let id = mint()
            doc.insertLive(id, hasAttribute: false)
            return .create(.span(id, in: doc.id, doc.randomRanges(&rng), label: Labels.label(&rng), owner: user))
        }
        let id = doc.live[rng.below(doc.live.count)]
        switch r {
        case ..<60: return .set(doc.id, id, .label, .string(Labels.label(&rng)))
        case ..<85: return .set(doc.id, id, .ranges, .ranges(doc.randomRanges(&rng)))
        default:
            doc.removeLive(id)
            return .delete(doc.id, id)
        }
    }
}
