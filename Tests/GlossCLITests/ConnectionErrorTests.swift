import Foundation
import GlossTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `gloss` says when it cannot reach a server or cannot write the clone: a plain
/// sentence naming the address or the path and the README's exit code (3: cannot reach or
/// trust the server; 6: workspace problem), never the internals of NIO, BoringSSL or
/// Foundation (`SingleConnectionFailure(target: …)`, a BoringSSL error with a path in its
/// build tree, `NSCocoaErrorDomain Code=4`).
@Suite struct ConnectionErrorTests {
    /// Any valid pin: these servers never get as far as presenting a certificate.
    static let pin = "sha256:" + String(repeating: "0", count: 64)

    /// Runs `gloss clone` of `url` into a new directory; returns the result and whether the
    /// directory exists afterwards.
    static func clone(_ url: String, in directory: TemporaryDirectory) async throws -> (GlossProcesses.Result, Bool) {
        let target = directory.url.appendingPathComponent("w")
        let result = try await GlossProcesses.gloss(
            ["clone", url, target.path, "--pin", pin, "--token", "gls_x"], in: directory.url)
        return (result, FileManager.default.fileExists(atPath: target.path))
    }

    /// The internals the user must not see.
    static func expectPlain(_ err: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for leak in ["NSCocoaErrorDomain", "BoringSSL", "SingleConnectionFailure", "NIOConnectionError", ".cc:", ".swift:", "/Sources/"] {
            #expect(!err.contains(leak), "stderr shows \(leak): \(err)", sourceLocation: sourceLocation)
        }
    }

    @Test func aClosedPortIsRefusedByName() async throws {
        let directory = try TemporaryDirectory("conn-refused")
        defer { directory.remove() }
        let port = try FakeService.closedPort()
        let (result, created) = try await Self.clone("gloss://127.0.0.1:\(port)/news", in: directory)
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("127.0.0.1:\(port)") && result.err.contains("refused"), "\(result.err)")
        Self.expectPlain(result.err)
        #expect(!created)
    }

    @Test func anSSHServerIsNotGloss() async throws {
        let directory = try TemporaryDirectory("conn-ssh")
        defer { directory.remove() }
        let ssh = try FakeService(greeting: "SSH-2.0-OpenSSH_9.2\r\n")
        defer { ssh.stop() }
        let (result, created) = try await Self.clone("gloss://127.0.0.1:\(ssh.port)/news", in: directory)
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("127.0.0.1:\(ssh.port)") && result.err.contains("not a Gloss server"), "\(result.err)")
        #expect(result.err.contains("SSH-2.0-OpenSSH_9.2"), "what answered is named: \(result.err)")
        Self.expectPlain(result.err)
        #expect(!created)
    }

    @Test func anHTTPServerIsNotGloss() async throws {
        let directory = try TemporaryDirectory("conn-http")
        defer { directory.remove() }
        // It waits for a request (our TLS hello), answers 400 and hangs up, as web servers do.
        let http = try FakeService(reply: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        defer { http.stop() }
        let (result, created) = try await Self.clone("gloss://127.0.0.1:\(http.port)/news", in: directory)
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("127.0.0.1:\(http.port)") && result.err.contains("not a Gloss server"), "\(result.err)")
        #expect(result.err.contains("HTTP/1.1 400"), "what answered is named: \(result.err)")
        Self.expectPlain(result.err)
        #expect(!created)
    }

    @Test func aServiceThatHangsUpIsNamed() async throws {
        let directory = try TemporaryDirectory("conn-hangup")
        defer { directory.remove() }
        let silent = try FakeService()
        defer { silent.stop() }
        let (result, created) = try await Self.clone("gloss://127.0.0.1:\(silent.port)/news", in: directory)
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("127.0.0.1:\(silent.port)") && result.err.contains("closed the connection"), "\(result.err)")
        Self.expectPlain(result.err)
        #expect(!created)
    }

    @Test func aCloneWhereNothingCanBeWrittenNamesThePath() async throws {
        let f = try await CLIFixture("conn-proc")
        // /proc takes no new directories: mkdir fails there even for root.
        let inside = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/news", "/proc/gloss-clone", "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(inside.status == 6, "\(inside.err)")
        #expect(inside.err.contains("/proc/gloss-clone"), "\(inside.err)")
        Self.expectPlain(inside.err)
        // /proc itself is a directory that is not empty: refused as git refuses it, before connecting.
        let onto = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/news", "/proc", "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(onto.status == 6, "\(onto.err)")
        #expect(onto.err.contains("destination path '/proc' already exists and is not an empty directory"), "\(onto.err)")
        Self.expectPlain(onto.err)
        // A file in the way is named too.
        let file = f.directory.url.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let ontoFile = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/news", file.path, "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(ontoFile.status == 6, "\(ontoFile.err)")
        #expect(ontoFile.err.contains(file.path), "\(ontoFile.err)")
        Self.expectPlain(ontoFile.err)
    }
}

/// A TCP service on 127.0.0.1 that is not glossd: it sends `greeting` on connecting, or
/// reads what the client sends and answers `reply`, then hangs up. Its own thread accepts
/// and answers (blocking calls, kept off the cooperative pool).
final class FakeService: @unchecked Sendable {
    let port: Int
    private let socket: Int32
    private let lock = NSLock()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    init(greeting: String? = nil, reply: String? = nil) throws {
        (socket, port) = try Self.listen()
        let thread = Thread { [socket, lock, done] in
            defer { done.signal() }
            while !(lock.withLock { self.stopping }) {
                var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) > 0 else { continue }
                let client = accept(socket, nil, nil)
                guard client >= 0 else { continue }
                if let greeting { Self.send(client, greeting) }
                if let reply {
                    _ = Self.receive(client, seconds: 20)
                    Self.send(client, reply)
                }
                close(client)
            }
        }
        thread.start()
    }

    /// Stops accepting and closes the listening socket.
    func stop() {
        lock.withLock { stopping = true }
        done.wait()
        close(socket)
    }

    /// A port nothing listens on: bound, then closed again.
    static func closedPort() throws -> Int {
        let (socket, port) = try listen()
        close(socket)
        return port
    }

    private static func listen() throws -> (Int32, Int) {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads what arrives within `seconds` (the first chunk is enough).
    private static func receive(_ fd: Int32, seconds: Int32) -> Int {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, seconds * 1000) > 0 else { return 0 }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return read(fd, &buffer, buffer.count)
    }
}
