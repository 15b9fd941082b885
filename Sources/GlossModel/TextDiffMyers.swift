/// Myers' O((N+M)·D) greedy diff over two sequences of 32-bit values (scalars or line ids),
/// bounded: it gives up when the edit distance passes `maxD` or its work passes a budget.
///
/// Giving up is always safe for the caller: the stretch is then treated as replaced, so the
/// annotations in it are flagged rather than moved.
enum TextDiffMyers {
    /// One maximal edit: `a[a]` was replaced by `b[b]`; everything between two blocks is equal.
    struct Block: Hashable {
        var a: Range<Int>
        var b: Range<Int>
    }

    /// The edit blocks of a shortest edit script from `a` to `b`, in order, or nil if it needs
    /// more than `maxD` single-element edits or more than `budget` steps of work.
    ///
    /// `budget` is decreased by the work done (snake comparisons plus diagonals visited), also
    /// when the search gives up. The trace kept for the backtrack takes `(D + 1)²` 32-bit
    /// entries, which is why `maxD` must stay small (2048 is 16 MiB).
    ///
    /// The result depends only on the two sequences: among equally short scripts it is the one
    /// the forward greedy search finds first, which takes matches as early as it can.
    static func editBlocks(
        _ a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>, maxD: Int, budget: inout Int
    ) -> [Block]? {
        let n = a.count
        let m = b.count
        if n == 0 || m == 0 { return n + m == 0 ? [] : [Block(a: 0..<n, b: 0..<m)] }
        let limit = min(maxD, n + m)
        let offset = limit + 1
        // x fits in 32 bits (texts are under 2 GiB), which lets each level go to the trace as
        // one copy.
        var v = [Int32](repeating: 0, count: 2 * limit + 3)
        var trace: [Int32] = []
        var found = -1
        v.withUnsafeMutableBufferPointer { v in
            search: for d in 0...limit {
                budget -= 2 * d + 1
                var k = -d
                while k <= d {
                    var x =
                        k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])
                        ? Int(v[offset + k + 1]) : Int(v[offset + k - 1]) + 1
                    var y = x - k
                    let start = x
                    while x < n, y < m, a[x] == b[y] {
                        x += 1
                        y += 1
                    }
                    budget -= x - start
                    v[offset + k] = Int32(truncatingIfNeeded: x)
                    if x >= n, y >= m { found = d }
                    k += 2
                }
                trace.append(contentsOf: UnsafeBufferPointer(rebasing: v[(offset - d)...(offset + d)]))
                if found >= 0 || budget < 0 { break search }
            }
        }
        guard found >= 0, budget >= 0 else { return nil }

        // Walk back from (n, m): each level of the trace holds V after that many edits, at
        // index d² + (k + d) for diagonal k.
        func at(_ d: Int, _ k: Int) -> Int { Int(trace[d * d + k + d]) }
        var blocks: [Block] = []
        var pending: Block?
        var x = n
        var y = m
        for d in stride(from: found, to: 0, by: -1) {
            let k = x - y
            let down = k == -d || (k != d && at(d - 1, k - 1) < at(d - 1, k + 1))
            let previousK = down ? k + 1 : k - 1
            let previousX = at(d - 1, previousK)
            let previousY = previousX - previousK
            // The one edit of this level goes from (previousX, previousY) to (middleX, middleY);
            // a run of equal elements (possibly none) leads from there to (x, y).
            let middleX = down ? previousX : previousX + 1
            let middleY = middleX - k
            if var block = pending, block.a.lowerBound == middleX, block.b.lowerBound == middleY, x == middleX {
                block.a = previousX..<block.a.upperBound
                block.b = previousY..<block.b.upperBound
                pending = block
            } else {
                if let block = pending { blocks.append(block) }
                pending = Block(a: previousX..<middleX, b: previousY..<middleY)
            }
            x = previousX
            y = previousY
        }
        if let block = pending { blocks.append(block) }
        blocks.reverse()
        return blocks
    }
}
