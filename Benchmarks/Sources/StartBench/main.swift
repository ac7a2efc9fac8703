// The cost of process tracking: starting an `expect daemon` job, whose
// main process is followed with ptrace through its two forks until the
// daemon waits for work, against starting the same program untraced (no
// `expect`: the job is running as soon as the program has exec'd).
//
// Both jobs run the repository's classic double-forking daemon
// (Sources/Fixtures/fork-twice), in one real `daybreak --user`, started
// through the control socket (the same request `initctl start` sends) in
// alternating rounds, so both see the same machine. The figure is the time
// from sending `start` to the reply `start/running`; the floor is the
// untraced start. Target (issue 5): traced within 1.3x of untraced.
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
write(dir + "/jobs/traced.conf", "expect daemon\nexec \(program)\n")
// The post-stop keeps the instance (and so the daemon it left behind, in
// its cgroup) alive long enough for the pid file to appear.
write(dir + "/jobs/plain.conf", "env FIXTURE_PIDFILE=\(dir)/plain.pid\npost-stop exec sleep 0.1\nexec \(program)\n")

// Start the daemon.
let socketPath = dir + "/control"
let argv = [bin + "/daybreak", "--user", "--confdir", dir + "/jobs", "--no-log", "--socket", socketPath]
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

/// Times one `start` request, in nanoseconds.
func timeStart(_ job: String) -> UInt64 {
    let t0 = monotonicNanoseconds()
    let r = try? client.call(.start, params(job))
    let t = monotonicNanoseconds() - t0
    guard let state = r?["instances"]?.array?.first?["state"]?.string, state == "running" else {
        fatalError("\(job) did not reach running: \(String(describing: r))")
    }
    return t
}

/// Times an untraced start until the daemon itself is up: the reply, then
/// until the double-forked process has written its pid file (checked
/// every 20 µs), as a supervisor that polls a pid file would see it.
func timeStartUntilPidFile(_ job: String) -> UInt64 {
    let pidFile = dir + "/plain.pid"
    unlink(pidFile)
    let t0 = monotonicNanoseconds()
    _ = try? client.call(.start, params(job))
    while access(pidFile, F_OK) != 0 {
        if monotonicNanoseconds() - t0 > 1_000_000_000 { fatalError("the untraced daemon wrote no pid file") }
        usleep(20)
    }
    return monotonicNanoseconds() - t0
}

/// Waits until the job has no instance.
func waitStopped(_ job: String) {
    for _ in 0..<1000 {
        let r = try? client.call(.status, params(job))
        if r?["instances"]?.array?.first?["state"]?.string == "waiting" { return }
        usleep(1000)
    }
}

var plain: [UInt64] = []
var plainUp: [UInt64] = []
var traced: [UInt64] = []
for i in 0..<(rounds + warmup) {
    let p = timeStart("plain")
    waitStopped("plain")  // its main process exits at once (it forks and leaves)
    let u = timeStartUntilPidFile("plain")
    waitStopped("plain")
    let t = timeStart("traced")
    _ = try? client.call(.stop, params("traced"))
    waitStopped("traced")
    if i >= warmup {
        plain.append(p)
        plainUp.append(u)
        traced.append(t)
    }
}

kill(daemon, SIGTERM)
var status: Int32 = 0
waitpid(daemon, &status, 0)
_ = system("rm -rf '\(dir)'")

func median(_ xs: [UInt64]) -> Double { Double(xs.sorted()[xs.count / 2]) }
let pm = median(plain), tm = median(traced), um = median(plainUp)
let pb = Double(plain.min()!), tb = Double(traced.min()!), ub = Double(plainUp.min()!)
print("Start of a double-forking daemon through the control socket (\(rounds) rounds each, alternating)")
print("")
print("| start | median | best | ratio (median) | ratio (best) |")
print("| --- | ---: | ---: | ---: | ---: |")
print("| floor: untraced (no expect) | \(fixed(pm / 1e6, 3)) ms | \(fixed(pb / 1e6, 3)) ms | 1.00 | 1.00 |")
print("| untraced, until the daemon wrote its pid file | \(fixed(um / 1e6, 3)) ms | \(fixed(ub / 1e6, 3)) ms | \(fixed(um / pm)) | \(fixed(ub / pb)) |")
print("| traced (expect daemon): running when the daemon waits for work | \(fixed(tm / 1e6, 3)) ms | \(fixed(tb / 1e6, 3)) ms | \(fixed(tm / pm)) | \(fixed(tb / pb)) |")
print("")
print("Traced against untraced (reply to reply): \(fixed(tm / pm))x median; target 1.3x: \(tm / pm <= 1.3 ? "met" : "not met")")
print("Traced against untraced until the daemon is up: \(fixed(tm / um))x median")
