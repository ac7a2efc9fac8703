/// One job file for cgroup v2, v1 and hybrid machines: the `cgroup` stanza's
/// `KEY VALUE` written as the kernel in front of it spells it.
///
/// Pure (the current value of a file, when a translation needs it, is
/// passed in): `CgroupSettingsTests` pins every row of the table in
/// docs/job-files.md ("cgroup v1 and v2").
///
/// - A key is first made whole: Upstart's files (cgmanager's convention)
///   leave out the controller, `cgroup memory limit_in_bytes 52428800`,
///   `cgroup cpuset cpus 0-1`, `cgroup blkio throttle.write_bps_device
///   "8:16 1048576"`; the file is `CONTROLLER.KEY`.
/// - Then, for the hierarchy that has the controller, the common settings
///   are translated both ways, values included: memory limit and soft
///   limit, cpu weight and shares (systemd's scale: weight 100 is 1024
///   shares), cpu quota and period, io weight and blkio weight (weight
///   100 is blkio 500), io.max and the blkio throttles, pids.max. Any
///   other key is written as given.
enum CgroupSettings {
    /// One write to a group's interface file.
    struct Write: Equatable, CustomStringConvertible {
        var file: String
        var value: String
        var description: String { "\(file) '\(value)'" }
    }

    /// A key or value that has no counterpart in the other version.
    struct Untranslatable: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// The controller's name in v1 (`io` is v1's `blkio`).
    static func v1Controller(_ controller: String) -> String {
        controller == "io" ? "blkio" : controller
    }

    /// The controller's name in v2 (`blkio` is v2's `io`; `cpuacct` is part of `cpu`).
    static func v2Controller(_ controller: String) -> String {
        switch controller {
        case "blkio": return "io"
        case "cpuacct": return "cpu"
        default: return controller
        }
    }

    /// The whole file name: `CONTROLLER.KEY` when the key leaves the
    /// controller out (Upstart's `limit_in_bytes`), else the key.
    static func fileName(controller: String, key: String) -> String {
        let prefixes = Set([controller, v1Controller(controller), v2Controller(controller), "cgroup"]).map { $0 + "." }
        if prefixes.contains(where: { key.hasPrefix($0) }) { return key }
        return v1Controller(controller) + "." + key
    }

    /// The writes that carry `file value` on a hierarchy of `version`.
    /// `current(file)` reads a file of the group, for a translation that
    /// changes part of one (v1's period alone, in v2's `cpu.max`).
    static func writes(file: String, value: String, version: Int, current: (String) -> String? = { _ in nil }) throws(Untranslatable) -> [Write] {
        version == 2 ? try toV2(file, value, current: current) : try toV1(file, value)
    }

    // MARK: v2 names and values on v1

    static func toV1(_ file: String, _ value: String) throws(Untranslatable) -> [Write] {
        let v = value.trimmed
        switch file {
        case "memory.max":
            return [Write(file: "memory.limit_in_bytes", value: v == "max" ? "-1" : v)]
        case "memory.high":
            return [Write(file: "memory.soft_limit_in_bytes", value: v == "max" ? "-1" : v)]
        case "cpu.weight":
            let w = try number(v, in: file, 1...10_000)
            return [Write(file: "cpu.shares", value: String(clamp(w * 1024 / 100, 2...262_144)))]
        case "cpu.max":
            let f = v.split(separator: " ")
            guard (1...2).contains(f.count) else { throw Untranslatable(description: "\(file) '\(value)': expected QUOTA [PERIOD], in microseconds, or max [PERIOD]") }
            let quota = f[0] == "max" ? "-1" : String(try number(String(f[0]), in: file, 1...Int64.max))
            var out: [Write] = []
            if f.count == 2 { out.append(Write(file: "cpu.cfs_period_us", value: String(try number(String(f[1]), in: file, 1...Int64.max)))) }
            out.append(Write(file: "cpu.cfs_quota_us", value: quota))
            return out
        case "io.weight":
            let f = v.split(separator: " ")
            guard f.count == 1 || (f.count == 2 && f[0] == "default") else {
                throw Untranslatable(description: "\(file) '\(value)': a weight for one device has no cgroup v1 form; give WEIGHT or 'default WEIGHT'")
            }
            let w = try number(String(f.last!), in: file, 1...10_000)
            return [Write(file: "blkio.weight", value: String(clamp(w * 500 / 100, 10...1000)))]
        case "io.max":
            let f = v.split(separator: " ")
            guard f.count >= 2, f[0].contains(":") else {
                throw Untranslatable(description: "\(file) '\(value)': expected MAJOR:MINOR and one or more of rbps=, wbps=, riops=, wiops=")
            }
            let files = ["rbps": "blkio.throttle.read_bps_device", "wbps": "blkio.throttle.write_bps_device",
                         "riops": "blkio.throttle.read_iops_device", "wiops": "blkio.throttle.write_iops_device"]
            var out: [Write] = []
            for pair in f.dropFirst() {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let target = files[String(kv[0])] else {
                    throw Untranslatable(description: "\(file) '\(value)': '\(pair)': expected rbps=, wbps=, riops= or wiops=")
                }
                let n = kv[1] == "max" ? "0" : String(try number(String(kv[1]), in: file, 0...Int64.max))
                out.append(Write(file: target, value: "\(f[0]) \(n)"))
            }
            return out
        default:
            return [Write(file: file, value: value)]
        }
    }

    // MARK: v1 names and values on v2

    static func toV2(_ file: String, _ value: String, current: (String) -> String?) throws(Untranslatable) -> [Write] {
        let v = value.trimmed
        switch file {
        case "memory.limit_in_bytes":
            return [Write(file: "memory.max", value: v == "-1" ? "max" : v)]
        case "memory.soft_limit_in_bytes":
            return [Write(file: "memory.high", value: v == "-1" ? "max" : v)]
        case "cpu.shares":
            let s = try number(v, in: file, 2...262_144)
            return [Write(file: "cpu.weight", value: String(clamp(s * 100 / 1024, 1...10_000)))]
        case "cpu.cfs_quota_us":
            return [Write(file: "cpu.max", value: v == "-1" ? "max" : String(try number(v, in: file, 1...Int64.max)))]
        case "cpu.cfs_period_us":
            let p = try number(v, in: file, 1...Int64.max)
            let quota = current("cpu.max")?.split(separator: " ").first.map(String.init) ?? "max"
            return [Write(file: "cpu.max", value: "\(quota) \(p)")]
        case "blkio.weight":
            let b = try number(v, in: file, 10...1000)
            return [Write(file: "io.weight", value: "default \(clamp(b * 100 / 500, 1...10_000))")]
        case "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
             "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device":
            let f = v.split(separator: " ")
            guard f.count == 2, f[0].contains(":") else { throw Untranslatable(description: "\(file) '\(value)': expected 'MAJOR:MINOR VALUE'") }
            let n = try number(String(f[1]), in: file, 0...Int64.max)
            let name = ["blkio.throttle.read_bps_device": "rbps", "blkio.throttle.write_bps_device": "wbps",
                        "blkio.throttle.read_iops_device": "riops", "blkio.throttle.write_iops_device": "wiops"][file]!
            return [Write(file: "io.max", value: "\(f[0]) \(name)=\(n == 0 ? "max" : String(n))")]
        case "memory.memsw.limit_in_bytes", "memory.swappiness", "memory.oom_control", "cpu.rt_runtime_us", "cpu.rt_period_us":
            throw Untranslatable(description: "\(file) has no cgroup v2 counterpart Daybreak can write")
        default:
            return [Write(file: file, value: value)]
        }
    }

    private static func number(_ text: String, in file: String, _ range: ClosedRange<Int64>) throws(Untranslatable) -> Int64 {
        guard let n = Int64(text), range.contains(n) else {
            let expected = range.upperBound == Int64.max ? "\(range.lowerBound) or more" : "from \(range.lowerBound) to \(range.upperBound)"
            throw Untranslatable(description: "\(file) '\(text)': expected a whole number, \(expected)")
        }
        return n
    }

    private static func clamp(_ n: Int64, _ range: ClosedRange<Int64>) -> Int64 {
        min(max(n, range.lowerBound), range.upperBound)
    }
}

extension String {
    fileprivate var trimmed: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed())
    }
}
