import Platform

// initctl: Upstart's control tool, talking to daybreak over its control
// socket. Global options may come before or after the command, as in
// Upstart; run as `start`, `stop`, `restart`, `reload`, `status`,
// `reboot`, `poweroff` or `halt` (a link named so), it behaves as that
// command.

let invokedAs = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "initctl") } ?? "initctl"
// An array, not a Set: a Set<String> costs its metadata and conformance
// lookups at run time, on every run, for eight names.
let aliases = ["start", "stop", "restart", "reload", "status", "reboot", "poweroff", "halt"]
let programName = aliases.contains(invokedAs) ? invokedAs : "initctl"
let arguments = (aliases.contains(invokedAs) ? [invokedAs] : []) + Array(CommandLine.arguments.dropFirst())

do {
    switch try parseInvocation(arguments) {
    case .help(let verb):
        FileSystem.writeStandardOutput((verb.map(helpText(for:)) ?? helpText()) + "\n")
    case .version:
        FileSystem.writeStandardOutput(versionText() + "\n")
    case .run(let invocation):
        try invocation.verb.run(invocation)
    }
    Process.exit(0)
} catch {
    if !error.message.isEmpty { FileSystem.writeStandardError("\(programName): \(error.message)\n") }
    if error.hint { FileSystem.writeStandardError("Try `\(programName) --help' for more information.\n") }
    Process.exit(1)
}
