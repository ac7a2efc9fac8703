// Re-exec benchmark: the daemon's own work in `initctl reexec` with 500
// running jobs (issue 15; docs/PERFORMANCE.md, "Re-exec"): writing the
// state document (the engine's part and the shell's records), and reading
// it back in the new daemon.
//
// The floor, measured in the same run on the same bytes: reading the
// document as plain JSON (`JSONValue.parse`) and printing it again
// (`compactBytes`), what any JSON document of that size costs. The ratio
// is what the engine's types add on top: walking the state, printing each
// job class back to job-file text and parsing it again, rebuilding the
// indexes. The daemon writes and reads the document by hand; the Codable
// path it took before is measured beside it, on the same document.
import BenchSupport
import Engine
import JSON
import JobFile

let jobs = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 500
let rounds = 20

/// An engine with `jobs` classes, each with one running instance (a
/// `console log` service with an `env` line, as the daemon's load script
/// starts them), taken as adopted processes.
func runningEngine() -> Engine {
    var engine = Engine(configuration: EngineConfiguration(verbose: false))
    for i in 0..<jobs {
        let name = "j\(i)"
        let text = "start on startup\nconsole log\nenv ID=\(i)\nexec /bin/sleep 100000\n"
        guard let job = try? Parser.parse(name: name, text: text, file: name + ".conf") else { fatalError("job \(name)") }
        _ = engine.handle(.jobClassAdded(job), at: .seconds(1))
        guard engine.adoptRunning(job: name, instance: "", mainPid: Int32(10_000 + i), at: .seconds(2)) != nil else {
            fatalError("adopting \(name)")
        }
    }
    return engine
}

/// The shell's records for those jobs, as a user-mode daemon with cgroups
/// and `console log` keeps them: a group, a pty master and a post-mortem
/// of three lines each.
func runningShell() -> ShellState {
    var shell = ShellState(listener: 5, socketPath: "/run/user/1000/daybreak/control")
    var postMortems: [PostMortemRecord] = []
    for i in 0..<jobs {
        let name = "j\(i)"
        var record = InstanceShell(key: name, job: name, instance: "")
        record.groups = ["/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/daybreak-4242/" + name]
        shell.instances.append(record)
        shell.logs.append(LogPty(master: Int32(100 + i), file: "/home/user/.cache/upstart/\(name).log", pid: Int32(10_000 + i)))
        let lines = ["starting", "started", "main process (\(10_000 + i)) running"]
        let history = lines.enumerated().map { PostMortemLine(at: 1_764_500_000_000 + Int64($0.offset), text: $0.element) }
        postMortems.append(PostMortemRecord(job: name, instance: "", history: history, lastFailure: nil))
    }
    shell.postMortems = postMortems
    return shell
}

let document = ReexecDocument(engine: runningEngine().state, shell: runningShell())
guard let bytes = try? document.encoded() else { fatalError("the document does not encode") }
guard case .success(let back) = ReexecDocument.decode(bytes), back == document else { fatalError("the document does not round-trip") }

let write = bestOf(rounds) { blackHole(try? document.encoded()) }
let read = bestOf(rounds) { blackHole(ReexecDocument.decode(bytes)) }
// The Codable path the daemon took before (JSONValueEncoder/Decoder), on
// the same document: what writing and reading by hand saves.
let codableWrite = bestOf(rounds) { blackHole((try? JSONValueEncoder().encode(document))?.compactBytes) }
let codableRead = bestOf(rounds) {
    blackHole((try? JSONValue.parse(bytes)).flatMap { try? JSONValueDecoder().decode(ReexecDocument.self, from: $0) })
}
let floor = bestOf(rounds) { blackHole((try? JSONValue.parse(bytes))?.compactBytes) }
let printClasses = bestOf(rounds) { blackHole(document.engine.classes.values.map { $0.definition.job.jobFileText }) }
let parseBytes = bestOf(rounds) { blackHole(try? JSONValue.parse(bytes)) }
let texts = document.engine.classes.values.map { ($0.definition.job.name, $0.definition.job.jobFileText) }
let parseClasses = bestOf(rounds) { blackHole(texts.map { try? Parser.parse(name: $0.0, text: $0.1, file: $0.0) }) }

func ms(_ ns: UInt64) -> String { fixed(Double(ns) / 1e6, 2) + " ms" }
print("Re-exec document, \(jobs) running jobs, \(bytes.count) bytes (best of \(rounds))")
print("| step | time | against the floor |")
print("| --- | --- | --- |")
print("| floor: parse the bytes as JSON, print them again | \(ms(floor)) | 1.00x |")
print("| write the document (old daemon) | \(ms(write)) | \(fixed(Double(write) / Double(floor)))x |")
print("| the same through Codable (before) | \(ms(codableWrite)) | \(fixed(Double(codableWrite) / Double(floor)))x |")
print("| of which: print the job classes back to text | \(ms(printClasses)) | \(fixed(Double(printClasses) / Double(floor)))x |")
print("| read the document (new daemon) | \(ms(read)) | \(fixed(Double(read) / Double(floor)))x |")
print("| of which: parse the bytes as JSON | \(ms(parseBytes)) | \(fixed(Double(parseBytes) / Double(floor)))x |")
print("| of which: parse the job classes' text | \(ms(parseClasses)) | \(fixed(Double(parseClasses) / Double(floor)))x |")
print("| the same through Codable (before) | \(ms(codableRead)) | \(fixed(Double(codableRead) / Double(floor)))x |")
print("| write + read | \(ms(write + read)) | \(fixed(Double(write + read) / Double(floor)))x |")
