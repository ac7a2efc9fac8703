// Re-exec benchmark: the daemon's own work in `initctl reexec` with 500
// running jobs (issue 15; docs/PERFORMANCE.md, "Re-exec"): writing the
// state document, and reading it back in the new daemon.
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

let document = ReexecDocument(engine: runningEngine().state, shell: ShellState(listener: 5, socketPath: "/run/daybreak/control"))
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

func ms(_ ns: UInt64) -> String { fixed(Double(ns) / 1e6, 2) + " ms" }
print("Re-exec document, \(jobs) running jobs, \(bytes.count) bytes (best of \(rounds))")
print("| step | time | against the floor |")
print("| --- | --- | --- |")
print("| floor: parse the bytes as JSON, print them again | \(ms(floor)) | 1.00x |")
print("| write the document (old daemon) | \(ms(write)) | \(fixed(Double(write) / Double(floor)))x |")
print("| the same through Codable (before) | \(ms(codableWrite)) | \(fixed(Double(codableWrite) / Double(floor)))x |")
print("| of which: print the job classes back to text | \(ms(printClasses)) | \(fixed(Double(printClasses) / Double(floor)))x |")
print("| read the document (new daemon) | \(ms(read)) | \(fixed(Double(read) / Double(floor)))x |")
print("| the same through Codable (before) | \(ms(codableRead)) | \(fixed(Double(codableRead) / Double(floor)))x |")
print("| write + read | \(ms(write + read)) | \(fixed(Double(write + read) / Double(floor)))x |")
