import Control
import Engine
import JobFile
import JSON
import Platform

/// `initctl log JOB [-n N] [-f]` and `initctl reopen-logs`.
///
/// `log` answers with the last N lines (default 10, at most 10,000) of the
/// instance's `console log` file, or, when the file cannot be read (the
/// log directory not writable yet, early in boot), of the output the
/// daemon holds in memory. With `follow`, every later piece of the
/// instance's output reaches the client as an event
/// `{"type":"log","data":"..."}`, through the client's own outbox: a
/// follower that does not read is dropped at the outbox limits
/// (docs/RELIABILITY.md), never waited for.
extension Daemon {
    static let maxLogLines = 10_000

    func handleLog(_ request: Request, from client: Client) {
        func fail(_ code: ErrorCode, _ message: String) {
            send(ControlError(id: request.id, code: code, message: message).json, to: client)
        }
        let p = request.params
        guard let job = p.job, !job.isEmpty else { return fail(.invalidArguments, "missing job name") }
        guard let def = engine.jobClass(job) else { return fail(.unknownJob, "Unknown job: \(job)") }
        guard let logs else { return fail(.invalidArguments, "job output is not kept (--no-log)") }
        var instance = p.instance ?? ""
        if p.instance == nil, let pattern = def.instance {
            var env = Environment(engine.defaultEnvironment)
            env.merge(p.env)
            instance = (try? Environment.expand(pattern, env)) ?? ""
        }
        let file = logFileName(job: job, instance: instance)
        let count = min(p.lines ?? 10, Daemon.maxLogLines)
        let (lines, fromMemory) = logs.recentLines(of: file, count: count)
        send(replyJSON(id: request.id, result: .object([
            ("file", .string(logs.path(of: file))), ("memory", .bool(fromMemory)),
            ("lines", .array(lines.map(JSONValue.string))),
        ])), to: client)
        if p.follow, server.clients[client.fd] != nil {
            let path = logs.path(of: file)
            client.following = path
            self.logs!.followers[path, default: []].insert(client.fd)
        }
    }

    /// Sends the output read since the last call to the clients following
    /// it (after the loop read job output).
    func forwardFollowedOutput() {
        guard logs != nil, !(logs!.followers.isEmpty) else { return }
        for (path, bytes) in logs!.takeFollowed() {
            guard let fds = logs!.followers[path] else { continue }
            let event = JSONValue.object([("v", .number(protocolVersion)), ("event", .object([
                ("type", .string("log")), ("data", .string(String(decoding: bytes.filter { $0 != 0x0D }, as: UTF8.self))),
            ]))])
            let frame = Frame.encode(event.compactBytes)
            for fd in fds {
                guard let c = server.clients[fd], c.following == path else {
                    logs!.followers[path]?.remove(fd)
                    if logs!.followers[path]?.isEmpty == true { logs!.followers[path] = nil }
                    continue
                }
                send(frame: frame, to: c)
            }
        }
    }

    /// `reopen-logs`: the job log files are opened for each write already;
    /// this forgets the sizes counted for `log size` (logrotate may have
    /// moved or truncated them) and writes what is held.
    func reopenLogs(_ request: Request, from client: Client) {
        logs?.reopen()
        send(replyJSON(id: request.id, result: .object([("held", .number(logs?.heldBytes ?? 0))])), to: client)
    }
}
