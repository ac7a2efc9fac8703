import ArgumentParser
import JobFile
import Platform
import TimeSchedule

/// `init-checkconf [--json] PATH...`: checks job files without running them.
///
/// Each PATH is a job file (its `.override` beside it is read too) or a
/// directory (every `.conf` below it, named by its path relative to the
/// directory). Errors go to standard error as `FILE:LINE:COLUMN: message`,
/// warnings as `FILE:LINE:COLUMN: warning: message`. Exits 1 when any file
/// fails (or, with `--strict`, when anything was warned about), 0 otherwise.
@main
struct InitCheckconf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-checkconf",
        abstract: "Check Upstart/Daybreak job files for errors without running them.",
        discussion: "Exits 0 when every file parses, 1 when any fails (or, with --strict, when there is a warning). See docs/init-checkconf.md.")

    @Flag(name: .long, help: "Print each parsed job as JSON on standard output.")
    var json = false

    @Flag(name: [.short, .long], help: "Print only errors.")
    var quiet = false

    @Flag(name: .long, help: "Count warnings as failures: exit 1 when there is any (and print them, even with --quiet).")
    var strict = false

    @Argument(help: "Job files (.conf) or directories of them.")
    var paths: [String]

    mutating func run() throws {
        let warnings = Warnings(shown: !quiet || strict)
        let machine = MachineSupport.current()
        var results: [JSONValue] = []
        var failed = false
        for path in paths {
            let targets: [(name: String, conf: String, override: String?)]
            switch FileSystem.kind(of: path) {
            case .directory:
                do {
                    let files = try FileSystem.walk(path)
                    targets = ConfEntry.entries(from: files).map {
                        ($0.name, path + "/" + $0.conf, $0.override.map { path + "/" + $0 })
                    }
                    if targets.isEmpty {
                        printError("\(path): no .conf files in this directory")
                        failed = true
                    }
                    for orphan in ConfEntry.orphanOverrides(in: files) {
                        warnings.add("\(path)/\(orphan): warning: override file has no job file beside it; ignored")
                    }
                } catch {
                    printError(error.description)
                    failed = true
                    continue
                }
            case .regular:
                let base = path.split(separator: "/").last.map(String.init) ?? path
                let name = base.hasSuffix(".conf") ? String(base.dropLast(5)) : base
                let overridePath = path.hasSuffix(".conf") ? String(path.dropLast(5)) + ".override" : nil
                let hasOverride = overridePath.map { FileSystem.kind(of: $0) == .regular } ?? false
                targets = [(name, path, hasOverride ? overridePath : nil)]
            case .other:
                printError("\(path): not a regular file or directory")
                failed = true
                continue
            case nil:
                printError("\(path): no such file or directory")
                failed = true
                continue
            }
            for target in targets {
                let result = check(name: target.name, conf: target.conf, override: target.override, machine: machine, warnings: warnings)
                if !result.ok { failed = true }
                results.append(result.json)
            }
        }
        if json {
            print(JSONValue.array(results).pretty)
        }
        if failed || (strict && warnings.count > 0) { throw ExitCode(1) }
    }

    /// Parses one job and reports it. Returns whether it passed and its JSON entry.
    func check(name: String, conf: String, override: String?, machine: MachineSupport, warnings: Warnings) -> (ok: Bool, json: JSONValue) {
        let entry: [(String, JSONValue)] = [("file", .string(conf)), ("override", override.map(JSONValue.string) ?? .null)]
        do {
            let confBytes = try FileSystem.readFile(conf)
            let overrideBytes = try override.map { path throws(PlatformError) in try FileSystem.readFile(path) }
            let (job, overrideError) = try Parser.parseWithOverride(
                name: name, conf: confBytes, confFile: conf,
                override: overrideBytes, overrideFile: override ?? "")
            if let overrideError {
                printError("\(overrideError) (the override is ignored; the job file alone defines '\(name)')")
                return (false, .object(entry + [("ok", .bool(false)), ("error", overrideError.json), ("job", job.json)]))
            }
            // Warnings cost a second parse: none when nobody reads them.
            if warnings.shown {
                for w in Parser.upstartRejects(name: name, bytes: confBytes, file: conf) {
                    warnings.add("\(w.file):\(w.line):\(w.column): warning: \(w.message)")
                }
            }
            if let bad = unknownZone(job, confBytes) {
                let e = JobParseError(file: conf, line: bad.line, column: 1, message: "timer: TZ='\(bad.zone)': no such time zone (expected a name under /usr/share/zoneinfo, like Europe/Berlin)")
                printError(e.description)
                return (false, .object(entry + [("ok", .bool(false)), ("error", e.json), ("job", .null)]))
            }
            if let line = tracedInPidNamespace(job, confBytes, file: conf) {
                let e = JobParseError(file: conf, line: line, column: 1, message: "namespace pid: a traced job (expect fork, expect daemon) cannot be followed into a new pid namespace; every start of this job would fail")
                printError(e.description)
                return (false, .object(entry + [("ok", .bool(false)), ("error", e.json), ("job", .null)]))
            }
            if warnings.shown && MachineSupport.concerns(job) {
                var unsupported = machine.warnings(for: job, places: Parser.stanzaPlaces(name: name, bytes: confBytes, file: conf), file: conf)
                if let override, let overrideBytes {
                    unsupported += machine.warnings(for: job, places: Parser.stanzaPlaces(name: name, bytes: overrideBytes, file: override), file: override)
                }
                for w in unsupported {
                    warnings.add("\(w.file):\(w.line):\(w.column): warning: \(w.message)")
                }
            }
            if !quiet && !json { print("File \(conf): syntax ok") }
            return (true, .object(entry + [("ok", .bool(true)), ("error", .null), ("job", job.json)]))
        } catch let error as JobParseError {
            printError(error.description)
            return (false, .object(entry + [("ok", .bool(false)), ("error", error.json), ("job", .null)]))
        } catch {
            printError("\(error)")
            let err = JSONValue.object([("file", .string(conf)), ("line", .number(0)), ("column", .number(0)), ("message", .string("\(error)"))])
            return (false, .object(entry + [("ok", .bool(false)), ("error", err), ("job", .null)]))
        }
    }
}

/// A timer's `TZ=` whose zone /usr/share/zoneinfo does not hold (or holds
/// as something other than TZif data), with the first line naming it. The
/// parser checks a zone name's form; only a tool that reads files can check
/// that it exists.
func unknownZone(_ job: JobClass, _ bytes: [UInt8]) -> (zone: String, line: Int)? {
    for expr in [job.startOn, job.stopOn].compactMap({ $0 }) {
        for m in expr.matches where m.name == "timer" {
            for a in m.arguments where a.key == "TZ" {
                let data = try? FileSystem.readFile("/usr/share/zoneinfo/" + a.value)
                if let data, (try? Zone(tzif: data, name: a.value)) != nil { continue }
                var line = 1
                let needle = Array(a.value.utf8)
                for (i, b) in bytes.enumerated() {
                    if bytes[i...].starts(with: needle) { return (a.value, line) }
                    if b == 10 { line += 1 }
                }
                return (a.value, 1)
            }
        }
    }
    return nil
}

/// The line of the `namespace` stanza asking for a pid namespace in a job
/// whose `expect fork` or `expect daemon` the daemon would have to follow
/// into it, which it cannot (the spawn fails; docs/job-files.md, namespace).
func tracedInPidNamespace(_ job: JobClass, _ bytes: [UInt8], file: String) -> Int? {
    guard job.namespaces.contains(.pid), job.expect == .fork || job.expect == .daemon else { return nil }
    let places = Parser.stanzaPlaces(name: job.name, bytes: bytes, file: file)
    return places.first(where: { $0.namespaces.contains(.pid) })?.line ?? 1
}

/// The warnings of a run: printed unless `--quiet` (always with `--strict`,
/// where they fail the run), and counted for `--strict`. When they are not
/// shown nothing reads them, and the checks that find them are skipped.
final class Warnings {
    let shown: Bool
    private(set) var count = 0

    init(shown: Bool) { self.shown = shown }

    func add(_ message: String) {
        count += 1
        if shown { printError(message) }
    }
}

func printError(_ message: String) {
    var stderr = StandardError()
    print("init-checkconf: \(message)", to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileSystem.writeStandardError(string)
    }
}
