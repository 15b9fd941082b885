import Foundation
import GlossBenchCorpus
import GlossModel

// The git role (a child process, after the server has stopped): the benchmark's history as
// brat files in a bare repository, served by `git daemon` on loopback, and the same
// measurements as the Gloss side: clone, pack size, incremental fetch, a fetch of 1,000
// commits and `git show` of a file 1,000 commits back. git runs as a user runs it, as whole
// processes with a configuration of its own (no system or user configuration).

/// git and the environment every git process of the run gets.
struct Git {
    let environment: [String: String]
    /// Where a git process's standard error goes (read back when it fails).
    let stderrPath: String
    /// `/usr/bin/time`, when present: the peak memory of a clone and its children.
    let time = FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? "/usr/bin/time" : nil
    /// The git on PATH, resolved once (an `env` in front would add an exec to every figure).
    let executable: String

    init(scratch: URL) throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let found = path.split(separator: ":").map({ "\($0)/git" }).first(where: FileManager.default.isExecutableFile)
        else { throw BenchError("git is not installed (apt-get install -y git), or run with --no-git") }
        executable = found
        let home = scratch.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        // No ~/.gitconfig nor ~/.config/git of whoever runs the benchmark.
        env["HOME"] = home.path
        env["XDG_CONFIG_HOME"] = home.path
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"
        environment = env
        stderrPath = scratch.appendingPathComponent("git-stderr.txt").path
    }

    /// One finished git process.
    struct Run {
        var seconds: Double
        /// CPU of the process and the children it waited for (user + system).
        var cpu: Double
        var output: Data
        var maxRSSBytes: Int?
    }

    /// Runs `git ARGS` in `dir` to its end and throws on a non-zero exit, with its standard
    /// error. `feed` writes its standard input; `capture` keeps its standard output (else it
    /// goes to /dev/null, as a terminal would take it); `peakMemory` runs it under
    /// `/usr/bin/time` (adds about a millisecond).
    @discardableResult
    func run(
        _ args: [String], in dir: String? = nil, capture: Bool = false, peakMemory: Bool = false,
        feed: ((FileHandle) throws -> Void)? = nil
    ) throws -> Run {
        let process = Process()
        let timeFile = stderrPath + ".time"
        if peakMemory, let time {
            process.executableURL = URL(fileURLWithPath: time)
            process.arguments = ["-f", "%M", "-o", timeFile, executable] + args
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = args
        }
        process.environment = environment
        if let dir { process.currentDirectoryURL = URL(fileURLWithPath: dir) }
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        guard let err = FileHandle(forWritingAtPath: stderrPath) else { throw BenchError("cannot write \(stderrPath)") }
        defer { try? err.close() }
        process.standardError = err
        let out = capture ? Pipe() : nil
        process.standardOutput = out ?? FileHandle.nullDevice
        let input = feed == nil ? nil : Pipe()
        process.standardInput = input ?? FileHandle.nullDevice
        // A semaphore, not waitUntilExit: that one can poll its run loop every 50 ms.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let cpu0 = childrenCPU()
        let clock = ContinuousClock()
        let t0 = clock.now
        try process.run()
        var output = Data()
        if let feed, let input {
            do {
                try feed(input.fileHandleForWriting)
                try input.fileHandleForWriting.close()
            } catch {
                process.terminate()
                exited.wait()
                throw BenchError("git \(args.first ?? ""): writing its input: \(error); \(stderrTail())")
            }
        }
        if let out {
            output = out.fileHandleForReading.readDataToEndOfFile()
            try? out.fileHandleForReading.close()
        }
        exited.wait()
        let elapsed = seconds(clock.now - t0)
        // Process reaps the child before its termination handler runs.
        let cpu = childrenCPU() - cpu0
        guard process.terminationStatus == 0 else {
            throw BenchError("git \(args.joined(separator: " ")) exited with \(process.terminationStatus): \(stderrTail())")
        }
        var peak: Int?
        if peakMemory, time != nil, let text = try? String(contentsOfFile: timeFile, encoding: .utf8) {
            peak = text.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { $0 * 1024 }
        }
        return Run(seconds: elapsed, cpu: cpu, output: output, maxRSSBytes: peak)
    }

    /// Standard output as a trimmed line.
    func line(_ args: [String], in dir: String? = nil) throws -> String {
        String(decoding: try run(args, in: dir, capture: true).output, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func stderrTail() -> String {
        String((try? String(contentsOfFile: stderrPath, encoding: .utf8))?.suffix(600) ?? "")
    }
}

/// `git daemon` on a free loopback port, serving every repository under `base`.
final class GitDaemon {
    let port: Int
    private let process = Process()

    init(git: Git, base: String) throws {
        port = try freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: git.executable)
        process.arguments = [
            "daemon", "--export-all", "--base-path=\(base)", "--reuseaddr", "--listen=127.0.0.1", "--port=\(port)",
            "--informative-errors", base,
        ]
        process.environment = git.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts a connection.
        for _ in 0..<200 {
            if canConnect(port: port) { return }
            guard process.isRunning else { break }
            usleep(25_000)
        }
        stop()
        throw BenchError("git daemon did not start on 127.0.0.1:\(port)")
    }

    func url(_ repository: String) -> String { "git://127.0.0.1:\(port)/\(repository)" }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// A port nobody listens on now (the kernel's choice for port 0).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed") }
    defer { close(fd) }
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw BenchError("cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Bytes of the regular files under a directory (apparent sizes, as `du -b` counts them).
func directoryBytes(_ path: String) -> Int {
    guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let name = walker.nextObject() as? String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name),
            attributes[.type] as? FileAttributeType == .typeRegular
        else { continue }
        total += (attributes[.size] as? NSNumber)?.intValue ?? 0
    }
    return total
}

/// The packs of a repository's object store: `.pack` files, and everything under `objects/`.
func packBytes(_ objects: String) -> (packs: Int, objects: Int) {
    let pack = objects + "/pack"
    let packs = ((try? FileManager.default.contentsOfDirectory(atPath: pack)) ?? [])
        .filter { $0.hasSuffix(".pack") }.reduce(0) { $0 + fileSize(pack + "/" + $1) }
    return (packs, directoryBytes(objects))
}

/// The document the generator edits most (the head of its Zipf order): where a look 1,000
/// revisions back finds the longest history, on both sides.
func hotDocument(seed: UInt64, documents: Int, annotations: Int) -> DocumentID {
    Generator.documentID(Generator(seed: seed, documents: documents, annotations: annotations).hotOrder[0])
}

// MARK: - Results

struct GitClone: Codable {
    var seconds: Double
    var cpuSeconds: Double
    /// Loopback bytes while it ran (one direction counted, as for the Gloss clone).
    var loopbackBytes: Int?
    /// The pack it received, as stored in the clone.
    var packBytes: Int
    /// Peak resident memory of `git clone` and the processes it waited for (`/usr/bin/time`).
    var maxRSSBytes: Int?
}

struct GitPack: Codable {
    var seconds: Double
    var cpuSeconds: Double
    var packBytes: Int
    /// Everything under `objects/` (pack, index, reverse index, bitmap).
    var objectsBytes: Int
}

struct GitFetch: Codable {
    var commits: Int
    var seconds: Double
    var cpuSeconds: Double
    var loopbackBytes: Int?
}

struct GitResult: Codable {
    var gitVersion: String
    /// The bare repository the clones came from (kept with `--keep`).
    var repository: String
    var commits: Int
    var documents: Int
    /// Live spans at the head, each a `T` line of an `.ann` (checked).
    var liveAnnotations: Int
    /// `.ann` exports: one per changed document per changeset.
    var exports: Int
    /// The fast-import stream: commits, inline `.txt` and `.ann` files.
    var streamBytes: Int
    /// Generating, exporting and importing the whole history (wall).
    var buildSeconds: Double
    var generateSeconds: Double
    /// `BratImporter` (reading the last export back) + `BratExporter`, in this process.
    var exportSeconds: Double
    var fastImportCPUSeconds: Double
    var fastImportPackBytes: Int
    /// Peak resident memory of the git role: the generator and every document's brat state.
    var roleVmHWMBytes: Int?
    var repack: GitPack
    var aggressive: GitPack
    var bareClones: [GitClone]
    var checkoutClones: [GitClone]
    /// The last clone with checkout: `.git` and the working tree.
    var checkoutGitBytes: Int
    var checkoutWorktreeBytes: Int
    var showDocument: String
    var showBack: Int
    /// `git show HEAD~N:DOC.ann`, output to /dev/null.
    var show: Latency
    var showBytes: Int
    /// `T` lines of that file: the spans the Gloss reconstruction must have too.
    var showSpans: Int
    /// 10 commits of 1–3 span creates (as the pull phase's pushes) added to the served
    /// repository, then `git fetch` in the clone with checkout.
    var fetch10: Latency
    var fetch10LoopbackBytes: Int?
    var commit10: Latency
    var fetchBehind: [GitFetch]
}

// MARK: - The role

struct GitOptions {
    var work: String
    var seed: UInt64
    var documents: Int
    var annotations: Int
    var changesets: Int
    var pullReps: Int
    var cloneReps: Int
    var behind: Int
    var behindReps: Int
}

enum GitRole {
    static func run(_ o: GitOptions) throws -> GitResult {
        signal(SIGPIPE, SIG_IGN)  // a git that dies while it reads our stream must be an error, not our end
        let root = URL(fileURLWithPath: o.work).appendingPathComponent("git")
        let clones = root.appendingPathComponent("clones")
        try FileManager.default.createDirectory(at: clones, withIntermediateDirectories: true)
        let git = try Git(scratch: root)
        let version = try git.line(["--version"])
        let repo = root.appendingPathComponent("gloss.git").path
        try git.run(["init", "--bare", "--quiet", "--initial-branch=main", repo])

        // 1. The history, one commit per changeset, through one fast-import stream.
        log("git: the history as brat files, one commit per changeset (git fast-import)")
        let clock = ContinuousClock()
        var history = BratHistory()
        var gen = Generator(seed: o.seed, documents: o.documents, annotations: o.annotations)
        var generate = Duration.zero
        var streamBytes = 0
        var commits = 0
        let b0 = clock.now
        let importRun = try git.run(["fast-import", "--quiet", "--done"], in: repo) { handle in
            var stream = FastImportStream(continuing: false)
            func flush(_ force: Bool) throws {
                guard force || stream.data.count >= 4 << 20 else { return }
                try handle.write(contentsOf: stream.take())
            }
            var revision = 0
            while revision < o.documents + o.changesets {
                let g0 = clock.now
                revision += 1
                let changeset =
                    revision <= o.documents
                    ? gen.importChangeset(revision: revision) : gen.editChangeset(revision: revision, base: revision - 1)
                generate += clock.now - g0
                try history.commit(changeset, to: &stream)
                try flush(false)
            }
            try flush(true)
            try handle.write(contentsOf: Data("done\n".utf8))
            streamBytes = stream.bytes
            commits = stream.commits
        }
        let buildSeconds = seconds(clock.now - b0)
        let head = o.documents + o.changesets
        guard commits == head, try Int(git.line(["rev-list", "--count", "main"], in: repo)) == head else {
            throw BenchError("git: \(commits) commits written, main should have \(head)")
        }
        let files = try git.line(["ls-tree", "-r", "--name-only", "main"], in: repo).split(separator: "\n").count
        guard files == 2 * o.documents, history.exportedSpanLines == history.liveAnnotations else {
            throw BenchError(
                "git: \(files) files for \(o.documents) documents; \(history.exportedSpanLines) T lines for \(history.liveAnnotations) live spans")
        }
        let fastImportPack = packBytes(repo + "/objects").packs
        let (liveAtHead, exports, exportTime) = (history.liveAnnotations, history.exports, history.exportTime)
        log("  \(commits) commits, \(exports) exports in \(String(format: "%.1f", buildSeconds)) s")

        // 2. The pack as a server keeps it, and as small as git makes it (on a copy).
        log("git: repack -adf")
        let r0 = try git.run(["repack", "-adf", "--quiet"], in: repo)
        let repacked = packBytes(repo + "/objects")
        let repack = GitPack(seconds: r0.seconds, cpuSeconds: r0.cpu, packBytes: repacked.packs, objectsBytes: repacked.objects)
        let live = root.appendingPathComponent("live.git").path
        let aggressiveRepo = root.appendingPathComponent("aggressive.git").path
        try FileManager.default.copyItem(atPath: repo, toPath: live)
        try FileManager.default.copyItem(atPath: repo, toPath: aggressiveRepo)

        // 3. Clones over git daemon, protocol v2.
        let daemon = try GitDaemon(git: git, base: root.path)
        defer { daemon.stop() }
        log("git: \(o.cloneReps) × clone --bare and clone with checkout from \(daemon.url("gloss.git"))")
        var bare: [GitClone] = []
        var checkout: [GitClone] = []
        var client = ""
        for rep in 0..<o.cloneReps {
            for withCheckout in [false, true] {
                let dest = clones.appendingPathComponent(withCheckout ? "checkout-\(rep)" : "bare-\(rep).git").path
                let lo0 = loopbackBytes()
                let c = try git.run(
                    ["-c", "protocol.version=2", "clone", "--quiet"] + (withCheckout ? [] : ["--bare"])
                        + [daemon.url("gloss.git"), dest], peakMemory: true)
                let lo = loopbackBytes().flatMap { a in lo0.map { a - $0 } }
                let result = GitClone(
                    seconds: c.seconds, cpuSeconds: c.cpu, loopbackBytes: lo,
                    packBytes: packBytes(dest + (withCheckout ? "/.git/objects" : "/objects")).packs, maxRSSBytes: c.maxRSSBytes)
                if withCheckout { checkout.append(result) } else { bare.append(result) }
                if withCheckout && rep == o.cloneReps - 1 {
                    client = dest
                } else {
                    try FileManager.default.removeItem(atPath: dest)
                }
            }
        }
        let gitDirBytes = directoryBytes(client + "/.git")
        let worktreeBytes = directoryBytes(client) - gitDirBytes

        // 4. A file 1,000 commits back.
        let back = min(o.behind, head - 1)
        let document = hotDocument(seed: o.seed, documents: o.documents, annotations: o.annotations)
        let showArgs = ["show", "HEAD~\(back):\(document.rawValue).ann"]
        log("git: \(o.pullReps) × git \(showArgs.joined(separator: " "))")
        let shown = try git.run(showArgs, in: client, capture: true).output
        var showMs: [Double] = []
        for rep in 0..<(3 + o.pullReps) {
            let s = try git.run(showArgs, in: client)
            if rep >= 3 { showMs.append(s.seconds * 1000) }
        }
        let showSpans = String(decoding: shown, as: UTF8.self).split(separator: "\n").filter { $0.first == "T" }.count

        // 5. Incremental fetches from a copy of the repository that new commits go to.
        try git.run(["remote", "set-url", "origin", daemon.url("live.git")], in: client)
        try git.run(["-c", "protocol.version=2", "fetch", "--quiet", "origin"], in: client)
        let docs = history.documentList
        @discardableResult
        func add(_ count: Int, _ small: inout SmallChangesets) throws -> Git.Run {
            var changesets = small
            defer { small = changesets }
            return try git.run(["fast-import", "--quiet", "--done"], in: live) { handle in
                var stream = FastImportStream(continuing: true)
                for _ in 0..<count {
                    // As the pull phase's pusher: 1–3 span creates on one document.
                    var changeset = changesets.next(base: 0)
                    changeset.timestamp = 1_800_000_000
                    try history.commit(changeset, to: &stream)
                }
                try handle.write(contentsOf: stream.take() + Data("done\n".utf8))
            }
        }
        func fetch(expecting count: Int) throws -> GitFetch {
            let before = try git.line(["rev-parse", "refs/remotes/origin/main"], in: client)
            let lo0 = loopbackBytes()
            let f = try git.run(["-c", "protocol.version=2", "fetch", "--quiet", "origin"], in: client)
            let lo = loopbackBytes().flatMap { a in lo0.map { a - $0 } }
            let got = try Int(git.line(["rev-list", "--count", "\(before)..refs/remotes/origin/main"], in: client)) ?? -1
            guard got == count, try git.line(["rev-parse", "main"], in: live) == git.line(["rev-parse", "refs/remotes/origin/main"], in: client)
            else { throw BenchError("git fetch brought \(got) commits, expected \(count)") }
            return GitFetch(commits: got, seconds: f.seconds, cpuSeconds: f.cpu, loopbackBytes: lo)
        }
        log("git: \(o.pullReps) × (10 commits of 1–3 span creates, then git fetch)")
        var pushes = SmallChangesets(user: Setup.pusher, seed: streamSeed(o.seed, .pull, 0), documents: docs)
        var fetchMs: [Double] = []
        var commitMs: [Double] = []
        var fetchLo: [Double] = []
        for rep in 0..<(3 + o.pullReps) {
            let c = try add(10, &pushes)
            let f = try fetch(expecting: 10)
            if rep >= 3 {
                commitMs.append(c.seconds * 1000)
                fetchMs.append(f.seconds * 1000)
                if let lo = f.loopbackBytes { fetchLo.append(Double(lo)) }
            }
        }
        log("git: \(o.behindReps) × (\(o.behind) commits, then git fetch)")
        var behindPushes = SmallChangesets(user: Setup.pusher, seed: streamSeed(o.seed, .behind, 0), documents: docs)
        var behind: [GitFetch] = []
        for _ in 0..<o.behindReps {
            try add(o.behind, &behindPushes)
            behind.append(try fetch(expecting: o.behind))
        }
        daemon.stop()

        // 6. The smallest pack git makes of the same history.
        log("git: gc --aggressive (on a copy of the repository as built)")
        let a0 = try git.run(["gc", "--aggressive", "--quiet"], in: aggressiveRepo)
        let aggressivePacked = packBytes(aggressiveRepo + "/objects")
        try FileManager.default.removeItem(atPath: aggressiveRepo)

        return GitResult(
            gitVersion: version, repository: repo, commits: commits, documents: o.documents,
            liveAnnotations: liveAtHead, exports: exports, streamBytes: streamBytes,
            buildSeconds: buildSeconds, generateSeconds: seconds(generate), exportSeconds: seconds(exportTime),
            fastImportCPUSeconds: importRun.cpu, fastImportPackBytes: fastImportPack, roleVmHWMBytes: procStatus("VmHWM"),
            repack: repack,
            aggressive: GitPack(
                seconds: a0.seconds, cpuSeconds: a0.cpu, packBytes: aggressivePacked.packs, objectsBytes: aggressivePacked.objects),
            bareClones: bare, checkoutClones: checkout, checkoutGitBytes: gitDirBytes, checkoutWorktreeBytes: worktreeBytes,
            showDocument: document.rawValue, showBack: back, show: Latency(showMs), showBytes: shown.count, showSpans: showSpans,
            fetch10: Latency(fetchMs), fetch10LoopbackBytes: fetchLo.isEmpty ? nil : Int(median(fetchLo)),
            commit10: Latency(commitMs), fetchBehind: behind)
    }
}
