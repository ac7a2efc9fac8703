import Control
import Platform

/// initctl's command line, parsed by hand.
///
/// Upstart's initctl takes global options anywhere, before or after the
/// command. Parsing is a table lookup (`Verb.table`): the argument parser
/// library spent about 4 ms of reflection on every run, half of what an
/// `initctl start` costs (docs/PERFORMANCE.md), and scripts call initctl in
/// loops.
struct Invocation: Sendable {
    var globals = Globals()
    /// Command flags given, by their long name (`enumerate`, `global`...).
    var flags = Set<String>()
    /// Command options with values (`ignore-events`).
    var values: [String: String] = [:]
    var positionals: [String] = []

    var job: String? { positionals.first }
    var rest: [String] { Array(positionals.dropFirst()) }
}

/// One command: its name, what it accepts and what it does.
struct Verb: Sendable {
    var name: String
    var summary: String
    var usage: String
    /// Short and long flag spellings to their long name.
    var flags: [String: String] = [:]
    /// Options that take a value, short and long spellings to their long name.
    var options: [String: String] = [:]
    var minArguments = 0
    var maxArguments = Int.max
    /// What is said when an argument is missing: Upstart's words for the
    /// command (`missing event name`).
    var missing: String? = nil
    /// The paragraph `initctl COMMAND --help` prints under the summary.
    var detail: String? = nil
    var run: @Sendable (Invocation) throws(CommandFailure) -> Void
}

/// What the command line asks for.
enum Parsed {
    case run(Verb, Invocation)
    /// `--help`: initctl's own, or one command's when it follows the command.
    case help(Verb?)
    case version
}

/// A usage error or a failed request: printed as `initctl: MESSAGE`, exit 1.
struct CommandFailure: Error {
    var message: String
    var hint = false
}

/// Options every command accepts, anywhere on the line.
struct Globals: Sendable {
    var user = false
    var system = false
    var quiet = false
    var noWait = false
    var socket: String?

    /// The socket to talk to, by the rules in docs/initctl.md.
    var socketPath: String {
        if let socket { return socket }
        if let s = Environment.value("DAYBREAK_SOCKET"), !s.isEmpty { return s }
        if system { return SocketPath.system }
        if let session = Environment.value("UPSTART_SESSION"), let p = SocketPath.path(fromSession: session) { return p }
        if user { return SocketPath.user(environment: Environment.current, uid: Identity.realUserID) }
        return SocketPath.system
    }

    func say(_ text: String) {
        if !quiet { FileSystem.writeStandardOutput(text + "\n") }
    }

    /// Whether the socket was chosen by default (no option or variable named one).
    var socketIsDefault: Bool {
        socket == nil && (Environment.value("DAYBREAK_SOCKET") ?? "").isEmpty && !system && !user && Environment.value("UPSTART_SESSION") == nil
    }

    /// Connects and runs `body`; a failure becomes a `CommandFailure`.
    ///
    /// A connection failure is Upstart's line (`Unable to connect to
    /// Upstart: Failed to connect to socket PATH: ERROR`). When the default
    /// (system) socket was tried and a session daemon of this user is
    /// listening, a second line says to add `--user`.
    func withClient<T>(_ body: (ControlClient) throws(ControlError) -> T) throws(CommandFailure) -> T {
        let client: ControlClient
        do {
            client = try ControlClient(path: socketPath)
        } catch {
            var message = "Unable to connect to Upstart: Failed to connect to socket \(socketPath): \(error.errno)"
            if socketIsDefault {
                let session = SocketPath.user(environment: Environment.current, uid: Identity.realUserID)
                if let c = try? ControlClient(path: session) {
                    _ = c
                    let words = (["initctl", "--user"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
                    message += "\n\(programName): a session daemon is listening at \(session); try: \(words)"
                }
            }
            throw CommandFailure(message: message)
        }
        do {
            return try body(client)
        } catch {
            throw CommandFailure(message: error.message)
        }
    }
}

/// Splits the arguments into globals, the verb, its flags and positionals.
func parseInvocation(_ args: [String]) throws(CommandFailure) -> Parsed {
    var globals = Globals()
    var words: [String] = []
    var pending: [(String, String?)] = []
    var i = 0
    func take(_ name: String, _ inline: String?) throws(CommandFailure) -> String {
        if let inline { return inline }
        guard i + 1 < args.count else { throw CommandFailure(message: "missing argument: \(name)", hint: true) }
        i += 1
        return args[i]
    }
    var onlyPositionals = false
    var wantsHelp = false
    while i < args.count {
        let arg = args[i]
        defer { i += 1 }
        if onlyPositionals || arg == "-" || !arg.hasPrefix("-") {
            words.append(arg)
            continue
        }
        if arg == "--" {
            onlyPositionals = true
            continue
        }
        let parts = arg.split(separator: "=", maxSplits: 1).map(String.init)
        let name = parts[0]
        let inline = parts.count > 1 ? parts[1] : nil
        switch name {
        case "--user", "--session": globals.user = true
        case "--system": globals.system = true
        case "-q", "--quiet": globals.quiet = true
        case "-n", "--no-wait": globals.noWait = true
        case "--socket": globals.socket = try take(name, inline)
        case "--dest": _ = try take(name, inline)
        case "-h", "--help": wantsHelp = true
        case "--version": return .version
        default:
            // A command's own option: kept with its value, if it takes one.
            pending.append((name, inline))
            if inline == nil, i + 1 < args.count, Verb.valueOptions.contains(name) {
                i += 1
                pending[pending.count - 1].1 = args[i]
            }
        }
    }
    if wantsHelp { return .help(words.first.flatMap { name in Verb.table.first { $0.name == name } }) }
    guard let name = words.first else { throw CommandFailure(message: "missing command", hint: true) }
    guard let verb = Verb.table.first(where: { $0.name == name }) else {
        throw CommandFailure(message: "invalid command: \(name)", hint: true)
    }
    var invocation = Invocation(globals: globals, positionals: Array(words.dropFirst()))
    for (option, value) in pending {
        if let long = verb.flags[option] {
            invocation.flags.insert(long)
        } else if let long = verb.options[option], let value {
            invocation.values[long] = value
        } else {
            throw CommandFailure(message: "invalid option: \(option)", hint: true)
        }
    }
    if invocation.positionals.count < verb.minArguments {
        throw CommandFailure(message: verb.missing ?? "missing argument: \(verb.usage)", hint: true)
    }
    if invocation.positionals.count > verb.maxArguments {
        throw CommandFailure(message: "unexpected argument: \(invocation.positionals[verb.maxArguments])", hint: true)
    }
    return .run(verb, invocation)
}

/// `initctl --version`: the tool's own version, no daemon needed.
func versionText() -> String {
    """
    initctl (daybreak 0.1.0)
    Licensed under the Apache License, Version 2.0; see the LICENSE file.
    """
}

/// `initctl COMMAND --help`: that command alone, in the shape of Upstart's
/// (usage line, summary, its options, the global options, the detail).
func helpText(for verb: Verb) -> String {
    let args = verb.usage.split(separator: " ", maxSplits: 1).dropFirst().first.map { " " + $0 } ?? ""
    var lines = ["Usage: \(programName == "initctl" ? "initctl \(verb.name)" : programName) [OPTION]...\(args)",
                 verb.summary.prefix(1).uppercased() + verb.summary.dropFirst() + ".", "", "Options:"]
    var own = Set<String>()
    for (spelling, long) in verb.flags.sorted(by: { $0.key < $1.key }) where spelling.hasPrefix("--") { own.insert(long) }
    for long in own.sorted() {
        let short = verb.flags.first { $0.value == long && !$0.key.hasPrefix("--") }?.key
        lines.append(option(short, "--\(long)", optionHelp[long] ?? ""))
    }
    for (spelling, long) in verb.options.sorted(by: { $0.key < $1.key }) where spelling.hasPrefix("--") {
        let short = verb.options.first { $0.value == long && !$0.key.hasPrefix("--") }?.key
        lines.append(option(short, "--\(long)=VALUE", optionHelp[long] ?? ""))
    }
    if ["start", "stop", "restart", "emit"].contains(verb.name) {
        lines.append(option("-n", "--no-wait", "do not wait for the job or event to settle before exiting"))
    }
    lines += globalOptionLines
    if let detail = verb.detail { lines += ["", detail] }
    return lines.joined(separator: "\n")
}

private func option(_ short: String?, _ long: String, _ text: String) -> String {
    let head = "  " + (short.map { $0 + ", " } ?? "    ") + long
    return head.count < 26 ? head + String(repeating: " ", count: 26 - head.count) + text : head + "\n" + String(repeating: " ", count: 26) + text
}

private let optionHelp = [
    "enumerate": "one line for each event and job that may start or stop the job",
    "warn": "report every unreachable event and job, built-in events too",
    "ignore-events": "events (comma-separated) not to report",
    "global": "act on the global job environment table",
    "retain": "keep a variable's value if it is already set",
]

/// The options every command takes, as `--help` lists them.
let globalOptionLines = [
    option(nil, "--user", "talk to the session (user-mode) daemon (implied by UPSTART_SESSION)"),
    option(nil, "--system", "talk to the system daemon"),
    option("-q", "--quiet", "print only errors"),
    option(nil, "--socket=PATH", "the control socket (also DAYBREAK_SOCKET); in user mode its directory"),
    String(repeating: " ", count: 26) + "must be owned by you and private (mode 0700), or the daemon refuses it",
    option(nil, "--help", "display this help and exit"),
    option(nil, "--version", "output version information and exit"),
]

/// The help text: every command, one line each.
func helpText() -> String {
    var lines = ["Usage: initctl [OPTION]... COMMAND [OPTION]... ARG...",
                 "Control the daybreak init daemon (Upstart's initctl). See docs/initctl.md.", "",
                 "Options (before or after the command):"]
        + globalOptionLines
        + [option("-n", "--no-wait", "start, stop, restart, emit: do not wait for the job or event to settle"), "",
           "Commands (initctl COMMAND --help for one):"]
    for verb in Verb.table {
        let head = "  " + verb.usage
        lines.append(head.count < 44 ? head + String(repeating: " ", count: 44 - head.count) + verb.summary : head + "\n" + String(repeating: " ", count: 44) + verb.summary)
    }
    return lines.joined(separator: "\n")
}
