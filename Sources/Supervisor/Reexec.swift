import Control
import Engine
import JobFile
import Platform

/// Stateful re-exec: the daemon writes its whole state into a
/// `ReexecDocument`, keeps every descriptor jobs and clients depend on
/// open across exec(2), and execs its own binary (the path it was started
/// from, so an upgraded binary takes over) with `--state-fd N`. The new
/// process (the same pid: jobs stay its children) reads the document and
/// goes on where the old one stopped.
///
/// Saving is one walk: the engine's state as it is, then one record per
/// instance the shell knows of (its groups, its notify socket), then the
/// descriptors (pty masters, clients with what they have not been sent
/// yet, the listener), then the replies still owed. Restoring is the same
/// walk backwards, then a reap: a child that died during the exec is still
/// a zombie of this pid, and is noticed then.
///
/// Not carried: a request a client had only partly sent (its connection is
/// kept, the partial frame is lost), a reading of the job directories in
/// progress (abandoned: the new daemon reads them again; waited for and
/// applied first when a client waits for its answer), and `expect fork|daemon`
/// tracking (ptrace state cannot be handed over: a re-exec asked for while
/// such a job is being traced, or while an `expect stop` process has not
/// stopped yet, waits until that is over, at most `reexecWaitNanoseconds`).
extension Daemon {
    /// How long a re-exec waits for tracing to end: longer than tracking's
    /// own bound (`Tracking.giveUpNanoseconds`), so a job whose daemon is
    /// taken as found at that bound lets a waiting re-exec go on.
    static let reexecWaitNanoseconds: Int64 = 15_000_000_000

    /// How long after a re-exec the job directories are read again: the
    /// reading (every job file parsed, on the reading thread) would
    /// otherwise take a core from the loop just as clients come back.
    /// A re-exec before then leaves the reading to the next daemon.
    static let rereadDelayNanoseconds: Int64 = 200_000_000

    /// Why a re-exec cannot happen now, if it cannot: what it must wait for
    /// (`reexecWait`), or what stops it whatever it waits.
    func reexecRefusal() -> String? {
        if let why = reexecWait() { return "cannot re-exec while \(why)" }
        if options.executable == nil { return "cannot re-exec: the daemon's executable is not known" }
        return nil
    }

    /// What a re-exec waits for: a job being traced, an `expect stop`
    /// process not stopped yet. Nil when nothing.
    func reexecWait() -> String? {
        if !trackers.isEmpty || !strayStops.isEmpty {
            let labels = trackers.values.map(\.label).sorted().joined(separator: ", ")
            return "an expect fork|daemon job is being traced (\(labels))"
        }
        if !expectStop.isEmpty {
            return "an expect stop job has not stopped yet (\(expectStop.values.map(\.label).sorted().joined(separator: ", ")))"
        }
        return nil
    }

    /// `initctl reexec`: at once, or once tracing is over (the loop calls
    /// `retryDeferredReexec` after each turn).
    func requestReexec(client: Int32, id: Int) {
        if deferredReexec != nil {
            return failReexec(client: client, id: id, "cannot re-exec: a re-exec is already waiting")
        }
        if options.executable == nil {
            return failReexec(client: client, id: id, "cannot re-exec: the daemon's executable is not known")
        }
        if let why = reexecWait() {
            log.write(.message, "re-exec waits: \(why)")
            deferredReexec = (client, id, monotonicNanoseconds() + Daemon.reexecWaitNanoseconds)
            return
        }
        performReexec(client: client, id: id)
    }

    /// A waiting re-exec: done once nothing is traced, refused at its deadline.
    func retryDeferredReexec() {
        guard let waiting = deferredReexec else { return }
        if let why = reexecWait() {
            guard monotonicNanoseconds() >= waiting.deadline else { return }
            deferredReexec = nil
            let seconds = Daemon.reexecWaitNanoseconds / 1_000_000_000
            return failReexec(client: waiting.client, id: waiting.id, "cannot re-exec: still, after \(seconds) s, \(why)")
        }
        deferredReexec = nil
        performReexec(client: waiting.client, id: waiting.id)
    }

    /// Re-executes, the answer going out from the new daemon; says why on
    /// the log and to the client if it could not.
    private func performReexec(client: Int32, id: Int) {
        reexecReply = (client, Frame.encode(replyJSON(id: id, result: .object([])).compactBytes))
        let why = reexec()
        reexecReply = nil
        if let why {
            log.write(.error, why)
            failReexec(client: client, id: id, why)
        }
    }

    private func failReexec(client: Int32, id: Int, _ why: String) {
        guard let c = server.clients[client] else { return }
        send(ControlError(id: id, code: .jobFailed, message: why).json, to: c)
    }

    /// The document describing everything the daemon holds now.
    func reexecDocument() -> ReexecDocument {
        var shell = ShellState(listener: server.listener, socketPath: server.path)
        shell.timers = timers.map { ArmedTimer(id: $0.key, at: $0.value.nanoseconds) }.sorted { $0.id < $1.id }
        shell.nextRequestID = nextRequestID
        shell.nextNotifySocket = nextNotifySocket
        shell.logPriority = log.minimum.name
        shell.postMortems = postMortem.exported()
        // One record per instance the shell knows of.
        var keys = Set(containment.groups.keys).union(notifiers.keys).union(notifyStatus.keys)
        keys.formUnion(containment.instances.keys)
        for key in keys.sorted() {
            let names = containment.instances[key] ?? notifiers[key].map { ($0.job, $0.instance) } ?? (key, "")
            var record = InstanceShell(key: key, job: names.job, instance: names.instance)
            record.groups = containment.groups[key] ?? []
            record.namedGroups = containment.named[key] ?? []
            record.oomKills = containment.oomKills[key]
            if let n = notifiers[key] {
                record.notify = NotifyRecord(fd: n.socket.fd, address: n.socket.address, mainPid: n.mainPid,
                                             announcedPid: n.announcedPid, ready: n.ready)
            }
            record.notifyStatus = notifyStatus[key]
            shell.instances.append(record)
        }
        shell.draining = containment.draining.map { DrainingGroup(key: $0.key, paths: $0.value.paths, killAt: $0.value.killAt, killed: $0.value.killed) }
            .sorted { $0.key < $1.key }
        shell.madeNamedGroups = containment.madeNamed.sorted()
        if let logs {
            shell.logs = logs.masters.map { LogPty(master: $0.key, file: $0.value, pid: logs.pidByMaster[$0.key] ?? 0) }.sorted { $0.master < $1.master }
            shell.heldLogs = logs.held.map { HeldLog(file: $0.key, bytes: $0.value) }.sorted { $0.file < $1.file }
        }
        for client in server.clients.values.sorted(by: { $0.fd < $1.fd }) {
            shell.clients.append(ClientRecord(fd: client.fd, pid: client.credentials.pid, uid: client.credentials.uid,
                                              gid: client.credentials.gid, privileged: client.privileged,
                                              subscribed: client.subscribed, inFlight: client.inFlight,
                                              output: client.unsent + (reexecReply?.client == client.fd ? reexecReply!.frame : [])))
        }
        shell.pending = pending.map { PendingReply(request: $0.key, client: $0.value.client, id: $0.value.id, method: $0.value.method.rawValue) }
            .sorted { $0.request < $1.request }
        return ReexecDocument(engine: engine.state, shell: shell)
    }

    /// Every descriptor the document names: kept open across the exec.
    func descriptorsKept(by document: ReexecDocument) -> [Int32] {
        var fds = [document.shell.listener]
        fds += document.shell.clients.map(\.fd)
        fds += document.shell.logs.map(\.master)
        fds += document.shell.instances.compactMap { $0.notify?.fd }
        fds += engine.heldDescriptors.sorted()
        return fds
    }

    /// Re-executes the daemon. Returns only if it could not (the reason);
    /// the daemon then goes on as it was.
    func reexec() -> String? {
        if let why = reexecRefusal() { return why }
        let started = monotonicNanoseconds()
        // A reading of the job directories in progress is not carried
        // across. The new daemon reads them again anyway, so the reading is
        // left to end with the exec, unless an `initctl reload-configuration`
        // waits for its answer: then it is waited for and applied. (Waiting
        // always made each of a run of re-execs wait for the reading the
        // one before had started: docs/PERFORMANCE.md, "Re-exec".)
        for _ in 0..<4 where reload != nil && !(answeredByReading.isEmpty && reloadWaiters.isEmpty) {
            finishReload(waiting: true)
        }
        if reload != nil && !(answeredByReading.isEmpty && reloadWaiters.isEmpty) {
            return "cannot re-exec while the job directories are being read; try again"
        }
        let document = reexecDocument()
        let bytes: [UInt8]
        do {
            bytes = try document.encoded()
        } catch {
            return "cannot re-exec: the state does not encode: \(error)"
        }
        let stateFD: Int32
        do {
            stateFD = try ReexecSupport.stateDescriptor(bytes)
        } catch {
            return "cannot re-exec: \(error)"
        }
        let kept = descriptorsKept(by: document)
        for fd in kept { ReexecSupport.keepAcrossExec(fd) }
        let path = options.executable!
        log.write(.message, "re-executing \(path) (\(engine.state.instances.count) instances, \(bytes.count) bytes of state, \((monotonicNanoseconds() - started) / 1000) µs to save)")
        log.flush()
        let error = ReexecSupport.exec(path, [path] + options.arguments + ["--state-fd", String(stateFD)])
        for fd in kept { ReexecSupport.closeOnExec(fd) }
        closeDescriptor(stateFD)
        return "cannot re-exec: \(error)"
    }

    /// Takes back the shell's state from a document, after `init` has
    /// opened the loop's own descriptors (epoll, signalfd, timerfd).
    func restore(_ shell: ShellState) {
        let started = monotonicNanoseconds()
        nextRequestID = shell.nextRequestID
        nextNotifySocket = shell.nextNotifySocket
        if let name = shell.logPriority, let p = DaemonLog.Priority(name: name) { log.minimum = p }
        postMortem.imported(shell.postMortems ?? [])
        for t in shell.timers { timers[t.id] = EngineTime(nanoseconds: t.at) }
        for record in shell.instances {
            if !record.groups.isEmpty {
                containment.groups[record.key] = record.groups
                containment.instances[record.key] = (record.job, record.instance)
            }
            if !record.namedGroups.isEmpty { containment.named[record.key] = record.namedGroups }
            if let oom = record.oomKills { containment.oomKills[record.key] = oom }
            if let n = record.notify, ReexecSupport.isOpen(n.fd) {
                ReexecSupport.closeOnExec(n.fd)
                let notifier = Notifier(socket: NotifySocket(adopting: n.fd, address: n.address), job: record.job, instance: record.instance)
                notifier.mainPid = n.mainPid
                notifier.announcedPid = n.announcedPid
                notifier.ready = n.ready
                notifiers[record.key] = notifier
                notifierByFD[n.fd] = record.key
                try? epoll.watch(n.fd, for: .readable)
            }
            if let status = record.notifyStatus { notifyStatus[record.key] = status }
        }
        for d in shell.draining { containment.draining[d.key] = (d.paths, d.killAt, d.killed) }
        containment.madeNamed = Set(shell.madeNamedGroups)
        if logs != nil {
            for pty in shell.logs where ReexecSupport.isOpen(pty.master) {
                ReexecSupport.closeOnExec(pty.master)
                logs!.masters[pty.master] = pty.file
                if pty.pid != 0 {
                    logs!.masterByPid[pty.pid] = pty.master
                    logs!.pidByMaster[pty.master] = pty.pid
                    // --prefix-output: the job's name again, from the process's instance.
                    if let owner = engine.processOwner(pty.pid), let job = engine.jobClass(owner.key.job), streamed(job) {
                        logs!.stream?.attach(master: pty.master, job: owner.key.job, instance: owner.key.instance)
                    }
                }
                try? epoll.watch(pty.master, for: .readable)
            }
            for h in shell.heldLogs { logs!.held[h.file] = h.bytes }
        }
        for fd in engine.heldDescriptors { ReexecSupport.closeOnExec(fd) }
        for c in shell.clients where ReexecSupport.isOpen(c.fd) {
            ReexecSupport.closeOnExec(c.fd)
            let client = Client(fd: c.fd, credentials: PeerCredentials(pid: c.pid, uid: c.uid, gid: c.gid), privileged: c.privileged)
            client.subscribed = c.subscribed
            client.inFlight = c.inFlight
            server.clients[c.fd] = client
            if !c.privileged {
                server.connectionsByUser[c.uid, default: 0] += 1
                if c.subscribed { server.subscribersByUser[c.uid, default: 0] += 1 }
            }
            if !c.output.isEmpty {
                client.queue(frame: c.output, now: monotonicNanoseconds())
                server.outputBytes += c.output.count
            }
            updateInterest(client)
        }
        for p in shell.pending {
            guard server.clients[p.client] != nil, let method = Control.Method(rawValue: p.method) else { continue }
            pending[p.request] = (p.client, p.id, method)
        }
        armEarliestTimer()
        log.write(.message, "re-executed: \(engine.state.instances.count) instances, \(server.clients.count) clients; state document read in \(options.restoringReadNanoseconds / 1000) µs, taken back in \((monotonicNanoseconds() - started) / 1000) µs")
    }
}
