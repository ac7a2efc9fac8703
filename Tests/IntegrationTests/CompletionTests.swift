import Foundation
import Testing

/// completion/initctl.bash, sourced in a real bash and asked as bash asks
/// (COMP_WORDS, COMP_CWORD), against the real initctl and a real daemon.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash"), "bash is not installed"))
struct BashCompletion {
    static let script = repoRoot.appendingPathComponent("completion/initctl.bash").path
    var initctl: String { binDirectory.appendingPathComponent("initctl").path }

    /// The completions of the command line `words`, the cursor on the last word.
    func complete(_ words: [String]) throws -> Set<String> {
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let program = """
            . '\(BashCompletion.script)'
            complete -p initctl start >/dev/null || exit 2
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            _initctl
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let r = try runProgram("/bin/bash", ["--norc", "--noprofile", "-c", program], environment: ["PATH": "/usr/bin:/bin"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        return Set(r.stdout.split(separator: "\n").map(String.init))
    }

    @Test func commandsAndOptionsComeFromInitctl() throws {
        #expect(try complete([initctl, "res"]) == ["restart", "reset-env"])
        #expect(try complete([initctl, "reload"]) == ["reload", "reload-configuration"])
        #expect(try complete([initctl, "--so"]) == ["--socket"])
        #expect(try complete([initctl, "status", "--hi"]) == ["--history"])
    }

    @Test func jobNamesComeFromTheRunningDaemon() throws {
        let d = try TestDaemon(jobs: ["web": "exec /bin/sleep 600\n", "worker": "exec /bin/sleep 600\n", "db": "exec /bin/sleep 600\n"])
        defer { d.stop() }
        #expect(try complete([initctl, "--socket", d.socket, "start", "w"]) == ["web", "worker"])
        #expect(try complete([initctl, "status", "--socket", d.socket, ""]) == ["web", "worker", "db"])
        // No job names for a command that takes none.
        #expect(try complete([initctl, "--socket", d.socket, "emit", "w"]).isEmpty)

        // Through a link named `start`, as installed: the command is the
        // link's name, and completing asks initctl, never `start list`.
        let links = try TempDir()
        try FileManager.default.createSymbolicLink(atPath: links.path("start"), withDestinationPath: initctl)
        #expect(try complete([links.path("start"), "--socket", d.socket, "d"]) == ["db"])
        #expect(try complete([links.path("start"), "--socket", d.socket, "--no-w"]) == ["--no-wait"])
        let list = try d.initctl("list").stdout
        #expect(list.split(separator: "\n").allSatisfy { $0.hasSuffix("stop/waiting") }, "completion started nothing: \(list)")
    }
}
