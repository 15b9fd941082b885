import GlossModel
import GlossStore
import PostgresNIO

/// The reads a push's check makes for many annotations at once, each one statement (one round
/// trip) however many it asks for, instead of the seam's default of a lookup per item.
extension PostgresCorpusRows {
    func headRows(document: Int64, ids: [AnnotationID]) throws -> [AnnotationID: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        let replicas = ids.map { Self.int($0.replica.rawValue) }, counters = ids.map { Self.int($0.counter) }
        var found: [AnnotationID: [UInt8]] = [:]
        for row in try connection.query(
            """
            SELECT h.replica, h.counter, h.body FROM head h
            JOIN unnest(\(replicas)::bigint[], \(counters)::bigint[]) AS w(replica, counter)
                ON h.replica = w.replica AND h.counter = w.counter
            WHERE h.corpus = \(corpus) AND h.doc = \(document)
            """)
        {
            let (replica, counter, body) = try row.decode((Int64, Int64, ByteBuffer).self)
            found[Self.annotationID(replica, counter)] = Self.bytes(body)
        }
        return found
    }

    func referrers(document: Int64, targets: [AnnotationID]) throws -> [AnnotationID: [AnnotationID]] {
        guard !targets.isEmpty else { return [:] }
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
        guard !numbers.isEmpty else { return [] }
        let wanted = numbers.map(Int64.init)
        return try connection.query(
            """
            SELECT \(unescaped: Self.revisionColumns) FROM revisions
            WHERE corpus = \(corpus) AND rev = ANY(\(wanted)::bigint[]) ORDER BY rev
            """
        ).map(Self.revision)
    }

    func revisionNumbers(of changesets: [ChangesetID]) throws -> [ChangesetID: Int] {
        guard !changesets.isEmpty else { return [:] }
        let wanted = changesets.map { Self.buffer($0.bytes) }
        var found: [ChangesetID: Int] = [:]
        for row in try connection.query(
            "SELECT changeset, rev FROM revisions WHERE corpus = \(corpus) AND changeset = ANY(\(wanted)::bytea[])")
        {
            let (changeset, revision) = try row.decode((ByteBuffer, Int).self)
            if let id = ChangesetID(bytes: Self.bytes(changeset)) { found[id] = revision }
        }
        return found
    }
}
