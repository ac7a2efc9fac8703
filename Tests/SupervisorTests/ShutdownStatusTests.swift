import Testing
@testable import Supervisor

/// The status daybreak exits with (docs/running.md, "Exit status").
@Suite struct ShutdownStatus {
    @Test func aStoppedEventGivesTheStatusAShellWould() {
        #expect(ShutdownTally.status(ofStopped: ["JOB=app", "INSTANCE=", "RESULT=ok"]) == 0)
        #expect(ShutdownTally.status(ofStopped: ["JOB=app", "RESULT=failed", "PROCESS=main", "EXIT_STATUS=7"]) == 7)
        #expect(ShutdownTally.status(ofStopped: ["JOB=app", "RESULT=failed", "PROCESS=main", "EXIT_SIGNAL=SEGV"]) == 139)
        #expect(ShutdownTally.status(ofStopped: ["JOB=app", "RESULT=failed", "PROCESS=main", "EXIT_SIGNAL=KILL", "KILLED_BY=oom"]) == 137)
        // Could not be spawned at all: no EXIT_ variable.
        #expect(ShutdownTally.status(ofStopped: ["JOB=app", "RESULT=failed", "PROCESS=main"]) == 127)
    }

    @Test func aShutdownSaysWhetherAJobFailedOrHadToBeKilled() {
        var t = ShutdownTally()
        #expect(t.status == 0)
        t.failed = 1
        #expect(t.status == ShutdownTally.someFailed)
        t.killed = 2
        #expect(t.status == ShutdownTally.someKilled)
        t.jobStatus = 5
        #expect(t.status == 5)
    }
}
