import Foundation
import GlossModel
import GlossTestSupport
import GlossWire
import NIOCore
import Testing

@testable import GlossClient

/// A consumer slower than the network (a clone writing to disk) holds at most a few MiB of
/// the stream: the client stops reading the socket while its items wait, and TCP tells the
/// server to wait too.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct StreamBackpressureTests {
    @Test func aSlowConsumerHoldsAtMostTheHighWaterMarkOfAClone() async throws {
        // About 11 MB of texts that do not compress away: far past the 4 MiB mark.
        var rng = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;0123456789".unicodeScalars)
        let documents = (0..<60).map { i -> (DocumentID, String) in
            var text = String.UnicodeScalarView()
            for _ in 0..<(256 << 10) { text.append(letters.randomElement(using: &rng)!) }
            return (DocumentID(storedRawValue: "big/\(i)"), String(text))
        }
        let (server, admin) = try await ClientSyncTests.startCorpus("big", documents: documents)
        defer { Task { await server.stop() } }
        let connection = try await server.connect()
        var (items, bytes, largest) = (0, 0, 0)
        let end = try await connection.streaming(.with { $0.clone = .with { $0.corpus = "big" } }) { event in
            guard case .item(let item) = event else { return }
            if items == 0 {
                // Hold the first item until the reader has either paused or read the whole
                // stream: with the mark, it pauses; without, everything piles up here.
                while true {
                    let backlog = connection.streamBacklog
                    if backlog.readerPaused || backlog.now >= 10 << 20 { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            items += 1
            bytes += item.readableBytes
            largest = max(largest, item.readableBytes)
        }
        #expect(end.streamEnd.headRevision == 1)
        #expect(bytes > 10 << 20)
        let backlog = connection.streamBacklog
        // The mark is 4 MiB; the stream is more than twice that.
        #expect(ClientConnection.backlogHighWater == 4 << 20)
        #expect(backlog.peak <= (4 << 20) + largest, "peak \(backlog.peak) of \(bytes) bytes")
        #expect(backlog.now == 0 && !backlog.readerPaused)
        _ = admin
    }
}
