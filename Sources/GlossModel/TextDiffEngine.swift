/// The stages of ``TextDiff``, over the Unicode scalars of the two texts:
///
/// 1. the common prefix and suffix are equal, whatever lies between;
/// 2. the lines in between are aligned by their exact content (``TextDiffLineMatcher``);
/// 3. each changed block of lines is diffed scalar by scalar with a bounded Myers, except that a
///    large block of several lines is first split by pairing lines whose non-whitespace content
///    is identical, so that a CRLF→LF conversion or a re-tokenisation that touches every line
///    costs a few scalars per line instead of one Myers over the whole document.
///
/// Wherever a bound is hit, the block is recorded as replaced. The result is a raw script;
/// ``TextDiffScript/cleanUpSemantically()`` runs afterwards.
struct TextDiffEngine {
    private let a: UnsafeBufferPointer<UInt32>
    private let b: UnsafeBufferPointer<UInt32>
    private let limits: TextDiffLimits
    private var script = TextDiffScript()
    private var work = 0
    // Scalar offsets where the lines of the middle stretch start, its end last.
    private var aLines: [Int] = []
    private var bLines: [Int] = []

    private init(_ a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>, limits: TextDiffLimits) {
        self.a = a
        self.b = b
        self.limits = limits
    }

    /// The raw edit script from `old` to `new` (scalar values).
    static func script(old: [UInt32], new: [UInt32], limits: TextDiffLimits) -> TextDiffScript {
        old.withUnsafeBufferPointer { a in
            new.withUnsafeBufferPointer { b in
                var engine = TextDiffEngine(a, b, limits: limits)
                engine.run()
                return engine.script
            }
        }
    }

    private mutating func run() {
        let n = a.count
        let m = b.count
        var prefix = 0
        while prefix < n, prefix < m, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < n - prefix, suffix < m - prefix, a[n - 1 - suffix] == b[m - 1 - suffix] { suffix += 1 }
        script.appendEqual(prefix)
        let ra = prefix..<(n - suffix)
        let rb = prefix..<(m - suffix)
        if ra.isEmpty || rb.isEmpty {
            script.appendEdit(deleted: ra.count, inserted: rb.count)
        } else {
            work = limits.total(for: ra.count + rb.count)
            aLines = Self.lineStarts(a, ra)
            bLines = Self.lineStarts(b, rb)
            var ids = LineIDs()
            let aIDs = (0..<(aLines.count - 1)).map { ids.id(Self.exactKey(a, aLines[$0]..<aLines[$0 + 1])) }
            let bIDs = (0..<(bLines.count - 1)).map { ids.id(Self.exactKey(b, bLines[$0]..<bLines[$0 + 1])) }
            let segments = coalesced(Self.segments(aIDs, bIDs, idCount: ids.count, limits: limits, work: &work))
            for segment in segments {
                switch segment {
                case .same(let i, let j, let count):
                    for t in 0..<count { sameLine(i + t, j + t) }
                case .differ(let x, let y):
                    changedLines(x, y, pairing: true)
                }
            }
        }
        script.appendEqual(suffix)
    }

    // MARK: - Lines

    /// Merges each run of equal lines that is short beside the changed blocks on both sides of it
    /// into one changed block (the cleanup's rule, on lines, in scalars).
    ///
    /// When every paragraph carries a typo, no line is equal but the blank ones, and aligning on
    /// those pairs a paragraph with whichever paragraph sits at the same place: once one is
    /// inserted, each is diffed against its neighbour and everything is flagged. Diffed as one
    /// block, scalar by scalar, the paragraphs find their own counterparts.
    private func coalesced(_ segments: [TextDiffLineMatcher.Segment]) -> [TextDiffLineMatcher.Segment] {
        enum Item {
            case same(a: Int, b: Int, count: Int)
            case differ(a: Range<Int>, b: Range<Int>)
        }
        func weight(_ a: Range<Int>, _ b: Range<Int>) -> Int {
            max(aLines[a.upperBound] - aLines[a.lowerBound], bLines[b.upperBound] - bLines[b.lowerBound])
        }
        var items: [Item] = []
        items.reserveCapacity(segments.count)
        for segment in segments {
            switch segment {
            case .same(let i, let j, let count):
                if case .same(let i0, let j0, let count0)? = items.last {
                    items[items.count - 1] = .same(a: i0, b: j0, count: count0 + count)
                } else {
                    items.append(.same(a: i, b: j, count: count))
                }
            case .differ(var x, var y):
                while items.count >= 2, case .same(let i, _, let count) = items[items.count - 1],
                    case .differ(let px, let py) = items[items.count - 2],
                    aLines[i + count] - aLines[i] <= min(weight(px, py), weight(x, y))
                {
                    x = px.lowerBound..<x.upperBound
                    y = py.lowerBound..<y.upperBound
                    items.removeLast(2)
                }
                if case .differ(let px, let py)? = items.last {
                    items[items.count - 1] = .differ(a: px.lowerBound..<x.upperBound, b: py.lowerBound..<y.upperBound)
                } else {
                    items.append(.differ(a: x, b: y))
                }
            }
        }
        return items.map { item in
            switch item {
            case .same(let i, let j, let count): .same(a: i, b: j, count: count)
            case .differ(let x, let y): .differ(a: x, b: y)
            }
        }
    }

    /// Lines that hashed alike; checked scalar by scalar, since a hash collision must never
    /// pass for equal text.
    private mutating func sameLine(_ i: Int, _ j: Int) {
        let sa = aLines[i]..<aLines[i + 1]
        let sb = bLines[j]..<bLines[j + 1]
        if sa.count == sb.count, zip(sa, sb).allSatisfy({ a[$0] == b[$1] }) {
            script.appendEqual(sa.count)
        } else {
            changedLines(i..<(i + 1), j..<(j + 1), pairing: false)
        }
    }

    /// Lines `al` of the old text became lines `bl` of the new one.
    private mutating func changedLines(_ al: Range<Int>, _ bl: Range<Int>, pairing: Bool) {
        let sa = aLines[al.lowerBound]..<aLines[al.upperBound]
        let sb = bLines[bl.lowerBound]..<bLines[bl.upperBound]
        let canPair = pairing && al.count > 1 && bl.count > 1
        if canPair, sa.count + sb.count > limits.directBlock {
            pairLines(al, bl)
        } else if !diffScalars(sa, sb) {
            if canPair { pairLines(al, bl) } else { script.appendEdit(deleted: sa.count, inserted: sb.count) }
        }
    }

    /// Splits a block of lines by aligning lines whose text is the same but for whitespace, then
    /// diffs each such pair, and each stretch between pairs, scalar by scalar.
    private mutating func pairLines(_ al: Range<Int>, _ bl: Range<Int>) {
        var ids = LineIDs()
        let aIDs = al.map { ids.id(Self.visibleKey(a, aLines[$0]..<aLines[$0 + 1])) }
        let bIDs = bl.map { ids.id(Self.visibleKey(b, bLines[$0]..<bLines[$0 + 1])) }
        let segments = Self.segments(aIDs, bIDs, idCount: ids.count, limits: limits, work: &work)
        for segment in segments {
            switch segment {
            case .same(let i, let j, let count):
                for t in 0..<count {
                    let sa = aLines[al.lowerBound + i + t]..<aLines[al.lowerBound + i + t + 1]
                    let sb = bLines[bl.lowerBound + j + t]..<bLines[bl.lowerBound + j + t + 1]
                    if !diffScalars(sa, sb) { script.appendEdit(deleted: sa.count, inserted: sb.count) }
                }
            case .differ(let x, let y):
                changedLines(
                    (al.lowerBound + x.lowerBound)..<(al.lowerBound + x.upperBound),
                    (bl.lowerBound + y.lowerBound)..<(bl.lowerBound + y.upperBound), pairing: false)
            }
        }
    }

    private static func segments(
        _ a: [UInt32], _ b: [UInt32], idCount: Int, limits: TextDiffLimits, work: inout Int
    ) -> [TextDiffLineMatcher.Segment] {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                TextDiffLineMatcher.segments(a, b, idCount: idCount, limits: limits, work: &work)
            }
        }
    }

    // MARK: - Scalars

    /// Appends a scalar-level diff of `a[sa]` against `b[sb]`, or appends nothing and returns
    /// false when Myers gives up.
    private mutating func diffScalars(_ sa: Range<Int>, _ sb: Range<Int>) -> Bool {
        var prefix = 0
        while prefix < sa.count, prefix < sb.count, a[sa.lowerBound + prefix] == b[sb.lowerBound + prefix] {
            prefix += 1
        }
        var suffix = 0
        while suffix < sa.count - prefix, suffix < sb.count - prefix,
            a[sa.upperBound - 1 - suffix] == b[sb.upperBound - 1 - suffix]
        {
            suffix += 1
        }
        let ra = (sa.lowerBound + prefix)..<(sa.upperBound - suffix)
        let rb = (sb.lowerBound + prefix)..<(sb.upperBound - suffix)
        if ra.isEmpty || rb.isEmpty {
            script.appendEqual(prefix)
            script.appendEdit(deleted: ra.count, inserted: rb.count)
            script.appendEqual(suffix)
            return true
        }
        let granted = min(work, limits.allowance(for: ra.count + rb.count))
        guard granted > 0 else { return false }
        var allowance = granted
        let blocks = TextDiffMyers.editBlocks(
            UnsafeBufferPointer(rebasing: a[ra]), UnsafeBufferPointer(rebasing: b[rb]), maxD: limits.charMaxD,
            budget: &allowance)
        work -= granted - allowance
        guard let blocks else { return false }
        script.appendEqual(prefix)
        var x = 0
        for block in blocks {
            script.appendEqual(block.a.lowerBound - x)
            script.appendEdit(deleted: block.a.count, inserted: block.b.count)
            x = block.a.upperBound
        }
        script.appendEqual(ra.count - x)
        script.appendEqual(suffix)
        return true
    }

    // MARK: - Keys

    /// Where each line of `text[range]` starts, then `range.upperBound`. A line ends after its
    /// LF; a CR alone does not end one.
    private static func lineStarts(_ text: UnsafeBufferPointer<UInt32>, _ range: Range<Int>) -> [Int] {
        var starts = [range.lowerBound]
        for i in range where text[i] == 0x0A && i + 1 < range.upperBound { starts.append(i + 1) }
        starts.append(range.upperBound)
        return starts
    }

    /// A hash of the line's scalars (FNV-1a over 32-bit values, then a finaliser): fixed, so
    /// that it is the same in every process, unlike `Hasher`.
    private static func exactKey(_ text: UnsafeBufferPointer<UInt32>, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(range.count)
        for i in range { h = (h ^ UInt64(text[i])) &* 0x0000_0100_0000_01B3 }
        return finalised(h)
    }

    /// A hash of the line's scalars but whitespace. Only used to pair lines before they are
    /// diffed exactly, so a collision costs quality, never correctness.
    private static func visibleKey(_ text: UnsafeBufferPointer<UInt32>, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in range where !isWhitespace(text[i]) { h = (h ^ UInt64(text[i])) &* 0x0000_0100_0000_01B3 }
        return finalised(h)
    }

    private static func finalised(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }

    /// A fixed list rather than `Character.isWhitespace`, whose Unicode tables belong to the
    /// runtime: two replicas on different toolchains must pair the same lines.
    private static func isWhitespace(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
            0xFEFF:
            true
        default: false
        }
    }

    /// Dense ids for line keys, numbered in order of first appearance so that they depend only
    /// on the texts, not on the dictionary's per-process seed.
    private struct LineIDs {
        private var table: [UInt64: UInt32] = [:]
        var count: Int { table.count }

        mutating func id(_ key: UInt64) -> UInt32 {
            if let id = table[key] { return id }
            let id = UInt32(table.count)
            table[key] = id
            return id
        }
    }
}
