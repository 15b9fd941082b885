import GlossModel
import GlossStore
import PostgresNIO

/// The reads a push's check makes for many annotations at once, each one statement (one round
/// trip) however many it asks for, instead of the seam's default of a lookup per item. Each
/// merges the writes waiting in ``PostgresCorpusRows/pending`` with the database, so that a
/// group commit's changesets see each other's writes without flushing them.
extension PostgresCorpusRows {
    func headRows(document: Int64, ids: [AnnotationID]) throws -> [AnnotationID: [UInt8]] {
        let waiting = pending?.headRows[document] ?? [:]
        let known = pending?.known.heads[document]
        var found: [AnnotationID: [UInt8]] = [:]
        let stored = ids.filter { id in
            if let body = waiting[id] {
                found[id] = body
                return false
            }
            guard let row = known?.row(id) else { return true }
            if let body = row { found[id] = body }
            return false
        }
        guard !stored.isEmpty else { return found }
        var read: [AnnotationID: [UInt8]] = [:]
        defer {
            pending?.known.learned(rows: read, asked: stored, document: document)
            found.merge(read) { $1 }
        }
        let replicas = stored.map { Self.int($0.replica.rawValue) }, counters = stored.map { Self.int($0.counter) }
        for row in try connection.query(
            """
            SELECT h.replica, h.counter, h.body FROM head h
            JOIN unnest(\(replicas)::bigint[], \(counters)::bigint[]) AS w(replica, counter)
                ON h.replica = w.replica AND h.counter = w.counter
            WHERE h.corpus = \(corpus) AND h.doc = \(document)
            """)
        {
            let (replica, counter, body) = try row.decode((Int64, Int64, ByteBuffer).self)
            read[Self.annotationID(replica, counter)] = Self.bytes(body)
        }
        return found.merging(read) { $1 }
    }

    func referrers(document: Int64, targets: [AnnotationID]) throws -> [AnnotationID: [AnnotationID]] {
        guard !targets.isEmpty else { return [:] }
        var found = try storedReferrers(document: document, targets: targets)
        if let waiting = pending?.referrers[document] {
            for target in targets {
                guard let sources = waiting[target] else { continue }
                found[target] = Set(found[target] ?? []).union(sources).sorted()
            }
        }
        return found
    }

    private func storedReferrers(document: Int64, targets: [AnnotationID]) throws -> [AnnotationID: [AnnotationID]] {
        let replicas = targets.map { Self.int($0.replica.rawValue) }, counters = targets.map { Self.int($0.counter) }
        var found: [AnnotationID: [AnnotationID]] = [:]
        for row in try connection.query(
            """
            SELECT r.t_replica, r.t_counter, r.s_replica, r.s_counter FROM refs r
            JOIN unnest(\(replicas)::bigint[], \(counters)::bigint[]) AS w(replica, counter)
                ON r.t_replica = w.replica AND r.t_counter = w.counter
            WHERE r.corpus = \(corpus) AND r.doc = \(document)
            ORDER BY r.t_replica, r.t_counter, r.s_replica, r.s_counter
            """)
        {
            let (targetReplica, targetCounter, replica, counter) = try row.decode((Int64, Int64, Int64, Int64).self)
            found[Self.annotationID(targetReplica, targetCounter), default: []].append(Self.annotationID(replica, counter))
        }
        return found
    }

    func revisions(_ numbers: [Int]) throws -> [Revision] {
        let waiting = numbers.compactMap { pending?.revisions[$0] }
        let wanted = numbers.filter { pending?.revisions[$0] == nil }.map(Int64.init)
        guard !wanted.isEmpty else { return waiting.sorted { $0.number < $1.number } }
        let stored = try connection.query(
            """
            SELECT \(unescaped: Self.revisionColumns) FROM revisions
            WHERE corpus = \(corpus) AND rev = ANY(\(wanted)::bigint[]) ORDER BY rev
            """
        ).map(Self.revision)
        return waiting.isEmpty ? stored : (stored + waiting).sorted { $0.number < $1.number }
    }

    func revisionNumbers(of changesets: [ChangesetID]) throws -> [ChangesetID: Int] {
        var found: [ChangesetID: Int] = [:]
        let stored = changesets.filter { id in
            guard let number = pending?.revisionByChangeset[id] else { return true }
            found[id] = number
            return false
        }
        guard !stored.isEmpty else { return found }
        let wanted = stored.map { Self.buffer($0.bytes) }
        for row in try connection.query(
            "SELECT changeset, rev FROM revisions WHERE corpus = \(corpus) AND changeset = ANY(\(wanted)::bytea[])")
        {
            let (changeset, revision) = try row.decode((ByteBuffer, Int).self)
            if let id = ChangesetID(bytes: Self.bytes(changeset)) { found[id] = revision }
        }
        return found
    }
}
