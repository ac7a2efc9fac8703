import Control
import Engine
import JobFile
import JSON
import Platform

/// `initctl show-config` and `check-config` (initctl(8)).
extension Daemon {
    /// The lines under a job's name: `  emits EVENT`, then `  start on ...`
    /// and `  stop on ...`, fully bracketed; with `enumerate`, one line for
    /// each event or job that may start or stop the job.
    func showConfigLines(_ job: JobClass, enumerate: Bool) -> [String] {
        var lines = job.emits.map { "  emits \($0)" }
        for (label, expr) in [("start on", job.startOn), ("stop on", job.stopOn)] {
            guard let expr else { continue }
            if enumerate {
                for m in expr.matches { lines.append("  \(label) \(enumerated(m))") }
            } else {
                lines.append("  \(label) \(expr.bracketed)")
            }
        }
        // Daybreak's `while`, after the stanzas Upstart prints.
        // With `enumerate`, one line for each job it needs running (or,
        // under `not`, stopped), as initctl2dot reads them.
        if let w = job.whileCondition {
            if enumerate {
                for t in w.terms {
                    let env = t.environment.joined(separator: " ")
                    lines.append("  while \(t.negated ? "not running" : "running") (job: \(t.job), env:\(env.isEmpty ? "" : " " + env))")
                }
            } else {
                lines.append("  while \(w.text)")
            }
        }
        // With `enumerate`, the limits the job runs under: each `cgroup`
        // setting, then under it, for each live instance, the kernel's
        // file that carries it and its value now.
        if enumerate && !job.envFiles.isEmpty {
            lines += environmentSources(job, defaults: engine.defaultEnvironment, daemonEnvironment: engine.daemonEnvironment)
        }
        if enumerate {
            for c in job.cgroups {
                guard let key = c.key else { continue }
                lines.append("  cgroup \(c.controller)\(c.name.map { " " + $0 } ?? "") \(key) \(c.value ?? "")")
                let file = CgroupSettings.fileName(controller: c.controller, key: key)
                let files = Set([1, 2].flatMap { v in (try? CgroupSettings.writes(file: file, value: c.value ?? "", version: v))?.map(\.file) ?? [] })
                for (instanceKey, owner) in containment.instances.sorted(by: { $0.key < $1.key }) where owner.job == job.name {
                    for group in containment.groups[instanceKey] ?? [] {
                        for f in files.sorted() {
                            guard let v = try? FileSystem.readFile(group + "/" + f) else { continue }
                            let text = String(decoding: v, as: UTF8.self).split(separator: "\n").joined(separator: "; ")
                            lines.append("    \(group)/\(f) \(text)")
                        }
                    }
                }
            }
        }
        return lines
    }

    private func enumerated(_ m: EventMatch) -> String {
        let jobEvents: Set<String> = ["starting", "started", "stopping", "stopped"]
        var job = ""
        var env = m.arguments
        if jobEvents.contains(m.name) {
            if let i = env.firstIndex(where: { $0.key == nil || $0.key == "JOB" }) {
                job = env[i].value
                env.remove(at: i)
            }
        }
        let envText = env.map(\.text).joined(separator: " ")
        if jobEvents.contains(m.name) && !job.isEmpty {
            return "\(m.name) (job: \(job), event: \(m.name), env:\(envText.isEmpty ? "" : " " + envText))"
        }
        return "\(m.name) (job:, env:\(envText.isEmpty ? "" : " " + envText))"
    }

    /// Jobs whose `start on` or `stop on` name a job that is not loaded or
    /// an event no job says it emits (internal events excepted).
    func checkConfig(_ p: Request.Params) -> [JSONValue] {
        let builtIn: Set<String> = ["startup", "starting", "started", "stopping", "stopped", "control-alt-delete",
                                     "keyboard-request", "power-status-changed", "runlevel", "debug"]
        var ignored = Set<String>()
        var warnAll = false
        for e in p.env {
            if e.hasPrefix("IGNORE=") { ignored.formUnion(e.dropFirst(7).split(separator: ",").map(String.init)) }
            if e == "WARN=1" { warnAll = true }
        }
        let names = engine.jobNames
        var emitted = Set<String>()
        for n in names { emitted.formUnion(engine.jobClass(n)?.emits ?? []) }
        func emittedMatches(_ event: String) -> Bool {
            emitted.contains(event) || emitted.contains { Glob.matches(pattern: $0, event) }
        }
        let whileProblems = engine.whileProblems()
        var out: [JSONValue] = []
        for name in (p.job.map { [$0] } ?? names) {
            guard let job = engine.jobClass(name) else { continue }
            var lines: [String] = []
            for (label, expr) in [("start on", job.startOn), ("stop on", job.stopOn)] {
                for m in expr?.matches ?? [] where !ignored.contains(m.name) {
                    if ["starting", "started", "stopping", "stopped"].contains(m.name) {
                        let target = m.arguments.first(where: { $0.key == nil || $0.key == "JOB" })?.value
                        if let target, !names.contains(target), !target.contains("*"), !target.contains("$") {
                            lines.append("  \(label): unknown job \(target)")
                        }
                    } else if (!builtIn.contains(m.name) || warnAll) && !emittedMatches(m.name) {
                        lines.append("  \(label): unknown event \(m.name)")
                    }
                }
            }
            for problem in whileProblems where problem.job == name {
                lines.append("  while: " + problem.message.replacingPrefix("while condition names ", with: "")
                                                          .replacingPrefix("while conditions form a ", with: ""))
            }
            if !lines.isEmpty {
                out.append(.object([("name", .string(name)), ("lines", .array(lines.map(JSONValue.string)))]))
            }
        }
        return out
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with new: String) -> String {
        hasPrefix(prefix) ? new + dropFirst(prefix.count) : self
    }
}

extension EventExpression {
    /// Every operator in parentheses, as `show-config` prints conditions:
    /// `(starting A and (B or C var=2))`.
    var bracketed: String {
        switch self {
        case .match(let m): return m.text
        case .and(let l, let r): return "(\(l.bracketed) and \(r.bracketed))"
        case .or(let l, let r): return "(\(l.bracketed) or \(r.bracketed))"
        }
    }
}
