import Testing
import JobFile
@testable import Engine

@Test func startingAndStartedCarryJobInstanceAndExportedVariables() {
    var h = Harness()
    h.add("web", "instance $PORT\nenv SITE=main\nexport SITE\nexport PORT\nexec /bin/web\n")
    let (_, e) = h.request(.start, "web", ["PORT=80"])
    #expect(e.environment(of: "starting") == ["JOB=web", "INSTANCE=80", "SITE=main", "PORT=80"])
    #expect(e.environment(of: "started") == ["JOB=web", "INSTANCE=80", "SITE=main", "PORT=80"])
}

@Test func stoppingAndStoppedSayResultOkAfterANormalStop() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    let (_, e1) = h.request(.stop, "svc")
    #expect(e1.environment(of: "stopping") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
    let e2 = h.exit("svc", .main, .killed(.term))
    #expect(e2.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
}

@Test func mainExitingWithAStatusFailsTheJobWithExitStatus() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    let e = h.exit("svc", .main, .exited(3))
    let failed = ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=main", "EXIT_STATUS=3"]
    #expect(e.environment(of: "stopping") == failed)
    #expect(e.environment(of: "stopped") == failed)
    #expect(h.goalState("svc") == nil)
}

@Test func mainKilledByASignalFailsTheJobWithExitSignal() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\n")
    _ = h.request(.start, "svc")
    let e = h.exit("svc", .main, .killed(Signal(number: 11)))
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=main", "EXIT_SIGNAL=SEGV"])
}

@Test func preStartFailureStopsTheJobWithProcessPreStart() {
    var h = Harness()
    h.add("svc", "pre-start exec /bin/check\nexec /bin/svc\n")
    let (req, _) = h.request(.start, "svc")
    let e = h.exit("svc", .preStart, .exited(1))
    #expect(e.spawns.isEmpty, "the main process never starts")
    #expect(e.environment(of: "stopping") == ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=pre-start", "EXIT_STATUS=1"])
    #expect(e.reply(req) == .error("Job failed to start"))
    #expect(h.goalState("svc") == nil)
}

@Test func postStopFailureIsReportedInStopped() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npost-stop exec /bin/clean\n")
    _ = h.request(.start, "svc")
    _ = h.request(.stop, "svc")
    h.exit("svc", .main, .killed(.term))
    let e = h.exit("svc", .postStop, .exited(2))
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=post-stop", "EXIT_STATUS=2"])
}

@Test func spawnFailureOfMainFailsWithoutExitVariables() {
    var h = Harness(autoSpawn: false)
    h.add("svc", "exec /bin/missing\n")
    let (req, _) = h.request(.start, "svc")
    let e = h.answerSpawn(fail: "exec: No such file or directory")
    #expect(e.environment(of: "stopping") == ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=main"])
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=failed", "PROCESS=main"])
    #expect(e.reply(req) == .error("Job failed to start"))
}

@Test func spawnFailureOfPostStartIsPassedOver() {
    var h = Harness(autoSpawn: false)
    h.add("svc", "exec /bin/svc\npost-start exec /bin/missing\n")
    _ = h.request(.start, "svc")
    h.answerSpawn()
    let e = h.answerSpawn(fail: "exec failed")
    #expect(h.goalState("svc") == "start/running")
    #expect(e.jobEvents == ["started svc"])
}

@Test func startupEventIsAnOrdinaryEventThatStartsJobs() {
    var h = Harness()
    h.add("early", "start on startup\ntask\nexec /bin/mount-all\n")
    let e = h.emit("startup")
    #expect(e.emittedNames.first == "startup")
    #expect(e.spawnedKinds == ["early:main"])
}

@Test func exportedVariablesDoNotReplaceTheEventsOwn() {
    var h = Harness()
    h.add("svc", "env JOB=other\nenv RESULT=sneaky\nexport JOB RESULT\n")
    _ = h.request(.start, "svc")
    let (_, e) = h.request(.stop, "svc")
    #expect(e.environment(of: "stopped") == ["JOB=svc", "INSTANCE=", "RESULT=ok"])
}

@Test func failedEventEmitsNameSlashFailedWithItsVariables() {
    var h = Harness()
    h.add("fsck", "start on boot\ntask\nexec /sbin/fsck\n")
    let e1 = h.emit("boot", ["LEVEL=2"], waiter: 9)
    #expect(e1.reply(9) == nil, "the emitter waits until the task is done")
    let e2 = h.exit("fsck", .main, .exited(1))
    #expect(e2.reply(9) == .error("Event failed: boot"))
    #expect(e2.emitted.contains { $0.name == "boot/failed" && $0.environment == ["LEVEL=2"] })
    #expect(!e2.emittedNames.contains("boot/failed/failed"))
}
