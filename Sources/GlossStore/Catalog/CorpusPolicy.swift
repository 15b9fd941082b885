/// Which annotations an `annotator` may change in a corpus.
///
/// The raw values are stored in the account database and used on the wire.
public enum CorpusPolicy: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Annotators edit every annotation.
    case shared
    /// Annotators edit only the annotations of their own layer; curators and owners edit all.
    case own

    public var description: String { rawValue }
}
