/// What the bridge remembers of one timer between runs (and restarts): the
/// state file holds one of these per timer.
public struct TimerRecord: Hashable, Sendable {
    /// When the timer was first seen with this spec (ms since the epoch):
    /// an `EVERY` timer with no run yet counts its interval from here.
    public var anchor: Int64
    /// Runs so far (for COUNT).
    public var runs: Int = 0
    /// When the last run happened, and the due time it served.
    public var lastRun: Int64?
    public var lastDue: Int64?
    /// AFTER timers: due times of events seen but not yet served.
    public var pending: [Int64] = []

    public init(anchor: Int64, runs: Int = 0, lastRun: Int64? = nil, lastDue: Int64? = nil, pending: [Int64] = []) {
        self.anchor = anchor
        self.runs = runs
        self.lastRun = lastRun
        self.lastDue = lastDue
        self.pending = pending
    }
}

/// When a timer is due, given its record and the clock; and what a run does
/// to the record. Pure: `now` and the zone are passed in. All times are
/// milliseconds since the epoch, by the wall clock (CLOCK_REALTIME).
///
/// The rules (docs/time-bridge.md, "When timers fire"):
/// - A due time that has passed by at most `grace` (30 s, or half an
///   `EVERY` interval if less) is on time: the timer runs.
/// - One that has passed by more was missed (the machine was off or asleep,
///   the bridge down, the clock set forward over it). With `PERSISTENT=yes`
///   the timer runs once, at once; without, the missed runs are skipped.
///   Never more than one catch-up run, however many were missed.
/// - The clock set back: an `EVERY` interval counts from the clock as it now
///   reads (the next run is at most one interval away); a `SCHEDULE` run
///   that already happened is not repeated when the clock went back by up to
///   three hours (cron's rule), and the schedule starts afresh from the new
///   time when it went back by more.
/// - `COUNT=N`: after N runs the timer is never due again.
public enum Due {
    public static let maxGrace: Int64 = 30_000
    public static let backStep: Int64 = 3 * 3_600_000

    static func grace(_ spec: TimerSpec) -> Int64 {
        if case .every(let ms) = spec.kind { return min(maxGrace, ms / 2) }
        return maxGrace
    }

    /// The first slot strictly after `t`.
    static func slot(after t: Int64, _ spec: TimerSpec, _ zone: Zone, phase: Int64) -> Int64? {
        switch spec.kind {
        case .every(let ms):
            // Keep the phase of `phase`: the next phase + k·interval > t.
            if t < phase { return phase }
            let k = (t - phase) / ms + 1
            return phase + k * ms
        case .schedule(let cron):
            let secs = t >= 0 ? t / 1000 : (t - 999) / 1000
            return cron.nextRun(after: secs, in: zone).map { $0 * 1000 }
        case .after:
            return nil
        }
    }

    /// The next time the timer is due: may be at or before `now` (due now),
    /// or nil (never: COUNT reached, a schedule that never comes, an AFTER
    /// timer with no event waiting).
    public static func next(_ spec: TimerSpec, _ record: TimerRecord, now: Int64, zone: Zone = .utc) -> Int64? {
        if let c = spec.count, record.runs >= c { return nil }
        if case .after = spec.kind { return record.pending.min() }
        let settled = settle(spec, record, now: now)
        let base = settled.lastDue ?? settled.anchor
        guard let candidate = slot(after: base, spec, zone, phase: base) else { return nil }
        let g = grace(spec)
        if candidate >= now - g { return candidate }
        // Missed. Persistent: one run, now. Otherwise the first slot that
        // is still on time; the same answer when the bridge wakes for it.
        if spec.persistent { return now }
        return slot(after: now - g - 1, spec, zone, phase: base)
    }

    /// The record after the clock was seen at `now`: when the clock went
    /// back past the last due time, an `EVERY` timer counts afresh from now,
    /// and a `SCHEDULE` one does too if it went back by more than three hours
    /// (by less, the runs already made are not repeated). The bridge stores
    /// the settled record, so that later calls agree.
    public static func settle(_ spec: TimerSpec, _ record: TimerRecord, now: Int64) -> TimerRecord {
        let base = record.lastDue ?? record.anchor
        guard base > now else { return record }
        var r = record
        switch spec.kind {
        case .every:
            r.lastDue = nil
            r.anchor = now
        case .schedule:
            if base - now > backStep {
                r.lastDue = nil
                r.anchor = now
            }
        case .after:
            break
        }
        return r
    }

    /// The record after the timer ran at `now` for the due time `due`.
    public static func ran(_ spec: TimerSpec, _ record: TimerRecord, due: Int64, now: Int64) -> TimerRecord {
        var r = record
        r.runs += 1
        r.lastRun = now
        if case .after = spec.kind {
            // Every event whose delay has passed is served by this one run.
            r.pending.removeAll { $0 <= now }
            r.lastDue = due
        } else {
            // A catch-up run (due is now, long after the slot) starts the
            // count afresh from now; an on-time run keeps the slot.
            r.lastDue = due
        }
        return r
    }

    /// The record after the time came but the run was skipped (the job was
    /// still running): the slot is used up, the run not counted.
    public static func skipped(_ spec: TimerSpec, _ record: TimerRecord, due: Int64, now: Int64) -> TimerRecord {
        var r = record
        if case .after = spec.kind { r.pending.removeAll { $0 <= now } } else { r.lastDue = due }
        return r
    }

    /// An AFTER timer's event happened at `now`.
    public static func eventSeen(_ spec: TimerSpec, _ record: TimerRecord, now: Int64) -> TimerRecord {
        guard case .after(_, _, let delay) = spec.kind else { return record }
        var r = record
        r.pending.append(now + delay)
        if r.pending.count > 64 { r.pending.removeFirst(r.pending.count - 64) }
        return r
    }
}
