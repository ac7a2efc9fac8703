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
    var verb: Verb
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
    var run: @Sendable (Invocation) throws(CommandFailure) -> Void
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
        let env = Environment.current
        if let socket { return socket }
        if let s = env["DAYBREAK_SOCKET"], !s.isEmpty { return s }
        if system { return SocketPath.system }
        if let session = env["UPSTART_SESSION"], let p = SocketPath.path(fromSession: session) { return p }
        if user { return SocketPath.user(environment: env, uid: Identity.realUserID) }
        return SocketPath.system
    }

    func say(_ text: String) {
        if !quiet { FileSystem.writeStandardOutput(text + "\n") }
    }

    /// Connects and runs `body`; a failure becomes a `CommandFailure`.
    func withClient<T>(_ body: (ControlClient) throws(ControlError) -> T) throws(CommandFailure) -> T {
        let client: ControlClient
        do {
            client = try ControlClient(path: socketPath)
        } catch {
            throw CommandFailure(message: "Unable to connect to daybreak at \(socketPath): \(error.errno)")
        }
        do {
            return try body(client)
        } catch {
            throw CommandFailure(message: error.message)
        }
    }
}

/// Splits the arguments into globals, the verb, its flags and positionals.
func parseInvocation(_ args: [String]) throws(CommandFailure) -> Invocation? {
    var globals = Globals()
    var words: [String] = []
    var pending: [(String, String?)] = []
    var i = 0
    func take(_ name: String, _ inline: String?) throws(CommandFailure) -> String {
        if let inline { return inline }
        guard i + 1 < args.count else { throw CommandFailure(message: "option '\(name)' needs a value", hint: true) }
        i += 1
        return args[i]
    }
    var onlyPositionals = false
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
        case "--no-wait": globals.noWait = true
        case "--socket": globals.socket = try take(name, inline)
        case "--dest": _ = try take(name, inline)
        case "-h", "--help": return nil
        default:
            // A command's own option: kept with its value, if it takes one.
            pending.append((name, inline))
            if inline == nil, i + 1 < args.count, Verb.valueOptions.contains(name) {
                i += 1
                pending[pending.count - 1].1 = args[i]
            }
        }
    }
    guard let name = words.first else { throw CommandFailure(message: "missing command", hint: true) }
    guard let verb = Verb.table.first(where: { $0.name == name }) else {
        throw CommandFailure(message: "invalid command: \(name)", hint: true)
    }
    var invocation = Invocation(verb: verb, globals: globals, positionals: Array(words.dropFirst()))
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
        throw CommandFailure(message: "missing argument: \(verb.usage)", hint: true)
    }
    if invocation.positionals.count > verb.maxArguments {
        throw CommandFailure(message: "unexpected argument: \(invocation.positionals[verb.maxArguments])", hint: true)
    }
    return invocation
}

/// The help text: every command, one line each.
func helpText() -> String {
    var lines = ["Usage: initctl [OPTION]... COMMAND [OPTION]... ARG...",
                 "Control the daybreak init daemon (Upstart's initctl). See docs/initctl.md.", "",
                 "Options (before or after the command):",
                 "      --user         talk to the user-mode daemon (implied by UPSTART_SESSION)",
                 "      --system       talk to the system daemon",
                 "  -q, --quiet        print only errors",
                 "      --no-wait      do not wait for the job or event to settle",
                 "      --socket PATH  the control socket (also DAYBREAK_SOCKET)", "",
                 "Commands:"]
    for verb in Verb.table {
        let head = "  " + verb.usage
        lines.append(head.count < 44 ? head + String(repeating: " ", count: 44 - head.count) + verb.summary : head + "\n" + String(repeating: " ", count: 44) + verb.summary)
    }
    return lines.joined(separator: "\n")
}
