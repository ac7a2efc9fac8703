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
/// - Only files whose stamp (device, inode, size, mtime) changed are read
///   and parsed again. The definitions themselves live in the engine, once:
///   this type keeps a few bytes a job.
struct JobSources: Sendable {
    var directories: [String]

    /// The files that define a loaded job, and their stamps when read.
    /// Kept small, as there is one a job: the directory's string is shared
    /// by every job in it, the job file's path is relative to it (short
    /// names fit inline in a `String`), and the rare override sits out of
    /// line.
    struct Source: Equatable, Sendable {
        var directory: String
        var conf: String
        var override: OverrideSource?
        var confStamp: FileStamp?
    }

    /// A job's `.override` file (its full path) and its stamp when read.
    final class OverrideSource: Equatable, Sendable {
        let path: String
        let stamp: FileStamp?

        init(path: String) {
            self.path = path
            self.stamp = FileStamp(path: path)
        }

        static func == (a: OverrideSource, b: OverrideSource) -> Bool {
            a.path == b.path && a.stamp == b.stamp
        }
    }

    /// What was last read, sorted by job name (broken jobs included, so that
    /// an unchanged broken file is not reported again and again). A sorted
    /// array rather than a dictionary: a dictionary's buckets would cost
    /// twice the entries.
    private var sources: [(name: String, source: Source)] = []
    /// Jobs whose current files failed to parse.
    private var broken = Set<String>()

    /// The last reading of job `name`, or nil.
    /// The path of the file that defines job `name`, if loaded.
    func path(of name: String) -> String? {
        lastSource(name).map { $0.directory + "/" + $0.conf }
    }

    /// Where a job's `while` stanza is: `FILE:LINE` (the last `while` line,
    /// which is the one that counts), or the file alone.
    func whileLocation(of name: String) -> String {
        guard let path = path(of: name) else { return name }
        guard let bytes = try? FileSystem.readFile(path) else { return path }
        var found: Int?
        var line = 0
        for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            line += 1
            let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.first == "while" { found = line }
        }
        return found.map { "\(path):\($0)" } ?? path
    }

    private func lastSource(_ name: String) -> Source? {
        var lo = 0, hi = sources.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sources[mid].name < name { lo = mid + 1 } else { hi = mid }
        }
        return lo < sources.count && sources[lo].name == name ? sources[lo].source : nil
    }

    init(directories: [String]) {
        self.directories = directories
    }

    /// Reads every directory again and returns the inputs that bring the
    /// engine up to date, with the problems found on the way. `current`
    /// gives the engine's definition of a job, to tell a real change from a
    /// rewrite that changed nothing.
    ///
    /// A file `beingWritten` says is still open for writing is left as it
    /// was last read (not read at all, if never): a half-written file is
    /// never parsed, and one that has never parsed is not a job.
    mutating func rescan(current: (String) -> JobClass?,
                         beingWritten: (String) -> Bool = { _ in false }) -> (inputs: [Input], problems: [String]) {
        var seen: [String: Source] = [:]
        var inputs: [Input] = []
        var problems: [String] = []
        var nowBroken = Set<String>()
        for dir in directories {
            guard FileSystem.kind(of: dir) == .directory else { continue }
            let files: [String]
            do {
                files = try FileSystem.walk(dir)
            } catch {
                problems.append(error.description)
                continue
            }
            for entry in ConfEntry.entries(from: files) where seen[entry.name] == nil {
                let confPath = dir + "/" + entry.conf
                let overridePath = entry.override.map { dir + "/" + $0 }
                if beingWritten(confPath) || overridePath.map(beingWritten) == true {
                    if let last = lastSource(entry.name) {
                        seen[entry.name] = last
                        if broken.contains(entry.name) { nowBroken.insert(entry.name) }
                    }
                    continue
                }
                let source = Source(directory: dir, conf: entry.conf,
                                    override: overridePath.map(OverrideSource.init(path:)), confStamp: FileStamp(path: confPath))
                seen[entry.name] = source
                if lastSource(entry.name) == source {
                    if broken.contains(entry.name) { nowBroken.insert(entry.name) }
                    continue
                }
                do {
                    let conf = try FileSystem.readFile(confPath)
                    let override = try overridePath.map { p throws(PlatformError) in try FileSystem.readFile(p) }
                    let (job, overrideError) = try Parser.parseWithOverride(
                        name: entry.name, conf: conf, confFile: confPath, override: override, overrideFile: overridePath ?? "")
                    if let overrideError {
                        problems.append("\(overrideError) (override ignored; \(confPath) alone defines '\(entry.name)')")
                    }
                    if let old = current(entry.name) {
                        if old != job { inputs.append(.jobClassChanged(job)) }
                    } else {
                        inputs.append(.jobClassAdded(job))
                    }
                } catch let error as JobParseError {
                    nowBroken.insert(entry.name)
                    let kept = current(entry.name) != nil ? "; keeping its previous definition" : "; job '\(entry.name)' not loaded"
                    problems.append("\(error)\(kept)")
                } catch {
                    nowBroken.insert(entry.name)
                    problems.append("\(error)")
                }
            }
        }
        for (name, _) in sources where seen[name] == nil && current(name) != nil {
            inputs.append(.jobClassRemoved(name: name))
        }
        sources = seen.sorted { $0.key < $1.key }.map { (name: $0.key, source: $0.value) }
        broken = nowBroken
        return (inputs, problems)
    }

    /// The job directories that do not exist, each with its nearest
    /// existing parent: inotify watches that parent for the directory to
    /// appear (as Upstart does).
    func missingDirectories() -> [(directory: String, parent: String)] {
        var out: [(String, String)] = []
        for dir in directories where FileSystem.kind(of: dir) != .directory {
            var parent = dir
            repeat {
                parent = parent.lastIndex(of: "/").map { String(parent[..<$0]) } ?? ""
                if parent.isEmpty { parent = "/" }
            } while parent != "/" && FileSystem.kind(of: parent) != .directory
            out.append((dir, parent))
        }
        return out
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
