/// Which directories to watch for a set of `file` watches, given which
/// directories exist now. Pure: the file system is a function passed in.
///
/// inotify cannot watch what does not exist, so a watch whose directory is
/// missing watches its nearest existing ancestor instead, for the next
/// component to appear; when it does (a directory created or moved in),
/// the bridge asks again, and the watch moves down one level, or several
/// if they were made at once (`mkdir -p`). When a directory goes, the
/// watch moves back up the same way.
public struct WatchPlan: Hashable, Sendable {
    /// Every directory to hold an inotify watch.
    public var directories: Set<String> = []
    /// For each watch (by its index in the input), the target directories
    /// that exist now: there its entries are the job's subjects. A pair
    /// that was not armed before is new: the bridge reads that directory
    /// once for entries already present (`FileSpec.existing`).
    public var armed: Set<Armed> = []

    public struct Armed: Hashable, Sendable {
        public var watch: Int
        public var directory: String
        public init(watch: Int, directory: String) {
            self.watch = watch
            self.directory = directory
        }
    }

    public init() {}

    /// Plans for `specs`; `isDirectory` says whether a path is an existing
    /// directory (following symbolic links, as inotify_add_watch does).
    public init(_ specs: [FileSpec], isDirectory: (String) -> Bool) {
        var known: [String: Bool] = [:]
        func exists(_ path: String) -> Bool {
            if let k = known[path] { return k }
            let e = isDirectory(path)
            known[path] = e
            return e
        }
        for (i, spec) in specs.enumerated() {
            for target in spec.targets {
                if exists(target) {
                    directories.insert(target)
                    armed.insert(Armed(watch: i, directory: target))
                } else if let ancestor = WatchPlan.nearestExisting(target, exists) {
                    directories.insert(ancestor)
                }
            }
        }
    }

    /// The nearest ancestor of `path` that exists; nil if not even `/` does.
    public static func nearestExisting(_ path: String, _ exists: (String) -> Bool) -> String? {
        var parts = Path.components(path)
        while !parts.isEmpty {
            parts.removeLast()
            let p = Path.join(parts)
            if exists(p) { return p }
        }
        return nil
    }

    /// Whether a directory appearing or going at `path` can change the
    /// plan: it is a target or an ancestor of one.
    public static func matters(_ path: String, to specs: [FileSpec]) -> Bool {
        let prefix = path == "/" ? "/" : path + "/"
        return specs.contains { spec in spec.targets.contains { $0 == path || $0.hasPrefix(prefix) } }
    }
}
