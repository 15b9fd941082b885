/// How much work ``TextDiff`` may spend, counted in comparison steps rather than time, so that
/// every replica gives up at exactly the same place and computes the same diff.
///
/// Where a limit is hit, the stretch is treated as replaced: its annotations are flagged, never
/// moved. Replicas must all use ``standard``; the other values exist for tests.
struct TextDiffLimits: Hashable, Sendable {
    /// Most single-line edits a Myers over the lines of one stretch without a unique line may find.
    var lineMaxD = 2048
    /// Most single-scalar edits a Myers inside one changed block may find. The backtrack keeps
    /// (D + 1)² 32-bit entries: 2048 is 16 MiB at worst.
    var charMaxD = 2048
    /// A changed block of several lines on both sides and more scalars than this is first split
    /// by pairing lines that differ only in whitespace (a CRLF→LF conversion, re-tokenisation),
    /// before any scalar-level Myers.
    var directBlock = 1 << 14
    /// One Myers call may take `allowanceBase + allowancePerElement × (n + m)` steps.
    var allowanceBase = 1 << 16
    var allowancePerElement = 64
    /// The whole diff may take `totalBase + totalPerElement × (n + m)` steps, n and m being the
    /// lengths left after the common prefix and suffix; past that, every remaining changed
    /// block is replaced whole.
    var totalBase = 1 << 22
    var totalPerElement = 16

    static let standard = TextDiffLimits()

    func allowance(for elements: Int) -> Int { allowanceBase + allowancePerElement * elements }
    func total(for elements: Int) -> Int { totalBase + totalPerElement * elements }
}
