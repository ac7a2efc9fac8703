import Engine
import JobFile
import Platform

/// Recovery after a crash: a daemon that starts and finds the groups of a
/// previous daemon that is gone (`daybreak-PID` beside its own, PID no
/// longer running, and named in `SOCKET.pid` as the last daemon on the
/// same control socket) takes them over.
///
/// - Each instance group whose job is loaded is taken back as running:
///   its processes move into this daemon's group for the instance, the
///   main process is the one whose parent is outside the group (the lowest
///   pid if several), and the engine adopts it (`Engine.adoptRunning`).
///   This daemon is not its parent, so its exit is learnt through a pidfd
///   watched by epoll; its exit status is unknown and is reported as exit
///   status 0 (a `respawn` job is respawned, as after any exit).
/// - The groups of jobs no longer loaded are stopped (SIGTERM, SIGKILL two
///   seconds later) and removed, as an ended instance's are.
/// - Nothing runs twice: the startup event is emitted after adoption, and
///   a start of an adopted job finds it running.
///
/// Without cgroups nothing can be found: the log says that processes of a
/// previous daemon, if one crashed, may still run unsupervised.
extension Daemon {
    func adoptOrphanedGroups() {
        // Only a user-mode daemon looks: as PID 1 of a pid namespace it
        // cannot tell whether the daemons named by other groups still run
        // (they are outside its /proc), and as PID 1 of a machine there is
        // no previous daemon that could have crashed.
        guard options.userMode && !options.isPID1 else { return }
        guard let h = containment.hierarchy, let ownBase = containment.base else {
            log.write(.info, "no cgroups: processes left by a previous daemon that crashed, if any, are not known to this one and may still run")
            return
        }
        // Only the previous daemon on the same control socket: its pid is
        // in SOCKET.pid (written at start-up, removed at a clean exit).
        // Other daemons' groups (other users' sessions, other sockets) in
        // the same parent group are never touched.
        let pidFile = server.path + ".pid"
        let previous = (try? FileSystem.readFile(pidFile)).flatMap { Int32(String(decoding: $0, as: UTF8.self).filter { $0.isNumber }) }
        _ = FileSystem.writeAtomically(Array("\(Process.currentID)\n".utf8), to: pidFile)
        for name in ReexecSupport.subdirectories(of: h.ownDirectory) where name.hasPrefix("daybreak-") {
            guard let pid = Int32(name.dropFirst("daybreak-".count)), pid == previous, pid != Process.currentID,
                  !ReexecSupport.isRunning(pid) else { continue }
            let oldBase = h.ownDirectory + "/" + name
            guard oldBase != ownBase else { continue }
            var adopted = 0, stopped = 0
            for key in ReexecSupport.subdirectories(of: oldBase) {
                let path = oldBase + "/" + key
                let pids = Cgroups.processes(in: path)
                if pids.isEmpty {
                    _ = Cgroups.remove(path)
                    continue
                }
                if let (job, instance) = jobAndInstance(ofKey: key), adopt(job: job, instance: instance, pids: pids, from: path) {
                    adopted += 1
                } else {
                    _ = Cgroups.signal(path, SignalNumber.terminate)
                    _ = Cgroups.signal(path, SignalNumber.continue)
                    containment.draining["recovered:" + path] = ([path], monotonicNanoseconds() + Containment.drainNanoseconds, false)
                    stopped += 1
                }
            }
            containment.madeBases.insert(oldBase)
            _ = Cgroups.remove(oldBase)
            log.write(.message, "daemon \(pid) is gone and left \(oldBase): \(adopted) instances taken back as running, \(stopped) stopped")
        }
        armEarliestTimer()
    }

    /// The loaded job (and instance) an instance group's name stands for.
    private func jobAndInstance(ofKey key: String) -> (String, String)? {
        let names = engine.jobNames
        if let job = names.first(where: { Containment.key(job: $0, instance: "") == key }) { return (job, "") }
        for job in names.sorted(by: { $0.count > $1.count }) {
            let prefix = Containment.key(job: job, instance: "") + "-"
            if key.hasPrefix(prefix) { return (job, String(key.dropFirst(prefix.count))) }
        }
        return nil
    }

    private func adopt(job: String, instance: String, pids: [Int32], from path: String) -> Bool {
        let inGroup = Set(pids)
        let roots = pids.filter { ReexecSupport.parent(of: $0).map { !inGroup.contains($0) } ?? false }
        guard let main = (roots.isEmpty ? pids : roots).min(), let cls = engine.loadedClass(job) else { return false }
        guard let effects = engine.adoptRunning(job: job, instance: instance, mainPid: main, at: now) else { return false }
        if let groups = try? containment.groups(job: job, instance: instance, settings: cls.cgroups), let first = groups.first {
            for p in pids { try? Cgroups.set(first, "cgroup.procs", String(p)) }
            if Cgroups.processes(in: path).isEmpty { _ = Cgroups.remove(path) }
        }
        if let fd = ReexecSupport.pidfd(main) {
            adoptedPidfds[fd] = main
            try? epoll.watch(fd, for: .readable)
        }
        apply(effects)
        return true
    }

    /// An adopted main process exited (its pidfd became readable).
    func adoptedExited(_ fd: Int32) {
        guard let pid = adoptedPidfds.removeValue(forKey: fd) else { return }
        epoll.unwatch(fd)
        closeDescriptor(fd)
        feed(.processExited(pid: pid, status: .exited(0)))
    }
}
