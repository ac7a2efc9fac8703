// The daemon benchmark (issue: the daemon and initctl).
//
// Usage: DaemonBench BINDIR  (BINDIR holds release builds of daybreak and
// initctl as they ship: built with --static-swift-stdlib, the daemon a
// fully static executable, see Package.swift).
// Benchmarks/run daemon builds them and runs this.
// DaemonBench --namespaces [ROUNDS]: the `namespace` stanza's spawn cost
// only (Benchmarks/run namespaces; see namespaceTable).
//
// Every figure is printed beside its floor from the same run:
// - spawn: fork, exec and reap of /bin/true through the daemon's own spawner;
// - round trip: one `version` request on an open control connection;
// - initctl: one run of `initctl version` (process start, connect, reply).
// Jobs use `console none`, so the figures measure supervision, not pty logging.
import BenchSupport
import Control
import Foundation
import Platform

let binDir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ".build/release"
let daybreakPath = binDir + "/daybreak"
let initctlPath = binDir + "/initctl"

func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }

/// A daybreak in a fresh directory, in user mode.
final class BenchDaemon {
    let dir: String
    let socket: String
    let process = Foundation.Process()

    init(jobs: [String: String], extra: [String] = []) throws {
        dir = NSTemporaryDirectory() + "daybreak-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/jobs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        chmod(dir + "/run", 0o700)
        for (name, text) in jobs { try text.write(toFile: "\(dir)/jobs/\(name).conf", atomically: false, encoding: .utf8) }
        socket = dir + "/run/control"
        process.executableURL = URL(fileURLWithPath: daybreakPath)
        process.arguments = ["--user", "--confdir", dir + "/jobs", "--no-log", "--socket", socket, "--no-startup-event"] + extra
        process.environment = ["HOME": dir, "XDG_RUNTIME_DIR": dir + "/run", "PATH": "/usr/bin:/bin"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<500 {
            if (try? ControlClient(path: socket)) != nil { return }
            usleep(10_000)
        }
        throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "daybreak did not start"])
    }

    func client() -> ControlClient { try! ControlClient(path: socket) }

    /// Resident memory in KiB.
    var rss: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }

    func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Runs initctl and waits for it, with the daemon's own spawner and
/// waitpid (Foundation's Process polls for the exit, adding tens of ms).
func initctl(_ socket: String, _ args: [String]) {
    let pid = try! Spawner.spawn(Platform.SpawnRequest(arguments: [initctlPath, "--socket", socket, "--quiet"] + args))
    guard case .exited(0) = try! Reaper.waitForExit(pid) else { print("initctl \(args) failed"); exit(1) }
}

func spawnTrue() -> UInt64 {
    let start = BenchSupport.monotonicNanoseconds()
    let pid = try! Spawner.spawn(Platform.SpawnRequest(arguments: ["/bin/true"]))
    _ = try! Reaper.waitForExit(pid)
    return BenchSupport.monotonicNanoseconds() - start
}

/// Spawns `n` sleeps and kills them: the floor for a fan-out of n jobs.
func bareSpawns(_ n: Int) -> UInt64 {
    let start = BenchSupport.monotonicNanoseconds()
    var pids: [Int32] = []
    for _ in 0..<n { pids.append(try! Spawner.spawn(Platform.SpawnRequest(arguments: ["/bin/sleep", "1000"]))) }
    let took = BenchSupport.monotonicNanoseconds() - start
    for p in pids { kill(p, SIGKILL); _ = try? Reaper.waitForExit(p) }
    return took
}

func average(_ n: Int, _ body: () -> UInt64) -> Double {
    var total: UInt64 = 0
    for _ in 0..<n { total += body() }
    return Double(total) / Double(n)
}

func timed(_ body: () -> Void) -> UInt64 {
    let start = BenchSupport.monotonicNanoseconds()
    body()
    return BenchSupport.monotonicNanoseconds() - start
}

/// `DaemonBench --namespaces`: what each kind of the `namespace` stanza
/// adds to a spawn (fork, namespace set-up, exec and reap of /bin/true
/// through the daemon's spawner), against a plain spawn in the same rounds,
/// the kinds interleaved. Median and 90th percentile over ROUNDS (default
/// 300) per kind. Root: every kind; otherwise the ones an unprivileged
/// user can have (with `user`), the others left out with the reason.
func namespaceTable(rounds: Int) {
    typealias NS = Platform.SpawnRequest.Namespaces
    let root = geteuid() == 0
    var kinds: [(String, NS, String?)] = [("plain", [], nil)]
    if root {
        kinds += [("cgroup", .cgroup, nil), ("ipc", .ipc, nil), ("uts", .uts, nil), ("mount", .mount, nil),
                  ("user", .user, nil), ("net", .net, nil), ("pid (with mount)", .pid, nil)]
    } else {
        kinds += [("user", .user, nil)]
        print("not root: only kinds with user measured")
    }
    kinds += [("user net mount uts", [.user, .net, .mount, .uts], nil)]
    if root { kinds += [("all seven", [.cgroup, .ipc, .mount, .net, .pid, .user, .uts], nil)] }
    let ipPaths: [String] = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
    let ipPath = ipPaths.first(where: { (path: String) -> Bool in access(path, X_OK) == 0 })
    let netns = "daybreak-bench-\(getpid())"
    var madeNetns = false
    if root, let ip = ipPath {
        let add = try! Foundation.Process.run(URL(fileURLWithPath: ip), arguments: ["netns", "add", netns])
        add.waitUntilExit()
        madeNetns = add.terminationStatus == 0
        if madeNetns { kinds.append(("net=NAME (setns)", .net, "/run/netns/" + netns)) }
    } else if root {
        print("net=NAME left out: no ip(8) (iproute2) to make a named namespace")
    }
    defer {
        if madeNetns, let ip = ipPath {
            try? Foundation.Process.run(URL(fileURLWithPath: ip), arguments: ["netns", "delete", netns]).waitUntilExit()
        }
    }
    /// (until the exec: what a start waits for, until the reap: with the
    /// namespaces' teardown).
    func spawn(_ ns: NS, _ join: String?) -> (UInt64, UInt64) {
        var request = Platform.SpawnRequest(arguments: ["/bin/true"])
        request.namespaces = ns
        request.joinNetwork = join
        request.hostname = "bench"
        let start = BenchSupport.monotonicNanoseconds()
        let pid = try! Spawner.spawn(request)
        let execd = BenchSupport.monotonicNanoseconds()
        _ = try! Reaper.waitForExit(pid)
        return (execd - start, BenchSupport.monotonicNanoseconds() - start)
    }
    for (_, ns, join) in kinds { for _ in 0..<10 { _ = spawn(ns, join) } }
    var toExec = Array(repeating: [UInt64](), count: kinds.count)
    var toReap = toExec
    for round in 0..<rounds {
        // Each round starts at another kind, so that no kind always follows the same one.
        for k in 0..<kinds.count {
            let i = (k + round) % kinds.count
            let (e, r) = spawn(kinds[i].1, kinds[i].2)
            toExec[i].append(e)
            toReap[i].append(r)
        }
    }
    func pct(_ v: [UInt64], _ p: Double) -> Double { let s = v.sorted(); return ms(s[min(s.count - 1, Int(Double(s.count) * p))]) }
    let execFloor = pct(toExec[0], 0.5), reapFloor = pct(toReap[0], 0.5)
    print("Namespace cost: /bin/true through the daemon's spawner, \(rounds) rounds, kinds interleaved; medians in ms")
    print("  to exec: until Spawner.spawn returns (what a start waits for)")
    print("  to reap: until its exit is reaped (with the namespaces' teardown)")
    print("kind".padding(toLength: 22, withPad: " ", startingAt: 0) + "  to exec   ratio   added   to reap   ratio   added")
    for (i, (name, _, _)) in kinds.enumerated() {
        let e = pct(toExec[i], 0.5), r = pct(toReap[i], 0.5)
        let cells = [String(format: "%8.3f", e), String(format: "%7.2f", e / execFloor), String(format: "%7.3f", e - execFloor),
                     String(format: "%9.3f", r), String(format: "%7.2f", r / reapFloor), String(format: "%7.3f", r - reapFloor)]
        print(name.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + cells.joined(separator: " "))
    }
}

if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "--namespaces" {
    namespaceTable(rounds: CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 300 : 300)
    exit(0)
}

print("Daemon benchmark: release daybreak (a static executable), user mode, console none")
print("")

// Floors.
_ = average(20, spawnTrue)
let spawnFloor = average(200, spawnTrue)
let idle = try BenchDaemon(jobs: [:])
let idleRSS = idle.rss
let client = idle.client()
_ = try client.call(.version)
let roundTrip = average(1000) { timed { _ = try! client.call(.version) } }
let initctlRun = average(100) { timed { initctl(idle.socket, ["version"]) } }
idle.stop()

// Sequential starts and stops of 200 manual jobs.
var manual: [String: String] = [:]
for i in 0..<200 { manual["m\(i)"] = "console none\nexec /bin/sleep 1000\n" }
let seq = try BenchDaemon(jobs: manual)
let starts = (0..<200).map { i in timed { initctl(seq.socket, ["start", "m\(i)"]) } }
let stops = (0..<200).map { i in timed { initctl(seq.socket, ["stop", "m\(i)"]) } }
seq.stop()
let startAvg = Double(starts.reduce(0, +)) / 200
let stopAvg = Double(stops.reduce(0, +)) / 200

// Fan-out: n jobs started by one emit and stopped by another.
func fanOut(_ n: Int) throws -> (start: UInt64, stop: UInt64, floor: UInt64, rss: Int) {
    var jobs: [String: String] = [:]
    for i in 0..<n { jobs["f\(i)"] = "console none\nstart on go\nstop on halt\nexec /bin/sleep 1000\n" }
    let d = try BenchDaemon(jobs: jobs)
    let c = d.client()
    let up = timed { _ = try! c.call(.emit, Request.Params(event: "go")) }
    let rss = d.rss
    let down = timed { _ = try! c.call(.emit, Request.Params(event: "halt")) }
    d.stop()
    _ = bareSpawns(min(n, 50))
    return (up, down, bareSpawns(n), rss)
}
let fan100 = try fanOut(100)
let fan500 = try fanOut(500)

// Loading 1,000 job files until list shows them, and memory with 1,000 classes.
let loader = try BenchDaemon(jobs: [:], extra: ["--no-inotify"])
let lc = loader.client()
for i in 0..<1000 {
    try "description \"job \(i)\"\nstart on started j\((i + 1) % 1000)\nstop on stopping j\((i + 7) % 1000)\nenv N=\(i)\nrespawn\nexec /bin/sleep 1000\n"
        .write(toFile: "\(loader.dir)/jobs/j\(i).conf", atomically: false, encoding: .utf8)
}
var listed = 0
let load = timed {
    _ = try! lc.call(.reloadConfiguration)
    listed = (try! lc.call(.list))["instances"]?.array?.count ?? 0
}
let listOnly = average(20) { timed { _ = try! lc.call(.list) } }
let listViaInitctl = average(10) { timed { initctl(loader.socket, ["list"]) } }
let classesRSS = loader.rss
loader.stop()
if listed != 1000 { print("expected 1000 jobs in list, got \(listed)"); exit(1) }

// Fairness: round trips of one client while another pipelines `list`
// requests without pause (and reads every reply), against the same round
// trips with no flood, in the same run.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Pipelines `list` until `stop` is set or 3 s have passed: a daemon that
/// starves its other clients then shows it as a 3 s round trip instead of
/// hanging the benchmark.
func pipelineFlood(_ socketPath: String, until stop: Flag, done: Flag) {
    let deadline = BenchSupport.monotonicNanoseconds() + 3_000_000_000
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    let body = Array("{\"v\":1,\"id\":1,\"method\":\"list\"}".utf8)
    let one = [0, 0, 0, UInt8(body.count)] + body
    var batch: [UInt8] = []
    for _ in 0..<1000 { batch += one }
    var sink = [UInt8](repeating: 0, count: 256 * 1024)
    var offset = 0
    while !stop.isSet && BenchSupport.monotonicNanoseconds() < deadline {
        let w = batch[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if w > 0 { offset = (offset + w) % batch.count }
        while read(fd, &sink, sink.count) > 0 {}
        var p = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
        _ = poll(&p, 1, 5)
    }
    close(fd)
    done.set()
}

let fairDaemon = try BenchDaemon(jobs: ["a": "console none\nexec /bin/sleep 1000\n"])
let fairClient = fairDaemon.client()
func roundTrips(_ client: ControlClient, _ n: Int) -> [UInt64] {
    (0..<n).map { _ in
        usleep(2_000)
        return timed { _ = try! client.call(.version) }
    }.sorted()
}
let alone = roundTrips(fairClient, 300)
let stopFlood = Flag(), floodDone = Flag()
let fairSocket = fairDaemon.socket
Thread.detachNewThread { pipelineFlood(fairSocket, until: stopFlood, done: floodDone) }
usleep(300_000)
let flooded = roundTrips(fairClient, 300)
stopFlood.set()
while !floodDone.isSet { usleep(1_000) }
fairDaemon.stop()
func percentile(_ xs: [UInt64], _ p: Double) -> Double { ms(xs[min(xs.count - 1, Int(Double(xs.count) * p))]) }

let spawnMs = spawnFloor / 1e6
let rtMs = roundTrip / 1e6
let initctlMs = initctlRun / 1e6
let startMs = startAvg / 1e6
row(["measure", "figure", "floor", "ratio", "target", "Upstart 1.13.2 (issue's figures)"])
row(["---", "---:", "---:", "---:", "---", "---"])
row(["floor: spawn and reap /bin/true", fixed(spawnMs, 3) + " ms", "", "", "", "0.7 ms"])
row(["floor: control round trip (version)", fixed(rtMs, 3) + " ms", "", "", "", ""])
row(["floor: one `initctl version` run", fixed(initctlMs, 2) + " ms", "", "", "", "2.4 ms"])
row(["sequential `initctl start` (200 jobs, until running)", fixed(startMs, 2) + " ms", fixed(initctlMs + spawnMs, 2) + " ms (initctl run + spawn)", fixed(startMs / (initctlMs + spawnMs)), "within 2x", "7.3 ms"])
row(["sequential `initctl stop` (200 jobs, until stopped)", fixed(stopAvg / 1e6, 2) + " ms", fixed(initctlMs + spawnMs, 2) + " ms", fixed(stopAvg / 1e6 / (initctlMs + spawnMs)), "", ""])
for (n, f) in [(100, fan100), (500, fan500)] {
    row(["\(n) jobs started by one emit (until all run)", fixed(ms(f.start), 1) + " ms (\(fixed(ms(f.start) / Double(n), 3)) ms a job)", fixed(ms(f.floor), 1) + " ms (\(n) bare spawns)", fixed(Double(f.start) / Double(f.floor)), n == 500 ? "within 1.5x" : "", n == 500 ? "1.8 s (5.2 ms a job)" : "2.1 ms a job"])
    row(["\(n) jobs stopped by one emit", fixed(ms(f.stop), 1) + " ms", "", "", "", ""])
}
row(["load 1,000 job files until `list` shows them", fixed(ms(load), 1) + " ms", fixed(listOnly / 1e6, 2) + " ms (list alone)", fixed(Double(load) / listOnly), "under 40 ms", "210 ms"])
row(["`initctl list` of 1,000 jobs (process run)", fixed(listViaInitctl / 1e6, 2) + " ms", fixed(initctlMs, 2) + " ms", fixed(listViaInitctl / 1e6 / initctlMs), "", ""])
row(["resident memory, idle", "\(idleRSS) KiB", "", "", "", ""])
row(["resident memory, 1,000 classes", "\(classesRSS) KiB", "\(idleRSS) KiB (idle)", fixed(Double(classesRSS) / Double(idleRSS)), "under 8 MiB", "6.1 MB"])
row(["resident memory, 500 running jobs", "\(fan500.rss) KiB", "\(idleRSS) KiB (idle)", fixed(Double(fan500.rss) / Double(idleRSS)), "under 13 MiB", "13 MB"])
print("")
print("Fairness: a `version` round trip while another client pipelines `list` without pause")
print("")
row(["round trip", "median", "99th percentile", "worst", "median vs alone"])
row(["---", "---:", "---:", "---:", "---:"])
row(["floor: alone", fixed(percentile(alone, 0.5), 3) + " ms", fixed(percentile(alone, 0.99), 3) + " ms", fixed(percentile(alone, 1), 3) + " ms", "1.00"])
row(["beside the pipelining client", fixed(percentile(flooded, 0.5), 3) + " ms", fixed(percentile(flooded, 0.99), 3) + " ms", fixed(percentile(flooded, 1), 3) + " ms", fixed(percentile(flooded, 0.5) / percentile(alone, 0.5))])
print("")
print("linearity of the fan-out: \(fixed(ms(fan500.start) / 500, 3)) ms a job at 500 vs \(fixed(ms(fan100.start) / 100, 3)) at 100 (ratio \(fixed((Double(fan500.start) / 500) / (Double(fan100.start) / 100))))")
