import GlossModel

/// Gives the documents of one import valid, unique ``DocumentID``s derived from the names
/// and ids the file records.
///
/// A name becomes a slug by keeping `A–Z a–z 0–9 . _ - /`, writing every run of other
/// characters as one `-`, and dropping empty, `.` and `..` path segments. A name with nothing
/// left falls back to the caller's name (file stem plus record number); a name already taken
/// gets `-2`, `-3` … Both cases are reported.
struct DocumentNaming {
    private var used: Set<DocumentID> = []

    /// The slug of a name, or nil when nothing valid is left.
    static func slug(_ name: String) -> String? {
        var scalars = String.UnicodeScalarView()
        var pendingDash = false
        for u in name.unicodeScalars {
            let keep =
                ("a"..."z").contains(u) || ("A"..."Z").contains(u) || ("0"..."9").contains(u) || u == "."
                || u == "_" || u == "-" || u == "/"
            if keep {
                if pendingDash, u != "/", scalars.last != "/", !scalars.isEmpty { scalars.append("-") }
                pendingDash = false
                scalars.append(u)
            } else {
                pendingDash = true
            }
        }
        let segments = String(scalars).split(separator: "/").filter { $0 != "." && $0 != ".." }
        var slug = segments.joined(separator: "/")
        // DocumentID allows 255 bytes; every kept character is one byte.
        if slug.utf8.count > 255 { slug = String(slug.prefix(255)) }
        while slug.hasSuffix("/") { slug.removeLast() }
        return (try? DocumentID(validating: slug)) == nil ? nil : slug
    }

    /// The file's name without its directory and its format extensions
    /// (`data/wikigold.conll.txt` → `wikigold`), as a slug; `fallback` without a usable name.
    static func stem(of file: String?, fallback: String) -> String {
        guard let file else { return fallback }
        var name = String(file.split(separator: "/").last ?? "")
        let extensions: Set<String> = [
            "json", "jsonl", "jsonld", "ndjson", "txt", "conll", "conllu", "conll03", "iob", "iob2", "bio", "bioes",
            "tsv", "tags",
        ]
        while let dot = name.lastIndex(of: "."), extensions.contains(name[name.index(after: dot)...].lowercased()) {
            name = String(name[..<dot])
        }
        return slug(name) ?? fallback
    }

    /// An id for a document named `name` (nil: unnamed), falling back to `fallback` (which must
    /// slug to a valid id). Returns the problem to report, if any.
    mutating func claim(_ name: String?, fallback: String) -> (id: DocumentID, problem: (FormatProblem.Code, String)?) {
        var problem: (FormatProblem.Code, String)?
        var candidate: String
        if let name {
            if let s = Self.slug(name) {
                candidate = s
            } else {
                candidate = Self.slug(fallback) ?? "document"
                problem = (
                    .invalidDocumentName,
                    "the name \"\(name)\" gives no valid document id; the document is named \(candidate)"
                )
            }
        } else {
            candidate = Self.slug(fallback) ?? "document"
        }
        var id = DocumentID(storedRawValue: candidate)
        if used.contains(id) {
            var n = 2
            while used.contains(DocumentID(storedRawValue: "\(candidate)-\(n)")) { n += 1 }
            id = DocumentID(storedRawValue: "\(candidate)-\(n)")
            problem = (
                .duplicateDocument, "a document named \(candidate) was already imported; this one is named \(id)"
            )
        }
        used.insert(id)
        return (id, problem)
    }
}
