import Engine
import JobFile
import Platform

/// The job directories: reads them, parses each job, and says what changed
/// since the last reading as engine inputs.
///
/// Guarantees:
/// - The first directory (in `--confdir` / search order) that defines a job
///   name owns it; the same name further down is ignored.
/// - A job whose file has an error is reported (file, line, column) and
///   skipped; if it was loaded before, its last good definition stays
///   loaded, so a bad edit never takes down a running job's class.
/// - An override with an error is reported and ignored; the job file alone
///   defines the job.
/// - A job whose file is gone is removed (its running instances go on
///   until they stop, as the engine arranges).
struct JobSources {
    var directories: [String]
    /// What the engine currently has, by job name.
    private(set) var loaded: [String: JobClass] = [:]

    init(directories: [String]) {
        self.directories = directories
    }

    /// Reads every directory again and returns the inputs that bring the
    /// engine up to date, with the problems found on the way.
    mutating func rescan() -> (inputs: [Input], problems: [String]) {
        var fresh: [String: JobClass] = [:]
        var broken = Set<String>()
        var problems: [String] = []
        for dir in directories {
            guard FileSystem.kind(of: dir) == .directory else { continue }
            let files: [String]
            do {
                files = try FileSystem.walk(dir)
            } catch {
                problems.append(error.description)
                continue
            }
            for entry in ConfEntry.entries(from: files) where fresh[entry.name] == nil && !broken.contains(entry.name) {
                let confPath = dir + "/" + entry.conf
                let overridePath = entry.override.map { dir + "/" + $0 }
                do {
                    let conf = try FileSystem.readFile(confPath)
                    let override = try overridePath.map { p throws(PlatformError) in try FileSystem.readFile(p) }
                    let (job, overrideError) = try Parser.parseWithOverride(
                        name: entry.name, conf: conf, confFile: confPath, override: override, overrideFile: overridePath ?? "")
                    if let overrideError {
                        problems.append("\(overrideError) (override ignored; \(confPath) alone defines '\(entry.name)')")
                    }
                    fresh[entry.name] = job
                } catch let error as JobParseError {
                    broken.insert(entry.name)
                    let kept = loaded[entry.name] != nil ? "; keeping its previous definition" : "; job '\(entry.name)' not loaded"
                    problems.append("\(error)\(kept)")
                } catch {
                    broken.insert(entry.name)
                    problems.append("\(error)")
                }
            }
        }
        var inputs: [Input] = []
        for name in fresh.keys.sorted() {
            let job = fresh[name]!
            if let old = loaded[name] {
                if old != job { inputs.append(.jobClassChanged(job)) }
            } else {
                inputs.append(.jobClassAdded(job))
            }
        }
        for name in loaded.keys.sorted() where fresh[name] == nil {
            if broken.contains(name) {
                fresh[name] = loaded[name]
            } else {
                inputs.append(.jobClassRemoved(name: name))
            }
        }
        loaded = fresh
        return (inputs, problems)
    }

    /// Every directory below the job directories, for inotify to watch.
    func watchDirectories() -> [String] {
        var out: [String] = []
        for dir in directories where FileSystem.kind(of: dir) == .directory {
            out.append(dir)
            var pending = [dir]
            while let d = pending.popLast() {
                for sub in FileSystem.subdirectories(of: d) {
                    out.append(sub)
                    pending.append(sub)
                }
            }
        }
        return out
    }
}
