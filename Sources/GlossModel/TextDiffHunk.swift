/// One stretch of a ``TextDiff``: text that is the same on both sides, or text that was replaced.
///
/// Offsets are Unicode scalar offsets, like every ``TextRange`` in Gloss. An insertion is a
/// replacement of nothing (`old` empty), a deletion a replacement by nothing (`new` empty).
public struct TextDiffHunk: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: UInt8, Hashable, Sendable {
        /// `old` and `new` cover identical text of the same length.
        case equal
        /// The text of `old` became the text of `new`; at least one of them is not empty.
        case replace
    }

    public var kind: Kind
    /// The stretch in the old text.
    public var old: TextRange
    /// The stretch in the new text.
    public var new: TextRange

    public init(_ kind: Kind, old: TextRange, new: TextRange) {
        self.kind = kind
        self.old = old
        self.new = new
    }

    /// A replacement of nothing: text was only added.
    public var isInsertion: Bool { kind == .replace && old.length == 0 }
    /// A replacement by nothing: text was only removed.
    public var isDeletion: Bool { kind == .replace && new.length == 0 }

    /// `=old→new`, `~old→new`, `+old→new` (insertion) or `-old→new` (deletion).
    public var description: String {
        let mark = kind == .equal ? "=" : isInsertion ? "+" : isDeletion ? "-" : "~"
        return "\(mark)\(old)→\(new)"
    }
}
