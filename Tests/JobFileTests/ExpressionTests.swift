import Testing
@testable import JobFile

@Suite struct StartOnExpressions {
    func startOn(_ text: String) throws -> EventExpression? {
        try parse("start on \(text)\n").startOn
    }

    @Test func singleEventWithoutArguments() throws {
        #expect(try startOn("startup") == ev("startup"))
    }

    @Test func positionalNamedAndNegatedArguments() throws {
        #expect(try startOn("started JOB=foo") == ev("started", kv("JOB", "foo")))
        #expect(try startOn("net-device-added INTERFACE!=lo") == ev("net-device-added", neq("INTERFACE", "lo")))
        #expect(try startOn("device-added SUBSYSTEM=tty DEVPATH=ttyS*") == ev("device-added", kv("SUBSYSTEM", "tty"), kv("DEVPATH", "ttyS*")))
        #expect(try startOn("stopped foo RESULT=failed PROCESS=pre-start") == ev("stopped", pos("foo"), kv("RESULT", "failed"), kv("PROCESS", "pre-start")))
        #expect(try startOn("runlevel [2345]") == ev("runlevel", pos("[2345]")))
    }

    @Test func andOrHaveEqualPrecedenceAndGroupFromTheLeft() throws {
        // Upstart collects everything before an operator as its left operand.
        #expect(try startOn("a or b and c") == .and(.or(ev("a"), ev("b")), ev("c")))
        #expect(try startOn("a and b or c") == .or(.and(ev("a"), ev("b")), ev("c")))
        #expect(try startOn("a and b and c") == .and(.and(ev("a"), ev("b")), ev("c")))
    }

    @Test func parenthesesGroup() throws {
        #expect(try startOn("a or (b and c)") == .or(ev("a"), .and(ev("b"), ev("c"))))
        #expect(try startOn("(a)") == ev("a"))
        #expect(try startOn("((a or b)) and (c)") == .and(.or(ev("a"), ev("b")), ev("c")))
        #expect(try startOn("(A and B C=D and E F=G)") == .and(.and(ev("A"), ev("B", kv("C", "D"))), ev("E", kv("F", "G"))))
    }

    @Test func parenthesesNeedNoSurroundingBlanks() throws {
        #expect(try startOn("(a)or(b)") == .or(ev("a"), ev("b")))
    }

    @Test func expressionsInsideParenthesesMaySpanLinesWithComments() throws {
        let job = try parse("""
            start on (filesystem   # when mounted
                      and started networking

                      # blank and comment lines are fine too
                      and net-device-up IFACE!=lo)
            task
            """)
        #expect(job.startOn == .and(.and(ev("filesystem"), ev("started", pos("networking"))), ev("net-device-up", neq("IFACE", "lo"))))
        #expect(job.task)
    }

    @Test func outsideParenthesesTheExpressionEndsAtTheLine() {
        expectError("start on a and\nb\n", 1, 15, "expected an event after 'and'")
    }

    @Test func quotedOperatorWordsAreOperands() throws {
        #expect(try startOn("foo \"and\" 'or'") == ev("foo", pos("and"), pos("or")))
        #expect(try startOn("\"and\"") == ev("and"))
    }

    @Test func quotedValuesKeepBlanks() throws {
        #expect(try startOn("foo MSG=\"hello world\"") == ev("foo", kv("MSG", "hello world")))
    }

    @Test func variableReferencesAreKeptForMatchTime() throws {
        #expect(try parse("stop on device-removed DEVPATH=$DEVPATH\n").stopOn == ev("device-removed", kv("DEVPATH", "$DEVPATH")))
    }

    @Test func positionalAfterNamedIsRejected() {
        expectError("start on foo A=1 bar\n", 1, 18, "positional argument 'bar' follows KEY=VALUE arguments of event 'foo'; positional arguments come first")
    }

    @Test func keysMustBeVariableNames() {
        expectError("start on foo =x\n", 1, 14, "expected a variable name before '=' in '=x'")
        expectError("start on foo A-B=c\n", 1, 14, "expected a variable name before '=' in 'A-B=c'")
        expectError("start on foo x!!=y\n", 1, 14, "expected a variable name before '!=' in 'x!!=y'")
    }

    @Test func malformedExpressionsAreRejectedWithPositions() {
        expectError("start on\n", 1, 9, "expected an event after 'start on'")
        expectError("start on and b\n", 1, 10, "expected an event before 'and'")
        expectError("start on a or or b\n", 1, 15, "expected an event after 'or', got 'or'")
        expectError("start on a or\n", 1, 14, "expected an event after 'or'")
        expectError("start on (a or b\n", 1, 10, "'(' is never closed in 'start on'")
        expectError("start on a or b)\n", 1, 16, "unmatched ')' in 'start on'")
        expectError("start on a (b)\n", 1, 12, "expected 'and' or 'or' before '('")
        expectError("start on (a) b\n", 1, 14, "expected 'and' or 'or' before 'b'")
        expectError("start on ()\n", 1, 11, "expected an event inside '()'")
        expectError("start on (a and)\n", 1, 16, "expected an event after 'and', got ')'")
        expectError("start at boot\n", 1, 7, "expected 'on' after 'start', got 'at'")
        expectError("stop\n", 1, 5, "expected 'on' after 'stop'")
    }

    @Test func unclosedParenthesisAtEndOfFileNamesWhereItOpened() {
        expectError("task\nstart on (a or\n  b\n\n", 2, 10, "'(' is never closed in 'start on'")
    }

    @Test func tooManyEventsAndTooDeepNestingAreRejected() {
        let many = (0...Parser.maxExpressionEvents).map { "e\($0)" }.joined(separator: " or ")
        #expect(parseError("start on \(many)\n")?.message == "'start on' names more than 1024 events")
        let deep = String(repeating: "(", count: Parser.maxParenDepth + 1) + "a" + String(repeating: ")", count: Parser.maxParenDepth + 1)
        #expect(parseError("start on \(deep)\n")?.message == "parentheses nested more than 64 deep in 'start on'")
        let ok = String(repeating: "(", count: Parser.maxParenDepth) + "a" + String(repeating: ")", count: Parser.maxParenDepth)
        #expect(parseError("start on \(ok)\n") == nil)
    }

    @Test func laterStartOnReplacesTheEarlierOne() throws {
        #expect(try parse("start on a\nstart on b\n").startOn == ev("b"))
    }

    @Test func manualDisregardsTheStartOnSeenBeforeIt() throws {
        #expect(try parse("start on a\nmanual\n").startOn == nil)
    }

    @Test func startOnAfterManualCountsAgain() throws {
        #expect(try parse("manual\nstart on b\n").startOn == ev("b"))
    }

    @Test func manualLeavesStopOnAlone() throws {
        #expect(try parse("stop on x\nstart on a\nmanual\n").stopOn == ev("x"))
    }

    @Test func eventNamesListsEachNameOnce() throws {
        let e = try #require(try startOn("started a or (started b and stopped c) or started d"))
        #expect(e.eventNames == ["started", "stopped"])
        #expect(e.matches.map(\.name) == ["started", "started", "stopped", "started"])
    }
}

@Suite struct WhileConditions {
    func whileOf(_ text: String) throws -> StateExpression? {
        try parse("while \(text)\n").whileCondition
    }

    @Test func bareJobNameMeansRunning() throws {
        #expect(try whileOf("bar") == .running("bar"))
        #expect(try whileOf("running bar") == .running("bar"))
    }

    @Test func andBindsTighterThanOr() throws {
        #expect(try whileOf("a or b and c") == .or(.running("a"), .and(.running("b"), .running("c"))))
        #expect(try whileOf("a and b or c") == .or(.and(.running("a"), .running("b")), .running("c")))
    }

    @Test func notBindsTightest() throws {
        #expect(try whileOf("not a and b") == .and(.not(.running("a")), .running("b")))
        #expect(try whileOf("not not a") == .not(.not(.running("a"))))
        #expect(try whileOf("not (a or b)") == .not(.or(.running("a"), .running("b"))))
    }

    @Test func theIssueExampleParses() throws {
        #expect(try whileOf("(running bar or running qux) and not running maint")
            == .and(.or(.running("bar"), .running("qux")), .not(.running("maint"))))
    }

    @Test func conditionMaySpanLinesInsideParentheses() throws {
        let job = try parse("while (bar and\n       baz)   # both\ntask\n")
        #expect(job.whileCondition == .and(.running("bar"), .running("baz")))
        #expect(job.task)
    }

    @Test func jobNamesWithSlashesAndQuotedKeywords() throws {
        #expect(try whileOf("net/apache") == .running("net/apache"))
        #expect(try whileOf("running \"not\"") == .running("not"))
    }

    @Test func holdsEvaluatesAgainstRunningJobs() throws {
        let e = try #require(try whileOf("(bar or qux) and not maint"))
        #expect(e.holds(running: { j, _ in ["bar"].contains(j) }))
        #expect(!e.holds(running: { j, _ in ["bar", "maint"].contains(j) }))
        #expect(!e.holds(running: { _, _ in false }))
        #expect(e.jobNames == ["bar", "qux", "maint"])
    }

    @Test func instanceSelectionFollowsTheJobName() throws {
        #expect(try whileOf("net-iface IFACE=eth0") == .runningWhere("net-iface", ["IFACE=eth0"]))
        #expect(try whileOf("running net-iface IFACE=eth* A=b and not c")
            == .and(.runningWhere("net-iface", ["IFACE=eth*", "A=b"]), .not(.running("c"))))
        let e = try #require(try whileOf("not (net-iface IFACE=eth0 or x)"))
        #expect(e.text == "not (running net-iface IFACE=eth0 or running x)")
        #expect(try whileOf(e.text) == e)
        #expect(e.terms.map { "\($0.job) \($0.environment) \($0.negated)" } == ["net-iface [\"IFACE=eth0\"] true", "x [] true"])
    }

    @Test func malformedConditionsAreRejected() {
        expectError("while\n", 1, 6, "expected a condition after 'while', such as 'while running JOB'")
        expectError("while a and\n", 1, 12, "expected a job name at the end of 'while'")
        expectError("while a b\n", 1, 9, "unexpected 'b' in 'while'; expected 'and', 'or' or the end of the line")
        expectError("while (a or b\n", 1, 7, "'(' is never closed in 'while'")
        expectError("while (a or b\nexec /bin/true\n", 1, 7, "'(' is never closed in 'while'")
        expectError("while a or )\n", 1, 12, "expected a job name, got ')'")
        expectError("while running\n", 1, 14, "expected a job name after 'running'")
        expectError("while not\n", 1, 10, "expected a job name at the end of 'while'")
    }
}
