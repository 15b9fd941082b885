import Foundation

extension DataDirectory {
    /// Opens the account store of an existing data directory; never creates one.
    ///
    /// Admin commands (`glossd user add`, `glossd token issue` …) use this: a mistyped `--data`
    /// must fail loudly rather than create a second, empty store whose users and tokens the
    /// running server never sees. Only `glossd serve` creates a store (``createAccounts(data:)``).
    ///
    /// - Throws: ``DataDirectoryError`` `notADataDirectory` (naming the path and how to create
    ///   a store) when `data` holds no `server.sqlite`; ``AccountError`` when it does not open.
    public static func openAccounts(data: URL) throws -> AccountStore {
        try requireStore(data)
        return try AccountStore(path: data.appendingPathComponent(accountsFile).path)
    }

    /// Opens the account store of an existing directory, creating the store when missing: what
    /// `glossd serve` does on its first start (after creating the directory and taking its lock).
    ///
    /// - Throws: ``AccountError`` when the store cannot be opened or created.
    public static func createAccounts(data: URL) throws -> AccountStore {
        try AccountStore(path: data.appendingPathComponent(accountsFile).path)
    }

    /// Whether `data` holds a glossd store (its `server.sqlite`).
    public static func holdsStore(_ data: URL) -> Bool {
        FileManager.default.fileExists(atPath: data.appendingPathComponent(accountsFile).path)
    }

    /// Refuses a directory without a glossd store, saying how to make one.
    ///
    /// - Throws: ``DataDirectoryError`` `notADataDirectory`, its context the absolute path.
    static func requireStore(_ data: URL) throws {
        guard !holdsStore(data) else { return }
        let path = data.standardizedFileURL.path
        let what =
            isDirectory(data)
            ? "\(path) is not a glossd data directory (it has no \(accountsFile))"
            : "there is no directory \(path)"
        throw DataDirectoryError(
            .notADataDirectory,
            "\(what); check --data, or create a store by starting the server once: glossd serve --data \(path)",
            context: path)
    }
}
