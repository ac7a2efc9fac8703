import Platform

/// The event loop: the one place the daemon waits.
///
/// Each turn waits on epoll for the next arrivals (or the earliest timer,
/// through the timerfd) and dispatches them. Signals, the timer and
/// inotify have one descriptor each; the control socket, each client and
/// each job's pty master have their own.
///
/// The loop is fair: every source gets a bounded share of a turn (a
/// client `requestsPerTurn` requests and one read, the reaper
/// `reapsPerTurn` children, the listener `acceptsPerTurn` connections, a
/// pty 64 KiB), and work left over (`reapBacklog`, `server.busy`) makes the
/// next wait return at once instead of sleeping. So no client, job or file
/// keeps the loop from `epoll_wait`, and a signal, a dead child or another
/// client's request waits at most one turn. The loop ends when
/// `exitStatus` is set.
extension Daemon {
    func loop() -> Int32 {
        while exitStatus == nil {
            let leftOver = reapBacklog || !server.busy.isEmpty
            // A log backlog, or a re-exec waiting for tracing to end, is looked at again in 100 ms.
            let poll = log.hasBacklog || deferredReexec != nil
            for (fd, events) in epoll.wait(timeout: leftOver ? 0 : (poll ? 100 : -1)) {
                dispatch(fd, events)
                if exitStatus != nil { break }
            }
            if exitStatus == nil && reapBacklog { reapChildren() }
            if exitStatus == nil && !server.busy.isEmpty { serviceBusyClients() }
            // What job logs had to say (a full disk, and when it is over).
            for line in logs?.takeWarnings() ?? [] { log.write(.warn, line) }
            log.flush()
            if !clientSweepArmed && (server.inputBytes > 0 || server.outputBytes > 0) { armEarliestTimer() }
            if exitStatus == nil && deferredReexec != nil { retryDeferredReexec() }
            if heavyWorkDone {
                heavyWorkDone = false
                trimHeap()
            }
        }
        return exitStatus ?? 0
    }

    func dispatch(_ fd: Int32, _ events: Epoll.Events) {
        if fd == signals.fileDescriptor.rawValue {
            handleSignals()
        } else if fd == timer.fd {
            timer.acknowledge()
            fireDueTimers()
        } else if let inotify, fd == inotify.fd {
            if inotify.drain() {
                log.write(.info, "job directories changed; reloading")
                reloadConfiguration()
            }
        } else if fd == server.listener {
            acceptClients()
        } else if let reload, fd == reload.fd {
            finishReload()
        } else if server.clients[fd] != nil {
            serviceClient(fd, events)
        } else if adoptedPidfds[fd] != nil {
            adoptedExited(fd)
        } else if notifierByFD[fd] != nil {
            readNotify(fd)
        } else if logs?.masters[fd] != nil {
            if logs?.read(master: fd, reads: 4) == false {
                epoll.unwatch(fd)
                closeDescriptor(fd)
            }
            forwardFollowedOutput()
        } else {
            epoll.unwatch(fd)
        }
    }

    /// Takes the signals that arrived, at most 64 a turn (more stay queued
    /// in the signalfd for the next turn), then reaps once: SIGCHLDs merge,
    /// and a job that dies as fast as it is respawned must not keep this
    /// function reading for ever.
    func handleSignals() {
        for _ in 0..<64 {
            guard let info = try? signals.read() else { break }
            switch info.signal {
            case SignalNumber.child:
                break
            case SignalNumber.terminate:
                // PID 1 of the machine: re-exec, as Upstart does; anywhere
                // else (user mode, a container) SIGTERM means stop everything.
                if options.isPID1 && ReexecSupport.inInitialPidNamespace && !shuttingDown {
                    if let why = reexec() { log.write(.error, why) }
                } else {
                    beginShutdown("received SIGTERM")
                }
            case SignalNumber.interrupt:
                if options.isPID1 {
                    feed(.emit(name: "control-alt-delete", environment: [], waiter: nil))
                } else {
                    beginShutdown("received SIGINT")
                }
            case SignalNumber.hangup:
                log.write(.info, "SIGHUP: reloading the job directories")
                reloadConfiguration()
            case SignalNumber.windowChange:
                if options.isPID1 { feed(.emit(name: "keyboard-request", environment: [], waiter: nil)) }
            case SignalNumber.power:
                if options.isPID1 { feed(.emit(name: "power-status-changed", environment: [], waiter: nil)) }
            case SignalNumber.user1:
                logs?.flushHeld()
            default:
                break
            }
        }
        // Whatever arrived, SIGCHLD may be among it (merged): reap anyway.
        reapChildren()
    }
}
