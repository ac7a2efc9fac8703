/// Formats an instance's status the way Upstart's initctl prints it
/// (initctl(8), "status"):
///
///     job start/running, process 1234
///     job (tty1) start/post-start, process 1234
///             post-start process 1357
///     job start/post-start, (post-start) process 1357
///     job stop/waiting
///
/// The pid on the first line is the main process's, except in the
/// `pre-start` and `post-stop` states, where it is that process's (given
/// bare, `job start/pre-start, process 902`). Other
/// live processes follow on lines indented by a tab. With no main process,
/// the first other process goes on the first line, named in parentheses.
extension InstanceStatus {
    public var upstartText: String {
        var head = job
        if !instance.isEmpty { head += " (\(instance))" }
        head += " \(goal)/\(state)"
        var rest = processes
        let leading: ProcessStatus?
        if state == "pre-start" || state == "post-stop" {
            leading = rest.first(where: { $0.kind == state })
        } else {
            leading = rest.first(where: { $0.kind == "main" }) ?? rest.first
        }
        var lines: [String] = []
        if let lead = leading {
            rest.removeAll { $0 == lead }
            // The main process, or the process the pre-start and post-stop
            // states are named after, is given bare; any other is named.
            let bare = lead.kind == "main" || ((state == "pre-start" || state == "post-stop") && lead.kind == state)
            head += bare ? ", process \(lead.pid)" : ", (\(lead.kind)) process \(lead.pid)"
        }
        lines.append(head)
        for p in rest {
            lines.append("\t\(p.kind == "main" ? "main" : p.kind) process \(p.pid)")
        }
        return lines.joined(separator: "\n")
    }
}
