import Platform

/// The event loop: the one place the daemon waits.
///
/// Each turn waits on epoll for the next arrival (or the earliest timer,
/// through the timerfd) and dispatches it. Signals, the timer and inotify
/// have one descriptor each; the control socket, each client and each job's
/// pty master have their own. The loop ends when `exitStatus` is set.
extension Daemon {
    func loop() -> Int32 {
        while exitStatus == nil {
            for (fd, events) in epoll.wait(timeout: -1) {
                dispatch(fd, events)
                if exitStatus != nil { break }
            }
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
        } else if server.clients[fd] != nil {
            serviceClient(fd, events)
        } else if notifierByFD[fd] != nil {
            readNotify(fd)
        } else if logs?.masters[fd] != nil {
            if logs?.read(master: fd) == false {
                epoll.unwatch(fd)
                closeDescriptor(fd)
            }
        } else {
            epoll.unwatch(fd)
        }
    }

    func handleSignals() {
        while let info = try? signals.read() {
            switch info.signal {
            case SignalNumber.child:
                reapChildren()
            case SignalNumber.terminate:
                beginShutdown("received SIGTERM")
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
        // A SIGCHLD may have been merged with another signal: reap anyway.
        reapChildren()
    }
}
