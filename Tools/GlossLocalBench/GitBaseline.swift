import Foundation

/// `git status` in a git repository of the same annotations as brat files, with the same
/// documents modified as the pending edits touch: what the same team pays today, in the same run.
enum GitBaseline {
    static func measure(_ prepared: Prepared, gloss: String, work: URL, runs: Int) throws -> Row? {
        guard let git = which("git") else {
            log("git is not installed: no git baseline")
            return nil
        }
        let repo = work.appendingPathComponent("git")
        try Child.ok(gloss, ["export", "brat", repo.path], in: prepared.workspace.path)
        let env = [
            "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org", "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.org",
        ]
        try Child.ok(git, ["init", "-q", "."], in: repo.path, environment: env)
        try Child.ok(git, ["add", "-A"], in: repo.path, environment: env)
        try Child.ok(git, ["commit", "-q", "-m", "annotations"], in: repo.path, environment: env)
        var modified = 0
        for document in prepared.pendingDocuments {
            let path = repo.appendingPathComponent(document.rawValue + ".ann").path
            guard let handle = FileHandle(forWritingAtPath: path) else { continue }
            handle.seekToEndOfFile()
            handle.write(Data("#9999\tAnnotatorNotes T1\tedited\n".utf8))
            handle.closeFile()
            modified += 1
        }
        log("git baseline: \(modified) of \(prepared.pendingDocuments.count) .ann files modified")
        // The first status refreshes the index's stat data; users see the later ones.
        try Child.ok(git, ["status", "--short"], in: repo.path)
        var results: [ChildRun] = []
        for _ in 0..<runs { results.append(try Child.run(git, ["status"], in: repo.path, keepOutput: false)) }
        let row = Row(command: "git status (same annotations as brat files)", target: .nan, results)
        log(row.line)
        return row
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
