import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A mounted cgroup hierarchy: the unified one (v2) or a v1 hierarchy with
/// its controllers (`pids`, `memory`, `name=systemd`...).
public struct CgroupHierarchy: Hashable, Sendable {
    /// Where it is mounted.
    public var mountPoint: String
    /// 2 for the unified hierarchy, 1 otherwise.
    public var version: Int
    /// The v1 controllers (and `name=` option) of the hierarchy; empty for v2.
    public var controllers: [String]
    /// This process's own group in it (from /proc/self/cgroup), "/" at the top.
    public var ownGroup: String

    /// The directory of this process's own group.
    public var ownDirectory: String {
        ownGroup == "/" ? mountPoint : mountPoint + ownGroup
    }

    /// `v2`, or `v1 (pids)`, for messages.
    public var name: String { version == 2 ? "cgroup v2" : "cgroup v1 (\(controllers.joined(separator: ",")))" }
}

/// The cgroup file system: finding hierarchies, making groups, listing,
/// signalling and removing what is in them. Plain file operations on
/// /sys/fs/cgroup; nothing here blocks.
public enum Cgroups {
    /// The hierarchies mounted now, v2 first, each with this process's group.
    ///
    /// `root` is put in front of the two /proc files read (not of the mount
    /// points returned): `init-checkconf`'s tests describe a machine there.
    public static func hierarchies(root: String = "") -> [CgroupHierarchy] {
        guard let mounts = try? FileSystem.readFile(root + "/proc/self/mounts"),
              let own = try? FileSystem.readFile(root + "/proc/self/cgroup") else { return [] }
        // "ID:CONTROLLERS:PATH" lines; v2 is "0::PATH".
        var ownV2: String?
        var ownV1: [String: String] = [:]
        for line in String(decoding: own, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty { ownV2 = String(parts[2]) } else {
                for c in parts[1].split(separator: ",") { ownV1[String(c)] = String(parts[2]) }
            }
        }
        var found: [CgroupHierarchy] = []
        for line in String(decoding: mounts, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 4 else { continue }
            let point = String(f[1]).replacingOctal()
            if f[2] == "cgroup2", let g = ownV2 {
                found.insert(CgroupHierarchy(mountPoint: point, version: 2, controllers: [], ownGroup: g), at: 0)
            } else if f[2] == "cgroup" {
                let options = f[3].split(separator: ",").map(String.init)
                let controllers = options.filter { ownV1[$0] != nil }
                guard let first = controllers.first, let g = ownV1[first] else { continue }
                found.append(CgroupHierarchy(mountPoint: point, version: 1, controllers: controllers, ownGroup: g))
            }
        }
        return found
    }

    /// Makes a group directory (and its parents). Succeeds if it exists.
    public static func create(_ path: String) throws(PlatformError) {
        if FileSystem.kind(of: path) == .directory { return }
        guard FileSystem.makeDirectories(path, mode: 0o755) else {
            throw PlatformError(operation: "create cgroup", path: path, errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// The processes in a group (its `cgroup.procs`), empty if it is gone.
    public static func processes(in path: String) -> [Int32] {
        guard let text = try? FileSystem.readFile(path + "/cgroup.procs") else { return [] }
        return String(decoding: text, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
    }

    /// Sends `signal` to every process in the group; returns how many it reached.
    /// SIGKILL uses `cgroup.kill` where the kernel has it (v2, Linux 5.14),
    /// which also reaches processes forking at that moment.
    @discardableResult
    public static func signal(_ path: String, _ signal: Int32) -> Int {
        let pids = processes(in: path)
        if signal == SIGKILL, (try? write("1", to: path + "/cgroup.kill")) != nil { return pids.count }
        var n = 0
        for pid in pids where kill(pid, signal) == 0 { n += 1 }
        return n
    }

    /// Removes an empty group. False while processes remain (or on error).
    public static func remove(_ path: String) -> Bool {
        if rmdir(path) == 0 { return true }
        return Glibc.errno == ENOENT
    }

    /// Whether a group has a setting (interface file) of this name.
    public static func hasSetting(_ path: String, _ key: String) -> Bool {
        FileSystem.kind(of: path + "/" + key) == .regular
    }

    /// Writes a setting: `value` to the file `key` of the group.
    public static func set(_ path: String, _ key: String, _ value: String) throws(PlatformError) {
        try write(value, to: path + "/" + key)
    }

    static func write(_ text: String, to path: String) throws(PlatformError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PlatformError(operation: "open", path: path, errno: Errno(rawValue: Glibc.errno)) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw PlatformError(operation: "write '\(text)' to", path: path, errno: Errno(rawValue: Glibc.errno)) }
    }
}

extension String {
    /// Undoes the octal escapes of /proc/self/mounts (`\040` for a blank).
    func replacingOctal() -> String {
        guard contains("\\") else { return self }
        var out: [UInt8] = []
        var bytes = Array(utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "\\"), bytes.count >= 3, let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8) {
                out.append(v)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
