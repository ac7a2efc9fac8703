import Control
import Engine
import JobFile
import JSON
import Platform

/// The control socket's side of the daemon: accepting clients, reading
/// their requests, checking who may do what, and answering.
extension Daemon {
    static let version = "init (daybreak 0.1.0)"

    func acceptClients() {
        while let fd = UnixSocket.accept(server.listener) {
            guard let credentials = UnixSocket.peerCredentials(fd) else {
                closeDescriptor(fd)
                continue
            }
            server.clients[fd] = Client(fd: fd, credentials: credentials)
            do {
                try epoll.watch(fd, for: [.readable, .hangup])
            } catch {
                drop(fd, because: error.description)
            }
        }
    }

    func drop(_ fd: Int32, because reason: String? = nil) {
        if let reason { log.write(.warn, "dropping control client on descriptor \(fd): \(reason)") }
        server.clients[fd] = nil
        epoll.unwatch(fd)
        closeDescriptor(fd)
        for (id, p) in pending where p.client == fd { pending[id] = nil }
    }

    func serviceClient(_ fd: Int32, _ events: Epoll.Events) {
        guard let client = server.clients[fd] else { return }
        if events.contains(.writable) || !client.outbox.isEmpty {
            if case .gone = client.flush() { return drop(fd) }
        }
        if events.contains(.readable) || events.contains(.hangup) {
            while true {
                let (io, bytes, fds) = UnixSocket.receive(fd)
                for f in fds { closeDescriptor(f) }
                switch io {
                case .done:
                    client.reader.append(bytes)
                    while server.clients[fd] != nil {
                        let body: [UInt8]?
                        do {
                            body = try client.reader.next()
                        } catch {
                            _ = client.queue(ControlError(id: nil, code: .badRequest, message: "frame length \(error) is out of range (1 to \(Frame.maxRequest) bytes)").json)
                            _ = client.flush()
                            return drop(fd, because: "bad frame length")
                        }
                        guard let body else { break }
                        handle(body, from: client)
                    }
                    if server.clients[fd] == nil { return }
                    continue
                case .wouldBlock:
                    break
                case .closed, .failed:
                    return drop(fd)
                }
                break
            }
        }
        updateInterest(client)
    }

    /// Watches a client for writability only while it has output waiting.
    func updateInterest(_ client: Client) {
        guard server.clients[client.fd] != nil else { return }
        switch client.flush() {
        case .gone:
            drop(client.fd)
        case .pending:
            try? epoll.watch(client.fd, for: [.readable, .writable, .hangup])
        case .drained:
            try? epoll.watch(client.fd, for: [.readable, .hangup])
        }
    }

    func send(_ value: JSONValue, to client: Client) {
        guard client.queue(value) else {
            return drop(client.fd, because: "it does not read its replies (over \(Client.maxOutbox) bytes waiting)")
        }
        // A large reply was built: let the loop give the heap back afterwards.
        if client.outbox.count > 64 * 1024 { heavyWorkDone = true }
        updateInterest(client)
    }

    /// Whether this client may call `method`: root may do everything, and
    /// so may the session's owner in user mode; anyone else only reads.
    func allowed(_ client: Client, _ method: Control.Method) -> Bool {
        if method.isReadOnly { return true }
        if client.credentials.uid == 0 { return true }
        return options.userMode && client.credentials.uid == Identity.effectiveUserID
    }

    func handle(_ body: [UInt8], from client: Client) {
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
            guard client.inFlight < Client.maxInFlight else { return fail(.invalidArguments, "too many requests in flight on this connection") }
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
            client.inFlight += 1
            feed(.control(ControlRequest(id: rid, action: action, job: job, environment: env, wait: p.wait)))
        case .emit:
            guard let name = p.event, !name.isEmpty else { return fail(.invalidArguments, "Name may not be empty string") }
            guard p.env.allSatisfy(isAssignment) else { return fail(.invalidArguments, "Env must be KEY=VALUE pairs") }
            guard client.inFlight < Client.maxInFlight else { return fail(.invalidArguments, "too many requests in flight on this connection") }
            if p.wait {
                let rid = nextRequestID
                nextRequestID += 1
                pending[rid] = (client.fd, request.id, request.method)
                client.inFlight += 1
                feed(.emit(name: name, environment: p.env, waiter: rid))
            } else {
                send(replyJSON(id: request.id, result: .object([])), to: client)
                feed(.emit(name: name, environment: p.env, waiter: nil))
            }
        case .reloadConfiguration:
            reloadConfiguration()
            send(replyJSON(id: request.id, result: .object([])), to: client)
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
            var jobs: [JSONValue] = []
            for name in names {
                guard let job = engine.jobClass(name), engine.jobNames.contains(name) else { return fail(.unknownJob, "Unknown job: \(name)") }
                jobs.append(.object([("name", .string(name)), ("lines", .array(showConfigLines(job, enumerate: p.enumerate).map(JSONValue.string)))]))
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
        case .notifyDiskWriteable:
            logs?.flushHeld()
            send(replyJSON(id: request.id, result: .object([("held", .number(logs?.heldBytes ?? 0))])), to: client)
        case .subscribe:
            client.subscribed = true
            send(replyJSON(id: request.id, result: .object([])), to: client)
        }
    }

    /// Sends an engine reply to the client that asked.
    func deliver(_ id: RequestID, _ reply: Reply) {
        guard let p = pending.removeValue(forKey: id), let client = server.clients[p.client] else { return }
        client.inFlight -= 1
        switch reply {
        case .ok(var status):
            // An instance that has reached stop/waiting is gone, as in
            // Upstart, whose initctl then prints the job alone: `JOB stop/waiting`.
            if let s = status, s.goal == .stop, s.state == .waiting {
                status = EngineInstanceStatus(job: s.job, instance: "", goal: .stop, state: .waiting, processes: [])
            }
            let list = status.map { [(p.method == .status ? statusWithGroup($0) : controlStatus($0)).json] } ?? []
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
        for client in server.clients.values where client.subscribed {
            send(message, to: client)
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
    case .setEnv, .unsetEnv, .resetEnv: return "You do not have permission to modify job environment"
    case .listEnv, .getEnv: return "You do not have permission to query job environment"
    default: return "You do not have permission to modify job: \(job ?? "")"
    }
}

func controlStatus(_ s: EngineInstanceStatus) -> Control.InstanceStatus {
    Control.InstanceStatus(job: s.job, instance: s.instance, goal: s.goal.rawValue, state: s.state.rawValue,
                           processes: s.processes.map { ProcessStatus(kind: $0.process.rawValue, pid: $0.pid) })
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
