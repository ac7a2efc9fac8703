import Control
import Engine
import JobFile
import JSON
import Platform

/// The control socket's side of the daemon: accepting clients, reading
/// their requests, checking who may do what, and answering.
extension Daemon {
    static let version = "init (daybreak 0.1.0)"

    /// Accepts waiting clients, at most `acceptsPerTurn` a turn (the
    /// listener stays readable, so the rest come next turn).
    ///
    /// A connection over a limit (`ClientLimits`) is told why and closed
    /// at once. When the daemon is out of descriptors, the descriptor
    /// reserve is given back for a moment to take the connection and close
    /// it (so that it does not spin the loop), and accepting pauses for
    /// `acceptPause` or until a client goes.
    func acceptClients() {
        limits = ClientLimits.forDescriptorLimit(descriptorLimit())
        for _ in 0..<Daemon.acceptsPerTurn {
            switch UnixSocket.accept(server.listener) {
            case .none:
                return
            case .outOfDescriptors:
                reserve.release()
                if case .client(let fd) = UnixSocket.accept(server.listener) { closeDescriptor(fd) }
                reserve.refill()
                log.write(.warn, "out of file descriptors (\(descriptorLimit()) allowed): not accepting control connections for a moment")
                pauseAccepting()
                return
            case .client(let fd):
                admit(fd)
            }
        }
    }

    static let acceptsPerTurn = 64
    /// How long accepting pauses when the daemon is out of descriptors.
    static let acceptPause: Int64 = 200_000_000

    private func admit(_ fd: Int32) {
        guard let credentials = UnixSocket.peerCredentials(fd) else {
            closeDescriptor(fd)
            return
        }
        let privileged = credentials.uid == 0 || (options.userMode && credentials.uid == Identity.effectiveUserID)
        if let why = server.refusal(privileged, uid: credentials.uid, limits: limits) {
            // Best effort: the refusal fits in the socket's buffer.
            let frame = Frame.encode(ControlError(id: nil, code: .badRequest, message: "connection refused: \(why)").json.compactBytes)
            _ = UnixSocket.send(fd, frame[...])
            closeDescriptor(fd)
            if server.refused[credentials.uid, default: 0] == 0 {
                log.write(.warn, "refusing control connections from uid \(credentials.uid): \(why)")
            }
            server.refused[credentials.uid, default: 0] += 1
            return
        }
        let client = Client(fd: fd, credentials: credentials, privileged: privileged)
        server.clients[fd] = client
        if !privileged { server.connectionsByUser[credentials.uid, default: 0] += 1 }
        watch(client, [.readable, .hangup])
    }

    func pauseAccepting() {
        guard server.accepting else { return }
        server.accepting = false
        server.acceptAgainAt = monotonicNanoseconds() + Daemon.acceptPause
        epoll.unwatch(server.listener)
        armEarliestTimer()
    }

    func resumeAccepting() {
        guard !server.accepting else { return }
        server.accepting = true
        server.acceptAgainAt = nil
        try? epoll.watch(server.listener, for: .readable)
    }

    func drop(_ fd: Int32, because reason: String? = nil) {
        guard let client = server.clients.removeValue(forKey: fd) else { return }
        if let reason { log.write(.warn, "dropping control client on descriptor \(fd) (pid \(client.credentials.pid), uid \(client.credentials.uid)): \(reason)") }
        if !client.privileged {
            let uid = client.credentials.uid
            server.connectionsByUser[uid, default: 1] -= 1
            if server.connectionsByUser[uid] == 0 {
                server.connectionsByUser[uid] = nil
                if let n = server.refused.removeValue(forKey: uid), n > 1 {
                    log.write(.warn, "refused \(n) control connections from uid \(uid) in all")
                }
            }
            if client.subscribed {
                server.subscribersByUser[uid, default: 1] -= 1
                if server.subscribersByUser[uid] == 0 { server.subscribersByUser[uid] = nil }
            }
        }
        server.inputBytes -= client.reader.pending
        server.outputBytes -= client.waiting
        // Big buffers went with it: let the loop give the heap back.
        if client.reader.pending + client.waiting > 64 * 1024 { heavyWorkDone = true }
        server.busy.remove(fd)
        epoll.unwatch(fd)
        closeDescriptor(fd)
        for f in client.takeDescriptors() { closeDescriptor(f) }
        for (id, p) in pending where p.client == fd { pending[id] = nil }
        resumeAccepting()
    }

    /// Serves one client: its share of a turn. Reads once (at most 64 KiB)
    /// when it has no whole request waiting, then serves at most
    /// `requestsPerTurn` requests. What is left waits for the next turn
    /// (`server.busy`), so a client that pipelines without pause gets its
    /// share and no more.
    func serviceClient(_ fd: Int32, _ events: Epoll.Events) {
        guard let client = server.clients[fd] else { return }
        let now = monotonicNanoseconds()
        if events.contains(.writable) || client.waiting > 0 {
            let before = client.waiting
            let result = client.flush(now: now)
            server.outputBytes -= before - client.waiting
            if case .gone = result { return drop(fd) }
        }
        var served = 0
        func serveBuffered() -> Bool {
            while served < limits.requestsPerTurn {
                let before = client.reader.pending
                let body: [UInt8]?
                do {
                    body = try client.reader.next()
                } catch {
                    let message = "a request frame must be 1 to \(Frame.maxRequest) bytes long, and this one announced \(error.announced) bytes"
                    send(ControlError(id: nil, code: .badRequest, message: message).json, to: client)
                    if server.clients[fd] != nil { _ = client.flush(now: now) }
                    drop(fd, because: "bad frame length (\(error.announced) bytes)")
                    return false
                }
                server.inputBytes -= before - client.reader.pending
                guard let body else { break }
                served += 1
                handle(body, from: client)
                if server.clients[fd] == nil { return false }
            }
            return true
        }
        guard serveBuffered() else { return }
        if served < limits.requestsPerTurn && (events.contains(.readable) || events.contains(.hangup)) {
            let (io, bytes, fds) = UnixSocket.receive(fd)
            // Descriptors go with the next request handled (docs/protocol.md):
            // from a privileged client only, and one frame's worth at most.
            for f in fds {
                if client.privileged && client.descriptors.count < Client.maxDescriptors {
                    client.descriptors.append(f)
                } else {
                    closeDescriptor(f)
                }
            }
            switch io {
            case .done:
                if client.reader.pending == 0 { client.partialSince = now }
                client.reader.append(bytes)
                server.inputBytes += bytes.count
                guard serveBuffered() else { return }
            case .wouldBlock:
                break
            case .closed, .failed:
                return drop(fd)
            }
        }
        if client.reader.pending == 0 {
            client.partialSince = nil
        } else if served > 0 {
            // What is left began after the frames just served.
            client.partialSince = now
        }
        if client.reader.pending > 0 && server.inputBytes > limits.totalInput && !client.privileged {
            return drop(fd, because: "the daemon holds \(server.inputBytes) bytes of unanswered requests, over its limit of \(limits.totalInput)")
        }
        if client.reader.hasWholeFrame {
            server.busy.insert(fd)
        } else {
            server.busy.remove(fd)
        }
        updateInterest(client)
    }

    /// Serves the clients that still have whole requests waiting.
    func serviceBusyClients() {
        for fd in server.busy {
            serviceClient(fd, [])
        }
    }

    /// Watches a client for writability only while it has output waiting,
    /// and not for input while it has whole requests waiting to be served.
    func updateInterest(_ client: Client) {
        guard server.clients[client.fd] != nil else { return }
        let before = client.waiting
        let result = client.flush(now: monotonicNanoseconds())
        server.outputBytes -= before - client.waiting
        switch result {
        case .gone:
            drop(client.fd)
        case .pending:
            watch(client, [.readable, .writable, .hangup])
        case .drained:
            watch(client, [.readable, .hangup])
        }
    }

    /// Changes what epoll watches a client for, when it changes.
    private func watch(_ client: Client, _ events: Epoll.Events) {
        guard client.interest != events else { return }
        do {
            try epoll.watch(client.fd, for: events)
            client.interest = events
        } catch {
            drop(client.fd, because: error.description)
        }
    }

    func send(_ value: JSONValue, to client: Client) {
        send(frame: Frame.encode(value.compactBytes), to: client)
    }

    /// Queues an encoded frame for a client, dropping the client if that
    /// would break its limit or (for a slow reader) the daemon's total.
    func send(frame: [UInt8], to client: Client) {
        guard client.waiting + frame.count <= limits.outbox else {
            return drop(client.fd, because: "it does not read its replies (over \(limits.outbox) bytes waiting)")
        }
        if server.outputBytes + frame.count > limits.totalOutbox && client.waiting > limits.slowReader {
            return drop(client.fd, because: "it reads too slowly while the daemon holds \(server.outputBytes) bytes for its clients (limit \(limits.totalOutbox))")
        }
        client.queue(frame: frame, now: monotonicNanoseconds())
        server.outputBytes += frame.count
        // A large reply was built: let the loop give the heap back afterwards.
        if client.waiting > 64 * 1024 { heavyWorkDone = true }
        updateInterest(client)
    }

    /// Drops clients whose half-sent frame or untaken output is older than
    /// its timeout (checked once a second while any client holds bytes).
    func sweepClients(now: Int64) {
        for client in Array(server.clients.values) {
            if let since = client.partialSince, since + limits.partialFrameTimeout <= now {
                drop(client.fd, because: "it began a request and did not finish it within \(limits.partialFrameTimeout / 1_000_000_000) s")
            } else if client.waiting > 0, let since = client.waitingSince, since + limits.stalledReaderTimeout <= now {
                drop(client.fd, because: "it took none of its \(client.waiting) waiting bytes for \(limits.stalledReaderTimeout / 1_000_000_000) s")
            }
        }
    }

    /// Whether this client may call `method`: root may do everything, and
    /// so may the session's owner in user mode; anyone else only reads.
    func allowed(_ client: Client, _ method: Control.Method) -> Bool {
        method.isReadOnly || client.privileged
    }

    func handle(_ body: [UInt8], from client: Client) {
        // Descriptors that came with this request: an `emit` takes them;
        // any other request (or a refused or unreadable one) closes them.
        var carried = client.takeDescriptors()
        defer { for f in carried { closeDescriptor(f) } }
        let request: Request
        switch Request.decode(body) {
        case .failure(let error):
            return send(error.json, to: client)
        case .success(let r):
            request = r
        }
        func fail(_ code: ErrorCode, _ message: String) {
            send(ControlError(id: request.id, code: code, message: message).json, to: client)
        }
        guard allowed(client, request.method) else {
            return fail(.permissionDenied, permissionMessage(request.method, job: request.params.job))
        }
        let p = request.params
        switch request.method {
        case .version:
            send(replyJSON(id: request.id, result: .object([("version", .string(Daemon.version))])), to: client)
        case .list:
            send(replyJSON(id: request.id, result: .object([("instances", .array(listAll().map(\.json)))])), to: client)
        case .start, .stop, .restart, .reload, .status, .usage:
            guard let job = p.job, !job.isEmpty else { return fail(.invalidArguments, "missing job name") }
            guard p.env.allSatisfy(isAssignment) else { return fail(.invalidArguments, "Env must be KEY=VALUE pairs") }
            if shuttingDown && request.method == .start { return fail(.jobFailed, "the daemon is shutting down") }
            guard client.inFlight < limits.inFlight else { return fail(.invalidArguments, "too many requests in flight on this connection") }
            let action: ControlAction
            switch request.method {
            case .start: action = .start
            case .stop: action = .stop
            case .restart: action = .restart
            case .reload: action = .reload
            case .usage: action = .usage
            default: action = .status
            }
            var env = p.env
            if let instance = p.instance, !instance.isEmpty, env.isEmpty, let found = instanceEnvironment(job: job, instance: instance) {
                env = found
            }
            let rid = nextRequestID
            nextRequestID += 1
            pending[rid] = (client.fd, request.id, request.method)
            if p.verbose && request.method == .status && client.privileged { verboseStatus.insert(rid) }
            client.inFlight += 1
            feed(.control(ControlRequest(id: rid, action: action, job: job, environment: env, wait: p.wait)))
        case .emit:
            guard let name = p.event, !name.isEmpty else { return fail(.invalidArguments, "Name may not be empty string") }
            guard p.env.allSatisfy(isAssignment) else { return fail(.invalidArguments, "Env must be KEY=VALUE pairs") }
            guard client.inFlight < limits.inFlight else { return fail(.invalidArguments, "too many requests in flight on this connection") }
            let descriptors = carried
            carried = []
            func input(_ waiter: RequestID?) -> Input {
                descriptors.isEmpty ? .emit(name: name, environment: p.env, waiter: waiter)
                    : .emitCarrying(name: name, environment: p.env, waiter: waiter, descriptors: descriptors)
            }
            if p.wait {
                let rid = nextRequestID
                nextRequestID += 1
                pending[rid] = (client.fd, request.id, request.method)
                client.inFlight += 1
                feed(input(rid))
            } else {
                send(replyJSON(id: request.id, result: .object([])), to: client)
                feed(input(nil))
            }
        case .reloadConfiguration:
            // Answered once a reading that began after this request is applied.
            reloadConfiguration(waiter: (client.fd, request.id))
        case .logPriority:
            if let name = p.priority {
                guard let priority = DaemonLog.Priority(name: name) else {
                    return fail(.invalidArguments, "The log priority given was not recognised")
                }
                log.minimum = priority
            }
            send(replyJSON(id: request.id, result: .object([("priority", .string(log.minimum.name))])), to: client)
        case .showConfig:
            let names = p.job.map { [$0] } ?? engine.jobNames
            let wanted = Set(p.events)
            var jobs: [JSONValue] = []
            for name in names {
                guard let job = engine.jobClass(name), engine.jobNames.contains(name) else { return fail(.unknownJob, "Unknown job: \(name)") }
                var lines: [String]
                if wanted.isEmpty {
                    lines = showConfigLines(job, enumerate: p.enumerate)
                } else {
                    // A bridge's question: only the jobs that name its
                    // events, and only their `start on` and `stop on`.
                    let exprs = [("start on", job.startOn), ("stop on", job.stopOn)]
                    guard exprs.contains(where: { $0.1?.matches.contains { wanted.contains($0.name) } == true }) else { continue }
                    lines = exprs.compactMap { label, e in e.map { "  \(label) \($0.bracketed)" } }
                }
                var fields: [(String, JSONValue)] = [("name", .string(name)), ("lines", .array(lines.map(JSONValue.string)))]
                // The job's file, for a bridge's messages (FILE:LINE).
                if let path = sources.path(of: name) { fields.append(("file", .string(path))) }
                jobs.append(.object(fields))
            }
            send(replyJSON(id: request.id, result: .object([("jobs", .array(jobs))])), to: client)
        case .checkConfig:
            if let job = p.job, !engine.jobNames.contains(job) { return fail(.unknownJob, "Invalid job class: \(job)") }
            send(replyJSON(id: request.id, result: .object([("jobs", .array(checkConfig(p)))])), to: client)
        case .listEnv:
            send(replyJSON(id: request.id, result: .object([("env", .array(engine.defaultEnvironment.sorted().map(JSONValue.string)))])), to: client)
        case .getEnv:
            guard let name = p.name else { return fail(.invalidArguments, "missing variable name") }
            guard let entry = engine.defaultEnvironment.last(where: { $0.hasPrefix(name + "=") }) else {
                return fail(.unknownVariable, "No such variable: \(name)")
            }
            send(replyJSON(id: request.id, result: .object([("value", .string(String(entry.dropFirst(name.count + 1))))])), to: client)
        case .setEnv:
            var table = engine.defaultEnvironment
            // Every name is checked before any is set, so a refused request
            // changes nothing. (Upstart 1.13 took any text here; a name a
            // shell cannot export only breaks the jobs that get it.)
            for v in p.env {
                let name = v.firstIndex(of: "=").map { String(v[..<$0]) } ?? v
                guard Environment.isValidName(name) else { return fail(.invalidArguments, "Invalid variable name: '\(name)'") }
            }
            for v in p.env {
                let name = v.firstIndex(of: "=").map { String(v[..<$0]) } ?? v
                let value = v.contains("=") ? v : v + "=" + (Environment.current[v] ?? "")
                if let i = table.firstIndex(where: { $0.hasPrefix(name + "=") }) {
                    if !p.retain { table[i] = value }
                } else {
                    table.append(value)
                }
            }
            engine.defaultEnvironment = table
            send(replyJSON(id: request.id, result: .object([])), to: client)
        case .unsetEnv:
            var table = engine.defaultEnvironment
            for name in p.env {
                guard table.contains(where: { $0.hasPrefix(name + "=") }) else { return fail(.unknownVariable, "No such variable: \(name)") }
                table.removeAll { $0.hasPrefix(name + "=") }
            }
            engine.defaultEnvironment = table
            send(replyJSON(id: request.id, result: .object([])), to: client)
        case .resetEnv:
            var table = EngineConfiguration.upstartDefaults
            if options.userMode { table.append("UPSTART_SESSION=" + SocketPath.sessionAddress(for: options.socketPath)) }
            engine.defaultEnvironment = table
            send(replyJSON(id: request.id, result: .object([])), to: client)
        case .log:
            handleLog(request, from: client)
        case .reopenLogs:
            reopenLogs(request, from: client)
        case .notifyDiskWriteable:
            logs?.flushHeld()
            send(replyJSON(id: request.id, result: .object([("held", .number(logs?.heldBytes ?? 0))])), to: client)
        case .powerDown:
            guard let action = request.params.name.flatMap(PowerAction.init(rawValue:)) else {
                return fail(.invalidArguments, "power-down needs name: reboot, poweroff or halt")
            }
            guard options.isPID1 else {
                return fail(.jobFailed, "daybreak is not PID 1 here: \(action.rawValue) is for the init of a machine or a container")
            }
            send(replyJSON(id: request.id, result: .object([])), to: client)
            powerAction = action
            beginShutdown("initctl \(action.rawValue)")
        case .reexec:
            // The answer goes out from the new daemon, once it has taken the state back.
            requestReexec(client: client.fd, id: request.id)
        case .analyze:
            send(replyJSON(id: request.id, result: analyzeResult()), to: client)
        case .subscribe:
            if !client.subscribed && !client.privileged {
                let uid = client.credentials.uid
                guard server.subscribersByUser[uid, default: 0] < limits.subscribersPerUser else {
                    return fail(.invalidArguments, "uid \(uid) already has \(limits.subscribersPerUser) subscriptions")
                }
                server.subscribersByUser[uid, default: 0] += 1
            }
            client.subscribed = true
            send(replyJSON(id: request.id, result: .object([])), to: client)
        }
    }

    /// Sends an engine reply to the client that asked.
    func deliver(_ id: RequestID, _ reply: Reply) {
        let verbose = verboseStatus.remove(id) != nil
        guard let p = pending.removeValue(forKey: id), let client = server.clients[p.client] else { return }
        client.inFlight -= 1
        switch reply {
        case .ok(var status):
            // An instance that has reached stop/waiting is gone, as in
            // Upstart, whose initctl then prints the job alone: `JOB stop/waiting`.
            if let s = status, s.goal == .stop, s.state == .waiting {
                status = EngineInstanceStatus(job: s.job, instance: "", goal: .stop, state: .waiting, processes: [])
            }
            let list = status.map { s -> [JSONValue] in
                var c = p.method == .status ? statusWithGroup(s) : controlStatus(s)
                if verbose, let job = engine.jobClass(s.job), let env = engine.environment(job: s.job, instance: s.instance) {
                    c.environmentSources = instanceEnvironmentSources(job, env, defaults: engine.defaultEnvironment,
                                                                      daemonEnvironment: engine.daemonEnvironment)
                }
                return [c.json]
            } ?? []
            send(replyJSON(id: p.id, result: .object([("instances", .array(list))])), to: client)
        case .text(let text):
            let usage = text.hasPrefix("Usage: ") ? String(text.dropFirst(7)) : text
            send(replyJSON(id: p.id, result: .object([("usage", .string(usage))])), to: client)
        case .error(let message):
            send(ControlError(id: p.id, code: errorCode(for: message), message: message).json, to: client)
        }
    }

    /// Sends an event to every subscribed client.
    func broadcast(_ event: JSONValue) {
        let message = JSONValue.object([("v", .number(protocolVersion)), ("event", event)])
        let subscribers = server.clients.values.filter(\.subscribed)
        guard !subscribers.isEmpty else { return }
        // Encoded once, whoever receives it.
        let frame = Frame.encode(message.compactBytes)
        for client in subscribers where server.clients[client.fd] != nil {
            send(frame: frame, to: client)
        }
    }

    /// Every job and instance, as `initctl list` shows them: jobs with no
    /// instance appear as `stop/waiting`. A job whose file was deleted
    /// is listed while an instance of it still runs, as Upstart keeps such
    /// a class until its last instance stops.
    func listAll() -> [Control.InstanceStatus] {
        var out: [Control.InstanceStatus] = []
        for name in engine.listedJobNames {
            let instances = engine.instances(of: name)
            if instances.isEmpty {
                out.append(Control.InstanceStatus(job: name, goal: "stop", state: "waiting"))
            } else {
                out += instances.map(controlStatus)
            }
        }
        return out
    }

    /// The environment that names an existing instance, for requests that
    /// give the instance by name (`UPSTART_INSTANCE` inside a job).
    func instanceEnvironment(job: String, instance: String) -> [String]? {
        guard let def = engine.jobClass(job), let pattern = def.instance, pattern.hasPrefix("$") else { return nil }
        let variable = pattern.dropFirst().trimmingBraces()
        guard Environment.isValidName(variable) else { return nil }
        return ["\(variable)=\(instance)"]
    }
}

/// Upstart's PermissionDenied texts (init/control.c, init/job_class.c),
/// one for each request a client may be refused.
func permissionMessage(_ method: Control.Method, job: String?) -> String {
    switch method {
    case .emit: return "You do not have permission to emit an event"
    case .reloadConfiguration: return "You do not have permission to reload configuration"
    case .logPriority: return "You do not have permission to set log priority"
    case .notifyDiskWriteable: return "You do not have permission to notify disk is writeable"
    case .reexec: return "You do not have permission to re-execute the daemon"
    case .powerDown: return "You do not have permission to reboot, power off or halt"
    case .setEnv, .unsetEnv, .resetEnv: return "You do not have permission to modify job environment"
    case .listEnv, .getEnv: return "You do not have permission to query job environment"
    default: return "You do not have permission to modify job: \(job ?? "")"
    }
}

func controlStatus(_ s: EngineInstanceStatus) -> Control.InstanceStatus {
    var c = Control.InstanceStatus(job: s.job, instance: s.instance, goal: s.goal.rawValue, state: s.state.rawValue,
                                   processes: s.processes.map { ProcessStatus(kind: $0.process.rawValue, pid: $0.pid) })
    if let at = s.respawnAt {
        c.respawnIn = Int((at.nanoseconds - monotonicNanoseconds()) / 1_000_000)
        c.respawnDelay = s.respawnDelayMilliseconds
    }
    return c
}

func errorCode(for message: String) -> ErrorCode {
    if message.hasPrefix("Unknown job:") { return .unknownJob }
    if message.hasPrefix("Unknown instance:") { return .unknownInstance }
    if message.hasPrefix("Job is already running:") { return .alreadyStarted }
    if message.hasPrefix("Job has already been stopped:") { return .alreadyStopped }
    if message.hasPrefix("Invalid environment") || message.contains("Usage:") { return .invalidArguments }
    return .jobFailed
}

func isAssignment(_ s: String) -> Bool {
    guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { return false }
    return true
}


extension Substring {
    func trimmingBraces() -> Substring {
        if hasPrefix("{") && hasSuffix("}") { return dropFirst().dropLast() }
        return self
    }
}
