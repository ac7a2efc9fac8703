// Stanzas about how the job lives and dies: respawn, normal exit, expect,
// kill signal, kill timeout, reload signal.

extension Parser {
    /// `respawn`, `respawn limit COUNT INTERVAL | unlimited`, or
    /// `respawn delay SECONDS [MAX]`.
    ///
    /// `respawn limit` alone sets the limit and does not turn respawning on,
    /// as in Upstart. A COUNT or INTERVAL of zero means unlimited. `respawn
    /// delay` (a Daybreak stanza) does not turn respawning on either.
    mutating func stanzaRespawn() throws(JobParseError) {
        guard let tok = try lexer.nextToken() else {
            lexer.skipRestOfLine()
            job.respawn = true
            return
        }
        if tok.text == "delay" { return try stanzaRespawnDelay() }
        guard tok.text == "limit" else {
            throw lexer.error("unexpected '\(tok.text)' after 'respawn'; expected 'limit', 'delay' or the end of the line", at: tokenMark(tok))
        }
        let countMark = lexer.nextMark()
        guard let count = try lexer.nextToken() else {
            throw lexer.error("expected a count and an interval, or 'unlimited', after 'respawn limit'", at: countMark)
        }
        if count.text == "unlimited" {
            try lexer.endStatement(after: "respawn limit unlimited")
            job.respawnLimit = .unlimited
            return
        }
        guard let n = wholeNumber(count.text), n >= 0, n <= Int(Int32.max) else {
            throw lexer.error("expected a respawn count (a whole number from 0) or 'unlimited' after 'respawn limit', got '\(count.text)'", at: countMark)
        }
        let intervalMark = lexer.nextMark()
        guard let interval = try lexer.nextToken() else {
            throw lexer.error("expected an interval in seconds after 'respawn limit \(n)'", at: intervalMark)
        }
        guard let seconds = wholeNumber(interval.text), seconds >= 0, seconds <= Int(Int32.max) else {
            throw lexer.error("expected an interval in seconds (a whole number from 0) after 'respawn limit \(n)', got '\(interval.text)'", at: intervalMark)
        }
        try lexer.endStatement(after: "respawn limit \(n) \(seconds)")
        job.respawnLimit = (n == 0 || seconds == 0) ? .unlimited : .limit(count: n, interval: seconds)
    }

    /// `respawn delay SECONDS [MAX]`: seconds, whole or with up to three
    /// decimals, from 0.001 to one day; MAX (default SECONDS) is at least
    /// SECONDS.
    mutating func stanzaRespawnDelay() throws(JobParseError) {
        let mark = lexer.nextMark()
        guard let first = try lexer.nextToken() else {
            throw lexer.error("expected a delay in seconds after 'respawn delay'", at: mark)
        }
        guard let initial = Parser.delayMilliseconds(first.text) else {
            throw lexer.error("expected a delay in seconds (such as 1 or 0.5, from 0.001 to 86400) after 'respawn delay', got '\(first.text)'", at: mark)
        }
        var maximum = initial
        let maxMark = lexer.nextMark()
        if let second = try lexer.nextToken() {
            guard let m = Parser.delayMilliseconds(second.text) else {
                throw lexer.error("expected a maximum delay in seconds after 'respawn delay \(first.text)', got '\(second.text)'", at: maxMark)
            }
            guard m >= initial else {
                throw lexer.error("the maximum delay \(second.text) is shorter than the delay \(first.text) after 'respawn delay'", at: maxMark)
            }
            maximum = m
        }
        try lexer.endStatement(after: "respawn delay")
        job.respawnDelay = RespawnDelay(initialMilliseconds: initial, maximumMilliseconds: maximum)
    }

    /// Seconds as `5` or `0.25` to milliseconds, from 1 ms to a day.
    static func delayMilliseconds(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, isDigits(whole), whole.count <= 5, let w = Int(whole) else { return nil }
        var ms = w * 1000
        if parts.count == 2 {
            let frac = parts[1]
            guard isDigits(frac), frac.count <= 3 else { return nil }
            ms += Int(frac + String(repeating: "0", count: 3 - frac.count))!
        }
        guard ms >= 1, ms <= 86_400_000 else { return nil }
        return ms
    }

    /// `normal exit STATUS|SIGNAL...`: statuses 0-255 and signal names
    /// (`TERM`, `SIGTERM`). Accumulates; duplicates are kept once.
    mutating func stanzaNormal() throws(JobParseError) {
        _ = try keyword(after: "normal", oneOf: ["exit"])
        for tok in try arguments(after: "normal exit", expecting: "exit statuses or signal names") {
            let condition: ExitCondition
            if let status = wholeNumber(tok.text) {
                guard status >= 0 && status <= 255 else {
                    throw lexer.error("exit status \(tok.text) after 'normal exit' is out of range; expected 0 to 255", at: tokenMark(tok))
                }
                condition = .status(status)
            } else if let signal = Signal(parsing: tok.text) {
                condition = .signal(signal)
            } else {
                throw lexer.error("expected an exit status or a signal name after 'normal exit', got '\(tok.text)'", at: tokenMark(tok))
            }
            if !job.normalExit.contains(condition) { job.normalExit.append(condition) }
        }
    }

    /// `expect stop|daemon|fork|notify|none`.
    mutating func stanzaExpect() throws(JobParseError) {
        let mark = lexer.nextMark()
        let names = ExpectMode.allCases.map(\.rawValue)
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected stop, daemon, fork, notify or none after 'expect'", at: mark)
        }
        guard let mode = ExpectMode(rawValue: tok.text) else {
            throw lexer.error("expected \(names.filter { $0 != "none" }.joined(separator: ", ")) or none after 'expect', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "expect \(tok.text)")
        job.expect = mode
    }

    /// `kill signal SIGNAL` or `kill timeout SECONDS`.
    mutating func stanzaKill() throws(JobParseError) {
        let which = try keyword(after: "kill", oneOf: ["signal", "timeout"])
        if which.text == "signal" {
            job.killSignal = try signalArgument(after: "kill signal")
            return
        }
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a number of seconds after 'kill timeout'", at: mark)
        }
        guard let seconds = wholeNumber(tok.text), seconds >= 0, seconds <= Int(Int32.max) else {
            throw lexer.error("expected a number of seconds (a whole number from 0) after 'kill timeout', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "kill timeout \(tok.text)")
        job.killTimeout = seconds
    }

    /// `reload signal SIGNAL`.
    mutating func stanzaReload() throws(JobParseError) {
        _ = try keyword(after: "reload", oneOf: ["signal"])
        job.reloadSignal = try signalArgument(after: "reload signal")
    }

    /// One signal (`TERM`, `SIGTERM`, `15`) and the end of the line.
    mutating func signalArgument(after stanza: String) throws(JobParseError) -> Signal {
        let mark = lexer.nextMark()
        guard let tok = try lexer.nextToken() else {
            throw lexer.error("expected a signal name or number after '\(stanza)'", at: mark)
        }
        guard let signal = Signal(parsing: tok.text) else {
            throw lexer.error("expected a signal name or number after '\(stanza)', got '\(tok.text)'", at: mark)
        }
        try lexer.endStatement(after: "\(stanza) \(tok.text)")
        return signal
    }
}
