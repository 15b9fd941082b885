// The benchmark's texts: seeded, so every run and every machine diffs the same bytes.

import GlossBenchCorpus

/// The benches' seeded generator.
typealias Generator = SplitMix64

enum TextCorpus {
    /// Words of the sample document and a few that are not ASCII (accents, a combining mark,
    /// Cyrillic, CJK, an emoji), so that scalar and byte offsets differ.
    static let vocabulary: [String] = {
        let english = """
            the federation of soviet republics interview with international press correspondence \
            alliance independent socialist unified federative states consummated first congress end \
            december represents new phase development movement towards union already begun during years \
            civil war intervention existence danger obliged form military order secure their very this \
            now beginning passing great capitalist powers have lost faith power are attempting \
            reestablish property russia diplomatic methods conference agreement counterforce pressure \
            capitalism designated economic reconstruction ruined country federative committee council \
            people commissars union treaty delegates azerbaijan georgia armenia ukraine white bukhara \
            khiva genoa hague lausanne organisation quantities men army navy trade finance foreign \
            affairs labour food transport post telegraph inspection workers peasants state central \
            executive budget taxes currency resources natural fuel grain cotton oil steel harbour
            """
        let other = ["café", "naïve", "Zürich", "e\u{301}tude", "Москва", "республика", "中文", "联盟", "🧪", "well-known", "so-called"]
        return english.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init) + other
    }()

    /// One sentence of 6 to 24 words, capitalised, ending in a full stop.
    static func sentence(_ rng: inout Generator) -> String {
        var words = (0..<(6 + rng.int(below: 19))).map { _ in rng.pick(vocabulary) }
        words[0] = words[0].prefix(1).uppercased() + words[0].dropFirst()
        if rng.int(below: 4) == 0 { words.insert(String(1900 + rng.int(below: 40)), at: rng.int(below: words.count)) }
        return words.joined(separator: " ") + "."
    }

    /// Prose wrapped at 76 columns, paragraphs of 2 to 10 sentences separated by a blank line,
    /// until `bytes` UTF-8 bytes. Lines without terminators.
    static func prose(bytes: Int, rng: inout Generator) -> [String] {
        var lines: [String] = []
        var total = 0
        while total < bytes {
            let more = paragraph(&rng)
            total += more.reduce(0) { $0 + $1.utf8.count + 1 } + 1
            lines += more
            lines.append("")
        }
        return lines
    }

    static func paragraph(_ rng: inout Generator) -> [String] {
        let text = (0..<(2 + rng.int(below: 9))).map { _ in sentence(&rng) }.joined(separator: " ")
        return wrap(text, width: 76)
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.unicodeScalars.count + 1 + word.unicodeScalars.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// A CoNLL-like text: a token, a part-of-speech tag and an entity tag per line, separated
    /// by tabs, sentences separated by a blank line.
    static func conll(bytes: Int, rng: inout Generator) -> [String] {
        let tags = ["NN", "NNP", "JJ", "VB", "DT", "IN", "CD", "RB"]
        let entities = ["O", "O", "O", "O", "B-LOC", "I-LOC", "B-ORG", "B-MISC"]
        var lines: [String] = []
        var total = 0
        while total < bytes {
            for _ in 0..<(6 + rng.int(below: 19)) {
                let line = rng.pick(vocabulary) + "\t" + rng.pick(tags) + "\t" + rng.pick(entities)
                total += line.utf8.count + 1
                lines.append(line)
            }
            lines.append(".\t.\tO")
            lines.append("")
            total += 7
        }
        return lines
    }
}
