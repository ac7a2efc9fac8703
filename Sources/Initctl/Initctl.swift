import ArgumentParser
import Control
import JSON
import Platform

struct Initctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "initctl",
        abstract: "Control the daybreak init daemon (Upstart's initctl).",
        discussion: "See docs/initctl.md.",
        subcommands: [
            Start.self, Stop.self, Restart.self, Reload.self, Status.self, List.self, Emit.self,
            ReloadConfiguration.self, Version.self, LogPriority.self, ShowConfig.self, CheckConfig.self,
            ListEnv.self, GetEnv.self, SetEnv.self, UnsetEnv.self, ResetEnv.self, Usage.self, Monitor.self,
            NotifyDiskWriteable.self,
        ])
}

/// Options every command accepts, before or after the command name.
struct Globals: ParsableArguments {
    @Flag(help: "Talk to the user-mode daemon (implied when UPSTART_SESSION is set).")
    var user = false
    @Flag(help: "Talk to the system daemon.")
    var system = false
    @Flag(help: "Accepted for Upstart compatibility; the same as --user.")
    var session = false
    @Flag(name: [.customShort("q"), .long], help: "Print only errors.")
    var quiet = false
    @Flag(help: "Do not wait for the job or event to finish; return once the request is queued.")
    var noWait = false
    @Option(help: "The control socket to use (also DAYBREAK_SOCKET).")
    var socket: String?
    @Option(help: "Accepted for Upstart compatibility and ignored (a D-Bus name).")
    var dest: String?

    /// The socket to talk to, by the rules in docs/initctl.md.
    var socketPath: String {
        let env = Environment.current
        if let socket { return socket }
        if let s = env["DAYBREAK_SOCKET"], !s.isEmpty { return s }
        if system { return SocketPath.system }
        if let session = env["UPSTART_SESSION"], let p = SocketPath.path(fromSession: session) { return p }
        if user || self.session { return SocketPath.user(environment: env, uid: Identity.realUserID) }
        return SocketPath.system
    }

    /// Connects, runs `body`, and turns every failure into Upstart's
    /// `initctl: MESSAGE` on standard error with exit status 1.
    func withClient<T>(_ body: (ControlClient) throws(ControlError) -> T) throws -> T {
        let client: ControlClient
        do {
            client = try ControlClient(path: socketPath)
        } catch {
            fail("Unable to connect to daybreak at \(socketPath): \(error.errno)")
        }
        do {
            return try body(client)
        } catch {
            fail(error.message)
        }
    }

    func say(_ text: String) {
        if !quiet { print(text) }
    }
}

func fail(_ message: String) -> Never {
    FileSystem.writeStandardError("\(programName): \(message)\n")
    Process.exit(1)
}

/// Splits KEY=VALUE arguments, rejecting anything else as Upstart does.
func environmentArguments(_ args: [String]) -> [String] {
    for a in args where !a.contains("=") || a.hasPrefix("=") {
        fail("Env must be KEY=VALUE pairs")
    }
    return args
}

/// The job a command names, or the job it runs inside (`UPSTART_JOB`), as
/// Upstart's `start` and `stop` without arguments do from a job's scripts.
func jobTarget(_ job: String?, _ env: [String]) -> Request.Params {
    if let job { return Request.Params(job: job, env: environmentArguments(env)) }
    let e = Environment.current
    guard let current = e["UPSTART_JOB"] else { fail("missing job name") }
    return Request.Params(job: current, instance: e["UPSTART_INSTANCE"] ?? "", env: environmentArguments(env))
}

/// `start`, `stop` and `restart`: the request, waiting unless `--no-wait`,
/// then the instance's status as Upstart prints it.
func runJobCommand(_ method: Control.Method, _ job: String?, _ env: [String], _ globals: Globals) throws {
    var params = jobTarget(job, env)
    params.wait = !globals.noWait
    let result = try globals.withClient { client throws(ControlError) in try client.call(method, params) }
    printStatuses(result, globals)
}

func printStatuses(_ result: JSONValue, _ globals: Globals) {
    for item in result["instances"]?.array ?? [] {
        if let status = InstanceStatus(json: item) { globals.say(status.upstartText) }
    }
}

// MARK: Job commands

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a job (a new instance of it).")
    @OptionGroup var globals: Globals
    @Argument var job: String?
    @Argument var env: [String] = []

    func run() throws {
        try runJobCommand(.start, job, env, globals)
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a job instance.")
    @OptionGroup var globals: Globals
    @Argument var job: String?
    @Argument var env: [String] = []

    func run() throws {
        try runJobCommand(.stop, job, env, globals)
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart a job instance, keeping its environment.")
    @OptionGroup var globals: Globals
    @Argument var job: String?
    @Argument var env: [String] = []

    func run() throws {
        try runJobCommand(.restart, job, env, globals)
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a job's main process its reload signal (SIGHUP by default).")
    @OptionGroup var globals: Globals
    @Argument var job: String?
    @Argument var env: [String] = []

    func run() throws {
        let params = jobTarget(job, env)
        _ = try globals.withClient { client throws(ControlError) in try client.call(.reload, params) }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a job's goal, state and processes.")
    @OptionGroup var globals: Globals
    @Argument var job: String?
    @Argument var env: [String] = []

    func run() throws {
        let params = jobTarget(job, env)
        let result = try globals.withClient { client throws(ControlError) in try client.call(.status, params) }
        for item in result["instances"]?.array ?? [] {
            guard let status = InstanceStatus(json: item) else { continue }
            print(status.upstartText)
            if let text = status.statusText { print("\tstatus: \(text)") }
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every job and instance with its status.")
    @OptionGroup var globals: Globals

    func run() throws {
        let result = try globals.withClient { client throws(ControlError) in try client.call(.list) }
        for item in result["instances"]?.array ?? [] {
            if let status = InstanceStatus(json: item) { print(status.upstartText) }
        }
    }
}

struct Emit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Emit an event; waits until everything it started or stopped has settled.")
    @OptionGroup var globals: Globals
    @Argument var event: String
    @Argument var env: [String] = []

    func run() throws {
        let params = Request.Params(env: environmentArguments(env), wait: !globals.noWait, event: event)
        _ = try globals.withClient { client throws(ControlError) in try client.call(.emit, params) }
    }
}

struct ReloadConfiguration: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reload-configuration", abstract: "Read the job directories again.")
    @OptionGroup var globals: Globals

    func run() throws {
        _ = try globals.withClient { client throws(ControlError) in try client.call(.reloadConfiguration) }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon's version.")
    @OptionGroup var globals: Globals

    func run() throws {
        let result = try globals.withClient { client throws(ControlError) in try client.call(.version) }
        globals.say(result["version"]?.string ?? "")
    }
}

struct LogPriority: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log-priority", abstract: "Show or set the daemon's log priority.")
    @OptionGroup var globals: Globals
    @Argument(help: "debug, info, message, warn, error or fatal") var priority: String?

    func run() throws {
        let params = Request.Params(priority: priority)
        let result = try globals.withClient { client throws(ControlError) in try client.call(.logPriority, params) }
        if priority == nil { globals.say(result["priority"]?.string ?? "") }
    }
}

struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-config", abstract: "Show the emits, start on and stop on of jobs.")
    @OptionGroup var globals: Globals
    @Flag(name: [.customShort("e"), .long], help: "One line for each event or job that may start or stop the job.")
    var enumerate = false
    @Argument var conf: String?

    func run() throws {
        let params = Request.Params(job: conf, enumerate: enumerate)
        let result = try globals.withClient { client throws(ControlError) in try client.call(.showConfig, params) }
        printJobLines(result)
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Find jobs whose start on or stop on can never be met.")
    @OptionGroup var globals: Globals
    @Option(name: [.customShort("i"), .long], help: "Comma-separated events to ignore.") var ignoreEvents: String?
    @Flag(name: [.customShort("w"), .long], help: "Treat any unknown job or event as an error.") var warn = false
    @Argument var conf: String?

    func run() throws {
        var env: [String] = []
        if let ignoreEvents { env.append("IGNORE=\(ignoreEvents)") }
        if warn { env.append("WARN=1") }
        let params = Request.Params(job: conf, env: env)
        let result = try globals.withClient { client throws(ControlError) in try client.call(.checkConfig, params) }
        printJobLines(result)
        if !(result["jobs"]?.array ?? []).isEmpty { throw ExitCode(1) }
    }
}

func printJobLines(_ result: JSONValue) {
    for job in result["jobs"]?.array ?? [] {
        print(job["name"]?.string ?? "")
        for line in job["lines"]?.strings ?? [] { print(line) }
    }
}

// MARK: Job environment table

struct ListEnv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-env", abstract: "List the job environment table.")
    @OptionGroup var globals: Globals
    @Flag(name: [.customShort("g"), .long]) var global = false

    func run() throws {
        let params = envTableParams(global: global)
        let result = try globals.withClient { client throws(ControlError) in try client.call(.listEnv, params) }
        for line in result["env"]?.strings ?? [] { print(line) }
    }
}

struct GetEnv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get-env", abstract: "Show one variable of the job environment table.")
    @OptionGroup var globals: Globals
    @Flag(name: [.customShort("g"), .long]) var global = false
    @Argument var variable: String

    func run() throws {
        var params = envTableParams(global: global)
        params.name = variable
        let result = try globals.withClient { client throws(ControlError) in try client.call(.getEnv, params) }
        print(result["value"]?.string ?? "")
    }
}

struct SetEnv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-env", abstract: "Set variables in the job environment table.")
    @OptionGroup var globals: Globals
    @Flag(name: [.customShort("r"), .long]) var retain = false
    @Flag(name: [.customShort("g"), .long]) var global = false
    @Argument var variables: [String]

    func run() throws {
        var params = envTableParams(global: global)
        params.env = variables
        params.retain = retain
        _ = try globals.withClient { client throws(ControlError) in try client.call(.setEnv, params) }
    }
}

struct UnsetEnv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unset-env", abstract: "Remove variables from the job environment table.")
    @OptionGroup var globals: Globals
    @Flag(name: [.customShort("r"), .long]) var retain = false
    @Flag(name: [.customShort("g"), .long]) var global = false
    @Argument var variables: [String]

    func run() throws {
        var params = envTableParams(global: global)
        params.env = variables
        params.retain = retain
        _ = try globals.withClient { client throws(ControlError) in try client.call(.unsetEnv, params) }
    }
}

struct ResetEnv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset-env", abstract: "Discard every change to the job environment table.")
    @OptionGroup var globals: Globals
    @Flag(name: [.customShort("r"), .long]) var retain = false
    @Flag(name: [.customShort("g"), .long]) var global = false

    func run() throws {
        var params = envTableParams(global: global)
        params.retain = retain
        _ = try globals.withClient { client throws(ControlError) in try client.call(.resetEnv, params) }
    }
}

/// Inside a job (UPSTART_JOB set) the table is the job's own unless
/// `--global`; elsewhere it is the global table.
func envTableParams(global: Bool) -> Request.Params {
    let e = Environment.current
    if !global, let job = e["UPSTART_JOB"] {
        return Request.Params(job: job, instance: e["UPSTART_INSTANCE"] ?? "", global: false)
    }
    return Request.Params(global: true)
}

struct Usage: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a job's usage text.")
    @OptionGroup var globals: Globals
    @Argument var job: String

    func run() throws {
        let params = Request.Params(job: job)
        let result = try globals.withClient { client throws(ControlError) in try client.call(.usage, params) }
        print("Usage: \(result["usage"]?.string ?? "")")
    }
}

struct NotifyDiskWriteable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify-disk-writeable",
        abstract: "Tell the daemon the log directory is writable: job output held in memory is written now.")
    @OptionGroup var globals: Globals

    func run() throws {
        _ = try globals.withClient { client throws(ControlError) in try client.call(.notifyDiskWriteable) }
    }
}

// MARK: Monitor

struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print events and job state changes as they happen.")
    @OptionGroup var globals: Globals

    func run() throws {
        try globals.withClient { client throws(ControlError) in
            _ = try client.call(.subscribe)
            while let event = try client.nextEvent() {
                // Unbuffered: a monitor is read live, often through a pipe.
                FileSystem.writeStandardOutput(monitorLine(event) + "\n")
            }
        }
    }
}

/// One line of `initctl monitor`: `event NAME KEY=VALUE...` for an event,
/// `state JOB (INSTANCE) GOAL/STATE` for a state change.
func monitorLine(_ event: JSONValue) -> String {
    if event["type"]?.string == "state", let status = event["status"].flatMap(InstanceStatus.init(json:)) {
        return "state " + status.upstartText.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)!
    }
    let env = event["env"]?.strings ?? []
    return (["event", event["name"]?.string ?? "?"] + env).joined(separator: " ")
}
