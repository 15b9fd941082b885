import GlossModel

// The synthetic corpus: English-like texts from a Zipf-weighted word list (with some
// non-ASCII words), span annotations on word boundaries, and ten annotators who each mint
// ids from their own replica and counter.

public enum Vocabulary {
    /// Ranked roughly by frequency: function words first, so the Zipf sampler makes them common.
    public static let list: [String] = [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
        "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
        "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when",
        "will", "would", "who", "so", "no", "she", "other", "its", "may", "these", "what", "them", "than",
        "some", "him", "time", "into", "only", "do", "new", "about", "two", "after", "first", "also", "then",
        "could", "our", "most", "over", "made", "like", "many", "before", "must", "through", "back", "years",
        "where", "much", "your", "way", "down", "should", "because", "each", "just", "those", "people",
        "how", "too", "little", "state", "good", "very", "make", "world", "still", "own", "see", "men",
        "work", "long", "get", "here", "between", "both", "life", "being", "under", "never", "day", "same",
        "another", "know", "while", "last", "might", "us", "great", "old", "year", "off", "come", "since",
        "against", "go", "came", "right", "used", "take", "three", "—", "government", "company", "city",
        "council", "minister", "report", "market", "court", "committee", "university", "president",
        "agreement", "region", "border", "river", "festival", "museum", "hospital", "election", "budget",
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "January", "March", "April", "June",
        "September", "October", "December", "2019", "2020", "2021", "2022", "2023", "1998", "spring",
        "autumn", "morning", "evening", "London", "Paris", "Berlin", "Zürich", "Kraków", "São", "Paulo",
        "Bogotá", "Reykjavík", "Göteborg", "Málaga", "Łódź", "Tokyo", "東京", "Nairobi", "Lagos", "Cairo",
        "Smith", "Müller", "García", "Nguyen", "Dvořák", "Novak", "Okafor", "Kowalski", "Jensen", "Rossi",
        "Anna", "José", "François", "Zoë", "Søren", "Mehmet", "Priya", "Chen", "Amara", "Björn",
        "naïve", "café", "façade", "résumé", "fiancée", "rôle", "über", "déjà", "crème", "señor",
        "Acme", "Globex", "Initech", "Umbrella", "Vandelay", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne",
        "Bank", "Group", "Institute", "Agency", "Ministry", "Foundation", "Press", "Railways", "Airlines",
        "said", "says", "announced", "reported", "according", "expected", "signed", "opened", "closed",
        "visited", "met", "launched", "approved", "rejected", "published", "described", "argued", "noted",
        "price", "prices", "euros", "dollars", "million", "billion", "percent", "shares", "rate", "growth",
        "policy", "plan", "project", "service", "system", "water", "energy", "health", "school", "children",
        "family", "house", "street", "centre", "station", "bridge", "road", "north", "south", "east", "west",
        "national", "local", "public", "private", "international", "economic", "political", "social",
        "early", "late", "recent", "major", "small", "large", "young", "high", "low", "open", "full",
        "during", "without", "within", "across", "around", "among", "towards", "despite", "following",
        "meeting", "talks", "visit", "crisis", "support", "decision", "question", "issue", "result",
        "members", "officials", "residents", "workers", "students", "leaders", "experts", "critics",
        "week", "month", "hours", "minutes", "night", "summer", "winter", "century", "decade", "today",
        "🙂", "–", "½", "°C", "€", "™",
    ]

    public static let bytes: [[UInt8]] = list.map { Array($0.utf8) }
    public static let scalars: [Int] = list.map { $0.unicodeScalars.count }
    public static let sampler = ZipfSampler(count: list.count, exponent: 1.0, offset: 2.7)
}

/// A generated text with the scalar offsets of its words.
public struct GeneratedText {
    public var text: String
    public var utf8Count: Int
    public var scalarCount: Int
    public var wordStarts: [Int32]
    public var wordEnds: [Int32]
}

public enum TextGenerator {
    public static func make(targetBytes: Int, rng: inout SplitMix64) -> GeneratedText {
        var out: [UInt8] = []
        out.reserveCapacity(targetBytes + 32)
        var starts: [Int32] = []
        var ends: [Int32] = []
        var scalars = 0
        var sentenceLeft = rng.int(6...24)
        var sentenceStart = true
        while out.count < targetBytes {
            let w = Vocabulary.sampler.sample(&rng)
            starts.append(Int32(scalars))
            let first = out.count
            out.append(contentsOf: Vocabulary.bytes[w])
            if sentenceStart, out[first] >= 0x61, out[first] <= 0x7A { out[first] -= 0x20 }
            scalars += Vocabulary.scalars[w]
            ends.append(Int32(scalars))
            sentenceStart = false
            sentenceLeft -= 1
            if sentenceLeft == 0 {
                out.append(0x2E)  // "."
                out.append(rng.chance(0.15) ? 0x0A : 0x20)
                scalars += 2
                sentenceLeft = rng.int(6...24)
                sentenceStart = true
            } else if rng.chance(0.06) {
                out.append(0x2C)  // ","
                out.append(0x20)
                scalars += 2
            } else {
                out.append(0x20)
                scalars += 1
            }
        }
        let text = String(decoding: out, as: UTF8.self)
        return GeneratedText(text: text, utf8Count: out.count, scalarCount: scalars, wordStarts: starts, wordEnds: ends)
    }
}

public struct Annotator {
    public var name: String
    public var replica: ReplicaID
    public var counter: UInt64 = 0

    public mutating func mint() -> AnnotationID {
        counter += 1
        return AnnotationID(replica: replica, counter: counter)
    }
}

public enum Labels {
    public static let span = ["PER", "ORG", "LOC", "DATE", "MISC", "MONEY", "EVENT", "TIME"]
    public static let sampler = ZipfSampler(count: span.count, exponent: 1.0, offset: 1.5)
    public static let attributeKey = "certainty"
    public static let attributeValues = ["high", "medium", "low"]

    public static func label(_ rng: inout SplitMix64) -> String { span[sampler.sample(&rng)] }
}

/// What the benchmark tracks about one document to generate valid edits.
public final class DocModel {
    public let index: Int
    public let id: DocumentID
    public let length: Int
    public let wordStarts: [Int32]
    public let wordEnds: [Int32]
    /// Live annotation ids (order is deterministic: swap-remove on delete).
    public var live: [AnnotationID] = []
    public var liveIndex: [AnnotationID: Int] = [:]
    /// Live annotations that carry the attribute.
    public var withAttribute: [AnnotationID] = []
    public var withAttributeIndex: [AnnotationID: Int] = [:]
    /// Revisions that touched the document, ascending (the add included).
    public var touches: [Int] = []
    /// (revision, live count after it), ascending.
    public var countHistory: [(revision: Int, count: Int)] = []

    public init(index: Int, id: DocumentID, text: GeneratedText) {
        self.index = index
        self.id = id
        self.length = text.scalarCount
        self.wordStarts = text.wordStarts
        self.wordEnds = text.wordEnds
    }

    public func insertLive(_ id: AnnotationID, hasAttribute: Bool) {
        liveIndex[id] = live.count
        live.append(id)
        if hasAttribute { addAttribute(id) }
    }

    public func removeLive(_ id: AnnotationID) {
        guard let i = liveIndex.removeValue(forKey: id) else { preconditionFailure("not live: \(id)") }
        let last = live.removeLast()
        if i < live.count {
            live[i] = last
            liveIndex[last] = i
        }
        removeAttribute(id)
    }

    public func addAttribute(_ id: AnnotationID) {
        guard withAttributeIndex[id] == nil else { return }
        withAttributeIndex[id] = withAttribute.count
        withAttribute.append(id)
    }

    public func removeAttribute(_ id: AnnotationID) {
        guard let i = withAttributeIndex.removeValue(forKey: id) else { return }
        let last = withAttribute.removeLast()
        if i < withAttribute.count {
            withAttribute[i] = last
            withAttributeIndex[last] = i
        }
    }

    public func touched(at revision: Int) {
        if touches.last != revision { touches.append(revision) }
        if countHistory.last?.revision == revision {
            countHistory[countHistory.count - 1].count = live.count
        } else {
            countHistory.append((revision, live.count))
        }
    }

    public func liveCount(at revision: Int) -> Int? {
        var result: Int?
        for (r, c) in countHistory {
            if r > revision { break }
            result = c
        }
        return result
    }

    /// Word-aligned ranges: mostly one to three words, sometimes a discontinuous pair.
    public func randomRanges(_ rng: inout SplitMix64) -> [TextRange] {
        let n = wordStarts.count
        if rng.chance(0.01) && n > 8 {
            let a = rng.below(n - 6)
            let b = a + 2 + rng.below(4)
            return [
                TextRange(Int(wordStarts[a]), Int(wordEnds[a])), TextRange(Int(wordStarts[b]), Int(wordEnds[b])),
            ]
        }
        let w = rng.below(n)
        let r = rng.below(100)
        let k = r < 62 ? 1 : r < 88 ? 2 : 3
        let last = min(n - 1, w + k - 1)
        return [TextRange(Int(wordStarts[w]), Int(wordEnds[last]))]
    }
}

/// Generates the import changesets and the stream of edits, and mirrors every op into the
/// JSON Lines baseline while it is at it.
public struct Generator {
    public var rng: SplitMix64
    public var annotators: [Annotator]
    public var docs: [DocModel] = []
    public let documentCount: Int
    public let annotationsPerDocument: [Int]
    /// Which documents edits go to: half uniform, half Zipf over a fixed permutation.
    public let hotOrder: [Int]
    public let hotSampler: ZipfSampler
    public var opCounts: [String: Int] = [:]
    public let baseTimestamp: Int64 = 1_700_000_000

    public init(seed: UInt64, documents: Int, annotations: Int) {
        var root = SplitMix64(seed: seed)
        var idRNG = root.fork()
        let names = ["alice", "bruno", "chen", "dana", "emeka", "farah", "goran", "hana", "ivan", "jules"]
        annotators = names.map { Annotator(name: $0, replica: ReplicaID.random(using: &idRNG)) }
        rng = root.fork()
        documentCount = documents
        let per = annotations / documents
        let extra = annotations % documents
        annotationsPerDocument = (0..<documents).map { per + ($0 < extra ? 1 : 0) }
        var perm = Array(0..<documents)
        var permRNG = root.fork()
        perm.shuffle(using: &permRNG)
        hotOrder = perm
        hotSampler = ZipfSampler(count: documents, exponent: 1.0, offset: 1.0)
    }

    public static func documentID(_ i: Int) -> DocumentID {
        let digits = String(i + 1)
        let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        return try! DocumentID(validating: "doc/\(padded)")
    }

    /// The import changeset of the next document: addDocument plus its annotations, in text order.
    public mutating func importChangeset(revision: Int, jsonl: (any CorpusObserver)? = nil) -> Changeset {
        let index = docs.count
        let docID = Self.documentID(index)
        let text = TextGenerator.make(targetBytes: rng.int(3000...6000), rng: &rng)
        let model = DocModel(index: index, id: docID, text: text)
        docs.append(model)
        let a = index % annotators.count
        let author = annotators[a].name
        var changeset = Changeset(
            id: ChangesetID.random(using: &rng), author: author, replica: annotators[a].replica, base: revision - 1,
            message: "import \(docID)", timestamp: baseTimestamp + Int64(revision) * 17, ops: [])
        changeset.addDocument(docID, text: text.text)
        jsonl?.addDocument(revision: revision, author: author, document: docID, text: text.text, length: text.scalarCount)

        var spans: [(ranges: [TextRange], label: String, attributes: [String: String])] = []
        spans.reserveCapacity(annotationsPerDocument[index])
        for _ in 0..<annotationsPerDocument[index] {
            let ranges = model.randomRanges(&rng)
            let label = Labels.label(&rng)
            var attributes: [String: String] = [:]
            if rng.chance(0.05) {
                attributes[Labels.attributeKey] = Labels.attributeValues[rng.below(Labels.attributeValues.count)]
            }
            spans.append((ranges, label, attributes))
        }
        // An import writes its annotations in text order, as brat or doccano files list them.
        spans.sort { ($0.ranges[0].start, $0.ranges[0].end) < ($1.ranges[0].start, $1.ranges[0].end) }
        changeset.ops.reserveCapacity(spans.count + 1)
        for span in spans {
            let id = annotators[a].mint()
            let annotation = Annotation.span(
                id, in: docID, span.ranges, label: span.label, owner: author, attributes: span.attributes)
            changeset.ops.append(.create(annotation))
            jsonl?.create(revision: revision, author: author, annotation: annotation)
            model.insertLive(id, hasAttribute: !span.attributes.isEmpty)
        }
        opCounts["addDocument", default: 0] += 1
        opCounts["create", default: 0] += spans.count
        model.touched(at: revision)
        return changeset
    }

    public mutating func pickDocument() -> DocModel {
        if rng.chance(0.5) { return docs[rng.below(docs.count)] }
        return docs[hotOrder[hotSampler.sample(&rng)]]
    }

    /// One edit changeset of 1–20 ops on one to three documents, valid against the state so far.
    public mutating func editChangeset(revision: Int, base: Int, jsonl: (any CorpusObserver)? = nil) -> Changeset {
        let a = rng.below(annotators.count)
        let author = annotators[a].name
        let opCount = rng.int(1...20)
        let r = rng.below(100)
        let docCount = min(opCount, r < 80 ? 1 : r < 95 ? 2 : 3)
        var chosen: [DocModel] = []
        while chosen.count < docCount {
            let d = pickDocument()
            if !chosen.contains(where: { $0 === d }) { chosen.append(d) }
        }
        var ops: [Op] = []
        ops.reserveCapacity(opCount)
        for (j, doc) in chosen.enumerated() {
            let share = opCount / docCount + (j < opCount % docCount ? 1 : 0)
            for _ in 0..<share {
                ops.append(editOp(doc, annotator: a, revision: revision, jsonl: jsonl))
            }
            doc.touched(at: revision)
        }
        return Changeset(
            id: ChangesetID.random(using: &rng), author: author, replica: annotators[a].replica, base: base,
            message: "", timestamp: baseTimestamp + Int64(revision) * 17, ops: ops)
    }

    private mutating func editOp(_ doc: DocModel, annotator a: Int, revision: Int, jsonl: (any CorpusObserver)?) -> Op {
        let author = annotators[a].name
        var kind = rng.below(100)
        if doc.live.count < 50 { kind = 0 }  // keep documents populated
        if kind >= 75 && kind < 80 && doc.withAttribute.isEmpty { kind = 70 }  // nothing to remove: set one
        switch kind {
        case ..<25:
            let id = annotators[a].mint()
            var attributes: [String: String] = [:]
            if rng.chance(0.05) {
                attributes[Labels.attributeKey] = Labels.attributeValues[rng.below(Labels.attributeValues.count)]
            }
            let annotation = Annotation.span(
                id, in: doc.id, doc.randomRanges(&rng), label: Labels.label(&rng), owner: author,
                attributes: attributes)
            doc.insertLive(id, hasAttribute: !attributes.isEmpty)
            jsonl?.create(revision: revision, author: author, annotation: annotation)
            opCounts["create", default: 0] += 1
            return .create(annotation)
        case ..<45:
            let id = doc.live[rng.below(doc.live.count)]
            let label = Labels.label(&rng)
            jsonl?.setLabel(revision: revision, author: author, document: doc.id, id: id, label: label)
            opCounts["set label", default: 0] += 1
            return .set(doc.id, id, .label, .string(label))
        case ..<65:
            let id = doc.live[rng.below(doc.live.count)]
            let ranges = doc.randomRanges(&rng)
            jsonl?.setRanges(revision: revision, author: author, document: doc.id, id: id, ranges: ranges)
            opCounts["set ranges", default: 0] += 1
            return .set(doc.id, id, .ranges, .ranges(ranges))
        case ..<75:
            let id = doc.live[rng.below(doc.live.count)]
            let value = Labels.attributeValues[rng.below(Labels.attributeValues.count)]
            doc.addAttribute(id)
            jsonl?.setAttribute(
                revision: revision, author: author, document: doc.id, id: id, key: Labels.attributeKey, value: value)
            opCounts["set attribute", default: 0] += 1
            return .set(doc.id, id, .attribute(Labels.attributeKey), .string(value))
        case ..<80:
            let id = doc.withAttribute[rng.below(doc.withAttribute.count)]
            doc.removeAttribute(id)
            jsonl?.setAttribute(
                revision: revision, author: author, document: doc.id, id: id, key: Labels.attributeKey, value: nil)
            opCounts["remove attribute", default: 0] += 1
            return .set(doc.id, id, .attribute(Labels.attributeKey), .none)
        default:
            let id = doc.live[rng.below(doc.live.count)]
            doc.removeLive(id)
            jsonl?.delete(revision: revision, author: author, document: doc.id, id: id)
            opCounts["delete", default: 0] += 1
            return .delete(doc.id, id)
        }
    }
}


/// Sees every op the generator makes (the storage benchmark mirrors them into JSON Lines).
public protocol CorpusObserver: AnyObject {
    func addDocument(revision: Int, author: String, document: DocumentID, text: String, length: Int)
    func create(revision: Int, author: String, annotation a: Annotation)
    func setLabel(revision: Int, author: String, document: DocumentID, id: AnnotationID, label: String)
    func setRanges(revision: Int, author: String, document: DocumentID, id: AnnotationID, ranges: [TextRange])
    func setAttribute(revision: Int, author: String, document: DocumentID, id: AnnotationID, key k: String, value: String?)
    func delete(revision: Int, author: String, document: DocumentID, id: AnnotationID)
}
