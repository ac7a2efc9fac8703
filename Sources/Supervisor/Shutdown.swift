import Engine
import JobFile
import Platform

/// Shutdown, and the status the daemon exits with (docs/running.md,
/// "Exit status").
///
/// SIGTERM (or SIGINT outside PID 1, or the end of the `--exit-with` job)
/// stops every job in reverse dependency order (`Engine.continueShutdown`):
/// after each input the engine is asked again, so a job is asked to stop
/// once the jobs that need it are gone. The daemon exits once no instance
/// is left, with:
///
/// - the `--exit-with` job's status, when its end began the shutdown;
/// - otherwise `ShutdownTally.status`: 0 when every job stopped as asked,
///   2 when one failed while stopping, 3 when one had to be killed with
///   SIGKILL after its kill timeout.
struct ShutdownTally {
    /// SIGKILLs sent after a kill timeout during the shutdown.
    var killed = 0
    /// `stopped` events with `RESULT=failed` during the shutdown.
    var failed = 0
    /// The `--exit-with` job's status, once it ended.
    var jobStatus: Int32?

    static let someFailed: Int32 = 2
    static let someKilled: Int32 = 3

    var status: Int32 {
        if let jobStatus { return jobStatus }
        if killed > 0 { return ShutdownTally.someKilled }
        if failed > 0 { return ShutdownTally.someFailed }
        return 0
    }

    /// The exit status a `stopped` event reports, as a shell reports a
    /// command's: 0 for `RESULT=ok`, `EXIT_STATUS`, 128 + the signal's
    /// number for `EXIT_SIGNAL`, 127 when the process could not be run.
    static func status(ofStopped environment: [String]) -> Int32 {
        func value(_ name: String) -> String? {
            environment.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        if value("RESULT") == "ok" { return 0 }
        if let s = value("EXIT_STATUS").flatMap({ Int32($0) }) { return s }
        if let s = value("EXIT_SIGNAL").flatMap({ Signal(parsing: $0) }) { return 128 + s.number }
        return 127
    }
}

extension Daemon {
    func beginShutdown(_ why: String) {
        guard !shuttingDown else { return }
        shuttingDown = true
        log.write(.message, "\(why): stopping every job")
        apply(engine.stopEverything(at: now))
        continueShutdown()
    }

    /// Stops what may be stopped now; once nothing is left, the loop ends.
    func continueShutdown() {
        let effects = engine.continueShutdown(at: now)
        if !effects.isEmpty {
            apply(effects)
        } else if !engine.hasInstances && exitStatus == nil {
            let status = shutdown.status
            let doing: [PowerAction: String] = [.reboot: "rebooting", .poweroff: "powering off", .halt: "halting"]
            let then = powerAction.map { doing[$0]! } ?? "exiting with status \(status)"
            log.write(status == 0 && powerAction == nil ? .info : .message, "every job is stopped; \(then)" + shutdownSummary)
            exitStatus = status
        }
    }

    private var shutdownSummary: String {
        if shutdown.jobStatus != nil { return " (the --exit-with job's)" }
        var parts: [String] = []
        if shutdown.killed > 0 { parts.append("\(shutdown.killed) process\(shutdown.killed == 1 ? "" : "es") killed after the kill timeout") }
        if shutdown.failed > 0 { parts.append("\(shutdown.failed) job\(shutdown.failed == 1 ? "" : "s") failed while stopping") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }

    /// A `stopped` event: counted during a shutdown; the `--exit-with`
    /// job's begins one.
    func jobStopped(_ environment: [String]) {
        if shuttingDown {
            if environment.contains("RESULT=failed") { shutdown.failed += 1 }
            return
        }
        guard let main = options.exitWith, environment.contains("JOB=" + main) else { return }
        guard shutdown.jobStatus == nil else { return }
        let status = ShutdownTally.status(ofStopped: environment)
        shutdown.jobStatus = status
        let detail = environment.filter { $0.hasPrefix("RESULT=") || $0.hasPrefix("EXIT_") || $0.hasPrefix("PROCESS=") }
        // Begun once the effects being carried out are done (`afterInput`).
        shutdownRequest = "\(main) ended (\(detail.joined(separator: " "))); --exit-with \(main): exiting with status \(status)"
    }

    /// After each input: groups to remove, a shutdown to begin or carry on.
    func afterInput() {
        sweepGroups()
        if let why = shutdownRequest {
            shutdownRequest = nil
            beginShutdown(why)
        } else if shuttingDown {
            continueShutdown()
        }
    }

    /// Whether SIGKILL is the `kill signal` of the job `pid` belongs to:
    /// then it is how the job stops, not a kill timeout that ran out.
    func stopsWithKill(_ pid: Int32) -> Bool {
        guard let owner = engine.processOwner(pid) else { return false }
        return engine.state.classes[owner.key.job]?.definition.job.killSignal == .kill
    }

    /// `--exit-with JOB` must name a loaded job: checked after the first
    /// reading, before the startup event starts anything.
    var exitWithProblem: String? {
        guard let main = options.exitWith, engine.loadedClass(main) == nil else { return nil }
        return "--exit-with: no job named '\(main)' in \(options.confDirectories.joined(separator: ", ")); nothing started"
    }
}
