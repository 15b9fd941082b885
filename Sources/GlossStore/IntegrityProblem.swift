import GlossModel

/// One thing an integrity check found wrong, located as precisely as the damage allows: the
/// corpus, the table, and the document, revision, annotation or text digest concerned, with
/// what the rest of the store says should be there (``expected``) and what is (``found``).
public struct IntegrityProblem: Hashable, Sendable, CustomStringConvertible {
    public typealias Kind = ErrorCode<IntegrityProblem>

    public var kind: Kind
    /// The corpus, or nil for the account database.
    public var corpus: String?
    /// The table or area: `texts`, `deltas`, `snapshots`, `head`, `documents`, `revisions`,
    /// `meta`, or `database` for the file as a whole.
    public var table: String
    public var document: DocumentID?
    public var revision: Int?
    /// The annotation's textual id.
    public var annotation: String?
    /// A text's digest (`sha256:…`), for text problems.
    public var digest: String?
    public var expected: String?
    public var found: String?
    /// What is wrong, for people.
    public var message: String

    public init(
        _ kind: Kind, _ message: String, corpus: String? = nil, table: String, document: DocumentID? = nil,
        revision: Int? = nil, annotation: String? = nil, digest: String? = nil, expected: String? = nil,
        found: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.corpus = corpus
        self.table = table
        self.document = document
        self.revision = revision
        self.annotation = annotation
        self.digest = digest
        self.expected = expected
        self.found = found
    }

    /// One line: where, what, and expected versus found.
    public var description: String {
        var place = [corpus.map { "corpus \($0)" } ?? "accounts", table]
        if let document { place.append("document \(document)") }
        if let revision { place.append("revision \(revision)") }
        if let annotation { place.append("annotation \(annotation)") }
        if let digest { place.append("text \(digest)") }
        var line = "\(kind) [\(place.joined(separator: ", "))]: \(message)"
        if expected != nil || found != nil {
            line += " (expected \(expected ?? "-"), found \(found ?? "-"))"
        }
        return line
    }
}

extension IntegrityProblem: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, corpus, table, document, revision, annotation, digest, expected, found, message
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = Kind(rawValue: try c.decode(String.self, forKey: .kind))
        corpus = try c.decodeIfPresent(String.self, forKey: .corpus)
        table = try c.decode(String.self, forKey: .table)
        document = try c.decodeIfPresent(String.self, forKey: .document).map(DocumentID.init(storedRawValue:))
        revision = try c.decodeIfPresent(Int.self, forKey: .revision)
        annotation = try c.decodeIfPresent(String.self, forKey: .annotation)
        digest = try c.decodeIfPresent(String.self, forKey: .digest)
        expected = try c.decodeIfPresent(String.self, forKey: .expected)
        found = try c.decodeIfPresent(String.self, forKey: .found)
        message = try c.decode(String.self, forKey: .message)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encodeIfPresent(corpus, forKey: .corpus)
        try c.encode(table, forKey: .table)
        try c.encodeIfPresent(document?.rawValue, forKey: .document)
        try c.encodeIfPresent(revision, forKey: .revision)
        try c.encodeIfPresent(annotation, forKey: .annotation)
        try c.encodeIfPresent(digest, forKey: .digest)
        try c.encodeIfPresent(expected, forKey: .expected)
        try c.encodeIfPresent(found, forKey: .found)
        try c.encode(message, forKey: .message)
    }
}

extension ErrorCode where Domain == IntegrityProblem {
    /// SQLite's own check (`PRAGMA integrity_check`, `foreign_key_check`) failed, or the file
    /// does not open as a database.
    public static let databaseCorrupt = Self(rawValue: "database-corrupt")
    /// Rows could not be read at all (the engine reported an error).
    public static let unreadable = Self(rawValue: "unreadable")
    /// A stored blob does not inflate to exactly its recorded length.
    public static let blobCorrupt = Self(rawValue: "blob-corrupt")
    /// A blob inflates but does not decode: not a valid delta or snapshot, or a text that is
    /// not UTF-8, or a head row that is not a head entry.
    public static let blobUndecodable = Self(rawValue: "blob-undecodable")
    /// A text's SHA-256 is not the digest it is stored under.
    public static let textHashMismatch = Self(rawValue: "text-hash-mismatch")
    /// A document (or a delta adding one) names a text the store does not have.
    public static let textMissing = Self(rawValue: "text-missing")
    /// A document's recorded length is not its text's length in Unicode scalars.
    public static let textLengthMismatch = Self(rawValue: "text-length-mismatch")
    /// A delta chain is not well formed: it does not start with the delta adding the document,
    /// a base flag disagrees with the delta's ops, a delta names another document, or ops touch
    /// a document that is not there.
    public static let chainMalformed = Self(rawValue: "chain-malformed")
    /// A delta's ops do not apply to the state its predecessors build.
    public static let deltaDoesNotApply = Self(rawValue: "delta-does-not-apply")
    /// A document row's chain bookkeeping (`chain_len`, `chain_bytes`, `base_bytes`) disagrees
    /// with the deltas and snapshots stored since the chain's base.
    public static let chainBookkeeping = Self(rawValue: "chain-bookkeeping")
    /// A snapshot differs from the state its document's deltas reconstruct at its revision.
    public static let snapshotMismatch = Self(rawValue: "snapshot-mismatch")
    /// A document row (text, length, metadata, revisions added or removed) differs from what
    /// its deltas say.
    public static let documentMismatch = Self(rawValue: "document-mismatch")
    /// A live annotation in the head table differs from its reconstruction at the head.
    public static let headMismatch = Self(rawValue: "head-mismatch")
    /// The deltas reconstruct a live annotation the head table does not have (or has deleted).
    public static let headMissing = Self(rawValue: "head-missing")
    /// The head table has a live annotation the deltas do not reconstruct.
    public static let headUnexpected = Self(rawValue: "head-unexpected")
    /// A revision records a base that is not below its own number: a push whose base was past
    /// the head, which glossd 0.2.0 accepted (it never conflicted, whatever it changed).
    public static let basePastHead = Self(rawValue: "base-past-head")
    /// Revision numbers are not contiguous from 1 to the head.
    public static let revisionGap = Self(rawValue: "revision-gap")
    /// A row refers to a revision or document that does not exist.
    public static let danglingRow = Self(rawValue: "dangling-row")
    /// The corpus-level rows (schema, replica history gaps) disagree with the schema deltas or
    /// do not decode.
    public static let metaMismatch = Self(rawValue: "meta-mismatch")
}
