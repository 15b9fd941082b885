/// Puts the ``PartCheck``s of a changeset's parts together into the verdict that checking the
/// whole changeset at once gives: the first rule violation in op order (a violation found while
/// walking the ops before one found settling deletes), else every conflict in the order the
/// whole check raises them, else acceptance with the number of ops accepted.
///
/// Only the outcome of a part is kept while the verdict is clean, and then only counts: a
/// caller writes each clean part and lets it go.
public struct PartwiseCheck: Sendable {
    /// What the whole changeset comes to.
    public enum Verdict: Hashable, Sendable {
        case accepted(opCount: Int)
        case conflicts([Conflict])
        case invalid(ValidationError)
    }

    public private(set) var acceptedOpCount = 0
    private var violation: (error: ValidationError, order: CheckPosition)?
    private var conflicts: [(conflict: Conflict, order: CheckPosition)] = []

    public init() {}

    /// Adds a part's check; parts may come in any order.
    public mutating func add(_ part: PartCheck) {
        if let error = part.violation, let order = part.violationOrder {
            if violation.map({ order < $0.order }) ?? true { violation = (error, order) }
            return
        }
        acceptedOpCount += part.outcome.accepted.count
        for (conflict, order) in zip(part.outcome.conflicts, part.conflictOrder) { conflicts.append((conflict, order)) }
    }

    /// True once a part conflicts or breaks a rule: nothing of the changeset is written.
    public var isRefused: Bool { violation != nil || !conflicts.isEmpty }

    /// Once an op broke a rule, further parts need checking only below its index (an earlier
    /// violation would be the one reported), and without settling deletes; nil until then.
    public var checkLimit: Int? {
        guard let violation, violation.order.phase == 0 else { return nil }
        return violation.order.index
    }

    public var verdict: Verdict {
        if let violation { return .invalid(violation.error) }
        if !conflicts.isEmpty { return .conflicts(conflicts.sorted { $0.order < $1.order }.map(\.conflict)) }
        return .accepted(opCount: acceptedOpCount)
    }
}
