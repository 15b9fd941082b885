/// What an integrity check looked at and what it found wrong.
///
/// Problems are kept up to ``maxProblems`` (a badly damaged store would otherwise fill memory
/// with them); ``problemCount`` counts them all. Reports of several databases merge into one.
public struct IntegrityReport: Codable, Hashable, Sendable {
    /// How much was checked.
    public struct Counts: Codable, Hashable, Sendable {
        /// Database files run through the engine's own check.
        public var databases = 0
        public var corpora = 0
        public var documents = 0
        public var revisions = 0
        public var deltas = 0
        public var snapshots = 0
        public var texts = 0
        public var headEntries = 0
        /// Bytes the stored blobs inflated to.
        public var inflatedBytes = 0

        public init() {}

        /// Every blob checked: texts, deltas and snapshots.
        public var blobs: Int { texts + deltas + snapshots }

        mutating func add(_ other: Counts) {
            databases += other.databases
            corpora += other.corpora
            documents += other.documents
            revisions += other.revisions
            deltas += other.deltas
            snapshots += other.snapshots
            texts += other.texts
            headEntries += other.headEntries
            inflatedBytes += other.inflatedBytes
        }
    }

    public var counts = Counts()
    /// The head revision of each corpus checked, by name, as the check saw it.
    public var headRevisions: [String: Int] = [:]
    /// The problems found, in the order found, at most ``maxProblems``.
    public private(set) var problems: [IntegrityProblem] = []
    /// All problems found, including those beyond ``maxProblems``.
    public private(set) var problemCount = 0
    public var maxProblems: Int

    public init(maxProblems: Int = 1000) {
        self.maxProblems = maxProblems
    }

    /// Whether nothing was found wrong.
    public var isClean: Bool { problemCount == 0 }

    public mutating func record(_ problem: IntegrityProblem) {
        problemCount += 1
        if problems.count < maxProblems { problems.append(problem) }
    }

    /// Adds another report's counts, heads and problems to this one.
    public mutating func merge(_ other: IntegrityReport) {
        counts.add(other.counts)
        headRevisions.merge(other.headRevisions) { $1 }
        for problem in other.problems { record(problem) }
        // Problems the other report counted but did not keep.
        problemCount += other.problemCount - other.problems.count
    }

    /// A few lines for people: what was checked, then each problem kept.
    public var summary: String {
        let c = counts
        var lines = [
            "checked \(c.databases) database file(s), \(c.corpora) corpus/corpora: \(c.documents) documents, "
                + "\(c.revisions) revisions, \(c.blobs) blobs (\(c.texts) texts, \(c.deltas) deltas, "
                + "\(c.snapshots) snapshots), \(c.headEntries) head entries"
        ]
        for (corpus, head) in headRevisions.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(corpus): head revision \(head)")
        }
        if isClean {
            lines.append("no problems found")
        } else {
            lines.append("\(problemCount) problem(s) found:")
            lines += problems.map { "  " + $0.description }
            if problemCount > problems.count { lines.append("  … and \(problemCount - problems.count) more") }
        }
        return lines.joined(separator: "\n")
    }
}
