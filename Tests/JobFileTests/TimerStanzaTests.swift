import Testing
@testable import JobFile

@Suite struct TimerStanzaTests {
    @Test func wellFormedTimersParse() throws {
        let j = try parse("start on timer EVERY=1h30m COUNT=3 PERSISTENT=yes\n")
        #expect(j.startOn == ev("timer", kv("EVERY", "1h30m"), kv("COUNT", "3"), kv("PERSISTENT", "yes")))
        _ = try parse("start on timer SCHEDULE=\"*/15 9-17 * * mon-fri\" TZ=Europe/Berlin\n")
        _ = try parse("start on (timer AFTER=\"started mysql\" DELAY=2m\n  and filesystem)\n")
        _ = try parse("stop on timer SCHEDULE=@daily\n")
    }

    @Test func malformedTimerIsRejectedWithLineAndWhatWasExpected() {
        expectError("# a\nstart on timer EVERY=soon\n", 2, 1, "timer in 'start on': EVERY='soon': expected an interval like 30s, 15m, 2h, 1d or 1h30m")
        expectError("start on timer SCHEDULE=\"61 * * * *\"\n", 1, 1, "timer in 'start on': SCHEDULE=\"61 * * * *\": minute '61': expected a number from 0 to 59")
        expectError("start on timer AFTER=startup DELAY=x\n", 1, 1, "timer in 'start on': DELAY='x': expected an interval like 0s, 30s, 2m or 1h30m")
        expectError("start on timer EVERY=1s COUNT=-1\n", 1, 1, "timer in 'start on': COUNT='-1': expected a whole number of runs, 1 or more")
        expectError("stop on timer SCHEDULE=@daily TZ=/etc/x\n", 1, 1, "timer in 'stop on': TZ='/etc/x': expected a zone name like UTC or Europe/Berlin")
    }
}
