import Control
import JobFile
import JSON
import Platform

/// The socket bridge (docs/socket-bridge.md): a client of the control
/// socket that listens on every socket the loaded jobs' `start on` names
/// and, on the first connection to one, emits `socket` events carrying the
/// listening sockets, addressed to the job (`JOB=`).
///
/// Each socket is in one of three conditions:
/// - **listening**: bound, watched; a connection activates its job;
/// - **handed**: bound, not watched while its job runs (the job accepts);
///   the bridge keeps its copy open, so connections that arrive while the
///   job restarts or respawns wait in the backlog and are served;
/// - **unbound**: not bound yet, because its job was already running when
///   the bridge started (the job holds the listener a bridge before this
///   one handed it), or binding failed (reported with FILE:LINE; retried
///   when the job set is read again or the job stops).
///
/// When the job stops (`stopped JOB=NAME` on the subscription) its sockets
/// are listened on again. The pure parts are `SocketPlan`'s.
final class Bridge {
    final class Socket {
        let wanted: WantedSocket
        var fd: Int32?
        var watching = false
        init(_ wanted: WantedSocket) { self.wanted = wanted }
    }

    let path: String
    var requests: ControlClient
    var events: ControlClient
    let epoll: Epoll
    /// By key, and in each job's order.
    var sockets: [WantedSocket.Key: Socket] = [:]
    var byJob: [String: [Socket]] = [:]
    var byDescriptor: [Int32: Socket] = [:]
    /// Jobs whose sockets are listened on again at a time (monotonic ms).
    var listenAt: [String: Int64] = [:]
    var activations: [String: [Int64]] = [:]
    var reported: Set<String> = []
    let pacing = SocketPlan.Pacing()

    init(socket: String) throws {
        path = socket
        requests = try ControlClient(path: socket)
        events = try ControlClient(path: socket)
        epoll = try Epoll()
        _ = try events.call(.subscribe)
        try epoll.watch(events.descriptor, for: .readable)
    }

    /// How long the bridge waits for a daemon that went away to come back.
    static let reconnectFor: Int64 = 30_000

    /// The daemon closed the connection (it exited, or is restarting):
    /// the listening sockets stay open, so connections made meanwhile
    /// wait in their backlogs, while the bridge connects again, every
    /// 100 ms for up to 30 s. Connected, it subscribes and reads the jobs
    /// again; a job the new daemon does not run has its sockets listened
    /// on. Returns false when no daemon came back.
    func reconnect() -> Bool {
        log("the daemon closed the connection; connecting again to \(path)")
        let deadline = Bridge.now() + Bridge.reconnectFor
        while Bridge.now() < deadline {
            sleepMilliseconds(100)
            guard let r = try? ControlClient(path: path), let e = try? ControlClient(path: path) else { continue }
            do {
                _ = try e.call(.subscribe)
                try epoll.watch(e.descriptor, for: .readable)
            } catch {
                continue
            }
            requests = r
            events = e
            do {
                try refresh()
            } catch {
                continue
            }
            log("connected again to \(path)")
            return true
        }
        log("no daemon came back at \(path) within \(Bridge.reconnectFor / 1000) s; exiting")
        return false
    }

    func log(_ line: String) { FileSystem.writeStandardError("daybreak-socket-bridge: \(line)\n") }

    /// Reports a problem once per distinct text (a reload reads every job
    /// again, and a bad socket should not fill the log).
    func report(_ line: String) {
        if reported.insert(line).inserted { log(line) }
    }

    static func now() -> Int64 { monotonicNanoseconds() / 1_000_000 }

    // MARK: the job set

    /// Reads every job's `start on` and follows it: new sockets are bound
    /// (unless their job runs), removed ones closed.
    func refresh() throws(ControlError) {
        // Only the jobs that name `socket`, and only their conditions.
        let result = try requests.call(.showConfig, Request.Params(events: ["socket"]))
        var wanted: [WantedSocket] = []
        for job in result["jobs"]?.array ?? [] {
            guard let name = job["name"]?.string else { continue }
            let lines = (job["lines"]?.array ?? []).compactMap(\.string)
            guard lines.contains(where: { $0.contains("socket") }) else { continue }
            let file = job["file"]?.string
            let text = file.flatMap { try? FileSystem.readFile($0) }.map { String(decoding: $0, as: UTF8.self) }
            let (found, problems) = SocketPlan.sockets(job: name, lines: lines, file: file, text: text)
            for p in problems { report(p) }
            wanted += found
        }
        let keys = Set(wanted.map(\.key))
        for (key, s) in sockets where !keys.contains(key) {
            log("\(s.wanted.location): job \(key.job) no longer wants \(s.wanted.spec); closing it")
            close(s, removeFile: !isRunning(key.job))
            sockets[key] = nil
        }
        var newJobs = Set<String>()
        for w in wanted {
            if let s = sockets[w.key] {
                // The same socket: keep its listener; the text may have moved.
                let kept = Socket(w)
                kept.fd = s.fd
                kept.watching = s.watching
                if let fd = s.fd { byDescriptor[fd] = kept }
                sockets[w.key] = kept
            } else {
                sockets[w.key] = Socket(w)
                newJobs.insert(w.key.job)
            }
        }
        byJob = [:]
        for w in wanted { byJob[w.key.job, default: []].append(sockets[w.key]!) }
        for job in byJob.keys.sorted() {
            if isRunning(job) {
                for s in byJob[job]! where s.fd == nil && newJobs.contains(job) {
                    log("\(s.wanted.location): job \(job) is running; \(s.wanted.spec) is bound when it stops")
                }
            } else {
                listen(job)
            }
        }
        // The job set was a large reply, now garbage: give its pages back.
        Memory.releaseFreeMemory()
    }

    /// Whether the job has an instance whose goal is start.
    func isRunning(_ job: String) -> Bool {
        guard let r = try? requests.call(.status, .init(job: job)) else { return false }
        return (r["instances"]?.array ?? []).contains { $0["goal"]?.string == "start" }
    }

    // MARK: sockets

    func bind(_ s: Socket) {
        let w = s.wanted
        do throws(PlatformError) {
            let fd: Int32
            switch w.spec.address {
            case .inet(let a, let p):
                fd = try ListenSocket.tcp(ipv6: false, address: a, port: p)
            case .inet6(let a, let p):
                fd = try ListenSocket.tcp(ipv6: true, address: a, port: p)
            case .unix(let path):
                var owner: (uid: UInt32?, gid: UInt32?) = (nil, nil)
                if let o = w.spec.owner {
                    switch ListenSocket.owner(o) {
                    case .success(let ids): owner = (ids.uid, ids.gid)
                    case .failure(let e): throw e
                    }
                }
                fd = try ListenSocket.unix(path: path, mode: w.spec.mode, owner: owner)
            }
            s.fd = fd
            byDescriptor[fd] = s
            log("listening on \(w.spec) for \(w.key.job)")
        } catch {
            report("\(w.location): job \(w.key.job): \(error.description); its other sockets keep working")
        }
    }

    func close(_ s: Socket, removeFile: Bool) {
        guard let fd = s.fd else { return }
        if s.watching { epoll.unwatch(fd) }
        byDescriptor[fd] = nil
        closeDescriptor(fd)
        s.fd = nil
        s.watching = false
        if removeFile, case .unix(let path) = s.wanted.spec.address { ListenSocket.removeSocketFile(path) }
    }

    /// Watches the job's sockets for a connection, binding first those
    /// not bound yet; one that cannot be bound (its address still taken)
    /// is tried again a second later.
    func listen(_ job: String) {
        listenAt[job] = nil
        for s in byJob[job] ?? [] where s.fd == nil {
            bind(s)
            if s.fd == nil { listenAt[job] = Bridge.now() + 1_000 }
        }
        for s in byJob[job] ?? [] {
            guard let fd = s.fd, !s.watching else { continue }
            do {
                try epoll.watch(fd, for: .readable)
                s.watching = true
            } catch {
                report("\(s.wanted.location): job \(job): cannot watch \(s.wanted.spec): \(error)")
            }
        }
    }

    /// A connection waits on one of the job's sockets: every socket of the
    /// job is handed to it, one `socket` event each, in its `start on`
    /// order. If the job did not start (a `while` false, another event
    /// still missing), listening resumes after a pause.
    func activate(_ job: String) {
        let list = byJob[job] ?? []
        for s in list where s.watching {
            epoll.unwatch(s.fd!)
            s.watching = false
        }
        for s in list {
            guard let fd = s.fd else { continue }
            do {
                _ = try requests.call(.emit, .init(env: s.wanted.eventEnvironment, wait: false, event: "socket"), descriptors: [fd])
            } catch {
                report("\(s.wanted.location): job \(job): cannot emit the socket event for \(s.wanted.spec): \(error.message)")
            }
        }
        let now = Bridge.now()
        var times = (activations[job] ?? []).filter { $0 > now - pacing.window }
        times.append(now)
        activations[job] = times
        if !isRunning(job) {
            report("job \(job) did not start on its socket event; listening again in \(pacing.pause) ms")
            listenAt[job] = now + pacing.pause
        }
    }

    /// The job stopped: its sockets are listened on again (bound first if
    /// they were not), at once or, after a burst of activations, later.
    func stopped(_ job: String, failed: Bool) {
        guard byJob[job] != nil else { return }
        let at = pacing.listenAgain(after: activations[job] ?? [], now: Bridge.now(), failed: failed)
        if at > Bridge.now() {
            log("job \(job) was started by its sockets \(failed ? pacing.burst : pacing.quietBurst) times within \(pacing.window) ms\(failed ? ", failing" : ""); listening again in \(pacing.pause) ms")
            listenAt[job] = at
        } else {
            listen(job)
        }
    }

    func handle(_ event: JSONValue) throws(ControlError) {
        switch event["type"]?.string {
        case "jobs-changed":
            try refresh()
        case "event":
            guard event["name"]?.string == "stopped" else { return }
            let env = (event["env"]?.array ?? []).compactMap(\.string)
            guard let job = env.first(where: { $0.hasPrefix("JOB=") })?.dropFirst(4) else { return }
            stopped(String(job), failed: env.contains("RESULT=failed"))
        default:
            break
        }
    }

    func run() throws(ControlError) -> Never {
        try refresh()
        while true {
            let now = Bridge.now()
            for (job, at) in listenAt where at <= now { listen(job) }
            let timeout = listenAt.values.min().map { Int32(clamping: max(0, $0 - now)) } ?? -1
            for (fd, _) in epoll.wait(timeout: timeout) {
                if fd == events.descriptor {
                    var gone = false
                    repeat {
                        do {
                            guard let e = try events.nextEvent() else {
                                gone = true
                                break
                            }
                            try handle(e)
                        } catch {
                            // A request failed mid-way: the daemon went away.
                            gone = true
                        }
                    } while !gone && events.hasBuffered
                    if gone {
                        epoll.unwatch(events.descriptor)
                        guard reconnect() else { Process.exit(1) }
                        break
                    }
                } else if let s = byDescriptor[fd], s.watching {
                    activate(s.wanted.key.job)
                }
            }
        }
    }
}
