import FileWatch
import TimeSchedule

// Stanzas about events and conditions: emits, start on, stop on, manual, while.

extension Parser {
    /// `emits EVENT...`: documents the events the job emits. Accumulates;
    /// a name given twice is kept once.
    mutating func stanzaEmits() throws(JobParseError) {
        for tok in try arguments(after: "emits", expecting: "one or more event names") {
            guard !tok.text.isEmpty else {
                throw lexer.error("expected an event name after 'emits', got an empty string", at: tokenMark(tok))
            }
            if emitNames == nil { emitNames = Set(job.emits) }
            if emitNames!.insert(tok.text).inserted { job.emits.append(tok.text) }
        }
    }

    /// `start on EXPRESSION`: replaces any earlier `start on`.
    mutating func stanzaStart(at mark: Lexer.Mark) throws(JobParseError) {
        _ = try keyword(after: "start", oneOf: ["on"])
        job.startOn = try eventExpression(after: "start on", at: mark)
        try checkTimers(job.startOn, stanza: "start on", at: mark)
        try checkFiles(job.startOn, stanza: "start on", at: mark)
        try checkSockets(job.startOn, at: mark)
    }

    /// `stop on EXPRESSION`: replaces any earlier `stop on`.
    mutating func stanzaStop(at mark: Lexer.Mark) throws(JobParseError) {
        _ = try keyword(after: "stop", oneOf: ["on"])
        job.stopOn = try eventExpression(after: "stop on", at: mark)
        try checkTimers(job.stopOn, stanza: "stop on", at: mark)
        try checkFiles(job.stopOn, stanza: "stop on", at: mark)
    }

    /// Every `timer` match must be a timer the time bridge can keep
    /// (docs/time-bridge.md): a bad EVERY, SCHEDULE, DELAY, COUNT, TZ or
    /// PERSISTENT rejects the file, naming the variable and what was
    /// expected, so `init-checkconf` and the daemon's log both say so. A
    /// `TZ` is checked for its form here; whether the zone exists is for
    /// the tools that may read /usr/share/zoneinfo.
    func checkTimers(_ expr: EventExpression?, stanza: String, at mark: Lexer.Mark) throws(JobParseError) {
        guard let expr else { return }
        for m in expr.matches where m.name == "timer" {
            do {
                _ = try TimerSpec(m.arguments.map { ($0.negated ? $0.key.map { $0 + "!" } : $0.key, $0.value) })
            } catch {
                throw lexer.error("timer in '\(stanza)': \(error.description)", at: mark)
            }
        }
    }

    /// Every `file` match must be one the file bridge can watch
    /// (docs/file-bridge.md): FILE an absolute path, a glob in its last
    /// component only, EVENT create, modify or delete. A bad one rejects
    /// the file, so `init-checkconf` and the daemon's log name its line.
    func checkFiles(_ expr: EventExpression?, stanza: String, at mark: Lexer.Mark) throws(JobParseError) {
        guard let expr else { return }
        for m in expr.matches where m.name == "file" {
            do {
                _ = try FileSpec(m.arguments.map { ($0.negated ? $0.key.map { $0 + "!" } : $0.key, $0.value) })
            } catch {
                throw lexer.error("file in '\(stanza)': \(error.description)", at: mark)
            }
        }
    }

    /// Every `socket` match of a `start on` must be a socket the socket
    /// bridge can listen on (docs/socket-bridge.md): PROTO, PORT, ADDR,
    /// SOCKET_PATH, SOCKET_MODE and SOCKET_OWNER are checked for their
    /// form, so a bad PORT is reported with the file and line by
    /// `init-checkconf` and in the daemon's log. Whether the address is
    /// free or the directory exists is for the bridge to find out.
    func checkSockets(_ expr: EventExpression?, at mark: Lexer.Mark) throws(JobParseError) {
        guard let expr else { return }
        for m in expr.matches where m.name == "socket" {
            do {
                _ = try SocketSpec(m.arguments)
            } catch {
                throw lexer.error("socket in 'start on': \(error.description)", at: mark)
            }
        }
    }

    /// `manual`: forgets the `start on` seen so far. A `start on` after it counts again.
    mutating func stanzaManual() throws(JobParseError) {
        try lexer.endStatement(after: "manual")
        job.startOn = nil
    }

    /// `while CONDITION`: a Daybreak stanza; replaces any earlier `while`.
    mutating func stanzaWhile(at mark: Lexer.Mark) throws(JobParseError) {
        job.whileCondition = try stateExpression(at: mark)
    }
}
