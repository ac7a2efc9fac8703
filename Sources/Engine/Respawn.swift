import JobFile

extension JobClass {
    /// Whether an exit is listed in `normal exit` (a status or a signal),
    /// and so is not a failure. `exited(0)` is normal only for jobs that do
    /// not respawn, or when listed: a respawning service is expected to run
    /// for ever, so even a clean exit makes it respawn.
    public func isNormalExit(_ status: ProcessExit) -> Bool {
        for c in self.normalExit {
            switch (c, status) {
            case (.status(let n), .exited(let s)) where Int32(truncatingIfNeeded: n) == s:
                return true
            case (.signal(let a), .killed(let b)) where a == b:
                return true
            default:
                continue
            }
        }
        return false
    }
}

extension Engine {
    /// Respawn accounting (Upstart's job_process_catch_runaway), counted in
    /// whole seconds of the input's time. A window opens at the first
    /// respawn; each respawn within `interval` seconds of its start counts
    /// one more, and once the count goes past `count` the job is running
    /// away: it is stopped as failed. A respawn after the window has closed
    /// opens a new one. `respawn limit unlimited`, or a zero count or
    /// interval, never stops a job.
    ///
    /// With the default `10 5`, the eleventh respawn within five seconds
    /// of the first is refused.
    mutating func respawnLimitExceeded(_ key: InstanceKey) -> Bool {
        guard case .limit(let count, let interval) = definition(key.job).job.respawnLimit,
              count > 0, interval > 0 else { return false }
        let t = now.seconds
        if let start = state.instances[key]!.respawnWindowStart, t - start < Int64(interval) {
            state.instances[key]!.respawnCount += 1
            return state.instances[key]!.respawnCount > count
        }
        state.instances[key]!.respawnWindowStart = t
        state.instances[key]!.respawnCount = 1
        return false
    }
}
