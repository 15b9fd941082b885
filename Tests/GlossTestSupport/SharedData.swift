import Foundation

/// The read-only `shared/` folder that sits beside the repository (sample corpus, real exports).
public enum SharedData {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared")

    /// `shared/corpus/federation-1923.txt`, the project's sample document.
    public static func federation() throws -> String {
        try String(contentsOf: root.appendingPathComponent("corpus/federation-1923.txt"), encoding: .utf8)
    }

    public static func file(_ relativePath: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relativePath))
    }
}

/// A fresh directory under the system temp folder, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let url: URL

    public init(_ name: String = "gloss-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}
