import Foundation
import GlossModel
import GlossStore
import GlossStorePostgres
import GlossStoreSQLite
import Logging

/// `glossd migrate-store`: moves a single-box server (a data directory of SQLite files) into a
/// PostgreSQL database that several nodes can then share.
///
/// Everything is copied as stored: users with their creation times, token hashes (issued
/// tokens keep working), corpora with their policies and grants, the TLS identity (clients'
/// pins keep holding), and every corpus row for row (``CorpusCopier``: byte-identical blobs,
/// so clones and pulls from the new store stream the same bytes). The source is only read, under
/// its data directory's lock, so no glossd may serve it meanwhile; the destination must be
/// empty. Then the copy is checked (``ServerStorage/check(corpus:maxProblems:)``) and its heads
/// compared with the source's.
public enum StoreMigration {
    /// What was copied, and the check of the copy.
    public struct Report: Sendable {
        public var users = 0
        public var tokens = 0
        public var corpora: [(name: String, counts: CorpusCopier.Counts)] = []
        public var identityCopied = false
        public var check: IntegrityReport
    }

    /// Copies the data directory `data` into the PostgreSQL database of `configuration`.
    ///
    /// - Throws: ``DataDirectoryError`` (`notADataDirectory`, `inUse` while a glossd serves it),
    ///   ``StoreMigrationError`` (`destinationNotEmpty`, `mismatch`), and the stores' errors.
    public static func migrate(
        from data: URL, to configuration: PostgresStorageConfiguration, logger: Logger,
        progress: (String) -> Void = { _ in }
    ) throws -> Report {
        try DataDirectory.requireStore(data)
        let lock = try DataDirectoryLock(directory: data)
        defer { lock.release() }
        let source = try SQLiteServerCatalog(path: data.appendingPathComponent(DataDirectory.accountsFile).path, tracingStatements: nil)
        let corpora = DataDirectory.corpusStorage(of: data)

        let destination = try ServerStorage.postgres(configuration, logger: logger)
        defer { destination.close() }
        let catalog = destination.accounts.catalog
        guard try catalog.users().isEmpty, try catalog.corpora().isEmpty, try destination.corpora.storage.corpusNames().isEmpty
        else {
            throw StoreMigrationError(
                .destinationNotEmpty, "the database already holds a glossd store; migrate into an empty database",
                context: configuration.url)
        }

        var report = Report(check: IntegrityReport(maxProblems: 100))
        for user in try source.users() { try catalog.insertUser(user) }
        report.users = try source.users().count
        for token in try source.tokenRecords() { try catalog.insertToken(token) }
        report.tokens = try source.tokenRecords().count
        for corpus in try source.corpora() {
            let grants = try source.grants(corpus: corpus.name)
            guard let owner = grants.first(where: { $0.role == .owner }) else {
                throw StoreMigrationError(.mismatch, "the corpus has no owner in the source", context: corpus.name)
            }
            try catalog.insertCorpus(corpus, owner: owner.user)
            for grant in grants where grant.user != owner.user { try catalog.setRole(grant.role, of: grant.user, in: corpus.name) }
        }
        progress("copied \(report.users) user(s), \(report.tokens) token(s) and \(try source.corpora().count) corpus record(s)")

        if let shared = destination.sharedIdentity, let identity = try identityFiles(in: data) {
            let stored = try shared.storeServerIdentityIfAbsent(certificatePEM: identity.certificate, keyPEM: identity.key)
            report.identityCopied = stored.certificatePEM == identity.certificate
        }

        for name in try corpora.corpusNames() {
            let backend = try SQLiteCorpusBackend(path: corpora.file(of: name).path)
            let copy = try destination.corpora.storage.openCorpus(named: name).backend
            let counts = try CorpusCopier.copy(from: backend, to: copy)
            report.corpora.append((name, counts))
            let sourceHead = try backend.read { try $0.headRevision() }
            let copiedHead = try copy.read { try $0.headRevision() }
            guard sourceHead == copiedHead else {
                throw StoreMigrationError(.mismatch, "the copy is at r\(copiedHead), the source at r\(sourceHead)", context: name)
            }
            progress("copied corpus \(name): \(counts.revisions) revision(s), \(counts.documents) document(s), \(counts.deltas) delta(s)")
        }
        report.check = try destination.check()
        return report
    }

    /// The data directory's generated identity, when it has one.
    static func identityFiles(in data: URL) throws -> (certificate: String, key: String)? {
        let tls = data.appendingPathComponent("tls")
        let certificate = tls.appendingPathComponent("cert.pem"), key = tls.appendingPathComponent("key.pem")
        guard FileManager.default.fileExists(atPath: certificate.path), FileManager.default.fileExists(atPath: key.path) else {
            return nil
        }
        return (try String(contentsOf: certificate, encoding: .utf8), try String(contentsOf: key, encoding: .utf8))
    }
}

/// Why `glossd migrate-store` stopped.
public struct StoreMigrationError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<StoreMigrationError>

    public var code: Code
    public var message: String
    /// The database, or the corpus, it is about.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == StoreMigrationError {
    /// The destination database already holds users or corpora.
    public static let destinationNotEmpty = Self(rawValue: "destination-not-empty")
    /// The copy does not match its source.
    public static let mismatch = Self(rawValue: "mismatch")
}
