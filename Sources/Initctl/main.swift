import ArgumentParser
import Control
import JSON
import Platform

// initctl: Upstart's control tool, talking to daybreak over its control
// socket. Global options may come before or after the command, as in
// Upstart; run as `start`, `stop`, `restart`, `reload` or `status` (a link
// named so), it behaves as that command.

let arguments = Array(CommandLine.arguments.dropFirst())
let invokedAs = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "initctl") } ?? "initctl"
let aliases: Set<String> = ["start", "stop", "restart", "reload", "status"]
let programName = aliases.contains(invokedAs) ? invokedAs : "initctl"

/// Moves global options written before the command to after it, where
/// each command's option group reads them.
func normalize(_ args: [String]) -> [String] {
    var before: [String] = []
    var i = 0
    let takesValue: Set<String> = ["--socket", "--dest"]
    while i < args.count, args[i].hasPrefix("-"), args[i] != "--" {
        before.append(args[i])
        if takesValue.contains(args[i]), i + 1 < args.count {
            before.append(args[i + 1])
            i += 1
        }
        i += 1
    }
    guard i < args.count else { return args }
    return [args[i]] + before + Array(args[(i + 1)...])
}

var argv = aliases.contains(invokedAs) ? [invokedAs] + arguments : arguments
argv = normalize(argv)
Initctl.main(argv)
