/// Aligns two sequences of line ids: patience diff (lines unique on both sides anchor the
/// alignment, in the longest increasing order) with common prefixes and suffixes trimmed at
/// every level, and a bounded Myers where a stretch has no unique line.
///
/// Patience keeps the work near-linear on long documents with many scattered edits, where
/// Myers over lines would cost O(lines · edits); a unique line that appears on both sides is
/// also strong evidence that it is the same line, which is what re-anchoring wants.
struct TextDiffLineMatcher {
    enum Segment: Hashable {
        /// `count` lines from `a` and `b` have equal ids.
        case same(a: Int, b: Int, count: Int)
        /// Lines `a` were replaced by lines `b` (one side may be empty).
        case differ(a: Range<Int>, b: Range<Int>)
    }

    private enum Task {
        case region(a: Range<Int>, b: Range<Int>)
        case same(a: Int, b: Int, count: Int)
    }

    /// The segments of `a` against `b`, in order, covering both entirely. Ids must be below
    /// `idCount`. Work is taken from `work`; when a stretch without anchors would need more
    /// than the limits allow, it comes back as one `differ` segment.
    static func segments(
        _ a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>, idCount: Int,
        limits: TextDiffLimits, work: inout Int
    ) -> [Segment] {
        var countA = [UInt32](repeating: 0, count: idCount)
        var countB = [UInt32](repeating: 0, count: idCount)
        var positionB = [Int32](repeating: 0, count: idCount)
        var output: [Segment] = []
        // Processed last-in first-out, so tasks are pushed in reverse order of the text.
        var stack: [Task] = [.region(a: 0..<a.count, b: 0..<b.count)]

        func emit(_ segment: Segment) {
            switch segment {
            case .same(_, _, let count) where count == 0: return
            case .differ(let x, let y) where x.isEmpty && y.isEmpty: return
            default: output.append(segment)
            }
        }

        while let task = stack.popLast() {
            guard case .region(var ra, var rb) = task else {
                if case .same(let i, let j, let count) = task { emit(.same(a: i, b: j, count: count)) }
                continue
            }
            var prefix = 0
            while prefix < ra.count, prefix < rb.count, a[ra.lowerBound + prefix] == b[rb.lowerBound + prefix] {
                prefix += 1
            }
            emit(.same(a: ra.lowerBound, b: rb.lowerBound, count: prefix))
            ra = (ra.lowerBound + prefix)..<ra.upperBound
            rb = (rb.lowerBound + prefix)..<rb.upperBound
            var suffix = 0
            while suffix < ra.count, suffix < rb.count, a[ra.upperBound - 1 - suffix] == b[rb.upperBound - 1 - suffix] {
                suffix += 1
            }
            stack.append(.same(a: ra.upperBound - suffix, b: rb.upperBound - suffix, count: suffix))
            ra = ra.lowerBound..<(ra.upperBound - suffix)
            rb = rb.lowerBound..<(rb.upperBound - suffix)
            if ra.isEmpty || rb.isEmpty {
                emit(.differ(a: ra, b: rb))
                continue
            }
            work -= ra.count + rb.count

            // Anchors: ids that occur exactly once on each side, in the order of `a`.
            for i in ra { countA[Int(a[i])] &+= 1 }
            for j in rb {
                countB[Int(b[j])] &+= 1
                positionB[Int(b[j])] = Int32(j)
            }
            var anchorsA: [Int] = []
            var anchorsB: [Int] = []
            for i in ra where countA[Int(a[i])] == 1 && countB[Int(a[i])] == 1 {
                anchorsA.append(i)
                anchorsB.append(Int(positionB[Int(a[i])]))
            }
            for i in ra { countA[Int(a[i])] = 0 }
            for j in rb { countB[Int(b[j])] = 0 }

            let chain = longestIncreasing(anchorsB)
            if chain.isEmpty, ra.count >= gram, rb.count >= gram {
                // No line is unique (a CoNLL file: every token line recurs); runs of `gram`
                // lines nearly always are.
                let runs = gramRuns(a, b, ra, rb, work: &work)
                if !runs.isEmpty {
                    var tasks: [Task] = []
                    tasks.reserveCapacity(runs.count * 2 + 1)
                    var i = ra.lowerBound
                    var j = rb.lowerBound
                    for run in runs {
                        tasks.append(.region(a: i..<run.a, b: j..<run.b))
                        tasks.append(.same(a: run.a, b: run.b, count: run.count))
                        i = run.a + run.count
                        j = run.b + run.count
                    }
                    tasks.append(.region(a: i..<ra.upperBound, b: j..<rb.upperBound))
                    stack.append(contentsOf: tasks.reversed())
                    continue
                }
            }
            if chain.isEmpty {
                let subA = UnsafeBufferPointer(rebasing: a[ra])
                let subB = UnsafeBufferPointer(rebasing: b[rb])
                var allowance = min(work, limits.allowance(for: ra.count + rb.count))
                let before = allowance
                let blocks = TextDiffMyers.editBlocks(subA, subB, maxD: limits.lineMaxD, budget: &allowance)
                work -= max(0, before - allowance)
                guard let blocks else {
                    emit(.differ(a: ra, b: rb))
                    continue
                }
                var i = 0
                var j = 0
                for block in blocks {
                    emit(.same(a: ra.lowerBound + i, b: rb.lowerBound + j, count: block.a.lowerBound - i))
                    emit(
                        .differ(
                            a: (ra.lowerBound + block.a.lowerBound)..<(ra.lowerBound + block.a.upperBound),
                            b: (rb.lowerBound + block.b.lowerBound)..<(rb.lowerBound + block.b.upperBound)))
                    i = block.a.upperBound
                    j = block.b.upperBound
                }
                emit(.same(a: ra.lowerBound + i, b: rb.lowerBound + j, count: ra.count - i))
                continue
            }
            // Gaps between anchors are regions of their own; push everything in reverse.
            var tasks: [Task] = []
            tasks.reserveCapacity(chain.count * 2 + 1)
            var i = ra.lowerBound
            var j = rb.lowerBound
            for index in chain {
                let ai = anchorsA[index]
                let bj = anchorsB[index]
                tasks.append(.region(a: i..<ai, b: j..<bj))
                tasks.append(.same(a: ai, b: bj, count: 1))
                i = ai + 1
                j = bj + 1
            }
            tasks.append(.region(a: i..<ra.upperBound, b: j..<rb.upperBound))
            stack.append(contentsOf: tasks.reversed())
        }
        return output
    }

    /// Lines per n-gram when no single line is unique.
    static let gram = 4

    /// Runs of equal lines anchored on n-grams of `gram` lines that occur exactly once on each
    /// side, in increasing order on both sides and not overlapping: patience over n-grams.
    private static func gramRuns(
        _ a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>, _ ra: Range<Int>, _ rb: Range<Int>,
        work: inout Int
    ) -> [(a: Int, b: Int, count: Int)] {
        // Counts stop at 2: only "exactly once" matters.
        struct Seen {
            var countA: UInt8 = 0
            var countB: UInt8 = 0
            var positionB: Int32 = 0

            mutating func addA() { countA = min(countA + 1, 2) }

            mutating func addB(at position: Int) {
                countB = min(countB + 1, 2)
                positionB = Int32(position)
            }
        }
        work -= 2 * (ra.count + rb.count)
        func hash(_ text: UnsafeBufferPointer<UInt32>, _ at: Int) -> UInt64 {
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15
            for t in 0..<gram { h = (h ^ UInt64(text[at + t])) &* 0xBF58_476D_1CE4_E5B9 }
            return h ^ (h >> 31)
        }
        let startsA = ra.lowerBound...(ra.upperBound - gram)
        let startsB = rb.lowerBound...(rb.upperBound - gram)
        var seen: [UInt64: Seen] = [:]
        seen.reserveCapacity(startsA.count + startsB.count)
        let hashesA = startsA.map { hash(a, $0) }
        for h in hashesA { seen[h, default: Seen()].addA() }
        for j in startsB { seen[hash(b, j), default: Seen()].addB(at: j) }
        var anchorsA: [Int] = []
        var anchorsB: [Int] = []
        for (offset, h) in hashesA.enumerated() {
            guard let entry = seen[h], entry.countA == 1, entry.countB == 1 else { continue }
            anchorsA.append(startsA.lowerBound + offset)
            anchorsB.append(Int(entry.positionB))
        }
        var runs: [(a: Int, b: Int, count: Int)] = []
        for index in longestIncreasing(anchorsB) {
            let i = anchorsA[index]
            let j = anchorsB[index]
            // A hash collision must not pass for equal ids.
            guard (0..<gram).allSatisfy({ a[i + $0] == b[j + $0] }) else { continue }
            if let last = runs.last {
                let endA = last.a + last.count
                let endB = last.b + last.count
                if i - last.a == j - last.b, i <= endA {
                    runs[runs.count - 1].count = max(last.count, i + gram - last.a)
                    continue
                }
                guard i >= endA, j >= endB else { continue }
            }
            runs.append((i, j, gram))
        }
        return runs
    }

    /// Indices of a longest strictly increasing subsequence of `values` (patience sorting,
    /// O(k log k)); ties between equally long ones go to the one that ends earliest in the
    /// piles, which depends only on `values`.
    static func longestIncreasing(_ values: [Int]) -> [Int] {
        guard !values.isEmpty else { return [] }
        var pileTops: [Int] = []  // index into values of the top of each pile
        var predecessor = [Int](repeating: -1, count: values.count)
        for index in values.indices {
            let value = values[index]
            var low = 0
            var high = pileTops.count
            while low < high {
                let middle = (low + high) / 2
                if values[pileTops[middle]] < value { low = middle + 1 } else { high = middle }
            }
            if low > 0 { predecessor[index] = pileTops[low - 1] }
            if low == pileTops.count { pileTops.append(index) } else { pileTops[low] = index }
        }
        var chain: [Int] = []
        var index = pileTops[pileTops.count - 1]
        while index >= 0 {
            chain.append(index)
            index = predecessor[index]
        }
        return chain.reversed()
    }
}
