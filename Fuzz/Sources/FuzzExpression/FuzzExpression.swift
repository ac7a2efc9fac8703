/// libFuzzer target: the expression parsers, `start on` / `stop on` (event
/// expressions) and `while` (state expressions).
///
/// The first byte picks the stanza (`start on`, `stop on` or `while`), the
/// rest is its expression, which may run on over several lines inside
/// parentheses (or end, and be followed by other stanzas).
///
/// Properties checked for every input:
/// - total: a job or a `JobParseError` with a position and a message;
/// - each expression the job has is within the parser's bounds (at most
///   1,024 events; no empty event or job name; `KEY=VALUE` keys are
///   variable names; positional arguments come first);
/// - round trip: each expression printed (`text`) after its stanza and
///   parsed again is the same value;
/// - `StateExpression.holds` agrees with a separate, iterative evaluator
///   here, under two assignments of running jobs.
import FuzzSupport
import JobFile

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExpression(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let selector = bytes.first else { return 0 }
    let stanzas = ["start on ", "stop on ", "while "]
    let stanza = stanzas[Int(selector) % stanzas.count]
    checkExpressions(Array(stanza.utf8) + bytes.dropFirst())
    return 0
}

func checkExpressions(_ bytes: [UInt8]) {
    let job: JobClass
    do {
        job = try Parser.parse(name: "fuzz", bytes: bytes, file: "fuzz.conf")
    } catch {
        let lines = bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        fuzzCheck(error.line >= 1 && error.line <= lines && error.column >= 1, "error outside the input (\(lines) lines): \(error)")
        fuzzCheck(!error.message.isEmpty, "error without a message: \(error)")
        return
    }
    if let e = job.startOn { checkEvents(e, stanza: "start on") }
    if let e = job.stopOn { checkEvents(e, stanza: "stop on") }
    if let w = job.whileCondition { checkState(w) }
}

func checkEvents(_ expression: EventExpression, stanza: String) {
    let matches = expression.matches
    fuzzCheck(!matches.isEmpty && matches.count <= 1024, "\(stanza) has \(matches.count) events")
    for m in matches {
        fuzzCheck(!m.name.isEmpty, "\(stanza) has an event with an empty name")
        var sawNamed = false
        for a in m.arguments {
            if let key = a.key {
                fuzzCheck(isVariableName(key), "\(stanza): argument key '\(key)' is not a variable name")
                sawNamed = true
            } else {
                fuzzCheck(!sawNamed, "\(stanza): a positional argument follows KEY=VALUE in event '\(m.name)'")
            }
        }
    }
    let text = "\(stanza) \(expression.text)\n"
    do {
        let again = try Parser.parse(name: "fuzz", text: text, file: "printed.conf")
        let back = stanza == "start on" ? again.startOn : again.stopOn
        fuzzCheck(back == expression, "printed '\(stanza)' parses to another expression; printed:\n\(text)")
    } catch {
        fuzzCheck(false, "printed '\(stanza)' does not parse: \(error); printed:\n\(text)")
    }
}

func checkState(_ condition: StateExpression) {
    let names = condition.jobNames
    fuzzCheck(!names.isEmpty && !names.contains(""), "while names no job, or an empty one: \(names)")
    let text = "while \(condition.text)\n"
    do {
        let again = try Parser.parse(name: "fuzz", text: text, file: "printed.conf")
        fuzzCheck(again.whileCondition == condition, "printed 'while' parses to another condition; printed:\n\(text)")
    } catch {
        fuzzCheck(false, "printed 'while' does not parse: \(error); printed:\n\(text)")
        return
    }
    // Evaluate under two assignments of running jobs (by a hash of each
    // name and of the environment a term selects), with the engine's
    // evaluator and with the one below.
    for salt in [0, 1] {
        let running: (String, [String]) -> Bool = { job, env in
            ((job + "\u{0}" + env.joined(separator: "\u{0}")).utf8.reduce(salt) { $0 &* 31 &+ Int($1) }) & 1 == 0
        }
        fuzzCheck(condition.holds(running: running) == evaluate(condition, running: running),
                  "'while \(condition.text)' evaluates differently from the reference evaluator")
    }
}

/// A reference evaluator: post-order over an explicit stack, no recursion.
func evaluate(_ condition: StateExpression, running: (String, [String]) -> Bool) -> Bool {
    enum Step { case visit(StateExpression), not, and, or }
    var steps: [Step] = [.visit(condition)]
    var values: [Bool] = []
    while let step = steps.popLast() {
        switch step {
        case .visit(.running(let job)): values.append(running(job, []))
        case .visit(.runningWhere(let job, let env)): values.append(running(job, env))
        case .visit(.not(let e)): steps.append(.not); steps.append(.visit(e))
        case .visit(.and(let l, let r)): steps.append(.and); steps.append(.visit(r)); steps.append(.visit(l))
        case .visit(.or(let l, let r)): steps.append(.or); steps.append(.visit(r)); steps.append(.visit(l))
        case .not: values.append(!values.removeLast())
        case .and: let r = values.removeLast(), l = values.removeLast(); values.append(l && r)
        case .or: let r = values.removeLast(), l = values.removeLast(); values.append(l || r)
        }
    }
    return values.removeLast()
}

/// A letter or underscore, then letters, digits and underscores (the
/// parser's rule for `KEY=VALUE` keys, restated here).
func isVariableName(_ name: String) -> Bool {
    func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
    guard let first = name.utf8.first, letter(first) else { return false }
    return name.utf8.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
}
