// Pure: the `file` event's variables (docs/file-bridge.md). No syscalls,
// no Foundation: the job-file parser checks FILE and EVENT with this, and
// the file bridge decides with it what a change in a directory means.

/// What happened to a file: the values of a `file` event's `EVENT`.
public enum FileChange: String, Hashable, Sendable, CaseIterable {
    case create, modify, delete
}

/// Why a `file` match cannot be watched, in the words the user sees after
/// `file in 'start on': `.
public struct FileSpecError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One `file` match of a job: what to watch and which changes count.
///
/// `FILE=/path` names a file; `FILE=/dir/*.log` a glob in the last
/// component (fnmatch(3): `*`, `?`, `[...]`); `FILE=/dir/` (a trailing
/// slash) a directory. `EVENT=create|modify|delete` narrows the changes;
/// without it, all three count.
public struct FileSpec: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A file named `name` in `directory`.
        case file(directory: String, name: String)
        /// Entries of `directory` whose names match `pattern`.
        case glob(directory: String, pattern: String)
        /// The directory itself (created, deleted) and the entries in it
        /// (each created, written or deleted entry is a `modify` of it).
        case directory(String)
    }

    /// FILE as the job wrote it: the events carry it unchanged, so that the
    /// job's own `FILE=` matches them.
    public let file: String
    /// EVENT, when the job names one (EVENT!= is left to the daemon's matching).
    public let event: FileChange?
    public let kind: Kind

    /// Reads a `file` match's arguments: `(key, value)`, a negated key
    /// written `KEY!`, a positional argument with a nil key. Variables
    /// other than FILE and EVENT (MATCH=, say) are the daemon's to match.
    public init(_ arguments: [(key: String?, value: String)]) throws(FileSpecError) {
        var file: String? = nil
        var event: FileChange? = nil
        for (key, value) in arguments {
            switch key {
            case nil:
                throw FileSpecError("'\(value)': expected FILE=/absolute/path (and EVENT=create, modify or delete) by name")
            case "FILE":
                guard file == nil else { throw FileSpecError("FILE given twice") }
                file = value
            case "FILE!":
                throw FileSpecError("FILE!='\(value)': FILE names what to watch, expected FILE=/absolute/path")
            case "EVENT", "EVENT!":
                guard let e = FileChange(rawValue: value) else {
                    throw FileSpecError("\(key!)='\(value)': expected create, modify or delete")
                }
                if key == "EVENT" { event = e }
            default:
                continue
            }
        }
        guard let file else { throw FileSpecError("expected FILE=/absolute/path") }
        guard !file.isEmpty else { throw FileSpecError("FILE is empty: expected an absolute path") }
        guard file.first == "/" else {
            throw FileSpecError("FILE='\(file)': expected an absolute path (starting with /)")
        }
        let parts = file.split(separator: "/").map(String.init)
        if parts.contains(where: { $0 == "." || $0 == ".." }) {
            throw FileSpecError("FILE='\(file)': expected a path without '.' or '..' components")
        }
        let isDirectory = file.last == "/"
        for (i, p) in parts.enumerated() where Glob.hasWildcards(p) {
            if isDirectory || i != parts.count - 1 {
                throw FileSpecError("FILE='\(file)': a glob (*, ?, [...]) is allowed in the last component only")
            }
            if case .failure(let why) = Glob.validate(p) {
                throw FileSpecError("FILE='\(file)': \(why)")
            }
        }
        self.file = file
        self.event = event
        if isDirectory || parts.isEmpty {
            kind = .directory(Path.join(parts))
        } else {
            let dir = Path.join(parts.dropLast())
            let last = parts[parts.count - 1]
            kind = Glob.hasWildcards(last) ? .glob(directory: dir, pattern: last) : .file(directory: dir, name: last)
        }
    }

    /// The variables as the job wrote them, for naming the watch in messages.
    public var variables: [String] {
        ["FILE=\(file)"] + (event.map { ["EVENT=\($0.rawValue)"] } ?? [])
    }

    /// The directories whose entries this watch is about: the file's (or
    /// glob's) directory; for a directory, its parent (where it appears and
    /// goes) and itself (where its entries change).
    public var targets: [String] {
        switch kind {
        case .file(let dir, _), .glob(let dir, _):
            return [dir]
        case .directory(let path):
            guard let parent = Path.parent(path) else { return [path] }
            return [parent, path]
        }
    }

    /// What a change to `entry` in directory `directory` means to this
    /// watch: the `EVENT` and `MATCH` of the event to emit, or nil.
    ///
    /// Upstart's rules (upstart-file-bridge(8)): a file or glob entry gives
    /// its own change, and a glob sets MATCH to the entry's full path; for
    /// a directory, an entry created, written or deleted inside it is a
    /// `modify` of the directory with MATCH the entry's path, and the
    /// directory appearing or going is a `create` or `delete`.
    public func interpret(directory: String, entry: String, isDirectory: Bool, change: FileChange) -> (event: FileChange, match: String?)? {
        let result: (event: FileChange, match: String?)
        switch kind {
        case .file(let dir, let name):
            guard directory == dir, entry == name else { return nil }
            result = (change, nil)
        case .glob(let dir, let pattern):
            guard directory == dir, Glob.matches(pattern, entry) else { return nil }
            result = (change, Path.child(dir, entry))
        case .directory(let path):
            if directory == path {
                result = (.modify, Path.child(path, entry))
            } else if Path.parent(path) == directory, Path.lastComponent(path) == entry, isDirectory, change != .modify {
                result = (change, nil)
            } else {
                return nil
            }
        }
        if let event, event != result.event { return nil }
        return result
    }

    /// What an entry found already in `directory` means when the watch is
    /// new (the job was just loaded, or the directory just appeared): a
    /// `create` for the file, each matching glob entry and the directory
    /// itself, if the watch wants creations (Upstart emits these too, so a
    /// job does not wait for a file that is already there).
    public func existing(directory: String, entry: String, isDirectory: Bool) -> (event: FileChange, match: String?)? {
        if case .directory(let path) = kind, directory == path { return nil }
        return interpret(directory: directory, entry: entry, isDirectory: isDirectory, change: .create)
    }

    /// The event's variables: FILE as written, EVENT, MATCH when there is one.
    public func environment(event: FileChange, match: String?) -> [String] {
        ["FILE=\(file)", "EVENT=\(event.rawValue)"] + (match.map { ["MATCH=\($0)"] } ?? [])
    }
}

/// Absolute paths as component lists: no `//`, no trailing `/` (but `/`).
public enum Path {
    public static func join<C: Collection>(_ parts: C) -> String where C.Element == String {
        "/" + parts.joined(separator: "/")
    }

    public static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    /// The parent of an absolute path; nil for `/`.
    public static func parent(_ path: String) -> String? {
        let parts = components(path)
        guard !parts.isEmpty else { return nil }
        return join(parts.dropLast())
    }

    public static func lastComponent(_ path: String) -> String {
        components(path).last ?? "/"
    }

    public static func child(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}
