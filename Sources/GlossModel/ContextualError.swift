/// The shape every Gloss error with free-form context shares: a code, a message for people,
/// and what it is about (a path, a name, a revision).
public protocol ContextualError: Error, CustomStringConvertible {
    associatedtype Domain
    var code: ErrorCode<Domain> { get }
    var message: String { get }
    var context: String? { get }
}

extension ContextualError {
    public var description: String {
        "\(code): \(message)" + (context.map { " (\($0))" } ?? "")
    }
}
