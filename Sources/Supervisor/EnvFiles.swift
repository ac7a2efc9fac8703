import Engine
import JobFile
import Platform

/// `env-file` (a Daybreak stanza): reads a job's environment files at each
/// spawn and lays their variables over the environment the engine gave.
///
/// The order, lowest first: the daemon's defaults and `initctl set-env`,
/// `env` stanzas, each `env-file` in the order written (a later file
/// replaces an earlier one's value), then the variables of the events or
/// request that started the job, the stop's variables (pre-stop,
/// post-stop), and `UPSTART_JOB`, `UPSTART_INSTANCE`. A name the engine
/// marks fixed (`fixedNames`) is never replaced by a file.
///
/// A required file that cannot be read, or a line that is not
/// `KEY=VALUE`, fails the spawn with a message naming the file (and line).
/// Files are limited to 1 MiB, like job files.
func applyEnvFiles(_ files: [EnvFileEntry], to environment: [String], fixed: [String]) throws(EnvFileFailure) -> [String] {
    var env = Environment(environment)
    let fixed = Set(fixed)
    for f in files {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(f.path)
        } catch {
            if f.optional && error.errno == .noSuchFileOrDirectory { continue }
            throw EnvFileFailure(message: "env-file: \(error.description)")
        }
        let entries: [String]
        do {
            entries = try EnvFile.parse(String(decoding: bytes, as: UTF8.self), file: f.path)
        } catch {
            throw EnvFileFailure(message: "env-file \(error.description)")
        }
        for e in entries {
            let name = e[..<e.firstIndex(of: "=")!]
            if !fixed.contains(String(name)) { env.set(e) }
        }
    }
    return env.entries
}

/// Why a job's env-files could not be applied: the spawn fails with it.
struct EnvFileFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// `initctl show-config -e`: the environment a new start of the job gets
/// before the start's own variables, one line per variable with where it
/// came from: `(default)` (the daemon's minimal set), `(set-env)`,
/// `(env)`, or `(env-file PATH:LINE)`; then a line for each env-file that
/// is missing or cannot be read. Reads the files now.
func environmentSources(_ job: JobClass, defaults: [String], daemonEnvironment: [String]) -> [String] {
    var order: [String] = []
    var sources: [String: (entry: String, from: String)] = [:]
    func put(_ entry: String, _ from: String) {
        guard let eq = entry.firstIndex(of: "=") else { return }
        let name = String(entry[..<eq])
        if sources[name] == nil { order.append(name) }
        sources[name] = (entry, from)
    }
    let minimal = Set(EngineConfiguration.upstartDefaults)
    for e in defaults { put(e, minimal.contains(e) ? "default" : "set-env") }
    let daemon = Environment(daemonEnvironment)
    for v in job.env {
        if let value = v.value { put(v.name + "=" + value, "env") } else if let e = daemon.entry(v.name) { put(e, "env") }
    }
    var problems: [String] = []
    for f in job.envFiles {
        do {
            let bytes = try FileSystem.readFile(f.path)
            for (entry, line) in try EnvFile.parseLines(String(decoding: bytes, as: UTF8.self), file: f.path) {
                put(entry, "env-file \(f.path):\(line)")
            }
        } catch let error as PlatformError {
            if f.optional && error.errno == .noSuchFileOrDirectory {
                problems.append("  env-file -\(f.path) (missing, optional)")
            } else {
                problems.append("  env-file \(f.path): \(error)")
            }
        } catch {
            problems.append("  env-file \(error)")
        }
    }
    return order.map { "  env \(sources[$0]!.entry) (\(sources[$0]!.from))" } + problems
}

/// `initctl status --verbose`: each variable of a running instance, with
/// where it came from: as `environmentSources` for what the class gives,
/// `(start)` for what the events or `initctl start` that started it gave
/// (and `UPSTART_EVENTS`), and `(env-file PATH:LINE)` for what its
/// env-files give now (read again; the files may have changed since the
/// spawn). Processes also get `UPSTART_JOB` and `UPSTART_INSTANCE`.
func instanceEnvironmentSources(_ job: JobClass, _ environment: [String], defaults: [String], daemonEnvironment: [String]) -> [String] {
    var plain = job
    plain.envFiles = []
    var base: [String: String] = [:]
    for line in environmentSources(plain, defaults: defaults, daemonEnvironment: daemonEnvironment) {
        // "  env KEY=VALUE (SOURCE)"
        guard line.hasPrefix("  env "), let open = line.lastIndex(of: "(") else { continue }
        base[String(line.dropFirst(6)[..<line.index(before: open)])] = String(line[line.index(after: open)..<line.index(before: line.endIndex)])
    }
    var order: [String] = []
    var out: [String: (entry: String, from: String)] = [:]
    var fromStart: Set<String> = []
    for e in environment {
        guard let eq = e.firstIndex(of: "=") else { continue }
        let name = String(e[..<eq])
        order.append(name)
        if let from = base[e] {
            out[name] = (e, from)
        } else {
            out[name] = (e, "start")
            fromStart.insert(name)
        }
    }
    var problems: [String] = []
    for f in job.envFiles {
        do {
            let bytes = try FileSystem.readFile(f.path)
            for (entry, line) in try EnvFile.parseLines(String(decoding: bytes, as: UTF8.self), file: f.path) {
                let name = String(entry[..<entry.firstIndex(of: "=")!])
                guard !fromStart.contains(name) else { continue }
                if out[name] == nil { order.append(name) }
                out[name] = (entry, "env-file \(f.path):\(line)")
            }
        } catch let error as PlatformError {
            if !(f.optional && error.errno == .noSuchFileOrDirectory) { problems.append("env-file \(f.path): \(error)") }
        } catch {
            problems.append("env-file \(error)")
        }
    }
    return order.map { "\(out[$0]!.entry) (\(out[$0]!.from))" } + problems
}
