import JobFile

/// The `while` stanza (a Daybreak addition): the job runs while a condition
/// on other jobs' states holds.
///
/// Rules (the daemon's definition; docs/events.md, section 3):
/// - `running JOB` holds while at least one instance of JOB is in the
///   `running` state; `not`, `and`, `or` combine as in ordinary logic.
/// - The condition is evaluated after every input, once the event queue has
///   settled, and again after any start or stop it caused, until nothing
///   changes (at most `maxWhilePasses` rounds per input).
/// - It acts on changes (edge-triggered): when the condition becomes true
///   the job is started (with its class environment, like `initctl start`
///   without variables); when it becomes false every instance whose goal is
///   start is stopped. A job that stops on its own while the condition still
///   holds is not started again until the condition has been false and is
///   true again; this keeps a failing job from looping.
/// - `start on`, `stop on` and control requests keep working beside it.
/// - A class is "false" when registered, so a condition that already holds
///   starts the job at once.
extension Engine {
    /// Rounds of evaluation per input before giving up until the next input
    /// (a condition on the job's own state could otherwise flip for ever).
    static let maxWhilePasses = 16

    /// Evaluates every `while` condition, starting and stopping jobs on
    /// changes, and runs the queue after each round of changes.
    mutating func settleWhileConditions() {
        guard !state.whileJobs.isEmpty else { return }
        for _ in 0..<Engine.maxWhilePasses {
            var changed = false
            for name in state.whileJobs {
                guard let entry = state.classes[name], !entry.removed,
                      let condition = entry.definition.job.whileCondition else { continue }
                let holds = condition.holds(running: { self.isRunning($0) })
                guard holds != entry.whileHolds else { continue }
                state.classes[name]!.whileHolds = holds
                changed = true
                info("\(name) while condition is now \(holds)")
                if holds {
                    startForWhile(entry.definition)
                } else {
                    stopForWhile(name)
                }
            }
            runQueue()
            if !changed { return }
        }
        warn("while conditions did not settle after \(Engine.maxWhilePasses) rounds; they are evaluated again after the next input")
    }

    /// True when at least one instance of `job` is in the `running` state.
    func isRunning(_ job: String) -> Bool {
        guard let entry = state.classes[job] else { return false }
        for name in entry.instances {
            if state.instances[InstanceKey(job: job, instance: name)]?.state == .running { return true }
        }
        return false
    }

    /// Starts the job because its condition became true.
    mutating func startForWhile(_ def: ClassDefinition) {
        let env = state.configuration.classEnvironment(def.job)
        let name: String
        do {
            name = try Environment.expand(def.job.instance ?? "", env)
        } catch {
            warn("Failed to obtain \(def.name) instance: \(error)")
            return
        }
        let key = InstanceKey(job: def.name, instance: name)
        guard goal(of: key) != .start else { return }
        if state.instances[key] == nil { createInstance(key) }
        state.instances[key]!.startEnvironment = env
        finished(key, failed: false)
        changeGoal(key, to: .start)
    }

    /// Stops every started instance of the job because its condition
    /// became false.
    mutating func stopForWhile(_ job: String) {
        for name in state.classes[job]?.instances ?? [] {
            let key = InstanceKey(job: job, instance: name)
            guard let g = goal(of: key), g != .stop else { continue }
            state.instances[key]!.stopEnvironment = Environment()
            finished(key, failed: false)
            changeGoal(key, to: .stop)
        }
    }
}
