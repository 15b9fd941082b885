import GlossModel

/// A span shown in its context, like a compiler shows an error: the document's lines around
/// it, numbered, with the span marked (reverse video on a terminal, `[[…]]` otherwise).
struct SpanContext {
    let text: String
    let span: Annotation
    /// Lines of context above and below the span's lines.
    let lines: Int
    let colors: Bool

    func render() -> String {
        let scalars = Array(text.unicodeScalars)
        // Line starts, in scalar offsets; a CRLF ends a line like an LF.
        var starts = [0]
        for (i, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(i + 1) }
        func line(of offset: Int) -> Int { (starts.lastIndex { $0 <= offset } ?? 0) }
        let first = span.ranges.map(\.start).min() ?? 0
        let last = max(first, (span.ranges.map(\.end).max() ?? 0) - 1)
        let from = max(0, line(of: first) - lines)
        let through = min(starts.count - 1, line(of: last) + lines)
        let marked = Set(span.ranges.flatMap { Array($0.start..<min($0.end, scalars.count)) })
        let width = String(through + 1).count
        let position = span.ranges.map(\.description).joined(separator: ",")
        var out = "\(span.document):\(line(of: first) + 1): \(span.label) \(position) \(span.id)\n"
        for n in from...through {
            let end = n + 1 < starts.count ? starts[n + 1] : scalars.count
            var body = ""
            var inSpan = false
            for i in starts[n]..<end where scalars[i] != "\n" && scalars[i] != "\r" {
                if marked.contains(i) != inSpan {
                    inSpan.toggle()
                    body += inSpan ? (colors ? "\u{1B}[7m" : "[[") : (colors ? "\u{1B}[0m" : "]]")
                }
                body.unicodeScalars.append(scalars[i])
            }
            if inSpan { body += colors ? "\u{1B}[0m" : "]]" }
            let number = String(n + 1)
            let gutter = String(repeating: " ", count: width - number.count) + number
            let pointer = (line(of: first)...line(of: last)).contains(n) ? ">" : " "
            out += "\(pointer) \(gutter) | \(body)\n"
        }
        return String(out.dropLast())
    }
}
