import Foundation
import GlossServer
import GlossStore
import GlossStorePostgres
import Logging

// The `pgload` role (a child, so that the server process never holds the generator's state):
// the PostgreSQL deployment the PostgreSQL nodes serve, holding what the build role puts in a
// SQLite data directory. Accounts, tokens and the shared TLS identity go into the database's
// catalog; the corpora are the same seeded histories, appended through the store API
// (`Build.build` → `CorpusStore.append(batch:)`, batches of 50 imports and of 100 edits, each
// batch one durable transaction) on the PostgreSQL backend, exactly as the SQLite build does.

enum PostgresLoad {
    /// Loads the deployment at `url`; returns the setup the client roles read (the database's
    /// tokens and fingerprint; `dataDirectory` is node 1's own directory).
    static func run(
        url: String, nodeData: String, seed: UInt64, documents: Int, annotations: Int, changesets: Int,
        smallDocuments: Int, smallAnnotations: Int, clients: Int
    ) throws -> Setup {
        var logger = Logger(label: "sync-bench-pgload")
        logger.logLevel = .warning
        let storage = try ServerStorage.postgres(
            try PostgresStorageConfiguration(url: url, password: nil, poolSize: 4), executor: StorageExecutor(threads: 8),
            logger: logger)
        defer { storage.close() }
        guard let identityStore = storage.sharedIdentity, let database = storage.database else {
            throw BenchError("a PostgreSQL storage without a shared identity or database")
        }
        let (identity, _) = try ServerIdentity.loadOrCreate(store: identityStore, context: storage.description)
        let clock = ContinuousClock()

        // The same users, corpora and grants as the SQLite build (Build.run).
        let t0 = clock.now
        let accounts = storage.accounts
        let data = URL(fileURLWithPath: nodeData)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: data)
        let adminToken = (try? String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let big = "bench-\(sizeName(annotations))"
        let small = "bench-\(sizeName(smallAnnotations))"
        try accounts.createCorpus(name: big, owner: "admin")
        try accounts.createCorpus(name: small, owner: "admin")
        var tokens: [String: String] = [:]
        for user in [Setup.reader, Setup.pusher] + (0..<clients).map(Setup.client) {
            try accounts.addUser(user)
            for corpus in [big, small] { try accounts.grant(corpus: corpus, user: user, role: .annotator) }
            tokens[user] = try accounts.issueToken(for: user, label: "sync bench").secret
        }
        let accountsSeconds = seconds(clock.now - t0)

        func store(_ name: String) throws -> CorpusStore {
            CorpusStore(backend: try PostgresCorpusBackend(database: database, corpus: name))
        }
        log("loading \(big) into PostgreSQL: \(documents) documents, \(annotations) annotations, \(changesets) edits (seed \(seed))")
        let bigBuild = try Build.build(
            name: big, store: try store(big), seed: seed, documents: documents, annotations: annotations, edits: changesets
        ) {}
        log("loading \(small) into PostgreSQL")
        let smallBuild = try Build.build(
            name: small, store: try store(small), seed: seed, documents: smallDocuments, annotations: smallAnnotations,
            edits: 0
        ) {}
        return Setup(
            dataDirectory: nodeData, fingerprint: identity.fingerprint.description, adminToken: adminToken, tokens: tokens,
            bigCorpus: big, smallCorpus: small, big: bigBuild, small: smallBuild, accountsSeconds: accountsSeconds,
            buildVmHWMBytes: procStatus("VmHWM"))
    }
}
