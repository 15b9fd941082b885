/// What ``AcceptanceCheck`` decided for one part of a changeset (its corpus-level ops, or its
/// ops on one document): the part's outcome, or the rule it breaks, with where each conflict
/// and the violation would come in a check of the whole changeset.
public struct PartCheck: Sendable {
    /// The part's accepted ops, new head entries and conflicts (with a violation: as far as
    /// the check went).
    public var outcome: CheckOutcome
    /// Where each of `outcome.conflicts` was raised.
    var conflictOrder: [CheckPosition]
    /// The rule the part breaks, naming the op by its changeset-wide index.
    public var violation: ValidationError?
    var violationOrder: CheckPosition?

    init(
        outcome: CheckOutcome, conflictOrder: [CheckPosition], violation: ValidationError? = nil,
        violationOrder: CheckPosition? = nil
    ) {
        self.outcome = outcome
        self.conflictOrder = conflictOrder
        self.violation = violation
        self.violationOrder = violationOrder
    }

    /// Neither conflicts nor a violation: the part can be written.
    public var isClean: Bool { violation == nil && outcome.conflicts.isEmpty }
}
