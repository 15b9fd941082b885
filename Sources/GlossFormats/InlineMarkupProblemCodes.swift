import GlossModel

// Problems in inline markup (`gloss edit`, `gloss import inline`). Trailer ranges reuse
// invalidOffsets, offsetsOutOfBounds and overlappingFragments; a repeated attribute key
// reuses duplicateAttribute.
extension ErrorCode where Domain == FormatProblem {
    /// The text outside the markup differs from the document's text.
    public static let markupTextChanged = Self(rawValue: "markup-text-changed")
    /// A `[` that no `](LABEL)` closes.
    public static let unclosedBracket = Self(rawValue: "markup-unclosed-bracket")
    /// A `]` with no `[` before it (write `\]` for a literal one).
    public static let unmatchedBracket = Self(rawValue: "markup-unmatched-bracket")
    /// A `[…]` not followed by `(LABEL)`, or a `(` with no label or no closing `)`.
    public static let missingLabel = Self(rawValue: "markup-missing-label")
    /// A backslash not followed by `[`, `]` or `\` (or, in quotes, by `"`, `\`, `n`, `r`, `t`).
    public static let invalidEscape = Self(rawValue: "markup-invalid-escape")
    /// Attributes that are not `key=value` pairs, or a quoted string with no closing quote.
    public static let malformedAttribute = Self(rawValue: "markup-malformed-attribute")
    /// A trailer line that is not `label …`, `span …`, a comment or blank.
    public static let malformedTrailerLine = Self(rawValue: "markup-malformed-trailer-line")
    /// A label the (closed) schema does not define for its kind.
    public static let labelNotInSchema = Self(rawValue: "markup-label-not-in-schema")
    /// An attribute name the (closed) schema does not define.
    public static let attributeNotInSchema = Self(rawValue: "markup-attribute-not-in-schema")
    /// An attribute value outside the values the schema lists for that attribute.
    public static let attributeValueNotInSchema = Self(rawValue: "markup-attribute-value-not-in-schema")
}
