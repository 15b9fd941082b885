/// `gloss://HOST:PORT/CORPUS`: where a corpus lives. The port defaults to 7743.
public struct GlossURL: Hashable, Sendable, CustomStringConvertible {
    public static let defaultPort = 7743

    public var host: String
    public var port: Int
    /// Empty for a server URL without a corpus (`gloss://host:port`).
    public var corpus: String

    public init(host: String, port: Int = GlossURL.defaultPort, corpus: String = "") {
        self.host = host
        self.port = port
        self.corpus = corpus
    }

    /// Parses the URL; nil when it is not of that shape.
    public init?(_ text: String) {
        guard text.hasPrefix("gloss://") else { return nil }
        var rest = Substring(text.dropFirst("gloss://".count))
        var corpus = ""
        if let slash = rest.firstIndex(of: "/") {
            corpus = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
            while corpus.hasSuffix("/") { corpus.removeLast() }
        }
        var host = String(rest)
        var port = GlossURL.defaultPort
        if host.hasPrefix("[") {  // [::1]:7743
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            } else if !after.isEmpty {
                return nil
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty, !corpus.contains("/") else { return nil }
        self.init(host: host, port: port, corpus: corpus)
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "gloss://\(h):\(port)" + (corpus.isEmpty ? "" : "/\(corpus)")
    }
}
