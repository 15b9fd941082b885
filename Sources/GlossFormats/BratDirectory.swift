import Foundation

/// The file-system edge of brat support: finds the documents and configurations of a brat
/// collection directory and reads and writes files as bytes. Everything else in this module
/// works on strings and bytes and never touches the file system.
public struct BratDirectory: Sendable {
    /// The collection's root directory.
    public let root: URL

    /// A collection rooted at `root`; nothing is read until asked.
    public init(_ root: URL) { self.root = root }

    /// Every `.ann` file under the root (recursively), as a path relative to the root without
    /// the extension (`corpora/TDT/b105`), sorted. The text is the same path with `.txt`.
    public func documents() throws(FormatProblem) -> [String] {
        try files(where: { $0.hasSuffix(".ann") }).map { String($0.dropLast(4)) }
    }

    /// Every `annotation.conf` under the root, relative to it, sorted.
    public func configurations() throws(FormatProblem) -> [String] {
        try files(where: { $0 == "annotation.conf" || $0.hasSuffix("/annotation.conf") })
    }

    /// The `annotation.conf` that applies to a document, as brat finds it: in the document's
    /// directory or the nearest one above it, up to the root; nil when there is none.
    public func configuration(for document: String) -> String? {
        var components = document.split(separator: "/").dropLast().map(String.init)
        while true {
            let candidate = (components + ["annotation.conf"]).joined(separator: "/")
            if FileManager.default.fileExists(atPath: url(candidate).path) { return candidate }
            guard !components.isEmpty else { return nil }
            components.removeLast()
        }
    }

    /// The bytes of a file, by path relative to the root.
    public func read(_ path: String) throws(FormatProblem) -> Data {
        do {
            return try Data(contentsOf: url(path))
        } catch {
            throw FormatProblem(.fileUnreadable, "cannot read: \(error.localizedDescription)", file: path)
        }
    }

    /// Writes a file (creating its directory), by path relative to the root.
    public func write(_ data: Data, to path: String) throws(FormatProblem) {
        do {
            let target = url(path)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: target, options: .atomic)
        } catch {
            throw FormatProblem(.fileUnreadable, "cannot write: \(error.localizedDescription)", file: path)
        }
    }

    private func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    private func files(where keep: (String) -> Bool) throws(FormatProblem) -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        else {
            throw FormatProblem(.fileUnreadable, "cannot list the directory", file: root.path)
        }
        let base = root.standardizedFileURL.resolvingSymlinksInPath().path
        var out: [String] = []
        for case let file as URL in enumerator {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let full = file.standardizedFileURL.resolvingSymlinksInPath().path
            guard full.hasPrefix(base + "/") else { continue }
            let relative = String(full.dropFirst(base.count + 1))
            if keep(relative) { out.append(relative) }
        }
        return out.sorted()
    }
}
