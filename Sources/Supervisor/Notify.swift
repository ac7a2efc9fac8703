import Engine
import JobFile
import Platform

/// `expect notify`: readiness as systemd's sd_notify(3) reports it, so
/// daemons written for systemd run unchanged.
///
/// Each instance of an `expect notify` job gets a datagram socket of its
/// own (abstract namespace, `@daybreak-PID-N`), named to its main process
/// in `NOTIFY_SOCKET`. The instance stays `spawned` until `READY=1`
/// arrives; `MAINPID=` (before or after it) names the process to
/// supervise instead of the one spawned; `STATUS=` is kept and shown by
/// `initctl status`. Messages are taken from the main process and, where
/// cgroups exist, any process of the instance's group; without cgroups,
/// from the main process and its descendants. Others are logged and
/// dropped. The socket lives as long as the instance (respawns reuse it).
struct NotifyMessage: Equatable {
    var ready = false
    var mainPid: Int32?
    var status: String?

    /// Parses `KEY=VALUE` lines; unknown keys (`RELOADING`, `WATCHDOG`...) are ignored.
    init(_ text: String) {
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq], value = String(line[line.index(after: eq)...])
            switch key {
            case "READY": ready = ready || value == "1"
            case "MAINPID": mainPid = Int32(value).flatMap { $0 > 0 ? $0 : nil }
            case "STATUS": status = value
            default: break
            }
        }
    }
}

/// One instance's notify socket and what it has heard.
final class Notifier {
    let socket: NotifySocket
    let job: String
    let instance: String
    /// The main pid as the engine knows it.
    var mainPid: Int32 = 0
    /// `MAINPID=` heard before `READY=1`.
    var announcedPid: Int32?
    var ready = false

    init(socket: NotifySocket, job: String, instance: String) {
        self.socket = socket
        self.job = job
        self.instance = instance
    }
}

extension Daemon {
    /// The `NOTIFY_SOCKET` value for an instance's main process; opens the
    /// instance's socket on first use.
    func notifySocket(job: String, instance: String) throws(PlatformError) -> String {
        let key = Containment.key(job: job, instance: instance)
        if let n = notifiers[key] { return n.socket.address }
        nextNotifySocket += 1
        let socket = try NotifySocket(name: "daybreak-\(Process.currentID)-\(nextNotifySocket)")
        try epoll.watch(socket.fd, for: .readable)
        notifiers[key] = Notifier(socket: socket, job: job, instance: instance)
        notifierByFD[socket.fd] = key
        return socket.address
    }

    /// A new main process was spawned for the instance: readiness starts over.
    func notifyMainSpawned(job: String, instance: String, pid: Int32) {
        guard let n = notifiers[Containment.key(job: job, instance: instance)] else { return }
        n.mainPid = pid
        n.announcedPid = nil
        n.ready = false
    }

    /// Reads every waiting message on a notify socket and acts on it.
    func readNotify(_ fd: Int32) {
        guard let key = notifierByFD[fd], let n = notifiers[key] else { return }
        let label = n.instance.isEmpty ? n.job : "\(n.job) (\(n.instance))"
        while let (text, sender) = n.socket.receive() {
            guard accepts(sender, n) else {
                log.write(.warn, "\(label): ignored a notify message from process \(sender), which is not part of the job")
                continue
            }
            let m = NotifyMessage(text)
            if let status = m.status { notifyStatus[key] = status }
            if let pid = m.mainPid {
                if n.ready {
                    if pid != n.mainPid {
                        feed(.mainProcessReady(pid: n.mainPid, finalPid: pid))
                        n.mainPid = pid
                    }
                } else {
                    n.announcedPid = pid
                }
            }
            if m.ready && !n.ready && n.mainPid > 0 {
                n.ready = true
                let final = n.announcedPid ?? n.mainPid
                log.write(.info, "\(label) main process (\(n.mainPid)) is ready" + (final != n.mainPid ? "; its main pid is (\(final))" : ""))
                let spawned = n.mainPid
                n.mainPid = final
                feed(.mainProcessReady(pid: spawned, finalPid: final))
            }
        }
    }

    /// Whether a sender belongs to the instance (see the type's documentation).
    func accepts(_ sender: Int32, _ n: Notifier) -> Bool {
        if sender <= 0 { return false }
        if sender == n.mainPid { return true }
        if containment.hierarchy != nil {
            return containment.processes(job: n.job, instance: n.instance).contains(sender)
        }
        var p: Int32? = sender
        for _ in 0..<64 {
            guard let current = p, current > 1 else { return false }
            if current == n.mainPid { return true }
            p = Process.parent(of: current)
        }
        return false
    }

    /// Closes the sockets of instances the engine no longer has.
    func closeEndedNotifiers() {
        for (key, n) in notifiers where engine.status(n.job, instance: n.instance) == nil {
            epoll.unwatch(n.socket.fd)
            notifierByFD[n.socket.fd] = nil
            notifiers[key] = nil
            notifyStatus[key] = nil
        }
    }
}
