/// The everyday commands' command line, read without the command table.
///
/// `start`, `stop`, `restart`, `status` and `version` with nothing but
/// global options and arguments are what scripts run in loops. For them,
/// building `Verb.table` (its dictionaries and sets are generic types the
/// Swift runtime instantiates on first use, with a conformance lookup
/// each) and running the general parser were about a sixth of an
/// `initctl version` (docs/PERFORMANCE.md, "initctl's start-up").
///
/// A line this does not read at a glance is left to `parseInvocation`
/// (nil), which then does and says exactly what it always did: a command
/// option, `--help`, `--version`, `--dest`, `--`, an option with `=` other
/// than `--socket=VALUE`, `--socket` without a value, another command,
/// `version` with arguments. A line it accepts, it reads as
/// `parseInvocation` would: the same globals, the same arguments, and the
/// same function runs (the IntegrationTests suite InitctlFastPath runs each
/// such line both ways against a daemon and compares what initctl says).
func fastInvocation(_ args: [String]) -> (run: (Invocation) throws(CommandFailure) -> Void, invocation: Invocation)? {
    var globals = Globals()
    var words: [String] = []
    var i = 0
    while i < args.count {
        let arg = args[i]
        i += 1
        if arg == "-" || !arg.hasPrefix("-") {
            words.append(arg)
            continue
        }
        switch arg {
        case "--user", "--session": globals.user = true
        case "--system": globals.system = true
        case "-q", "--quiet": globals.quiet = true
        case "-n", "--no-wait": globals.noWait = true
        case "--socket":
            guard i < args.count else { return nil }
            globals.socket = args[i]
            i += 1
        default:
            // `--socket=` alone is not here: the general parser then takes
            // the next argument as the path.
            guard arg.hasPrefix("--socket="), arg.utf8.count > 9 else { return nil }
            globals.socket = String(arg.dropFirst(9))
        }
    }
    guard let name = words.first else { return nil }
    let invocation = Invocation(globals: globals, positionals: Array(words.dropFirst()))
    switch name {
    case "start": return ({ inv throws(CommandFailure) in try runJobCommand(.start, inv) }, invocation)
    case "stop": return ({ inv throws(CommandFailure) in try runJobCommand(.stop, inv) }, invocation)
    case "restart": return ({ inv throws(CommandFailure) in try runJobCommand(.restart, inv) }, invocation)
    case "status": return (showStatus, invocation)
    case "version" where words.count == 1: return (showVersion, invocation)
    default: return nil
    }
}
