import Foundation
import Synchronization

/// A changeset as it travels: its metadata and texts, with its ops still in the storage
/// encoding (`Protocol/storage-encoding.md`), as runs of consecutive ops on one document.
///
/// The encoded runs are small next to the decoded ops (a span costs a few bytes here and a few
/// hundred as an ``Op``), so a server keeps a large changeset in this form and decodes it one
/// document at a time (``parts`` and ``decode(_:)``). Each run's header (its document and op
/// count) is read when the changeset is made; its ops only when decoded, which is also when a
/// run that does not decode is found.
public struct EncodedChangeset: Sendable {
    /// One run of ops on one document (or on the corpus), as encoded.
    public struct Run: Sendable {
        /// The document every op of the run is on; nil for corpus-level ops (the schema).
        public let document: DocumentID?
        public let opCount: Int
        /// The changeset-wide index of the run's first op.
        public let firstOpIndex: Int
        /// The run's position in the changeset, for messages.
        public let index: Int
        /// The delta encoding of the run's ops.
        public let bytes: Data
    }

    /// The runs on one document, or the corpus-level runs, in op order.
    public struct Part: Sendable {
        /// nil for the corpus-level part.
        public let document: DocumentID?
        /// Indexes into ``EncodedChangeset/runs``, ascending.
        public let runs: [Int]
        public let opCount: Int
    }

    /// A part's ops, decoded, with their changeset-wide indexes.
    public struct DecodedPart: Sendable {
        public let document: DocumentID?
        public let ops: [Op]
        /// `indices[i]` is the index of `ops[i]` in the whole changeset.
        public let indices: [Int]
        /// Tells the meter, if any, when these ops are no longer held.
        let lease: DecodeMeter.Lease?
    }

    public var id: ChangesetID
    public var author: String
    public var replica: ReplicaID
    public var base: Int
    public var message: String
    public var timestamp: Int64
    /// Texts of the documents the ops add, by digest.
    public var texts: [TextDigest: String]
    public let runs: [Run]
    /// Ops in all runs.
    public let opCount: Int
    /// Counts the ops decoded from this changeset and alive at once (tests and diagnostics).
    public var decodeMeter: DecodeMeter?

    /// A changeset from encoded runs, reading each run's header.
    ///
    /// - Throws: a ``CodecError`` naming the run whose header does not decode.
    public init(
        id: ChangesetID, author: String, replica: ReplicaID, base: Int, message: String, timestamp: Int64,
        runs encoded: [Data], texts: [TextDigest: String]
    ) throws(CodecError) {
        self.id = id
        self.author = author
        self.replica = replica
        self.base = base
        self.message = message
        self.timestamp = timestamp
        self.texts = texts
        var runs: [Run] = []
        runs.reserveCapacity(encoded.count)
        var next = 0
        for (index, bytes) in encoded.enumerated() {
            let header = try Self.header(of: Array(bytes), what: Self.what(run: index, of: id))
            runs.append(Run(document: header.document, opCount: header.opCount, firstOpIndex: next, index: index, bytes: bytes))
            next += header.opCount
        }
        self.runs = runs
        opCount = next
    }

    /// Encodes a model changeset as a client sends it: a new run wherever the document changes.
    public init(_ changeset: Changeset) {
        let encoded = changeset.encodedRuns.map { Data($0) }
        // Freshly encoded runs always decode.
        try! self.init(
            id: changeset.id, author: changeset.author, replica: changeset.replica, base: changeset.base,
            message: changeset.message, timestamp: changeset.timestamp, runs: encoded, texts: changeset.texts)
    }

    /// The whole changeset, every run decoded.
    public func decoded() throws(CodecError) -> Changeset {
        var ops: [Op] = []
        ops.reserveCapacity(opCount)
        for run in runs { ops += try decode(run) }
        return Changeset(
            id: id, author: author, replica: replica, base: base, message: message, timestamp: timestamp, ops: ops,
            texts: texts)
    }

    /// The documents the ops are on, sorted.
    public var documents: [DocumentID] {
        Set(runs.lazy.filter { $0.opCount > 0 }.compactMap(\.document)).sorted()
    }

    /// True when every corpus-level run comes before every document's run: then the corpus
    /// part can be checked first and the documents one at a time, in any order, with the same
    /// result as checking the ops in order (ops on different documents commute).
    public var corpusOpsComeFirst: Bool {
        var sawDocument = false
        for run in runs where run.opCount > 0 {
            if run.document != nil {
                sawDocument = true
            } else if sawDocument {
                return false
            }
        }
        return true
    }

    /// The corpus-level part (when there are corpus-level runs), then one part per document,
    /// by document id. Runs without ops are left out.
    public var parts: [Part] {
        var byDocument: [DocumentID: [Int]] = [:]
        var corpus: [Int] = []
        for (i, run) in runs.enumerated() where run.opCount > 0 {
            if let document = run.document { byDocument[document, default: []].append(i) } else { corpus.append(i) }
        }
        var parts: [Part] = []
        parts.reserveCapacity(byDocument.count + 1)
        if !corpus.isEmpty { parts.append(Part(document: nil, runs: corpus, opCount: opCount(of: corpus))) }
        for document in byDocument.keys.sorted() {
            let runs = byDocument[document]!
            parts.append(Part(document: document, runs: runs, opCount: opCount(of: runs)))
        }
        return parts
    }

    private func opCount(of indexes: [Int]) -> Int { indexes.reduce(0) { $0 + runs[$1].opCount } }

    /// Decodes one part's runs.
    ///
    /// - Throws: a ``CodecError`` naming the run that does not decode.
    public func decode(_ part: Part) throws(CodecError) -> DecodedPart {
        var ops: [Op] = []
        var indices: [Int] = []
        ops.reserveCapacity(part.opCount)
        indices.reserveCapacity(part.opCount)
        for i in part.runs {
            let run = runs[i]
            ops += try decode(run)
            indices += run.firstOpIndex..<(run.firstOpIndex + run.opCount)
        }
        return DecodedPart(document: part.document, ops: ops, indices: indices, lease: decodeMeter?.lease(ops.count))
    }

    /// The error of the first run, in op order, that does not decode; nil when all do. Each run
    /// is decoded and let go.
    public func firstUndecodableRun() -> CodecError? {
        for run in runs {
            do throws(CodecError) { _ = try decode(run) } catch { return error }
        }
        return nil
    }

    private func decode(_ run: Run) throws(CodecError) -> [Op] {
        let decoded = try DeltaCodec.decode(Array(run.bytes), what: Self.what(run: run.index, of: id))
        // The header was read from the same bytes: they agree.
        assert(decoded.document == run.document && decoded.ops.count == run.opCount)
        return decoded.ops
    }

    static func what(run index: Int, of id: ChangesetID) -> String { "ops run \(index) of changeset \(id)" }

    /// A run's document and op count: its header, up to the ops (as ``DeltaCodec/decode(_:what:)`` reads it).
    static func header(of bytes: [UInt8], what: String) throws(CodecError) -> (document: DocumentID?, opCount: Int) {
        var reader = BinaryReader(bytes, what: what)
        let v = try reader.byte()
        guard v == DeltaCodec.version else {
            throw CodecError(
                .unsupportedVersion, "\(what) has format version \(v); this build reads \(DeltaCodec.version)", offset: 0)
        }
        var document: DocumentID?
        if try reader.byte() == 1 {
            let raw = try reader.string()
            do throws(ValidationError) { document = try DocumentID(validating: raw) } catch { throw reader.malformed(error.message) }
        }
        var tables = try OpDecoder(reader: reader)
        let count = try tables.reader.count("ops")
        // A run without ops is never decoded again (no part holds it), so what follows its
        // count is checked here, as a whole decode checks it: both refuse the same changesets.
        if count == 0, !tables.reader.isAtEnd {
            throw tables.reader.malformed("a run of no ops has \(tables.reader.remaining) bytes after its op count")
        }
        return (document, count)
    }
}

/// Counts ops decoded from an ``EncodedChangeset`` that are still held, and the most held at
/// once: what shows that a store decodes a large changeset a document at a time.
public final class DecodeMeter: Sendable {
    private struct State {
        var live = 0
        var peak = 0
        var total = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Ops decoded and not yet released, now.
    public var live: Int { state.withLock { $0.live } }
    /// The most ops held at once.
    public var peak: Int { state.withLock { $0.peak } }
    /// Ops decoded in all.
    public var total: Int { state.withLock { $0.total } }

    func lease(_ count: Int) -> Lease {
        state.withLock {
            $0.live += count
            $0.total += count
            $0.peak = max($0.peak, $0.live)
        }
        return Lease(meter: self, count: count)
    }

    fileprivate func release(_ count: Int) { state.withLock { $0.live -= count } }

    /// Held with decoded ops; gives their count back when the last copy goes.
    final class Lease: Sendable {
        let meter: DecodeMeter
        let count: Int
        init(meter: DecodeMeter, count: Int) {
            self.meter = meter
            self.count = count
        }
        deinit { meter.release(count) }
    }
}
