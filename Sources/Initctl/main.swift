import Platform

// initctl: Upstart's control tool, talking to daybreak over its control
// socket. Global options may come before or after the command, as in
// Upstart; run as `start`, `stop`, `restart`, `reload`, `status`,
// `reboot`, `poweroff` or `halt` (a link named so), it behaves as that
// command.

let invokedAs = CommandLine.arguments.first.flatMap(lastPathComponent) ?? "initctl"
// An array, not a Set: a Set<String> costs its metadata and conformance
// lookups at run time, on every run, for eight names.
let aliases = ["start", "stop", "restart", "reload", "status", "reboot", "poweroff", "halt"]
let programName = aliases.contains(invokedAs) ? invokedAs : "initctl"
let arguments = (aliases.contains(invokedAs) ? [invokedAs] : []) + Array(CommandLine.arguments.dropFirst())

do {
    if let (run, invocation) = fastInvocation(arguments) {
        try run(invocation)
        Process.exit(0)
    }
    switch try parseInvocation(arguments) {
    case .help(let verb):
        FileSystem.writeStandardOutput((verb.map(helpText(for:)) ?? helpText()) + "\n")
    case .version:
        FileSystem.writeStandardOutput(versionText() + "\n")
    case .run(let verb, let invocation):
        try verb.run(invocation)
    }
    Process.exit(0)
} catch {
    if !error.message.isEmpty { FileSystem.writeStandardError("\(programName): \(error.message)\n") }
    if error.hint { FileSystem.writeStandardError("Try `\(programName) --help' for more information.\n") }
    Process.exit(1)
}

/// The last component of a path, as `split(separator: "/").last` gives it
/// (trailing slashes ignored; nil when there is none), without building
/// the array of components.
func lastPathComponent(_ path: String) -> String? {
    var end = path.endIndex
    while end > path.startIndex && path[path.index(before: end)] == "/" { end = path.index(before: end) }
    guard end > path.startIndex else { return nil }
    let head = path[..<end]
    return String(head.lastIndex(of: "/").map { head[head.index(after: $0)...] } ?? head)
}
