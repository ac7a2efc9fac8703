import Control
import JSON
import Platform

// The commands, their options and what each prints. Output and errors are
// Upstart's (docs/initctl.md).

extension Verb {
    /// Options of any command that take a value (for telling `-i VALUE` from a flag).
    static let valueOptions: Set<String> = ["-i", "--ignore-events", "--state", "--lines"]

    static let table: [Verb] = [
        Verb(name: "start", summary: "start a job (a new instance of it)", usage: "start JOB [KEY=VALUE]...",
             detail: "JOB names the job to start; the variables that follow are the new instance's environment, and pick the instance of an `instance` job. Without JOB, inside a job, starts the job it runs in.") { inv throws(CommandFailure) in
            try runJobCommand(.start, inv)
        },
        Verb(name: "stop", summary: "stop a job instance", usage: "stop JOB [KEY=VALUE]...",
             detail: "JOB names the job to stop; the variables that follow reach its pre-stop and post-stop processes, and pick the instance of an `instance` job.") { inv throws(CommandFailure) in
            try runJobCommand(.stop, inv)
        },
        Verb(name: "restart", summary: "restart a job instance, keeping its environment", usage: "restart JOB [KEY=VALUE]...",
             detail: "JOB names the job to restart; the variables that follow pick the instance. The instance keeps its environment.") { inv throws(CommandFailure) in
            try runJobCommand(.restart, inv)
        },
        Verb(name: "reload", summary: "send a job's main process its reload signal", usage: "reload JOB [KEY=VALUE]...",
             detail: "Sends the main process (alone, not its process group) the job's reload signal, SIGHUP unless the job says otherwise.") { inv throws(CommandFailure) in
            let params = try jobTarget(inv)
            _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.reload, params) }
        },
        Verb(name: "status", summary: "show a job's goal, state and processes", usage: "status [--history] [--verbose] JOB [KEY=VALUE]...",
             flags: ["--history": "history", "--verbose": "verbose", "-v": "verbose"], options: ["--state": "state"],
             detail: "A job that failed also shows its last failure (when, which process, how it ended) and the last lines of its output; --history lists its last ten transitions; --verbose (root or the session owner) each variable of its environment and where it came from.") { inv throws(CommandFailure) in
            try showStatus(inv)
        },
        Verb(name: "list", summary: "list every job and instance with its status", usage: "list", maxArguments: 0) { inv throws(CommandFailure) in
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.list) }
            var out = ""
            for item in result["instances"]?.array ?? [] {
                if let status = InstanceStatus(json: item) { out += status.upstartText + "\n" }
            }
            FileSystem.writeStandardOutput(out)
        },
        Verb(name: "emit", summary: "emit an event; wait until what it started or stopped settles", usage: "emit EVENT [KEY=VALUE]...",
             minArguments: 1, missing: "missing event name") { inv throws(CommandFailure) in
            let params = Request.Params(env: try environmentArguments(inv.rest), wait: !inv.globals.noWait, event: inv.positionals[0])
            _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.emit, params) }
        },
        Verb(name: "reload-configuration", summary: "read the job directories again", usage: "reload-configuration",
             maxArguments: 0) { inv throws(CommandFailure) in
            _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.reloadConfiguration) }
        },
        Verb(name: "version", summary: "show the daemon's version", usage: "version", maxArguments: 0) { inv throws(CommandFailure) in
            try showVersion(inv)
        },
        Verb(name: "log-priority", summary: "show or set the daemon's log priority", usage: "log-priority [PRIORITY]",
             maxArguments: 1) { inv throws(CommandFailure) in
            let params = Request.Params(priority: inv.positionals.first)
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.logPriority, params) }
            if inv.positionals.isEmpty { inv.globals.say(result["priority"]?.string ?? "") }
        },
        Verb(name: "show-config", summary: "show the emits, start on and stop on of jobs", usage: "show-config [-e] [JOB]",
             flags: ["-e": "enumerate", "--enumerate": "enumerate"], maxArguments: 1) { inv throws(CommandFailure) in
            let params = Request.Params(job: inv.positionals.first, enumerate: inv.flags.contains("enumerate"))
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.showConfig, params) }
            printJobLines(result)
        },
        Verb(name: "graph", summary: "draw jobs, their events, while dependencies and emits (Graphviz)", usage: "graph [--dot|--svg] [JOB]...",
             flags: ["--dot": "dot", "--svg": "svg"],
             detail: "Prints a Graphviz digraph of the loaded jobs (all, or the JOBs named and what links to them): the events that start and stop them, their while dependencies and the events they emit. --svg renders it with Graphviz's dot, which must be installed.") { inv throws(CommandFailure) in
            let params = Request.Params(enumerate: true)
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.showConfig, params) }
            let loaded = Set((result["jobs"]?.array ?? []).compactMap { $0["name"]?.string })
            for job in inv.positionals where !loaded.contains(job) {
                throw CommandFailure(message: "Unknown job: \(job)")
            }
            let dot = graphDOT(result, only: inv.positionals)
            guard inv.flags.contains("svg") else {
                FileSystem.writeStandardOutput(dot)
                return
            }
            let status: ChildStatus
            do {
                status = try Spawner.runFilter(["dot", "-Tsvg"], input: Array(dot.utf8))
            } catch {
                throw CommandFailure(message: "--svg needs Graphviz's dot: \(error)")
            }
            guard status == .exited(0) else { throw CommandFailure(message: "dot failed (\(status)); 'initctl graph --dot' prints what it was given") }
        },
        Verb(name: "analyze", summary: "show where the boot went: time, blame, critical-chain, plot",
             usage: "analyze [time [--history]|blame|critical-chain [JOB]|plot]", flags: ["--history": "history"], maxArguments: 2,
             detail: "time: how long the boot took and which job came last (--history: past boots, with --boot-history). blame: the jobs by how long they took to start, pre-start and post-start apart. critical-chain [JOB]: what held JOB (default: the last job of the boot) back, link by link. plot: an SVG picture of the boot, a bar per job.") { inv throws(CommandFailure) in
            try analyze(inv)
        },
        Verb(name: "check-config", summary: "find jobs whose conditions can never be met", usage: "check-config [-w] [-i EVENTS] [JOB]",
             flags: ["-w": "warn", "--warn": "warn"], options: ["-i": "ignore-events", "--ignore-events": "ignore-events"],
             maxArguments: 1) { inv throws(CommandFailure) in
            var env: [String] = []
            if let ignored = inv.values["ignore-events"] { env.append("IGNORE=\(ignored)") }
            if inv.flags.contains("warn") { env.append("WARN=1") }
            let params = Request.Params(job: inv.positionals.first, env: env)
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.checkConfig, params) }
            printJobLines(result)
            if !(result["jobs"]?.array ?? []).isEmpty { throw CommandFailure(message: "") }
        },
        Verb(name: "list-env", summary: "list the job environment table", usage: "list-env",
             flags: globalFlag, maxArguments: 0) { inv throws(CommandFailure) in
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.listEnv, envTableParams(inv)) }
            FileSystem.writeStandardOutput((result["env"]?.strings ?? []).map { $0 + "\n" }.joined())
        },
        Verb(name: "get-env", summary: "show one variable of the job environment table", usage: "get-env VARIABLE",
             flags: globalFlag, minArguments: 1, maxArguments: 1, missing: "missing variable name") { inv throws(CommandFailure) in
            var params = envTableParams(inv)
            params.name = inv.positionals[0]
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.getEnv, params) }
            FileSystem.writeStandardOutput((result["value"]?.string ?? "") + "\n")
        },
        Verb(name: "set-env", summary: "set variables in the job environment table", usage: "set-env [-r] VARIABLE[=VALUE]...",
             flags: globalFlag.merging(retainFlag) { a, _ in a }, minArguments: 1, missing: "missing variable value",
             detail: "A name is letters, digits and underscores, not starting with a digit; any other is refused.") { inv throws(CommandFailure) in
            try changeEnvTable(.setEnv, inv)
        },
        Verb(name: "unset-env", summary: "remove variables from the job environment table", usage: "unset-env VARIABLE...",
             flags: globalFlag.merging(retainFlag) { a, _ in a }, minArguments: 1, missing: "missing variable name") { inv throws(CommandFailure) in
            try changeEnvTable(.unsetEnv, inv)
        },
        Verb(name: "reset-env", summary: "discard every change to the job environment table", usage: "reset-env",
             flags: globalFlag.merging(retainFlag) { a, _ in a }, maxArguments: 0) { inv throws(CommandFailure) in
            try changeEnvTable(.resetEnv, inv)
        },
        Verb(name: "usage", summary: "show a job's usage text", usage: "usage JOB", maxArguments: 1) { inv throws(CommandFailure) in
            let params = Request.Params(job: try jobTarget(inv).job)
            let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.usage, params) }
            FileSystem.writeStandardOutput("Usage: \(result["usage"]?.string ?? "")\n")
        },
        Verb(name: "notify-disk-writeable", summary: "write job output held while the log directory was not writable",
             usage: "notify-disk-writeable", maxArguments: 0) { inv throws(CommandFailure) in
            _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.notifyDiskWriteable) }
        },
        Verb(name: "reexec", summary: "re-execute the daemon, keeping its jobs and their state", usage: "reexec", maxArguments: 0,
             detail: "The daemon writes its state, execs its binary (a new version after an upgrade) and goes on: jobs keep their pids. Returns once the new daemon has taken the state back.") { inv throws(CommandFailure) in
            _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.reexec) }
        },
        powerVerb(.reboot, "stop every job, then reboot"),
        powerVerb(.poweroff, "stop every job, then power off"),
        powerVerb(.halt, "stop every job, then halt"),
        Verb(name: "list-timers", summary: "list the time bridge's timers: job, next run, last run", usage: "list-timers [--state FILE]",
             options: ["--state": "state"], maxArguments: 0,
             detail: "Reads the state file of daybreak-time-bridge (system: /var/lib/daybreak/time-bridge.state; with --user or inside a session: $XDG_STATE_HOME/daybreak/time-bridge.state), where the bridge writes each timer's runs and when it runs next. Times are local.") { inv throws(CommandFailure) in
            try listTimers(inv)
        },
        Verb(name: "log", summary: "show a job's recent output; follow it with -f", usage: "log JOB [KEY=VALUE]... [-n N] [-f]",
             flags: ["-f": "follow", "--follow": "follow"], options: ["--lines": "lines"],
             detail: "Prints the last N lines (default 10) of the job's console log, from its log file or, while the disk is not writable yet, from what the daemon holds in memory. With -f, goes on printing the job's output as it comes, until interrupted.") { inv throws(CommandFailure) in
            try showLog(inv)
        },
        Verb(name: "reopen-logs", summary: "make the daemon reopen its job log files (after logrotate)", usage: "reopen-logs",
             maxArguments: 0) { inv throws(CommandFailure) in
            _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.reopenLogs) }
        },
        Verb(name: "monitor", summary: "print events as they happen", usage: "monitor", maxArguments: 0) { inv throws(CommandFailure) in
            try inv.globals.withClient { client throws(ControlError) in
                _ = try client.call(.subscribe)
                while let event = try client.nextEvent() {
                    // Unbuffered: a monitor is read live, often through a pipe.
                    FileSystem.writeStandardOutput(monitorLine(event) + "\n")
                }
            }
        },
    ]

    static let globalFlag = ["-g": "global", "--global": "global"]
    static let retainFlag = ["-r": "retain", "--retain": "retain"]
}

/// `start`, `stop` and `restart`: the request, waiting unless `--no-wait`,
/// then the instance's status as Upstart prints it.
func runJobCommand(_ method: Control.Method, _ inv: Invocation) throws(CommandFailure) {
    var params = try jobTarget(inv)
    params.wait = !inv.globals.noWait
    let result = try inv.globals.withClient { client throws(ControlError) in try client.call(method, params) }
    for item in result["instances"]?.array ?? [] {
        if let status = InstanceStatus(json: item) { inv.globals.say(status.upstartText) }
    }
}

/// `status`: each instance as Upstart prints it, then what Daybreak adds
/// (its status text, a false `while`, its cgroup, respawns, its last
/// failure, with `--verbose` its environment, with `--history` its
/// transitions), then a timer job's next run.
func showStatus(_ inv: Invocation) throws(CommandFailure) {
    var params = try jobTarget(inv)
    params.verbose = inv.flags.contains("verbose")
    let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.status, params) }
    for item in result["instances"]?.array ?? [] {
        guard let status = InstanceStatus(json: item) else { continue }
        FileSystem.writeStandardOutput(status.upstartText + "\n")
        if let text = status.statusText { FileSystem.writeStandardOutput("\tstatus: \(text)\n") }
        if let why = status.whileReason { FileSystem.writeStandardOutput("\twhile condition false: \(why)\n") }
        for line in status.cgroup?.lines ?? [] { FileSystem.writeStandardOutput(line + "\n") }
        if let line = status.respawnLine { FileSystem.writeStandardOutput(line + "\n") }
        for line in status.failureLines { FileSystem.writeStandardOutput(line + "\n") }
        for line in status.environmentSources { FileSystem.writeStandardOutput("\tenv \(line)\n") }
        if inv.flags.contains("history") {
            for line in status.historyLines { FileSystem.writeStandardOutput(line + "\n") }
        }
    }
    // A timer job: when the time bridge runs it next (docs/time-bridge.md).
    if let job = params.job {
        for line in timerStatusLines(job: job, inv) { FileSystem.writeStandardOutput(line + "\n") }
    }
}

/// `version`: the daemon's version line.
func showVersion(_ inv: Invocation) throws(CommandFailure) {
    let result = try inv.globals.withClient { client throws(ControlError) in try client.call(.version) }
    inv.globals.say(result["version"]?.string ?? "")
}

/// Rejects anything but KEY=VALUE, as Upstart does.
func environmentArguments(_ args: [String]) throws(CommandFailure) -> [String] {
    for a in args where !a.contains("=") || a.hasPrefix("=") {
        throw CommandFailure(message: "Env must be KEY=VALUE pairs")
    }
    return args
}

/// The job a command names, or the job it runs inside (`UPSTART_JOB`), as
/// Upstart's `start` and `stop` without arguments do from a job's scripts.
func jobTarget(_ inv: Invocation) throws(CommandFailure) -> Request.Params {
    if let job = inv.job { return Request.Params(job: job, env: try environmentArguments(inv.rest)) }
    let e = Environment.current
    guard let current = e["UPSTART_JOB"] else { throw CommandFailure(message: "missing job name", hint: true) }
    return Request.Params(job: current, instance: e["UPSTART_INSTANCE"] ?? "")
}

/// `initctl log JOB [-n N] [-f]`. `-n` is also initctl's `--no-wait`, so
/// `-n N` arrives as that flag and a number among the arguments.
func showLog(_ inv: Invocation) throws(CommandFailure) {
    var positionals = inv.positionals
    var lines: Int? = nil
    if let text = inv.values["lines"] {
        guard let n = Int(text), n >= 0 else { throw CommandFailure(message: "invalid number of lines: \(text)", hint: true) }
        lines = n
    }
    if inv.globals.noWait, let i = positionals.dropFirst().firstIndex(where: { Int($0) != nil }) {
        lines = Int(positionals.remove(at: i))
    }
    guard let job = positionals.first else { throw CommandFailure(message: "missing job name", hint: true) }
    var params = Request.Params(job: job, env: try environmentArguments(Array(positionals.dropFirst())))
    params.lines = lines
    params.follow = inv.flags.contains("follow")
    try inv.globals.withClient { client throws(ControlError) in
        let result = try client.call(.log, params)
        var out = ""
        for line in result["lines"]?.array ?? [] { out += (line.string ?? "") + "\n" }
        FileSystem.writeStandardOutput(out)
        guard params.follow else { return }
        while let event = try client.nextEvent() {
            guard event["type"]?.string == "log", let data = event["data"]?.string else { continue }
            FileSystem.writeStandardOutput(data)
        }
    }
}

/// Inside a job (UPSTART_JOB set) the table is the job's own unless
/// `--global`; elsewhere it is the global table. (Daybreak keeps one table.)
func envTableParams(_ inv: Invocation) -> Request.Params {
    let e = Environment.current
    if !inv.flags.contains("global"), let job = e["UPSTART_JOB"] {
        return Request.Params(job: job, instance: e["UPSTART_INSTANCE"] ?? "", global: false)
    }
    return Request.Params(global: true)
}

func changeEnvTable(_ method: Control.Method, _ inv: Invocation) throws(CommandFailure) {
    var params = envTableParams(inv)
    params.env = inv.positionals
    params.retain = inv.flags.contains("retain")
    _ = try inv.globals.withClient { client throws(ControlError) in try client.call(method, params) }
}

func printJobLines(_ result: JSONValue) {
    var out = ""
    for job in result["jobs"]?.array ?? [] {
        out += (job["name"]?.string ?? "") + "\n"
        for line in job["lines"]?.strings ?? [] { out += line + "\n" }
    }
    FileSystem.writeStandardOutput(out)
}

/// One line of `initctl monitor`: `event NAME KEY=VALUE...` for an event,
/// `state JOB (INSTANCE) GOAL/STATE` for a state change.
func monitorLine(_ event: JSONValue) -> String {
    if event["type"]?.string == "jobs-changed" {
        return (["jobs-changed"] + (event["jobs"]?.strings ?? [])).joined(separator: " ")
    }
    if event["type"]?.string == "state", let status = event["status"].flatMap(InstanceStatus.init(json:)) {
        return "state " + (status.upstartText.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? "")
    }
    let env = event["env"]?.strings ?? []
    return (["event", event["name"]?.string ?? "?"] + env).joined(separator: " ")
}

/// `reboot`, `poweroff`, `halt` (also as argv[0], links named so): asks
/// the daemon, which must be PID 1, to stop every job as on SIGTERM and
/// then reboot(2). In a container (a pid namespace) that ends the
/// container; the runtime sees its init killed by SIGHUP (reboot) or
/// SIGINT. Returns once the daemon has taken the request.
func powerVerb(_ action: PowerAction, _ summary: String) -> Verb {
    Verb(name: action.rawValue, summary: summary, usage: action.rawValue, maxArguments: 0,
         detail: "The daemon (PID 1 only) stops every job, dependents first, each through its pre-stop, kill signal and post-stop, then syncs and calls reboot(2). Upstart's -f (reboot(2) at once, without init) is not offered: any distribution's reboot -f does that.") { inv throws(CommandFailure) in
        let params = Request.Params(name: action.rawValue)
        _ = try inv.globals.withClient { client throws(ControlError) in try client.call(.powerDown, params) }
    }
}
