import GlossModel

/// A bad setting: an unknown key, a value of the wrong kind, a file that does not parse. Names
/// the key and, for the configuration file, the line and column.
public struct SettingsError: Error, Hashable, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<SettingsError>

    public var code: Code
    public var message: String
    /// The dotted key (`limits.idle_timeout`), when the problem is about one.
    public var key: String?
    /// Where the value came from: a file path, an environment variable or a flag.
    public var source: String?
    /// 1-based line and column in the configuration file.
    public var line: Int?
    public var column: Int?

    public init(
        _ code: Code, _ message: String, key: String? = nil, source: String? = nil, line: Int? = nil, column: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.key = key
        self.source = source
        self.line = line
        self.column = column
    }

    /// `source:line:column: code: message`, leaving out what is unknown.
    public var description: String {
        var place = source ?? ""
        if let line { place += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return (place.isEmpty ? "" : place + ": ") + "\(code): \(message)"
    }
}

extension ErrorCode where Domain == SettingsError {
    /// The file is not YAML, or not a mapping at the top.
    public static let malformedFile = Self(rawValue: "malformed-file")
    /// A key that is not a setting.
    public static let unknownKey = Self(rawValue: "unknown-key")
    /// A value that does not fit its setting (not a number, a duration, HOST:PORT …).
    public static let invalidValue = Self(rawValue: "invalid-value")
    /// Settings that only work together, or a required one that is missing.
    public static let inconsistent = Self(rawValue: "inconsistent")
    /// The file cannot be read.
    public static let unreadable = Self(rawValue: "unreadable")
}
