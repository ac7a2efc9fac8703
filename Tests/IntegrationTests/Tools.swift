import Foundation
import Testing

/// Where `swift build` put the executables: beside the test bundle.
let binDirectory: URL = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // The test runner may live inside a .xctest bundle directory.
    while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("init-checkconf").path) {
        dir = dir.deletingLastPathComponent()
    }
    return dir
}()

/// The repository root (for examples/).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs one of the package's executables to completion and captures its
/// output; `adding` puts variables in the test process's environment for it.
func run(_ tool: String, _ arguments: [String], adding: [String: String] = [:]) throws -> RunResult {
    let environment = adding.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(adding) { $1 }
    return try runProgram(binDirectory.appendingPathComponent(tool).path, arguments, environment: environment)
}

/// A temporary directory that is removed when the test ends, pass or fail.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("daybreak-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
