import GlossModel

/// What happened to one changeset offered to ``CorpusStore/append(_:)``.
public enum AppendOutcome: Hashable, Sendable {
    /// Durably committed as this revision.
    case accepted(revision: Int)
    /// A changeset with this id was already accepted as this revision; nothing was written.
    case duplicate(revision: Int)
    /// Refused: it conflicts with revisions accepted since its base. Pull, merge, retry.
    case conflicts([Conflict])
    /// Refused: it breaks a rule of the data model.
    case invalid(ValidationError)

    /// The revision, when the changeset is (now or already) part of history.
    public var revision: Int? {
        switch self {
        case .accepted(let r), .duplicate(let r): r
        case .conflicts, .invalid: nil
        }
    }
}
