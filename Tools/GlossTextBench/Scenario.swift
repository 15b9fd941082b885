/// One revision of a text: the old and new versions a replica would diff.
struct Scenario {
    var name: String
    var what: String
    var old: String
    var new: String

    static func all(bytes: Int, seed: UInt64) -> [Scenario] {
        var rng = Generator(seed: seed)
        let prose = TextCorpus.prose(bytes: bytes, rng: &rng)
        let text = prose.joined(separator: "\n")
        var scenarios: [Scenario] = []

        // 20 typo fixes: one letter of a word replaced, in 20 lines spread over the text.
        var typos = prose
        for _ in 0..<20 {
            var index = rng.int(below: typos.count)
            while typos[index].unicodeScalars.count < 10 { index = (index + 1) % typos.count }
            var scalars = Array(typos[index].unicodeScalars)
            let at = 2 + rng.int(below: scalars.count - 4)
            scalars[at] = scalars[at] == "e" ? "a" : "e"
            typos[index] = string(scalars)
        }
        scenarios.append(
            Scenario(name: "typos", what: "20 one-letter typo fixes", old: text, new: typos.joined(separator: "\n")))

        // The same fixes in a text with no line breaks at all: no line structure to lean on.
        scenarios.append(
            Scenario(
                name: "one-line", what: "20 typo fixes in a text without line breaks",
                old: prose.joined(separator: " "), new: typos.joined(separator: " ")))

        // A paragraph inserted at a paragraph boundary in the middle, another one removed.
        var paragraphs = prose
        let middle = paragraphs[(paragraphs.count / 2)...].firstIndex(of: "")! + 1
        paragraphs.insert(contentsOf: TextCorpus.paragraph(&rng) + [""], at: middle)
        let third = paragraphs[(paragraphs.count / 3)...].firstIndex(of: "")! + 1
        let thirdEnd = paragraphs[third...].firstIndex(of: "")! + 1
        paragraphs.removeSubrange(third..<thirdEnd)
        scenarios.append(
            Scenario(
                name: "paragraph", what: "a paragraph inserted, another removed", old: text,
                new: paragraphs.joined(separator: "\n")))

        // Line endings converted: every line changes.
        scenarios.append(
            Scenario(
                name: "crlf-to-lf", what: "CRLF → LF on every line", old: prose.joined(separator: "\r\n"),
                new: text))

        // A CoNLL-like file re-tokenised: tabs become spaces on every line, hyphenated tokens
        // are split into three lines.
        let conll = TextCorpus.conll(bytes: bytes, rng: &rng)
        var retokenised: [String] = []
        retokenised.reserveCapacity(conll.count + conll.count / 50)
        for line in conll {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            if columns.count == 3, columns[0].contains("-") {
                let parts = columns[0].split(separator: "-")
                retokenised.append(parts[0] + " " + columns[1] + " " + columns[2])
                retokenised.append("- HYPH O")
                retokenised.append(parts[1] + " " + columns[1] + " " + columns[2])
            } else {
                retokenised.append(columns.joined(separator: " "))
            }
        }
        scenarios.append(
            Scenario(
                name: "retokenise", what: "CoNLL-like: tabs → spaces, hyphenated tokens split",
                old: conll.joined(separator: "\n"), new: retokenised.joined(separator: "\n")))

        // A heavy rewrite: 5 % of the non-empty lines replaced by new text.
        var rewritten = prose
        let count = prose.count / 20
        var done = 0
        while done < count {
            let index = rng.int(below: rewritten.count)
            guard !rewritten[index].isEmpty else { continue }
            let line = TextCorpus.wrap(TextCorpus.sentence(&rng) + " " + TextCorpus.sentence(&rng), width: 76)[0]
            rewritten[index] = line
            done += 1
        }
        scenarios.append(
            Scenario(
                name: "rewrite-5%", what: "5 % of the lines rewritten", old: text,
                new: rewritten.joined(separator: "\n")))
        // Another text altogether: everything is flagged, and the work bound keeps it quick.
        var other = Generator(seed: seed &+ 1)
        scenarios.append(
            Scenario(
                name: "unrelated", what: "a different text of the same size", old: text,
                new: TextCorpus.prose(bytes: bytes, rng: &other).joined(separator: "\n")))
        return scenarios
    }

    static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
