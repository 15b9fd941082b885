import GlossBenchCorpus
import Foundation
import GlossModel
import GlossServer
import GlossStore
import GlossStoreSQLite

// The build role: a fresh glossd data directory holding the storage benchmark's corpus,
// written straight into the server's store file with `append(batch:)` (no network), a small
// corpus for the pull comparison, and the users the clients connect as. It runs in a child
// process so that the server process never holds the generator's state.

/// What the build leaves for the parent and the client roles (`setup.json`).
struct Setup: Codable {
    var dataDirectory: String
    var fingerprint: String
    var adminToken: String
    /// Token secrets by user name.
    var tokens: [String: String]
    var bigCorpus: String
    var smallCorpus: String
    var big: CorpusBuild
    var small: CorpusBuild
    var accountsSeconds: Double
    var buildVmHWMBytes: Int?
    /// With `--single-import`: the same import as `bigCorpus` in one changeset of every
    /// document and annotation (written with `append(batch:)`), and an empty corpus, owned by
    /// `pusher`, for that changeset to be pushed into over the network.
    var singleImportCorpus: String?
    var singleImport: CorpusBuild?
    var pushTargetCorpus: String?

    static let reader = "reader"
    static let pusher = "pusher"
    static func client(_ i: Int) -> String { "c" + String(format: "%03d", i) }

    static func load(_ path: String) throws -> Setup {
        try JSONDecoder().decode(Setup.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func token(_ user: String) throws -> String {
        guard let t = tokens[user] else { throw BenchError("no token for \(user) in the setup") }
        return t
    }
}

struct CorpusBuild: Codable {
    var name: String
    var documents: Int
    var annotations: Int
    /// Durable `append(batch:)` of the import changesets (one per document, batches of 50).
    var importSeconds: Double
    var edits: Int
    var editOps: Int
    /// Durable `append(batch:)` of the edit changesets (batches of 100).
    var editSeconds: Double
    /// Generating the changesets (not part of the store figures).
    var generateSeconds: Double
    var head: Int
    var headRows: Int
    var historyBytes: Int
    var fileBytes: Int
}

struct BuildOptions {
    var work: String
    var seed: UInt64
    var documents: Int
    var annotations: Int
    var changesets: Int
    var smallDocuments: Int
    var smallAnnotations: Int
    var clients: Int
    var singleImport = false
}

/// "1k", "100k", "1m", "10m": how corpus names say their size.
func sizeName(_ n: Int) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 { return "\(n / 1_000_000)m" }
    if n >= 1000 && n % 1000 == 0 { return "\(n / 1000)k" }
    return "\(n)"
}

enum Build {
    static func run(_ o: BuildOptions) throws -> Setup {
        let data = URL(fileURLWithPath: o.work).appendingPathComponent("server")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: data)
        let clock = ContinuousClock()

        // Accounts: the admin, a reader that clones and pulls, a pusher for the pull phase, and
        // one annotator per concurrent client.
        let t0 = clock.now
        let accounts = try AccountStore(path: data.appendingPathComponent("server.sqlite").path)
        try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: data)
        let adminToken = try String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let big = "bench-\(sizeName(o.annotations))"
        let small = "bench-\(sizeName(o.smallAnnotations))"
        guard big != small else { throw BenchError("the big and the small corpus are both \(big)") }
        let single = "bench-one-\(sizeName(o.annotations))"
        let pushTarget = "bench-push-\(sizeName(o.annotations))"
        try accounts.createCorpus(name: big, owner: "admin")
        try accounts.createCorpus(name: small, owner: "admin")
        var tokens: [String: String] = [:]
        for user in [Setup.reader, Setup.pusher] + (0..<o.clients).map(Setup.client) {
            try accounts.addUser(user)
            for corpus in [big, small] { try accounts.grant(corpus: corpus, user: user, role: .annotator) }
            tokens[user] = try accounts.issueToken(for: user, label: "sync bench").secret
        }
        if o.singleImport {
            // Adding documents takes an owner.
            try accounts.createCorpus(name: single, owner: "admin")
            try accounts.createCorpus(name: pushTarget, owner: Setup.pusher)
            for corpus in [single, pushTarget] { try accounts.grant(corpus: corpus, user: Setup.reader, role: .annotator) }
        }
        let accountsSeconds = seconds(clock.now - t0)

        let corpora = data.appendingPathComponent("corpora")
        try FileManager.default.createDirectory(at: corpora, withIntermediateDirectories: true)
        log("building \(big): \(o.documents) documents, \(o.annotations) annotations, \(o.changesets) edits (seed \(o.seed))")
        let bigBuild = try build(
            name: big, path: corpora.appendingPathComponent("\(big).sqlite").path, seed: o.seed, documents: o.documents,
            annotations: o.annotations, edits: o.changesets)
        log("building \(small): \(o.smallDocuments) documents, \(o.smallAnnotations) annotations")
        let smallBuild = try build(
            name: small, path: corpora.appendingPathComponent("\(small).sqlite").path, seed: o.seed,
            documents: o.smallDocuments, annotations: o.smallAnnotations, edits: 0)
        var singleBuild: CorpusBuild?
        if o.singleImport {
            log("building \(single): the same import as one changeset of \(o.annotations) annotations")
            singleBuild = try buildSingleImport(
                name: single, path: corpora.appendingPathComponent("\(single).sqlite").path, seed: o.seed,
                documents: o.documents, annotations: o.annotations)
        }
        // Nothing of ours may be waiting for writeback while durable commits are timed.
        sync()
        return Setup(
            dataDirectory: data.path, fingerprint: identity.fingerprint.description, adminToken: adminToken,
            tokens: tokens, bigCorpus: big, smallCorpus: small, big: bigBuild, small: smallBuild,
            accountsSeconds: accountsSeconds, buildVmHWMBytes: procStatus("VmHWM"),
            singleImportCorpus: o.singleImport ? single : nil, singleImport: singleBuild,
            pushTargetCorpus: o.singleImport ? pushTarget : nil)
    }

    /// A history of one revision: the whole import as one changeset, through the store's own
    /// `append(batch:)`.
    static func buildSingleImport(name: String, path: String, seed: UInt64, documents: Int, annotations: Int) throws
        -> CorpusBuild
    {
        let clock = ContinuousClock()
        let store = try CorpusStore.sqlite(path: path)
        guard let backend = store.backend as? SQLiteCorpusBackend else { throw BenchError("\(name) is not a SQLite store") }
        let g0 = clock.now
        var gen = Generator(seed: seed, documents: documents, annotations: annotations)
        let changeset = gen.singleImportChangeset()
        let t0 = clock.now
        try check(try store.append(batch: [changeset]), first: 1, what: "the single import into \(name)")
        let importTime = clock.now - t0
        try backend.checkpoint()
        let summary = try store.storageSummary()
        log("  \(name): \(changeset.ops.count) ops in one revision, \(String(format: "%.2f", seconds(importTime))) s")
        return CorpusBuild(
            name: name, documents: documents, annotations: annotations, importSeconds: seconds(importTime), edits: 0,
            editOps: 0, editSeconds: 0, generateSeconds: seconds(t0 - g0), head: 1, headRows: summary.headRows,
            historyBytes: summary.historyBytes, fileBytes: summary.fileBytes)
    }

    /// The storage benchmark's history: one import changeset per document (batches of 50), then
    /// edits made each on the revision before it (batches of 100). Every outcome is checked.
    static func build(name: String, path: String, seed: UInt64, documents: Int, annotations: Int, edits: Int) throws
        -> CorpusBuild
    {
        let store = try CorpusStore.sqlite(path: path)
        guard let backend = store.backend as? SQLiteCorpusBackend, try backend.writerSynchronousLevel() == 2 else {
            throw BenchError("the store's writer does not commit with synchronous = FULL")
        }
        return try build(name: name, store: store, seed: seed, documents: documents, annotations: annotations, edits: edits) {
            // Merge the WAL into the file, as a server that has been running a while would have it.
            try backend.checkpoint()
        }
    }

    /// The same history into any store (the PostgreSQL part loads its corpus through this, so
    /// both backends hold identical revisions); `settle` runs after the last append, before the
    /// sizes are read.
    static func build(
        name: String, store: CorpusStore, seed: UInt64, documents: Int, annotations: Int, edits: Int,
        settle: () throws -> Void
    ) throws -> CorpusBuild {
        let clock = ContinuousClock()
        var gen = Generator(seed: seed, documents: documents, annotations: annotations)
        var revision = 0
        var importTime = Duration.zero
        var generateTime = Duration.zero
        while revision < documents {
            let g0 = clock.now
            let n = min(50, documents - revision)
            let batch = (0..<n).map { k in gen.importChangeset(revision: revision + 1 + k) }
            let t0 = clock.now
            let outcomes = try store.append(batch: batch)
            importTime += clock.now - t0
            generateTime += t0 - g0
            try check(outcomes, first: revision + 1, what: "import into \(name)")
            revision += n
        }
        var editTime = Duration.zero
        var editOps = 0
        var done = 0
        while done < edits {
            let g0 = clock.now
            let n = min(100, edits - done)
            let batch = (0..<n).map { k in
                let rev = revision + 1 + k
                return gen.editChangeset(revision: rev, base: rev - 1)
            }
            editOps += batch.reduce(0) { $0 + $1.ops.count }
            let t0 = clock.now
            let outcomes = try store.append(batch: batch)
            editTime += clock.now - t0
            generateTime += t0 - g0
            try check(outcomes, first: revision + 1, what: "edits of \(name)")
            revision += n
            done += n
        }
        try settle()
        let summary = try store.storageSummary()
        log(
            "  \(name): head \(revision), import \(String(format: "%.2f", seconds(importTime))) s, edits \(String(format: "%.2f", seconds(editTime))) s")
        return CorpusBuild(
            name: name, documents: documents, annotations: annotations, importSeconds: seconds(importTime),
            edits: edits, editOps: editOps, editSeconds: seconds(editTime), generateSeconds: seconds(generateTime),
            head: revision, headRows: summary.headRows, historyBytes: summary.historyBytes,
            fileBytes: summary.fileBytes)
    }

    static func check(_ outcomes: [AppendOutcome], first: Int, what: String) throws {
        for (i, outcome) in outcomes.enumerated() where outcome != .accepted(revision: first + i) {
            throw BenchError("\(what): changeset \(i) of the batch: \(outcome), expected revision \(first + i)")
        }
    }
}

extension Build {
    /// Runs the build role in a child (this binary) into `work`, and reads the setup it leaves.
    static func inChild(
        work: URL, options o: Options, documents: Int, annotations: Int, changesets: Int, singleImport: Bool
    ) async throws -> (setup: Setup, path: String) {
        let setupPath = work.appendingPathComponent("setup.json").path
        try await runProcess(
            selfExecutable(),
            [
                "--role", Role.build.rawValue, "--work", work.path, "--setup", setupPath, "--seed", "\(o.seed)",
                "--documents", "\(documents)", "--annotations", "\(annotations)", "--changesets", "\(changesets)",
                "--small-documents", "\(o.smallDocuments)", "--small-annotations", "\(o.smallAnnotations)",
                "--clients", "\(o.clients)",
            ] + (singleImport ? ["--single-import"] : [])
        ).discard()
        return (try Setup.load(setupPath), setupPath)
    }
}
