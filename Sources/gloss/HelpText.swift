/// Help text as ArgumentParser prints it well.
///
/// ArgumentParser re-wraps each line of a discussion to the terminal's width but keeps the line
/// breaks it is given, so a paragraph hard-wrapped in the source prints as ragged half-lines.
/// Discussions are written wrapped for the source's sake and pass through ``reflow(_:)``, which
/// joins each paragraph into one line and leaves examples and lists as they are.
enum HelpText {
    /// Joins the lines of each prose paragraph. A line stays on its own when it is blank, is
    /// indented (an example or a list item), follows an indented line, or follows a line ending
    /// in ":" (a heading such as "Examples:"); a heading gets a blank line before it.
    static func reflow(_ text: String) -> String {
        var out: [String] = []
        var previousJoinable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let indented = line.first == " " || line.first == "\t"
            // As `trimmingCharacters(in: .whitespaces)` would say (tab and the Zs category),
            // without Foundation's string bridging: every command's help is built at each start.
            let blank = line.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
            let heading = !indented && line.hasSuffix(":")
            if heading, let last = out.last, !last.isEmpty { out.append("") }
            if previousJoinable && !indented && !blank && !heading {
                out[out.count - 1] += " " + line
            } else {
                out.append(line)
            }
            previousJoinable = !indented && !blank && !heading
        }
        return out.joined(separator: "\n")
    }
}
