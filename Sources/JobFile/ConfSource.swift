/// Which files in a configuration directory make which jobs.
///
/// Upstart's rules (init(5), "Override File Handling"): `NAME.conf` defines
/// the job `NAME`, its path relative to the directory without the suffix
/// (`net/apache.conf` is `net/apache`); `NAME.override` beside it modifies
/// it; an override without a job file is ignored. This type is pure: give
/// it the relative paths, it gives the jobs.
public struct ConfEntry: Hashable, Sendable {
    /// The job's name, `net/apache`.
    public var name: String
    /// Relative path of the job file, `net/apache.conf`.
    public var conf: String
    /// Relative path of its override file, when one exists.
    public var override: String?

    public init(name: String, conf: String, override: String? = nil) {
        self.name = name
        self.conf = conf
        self.override = override
    }

    /// Groups the relative paths of a directory into jobs, sorted by path.
    public static func entries(from paths: [String]) -> [ConfEntry] {
        let set = Set(paths)
        return paths.filter { $0.hasSuffix(".conf") && $0.count > 5 }.sorted().map { conf in
            let name = String(conf.dropLast(5))
            let override = name + ".override"
            return ConfEntry(name: name, conf: conf, override: set.contains(override) ? override : nil)
        }
    }

    /// The override files that have no job file, which are ignored.
    public static func orphanOverrides(in paths: [String]) -> [String] {
        let set = Set(paths)
        return paths.filter { $0.hasSuffix(".override") && !set.contains(String($0.dropLast(9)) + ".conf") }.sorted()
    }
}
