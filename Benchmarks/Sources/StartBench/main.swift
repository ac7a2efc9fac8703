// The cost of process tracking, measured in one real `daybreak --user`:
//
// 1. Starting an `expect daemon` job, whose main process is followed with
//    ptrace through its two forks until the daemon waits for work, against
//    starting the same program untraced (no `expect`).
// 2. The same two jobs with a pre-start script of 20 commands: under
//    `expect daemon` the script's every fork, exec and exit is followed
//    too; without `expect` it is not.
//
// Every job runs the repository's classic double-forking daemon
// (Sources/Fixtures/fork-twice), which writes its pid file just before it
// waits for work. Each start is timed from sending `start` through the
// control socket (the request `initctl start` sends) until both the reply
// has come and the pid file exists: until the service is up, whichever
// comes last. (An untraced start replies as soon as the program has
// exec'd, before it has forked at all; a traced one replies only once the
// daemon waits for work. The reply alone compares different moments.)
// The rounds alternate between the jobs so they see the same machine.
//
// The daemon runs with --no-cgroups: the untraced job's instance ends when
// its main process exits at once, and a cgroup would take the daemon it
// left with it. The benchmark kills that daemon itself, by its pid file.
//
// Targets (issue 5): a traced start within 1.3x of an untraced start of
// the same program.
//
// Usage: StartBench BIN_DIR  (the directory holding daybreak and fixture-fork-twice)
import BenchSupport
import Control
#if canImport(Glibc)
import Glibc
#endif

let bin = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "../.build/release"
let rounds = 60
let warmup = 5

var template = Array("/tmp/daybreak-startbench-XXXXXX".utf8CString)
guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
let dir = String(cString: made)
mkdir(dir + "/jobs", 0o755)
func write(_ path: String, _ text: String) {
    let f = fopen(path, "w")!
    fputs(text, f)
    fclose(f)
}
let program = bin + "/fixture-fork-twice"
let script = "pre-start script\n" + String(repeating: "    /bin/true\n", count: 20) + "end script\n"
/// The jobs: name, whether traced, whether it has the pre-start script.
let jobs: [(name: String, traced: Bool, script: Bool)] = [
    ("plain", false, false), ("traced", true, false), ("plain-script", false, true), ("traced-script", true, true),
]
for j in jobs {
    write(dir + "/jobs/\(j.name).conf", (j.traced ? "expect daemon\n" : "") + "env FIXTURE_PIDFILE=\(dir)/\(j.name).pid\n"
        + (j.script ? script : "") + "exec \(program)\n")
}

// Start the daemon.
let socketPath = dir + "/control"
let argv = [bin + "/daybreak", "--user", "--confdir", dir + "/jobs", "--no-log", "--no-cgroups", "--socket", socketPath]
let environment: [String] = ["XDG_RUNTIME_DIR=\(dir)", "PATH=/usr/bin:/bin", "HOME=\(dir)"]
var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
var daemon: pid_t = 0
var actions = posix_spawn_file_actions_t()
posix_spawn_file_actions_init(&actions)
posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
guard posix_spawn(&daemon, argv[0], &actions, nil, &cArgs, &cEnv) == 0 else { fatalError("cannot start \(argv[0])") }

var client: ControlClient?
for _ in 0..<500 where client == nil {
    client = try? ControlClient(path: socketPath)
    if client == nil { usleep(10_000) }
}
guard let client else { fatalError("daybreak did not come up") }

func params(_ job: String) -> Request.Params { Request.Params(job: job) }

/// The pid in a pid file, or nil while there is none.
func readPid(_ path: String) -> pid_t? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 32)
    guard fgets(&line, 32, f) != nil else { return nil }
    let pid = atoi(line)
    return pid > 0 ? pid : nil
}

/// Times one start until the reply has come and the daemon has written
/// its pid file (checked every 20 µs), in nanoseconds. Returns the
/// daemon's pid too.
func timeStart(_ job: String) -> (UInt64, pid_t) {
    let pidFile = dir + "/\(job).pid"
    unlink(pidFile)
    let t0 = monotonicNanoseconds()
    let r = try? client.call(.start, params(job))
    guard let state = r?["instances"]?.array?.first?["state"]?.string, state == "running" || state == "waiting" else {
        fatalError("\(job) did not start: \(String(describing: r))")
    }
    while access(pidFile, F_OK) != 0 {
        if monotonicNanoseconds() - t0 > 2_000_000_000 { fatalError("\(job): no pid file") }
        usleep(20)
    }
    let t = monotonicNanoseconds() - t0
    guard let pid = readPid(pidFile) else { fatalError("\(job): unreadable pid file") }
    return (t, pid)
}

/// Ends a start: stops the job (a traced one is running), kills what an
/// untraced one left, and waits until the job has no instance and the
/// daemon process is gone.
func end(_ job: String, traced: Bool, daemon pid: pid_t) {
    if traced { _ = try? client.call(.stop, params(job)) } else { kill(pid, SIGKILL) }
    for _ in 0..<2000 {
        let r = try? client.call(.status, params(job))
        if r?["instances"]?.array?.first?["state"]?.string == "waiting" && kill(pid, 0) != 0 { return }
        usleep(1000)
    }
    fatalError("\(job) did not stop")
}

var measured: [String: [UInt64]] = [:]
for i in 0..<(rounds + warmup) {
    for j in jobs {
        let (t, pid) = timeStart(j.name)
        end(j.name, traced: j.traced, daemon: pid)
        if i >= warmup { measured[j.name, default: []].append(t) }
    }
}

kill(daemon, SIGTERM)
var status: Int32 = 0
waitpid(daemon, &status, 0)
_ = system("rm -rf '\(dir)'")

let times = measured
func median(_ xs: [UInt64]) -> Double { Double(xs.sorted()[xs.count / 2]) }
func best(_ xs: [UInt64]) -> Double { Double(xs.min()!) }
func row(_ label: String, _ job: String, floor: String?) {
    let m = median(times[job]!), b = best(times[job]!)
    let ratios = floor.map { "\(fixed(m / median(times[$0]!))) | \(fixed(b / best(times[$0]!)))" } ?? "1.00 | 1.00"
    print("| \(label) | \(fixed(m / 1e6, 3)) ms | \(fixed(b / 1e6, 3)) ms | \(ratios) |")
}
print("Start of a double-forking daemon until it is up (reply and pid file), \(rounds) rounds each, alternating")
print("")
print("| start | median | best | ratio (median) | ratio (best) |")
print("| --- | ---: | ---: | ---: | ---: |")
row("floor: untraced (no expect)", "plain", floor: nil)
row("traced (expect daemon)", "traced", floor: "plain")
row("floor: untraced, 20-command pre-start", "plain-script", floor: nil)
row("traced, 20-command pre-start followed too", "traced-script", floor: "plain-script")
print("")
let r = median(times["traced"]!) / median(times["plain"]!)
let rs = median(times["traced-script"]!) / median(times["plain-script"]!)
print("Traced against untraced: \(fixed(r))x median; target 1.3x: \(r <= 1.3 ? "met" : "not met")")
print("With a followed 20-command pre-start: \(fixed(rs))x median; target 1.3x: \(rs <= 1.3 ? "met" : "not met")")
