import Testing
import PropertyBased
@testable import JobFile

/// A deterministic generator of random values from a seed (SplitMix64), so
/// every failing case can be replayed from the seed PropertyBased reports.
struct Random {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func bool(_ oneIn: Int = 2) -> Bool { int(1...oneIn) == 1 }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func maybe<T>(_ make: (inout Random) -> T) -> T? { bool(3) ? make(&self) : nil }

    /// A string that exercises quoting: blanks, quotes, backslashes, `#`,
    /// parentheses, newlines, `$` and non-ASCII characters.
    mutating func text(_ length: ClosedRange<Int> = 0...12) -> String {
        let pool: [Character] = Array("abcXYZ019_-./*$=") + [" ", "\t", "\"", "'", "\\", "#", "(", ")", "\n", "é", "!", "[", "]"]
        return String((0..<int(length)).map { _ in pick(pool) })
    }

    /// A non-empty word of ordinary characters.
    mutating func word() -> String {
        let pool = Array("abcdefxyz0123456789-_/.*")
        return String((0..<int(1...8)).map { _ in pick(pool) })
    }

    mutating func name() -> String {
        let first = Array("ABCXYZ_abc")
        let rest = Array("ABCXYZ_abc019")
        return String(pick(first)) + String((0..<int(0...6)).map { _ in pick(rest) })
    }

    mutating func eventExpression(depth: Int) -> EventExpression {
        if depth == 0 || bool(3) {
            var args: [EventArgument] = []
            for _ in 0..<int(0...2) { args.append(EventArgument(value: pick([word(), text(1...6).replacingEquals()]))) }
            for _ in 0..<int(0...2) { args.append(EventArgument(key: name(), value: text(0...6), negated: bool())) }
            return .match(EventMatch(name: pick([word(), "and", "or", "a b", "x#y"]), arguments: args))
        }
        let l = eventExpression(depth: depth - 1), r = eventExpression(depth: depth - 1)
        return bool() ? .and(l, r) : .or(l, r)
    }

    mutating func stateExpression(depth: Int) -> StateExpression {
        if depth == 0 || bool(3) { return .running(pick([word(), "not", "and", "running", "net/apache"])) }
        switch int(0...2) {
        case 0: return .not(stateExpression(depth: depth - 1))
        case 1: return .and(stateExpression(depth: depth - 1), stateExpression(depth: depth - 1))
        default: return .or(stateExpression(depth: depth - 1), stateExpression(depth: depth - 1))
        }
    }

    mutating func command() -> String {
        var words: [String] = []
        for _ in 0..<int(1...5) { words.append(pick([word(), "$VAR", "\"quoted # text\"", "'single \\ quote'", "a=b", "\\#"])) }
        return words.joined(separator: " ")
    }

    mutating func scriptBody() -> String {
        var body = ""
        for _ in 0..<int(0...4) {
            var line = pick(["", "  ", "\t"]) + text(0...20).replacingNewlines()
            if line.trimmingBlanks().hasPrefix("end") { line = "# " + line }
            body += line + "\n"
        }
        return body
    }

    mutating func process() -> ProcessSpec {
        bool() ? .exec(command()) : .script(scriptBody())
    }

    /// A random job, limited to values the parser can produce.
    mutating func job() -> JobClass {
        var j = JobClass(name: "random")
        j.description = maybe { $0.text() }
        j.author = maybe { $0.text() }
        j.version = maybe { $0.text() }
        j.usage = maybe { $0.text() }
        j.emits = unique((0..<int(0...3)).map { _ in pick([word(), "a b", "\"q\""]) })
        j.startOn = maybe { $0.eventExpression(depth: 3) }
        j.stopOn = maybe { $0.eventExpression(depth: 3) }
        j.whileCondition = maybe { $0.stateExpression(depth: 3) }
        j.instance = maybe { $0.text() }
        j.task = bool()
        j.respawn = bool()
        j.respawnLimit = pick([.default, .unlimited, .limit(count: int(1...99), interval: int(1...99))])
        j.envFiles = unique((0..<int(0...2)).map { _ in word() }).map { EnvFileEntry(path: "/etc/default/" + $0, optional: bool()) }
        j.logSize = maybe { g in g.bool() ? LogSize.unlimited : .bytes(g.int(4096...99_999_999)) }
        j.logKeep = maybe { $0.int(0...1000) }
        j.respawnDelay = maybe { g in
            let a = g.int(1...99_999)
            return RespawnDelay(initialMilliseconds: a, maximumMilliseconds: a + g.int(0...99_999))
        }
        let namedSignals = (1...64).filter { $0 != 32 && $0 != 33 }.map { Signal(number: Int32($0)) }
        j.normalExit = unique((0..<int(0...4)).map { _ in bool() ? ExitCondition.status(int(0...255)) : .signal(pick(namedSignals)) })
        for kind in ProcessKind.allCases where bool() { j.setProcess(kind, process()) }
        j.console = pick(ConsoleMode.allCases)
        var envNames: [String] = []
        for _ in 0..<int(0...4) {
            let n = name()
            if !envNames.contains(n) {
                envNames.append(n)
                j.env.append(EnvVariable(name: n, value: maybe { $0.text() } ?? (bool() ? "" : nil)))
            }
        }
        j.export = unique((0..<int(0...3)).map { _ in name() })
        j.expect = pick(ExpectMode.allCases)
        j.killSignal = Signal(number: Int32(int(1...64)))
        j.killTimeout = int(0...600)
        j.reloadSignal = Signal(number: Int32(int(1...64)))
        var resources = Set<ResourceLimit.Resource>()
        for _ in 0..<int(0...3) { resources.insert(pick(ResourceLimit.Resource.allCases)) }
        j.limits = resources.sorted().map { r in
            let soft = UInt64(int(0...1_000_000))
            return ResourceLimit(resource: r, soft: bool(4) ? .unlimited : .value(soft),
                                 hard: bool(4) ? .unlimited : .value(soft + UInt64(int(0...10))))
        }.map { l in l.soft <= l.hard ? l : ResourceLimit(resource: l.resource, soft: l.hard, hard: l.hard) }
        j.nice = maybe { $0.int(-20...19) }
        j.oomScore = maybe { $0.bool(4) ? .never : .score($0.int(-999...1000)) }
        j.umask = maybe { $0.int(0...0o777) }
        j.chdir = maybe { $0.text() }
        j.chroot = maybe { $0.text() }
        j.setuid = maybe { $0.word() }
        j.setgid = maybe { $0.word() }
        j.apparmorLoad = maybe { $0.text() }
        j.apparmorSwitch = maybe { $0.text() }
        var cgroups: [CgroupSetting] = []
        for _ in 0..<int(0...3) {
            let hasKey = bool()
            let c = CgroupSetting(controller: pick(["cpu", "memory", "pids", "a b"]), name: maybe { $0.word() },
                                  key: hasKey ? pick(["memory.max", "pids.max", "limit_in_bytes"]) : nil,
                                  value: hasKey ? text(0...8) : nil)
            if !cgroups.contains(where: { $0.controller == c.controller && $0.name == c.name && $0.key == c.key }) { cgroups.append(c) }
        }
        j.cgroups = cgroups
        j.namespaces = NamespaceKind.allCases.filter { _ in bool(3) }
        return j
    }

    func unique<T: Equatable>(_ items: [T]) -> [T] {
        var out: [T] = []
        for i in items where !out.contains(i) { out.append(i) }
        return out
    }
}

extension String {
    func replacingEquals() -> String { String(map { $0 == "=" ? "+" : $0 }) }
    func replacingNewlines() -> String { String(map { $0 == "\n" ? " " : $0 }) }
    func trimmingBlanks() -> String { String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })) }
}

@Suite struct Properties {
    @Test func printingAParsedJobAndParsingItAgainGivesTheSameValue() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
            var random = Random(seed: UInt64(seed))
            let job = random.job()
            let text = job.jobFileText
            do {
                let again = try Parser.parse(name: job.name, text: text, file: "random.conf")
                #expect(again == job, "printed form:\n\(text)")
            } catch {
                Issue.record("printed job did not parse: \(error)\n\(text)")
            }
        }
    }

    @Test func printedFormIsAFixedPoint() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int.max)) { seed in
            var random = Random(seed: UInt64(seed))
            let text = random.job().jobFileText
            let again = try? Parser.parse(name: "random", text: text, file: "random.conf").jobFileText
            #expect(again == text)
        }
    }

    /// Random soup of stanza words and syntax characters: the parser must
    /// answer every input with a job or an error, and any job it accepts
    /// must survive printing and parsing again.
    @Test func anyInputGivesAJobOrAnErrorAndAcceptedJobsRoundTrip() async {
        let words = ["start", "stop", "on", "and", "or", "(", ")", "manual", "task", "respawn", "limit", "exec", "script",
                     "end", "pre-start", "post-stop", "env", "A=1", "\"", "'", "\\", "#", "\n", " ", "\t", "\r", "kill",
                     "signal", "timeout", "TERM", "5", "-1", "unlimited", "normal", "exit", "while", "not", "running",
                     "cgroup", "namespace", "net", "oom", "score", "never", "umask", "022", "nice", "instance", "$X",
                     "console", "log", "expect", "fork", "description", "x=y", "!=", "é", "\u{0}"]
        await propertyCheck(count: 3000, input: Gen.int(in: 0...Int.max)) { seed in
            var random = Random(seed: UInt64(seed))
            var text = ""
            for _ in 0..<random.int(0...40) {
                text += random.pick(words)
                if random.bool() { text += random.pick([" ", "\n", ""]) }
            }
            do throws(JobParseError) {
                let job = try Parser.parse(name: "fuzz", text: text, file: "fuzz.conf")
                let again = try Parser.parse(name: "fuzz", text: job.jobFileText, file: "printed.conf")
                #expect(again == job, "input:\n\(text)\nprinted:\n\(job.jobFileText)")
            } catch {
                #expect(error.line >= 1 && error.column >= 1, "bad position for input:\n\(text)")
                #expect(!error.message.isEmpty)
            }
        }
    }

    @Test func randomBytesNeverCrashTheParser() async {
        await propertyCheck(count: 2000, input: Gen.int(in: 0...Int.max)) { seed in
            var random = Random(seed: UInt64(seed))
            let bytes = (0..<random.int(0...200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let result = Result { () throws(JobParseError) -> JobClass in try Parser.parse(name: "b", bytes: bytes, file: "b.conf") }
            switch result {
            case .success(let job): #expect(job.name == "b")
            case .failure(let error): #expect(error.line >= 1)
            }
        }
    }
}
