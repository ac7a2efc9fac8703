import Platform
import Testing
@testable import Supervisor

/// The tracking state machine, driven by hand-made ptrace stops: every
/// shape of daemon start, without a process.
@Suite struct TrackingMachine {
    let trap = SignalNumber.trap
    let stop = SignalNumber.stop

    /// A tracker of main process 100, past its exec stop.
    func started(_ expect: Tracking.Expect) -> Tracking {
        var t = Tracking(root: 100, expect: expect, label: "svc", now: 0)
        #expect(t.stopped(100, .signal(trap), now: 0) == [.setOptions(100, exitStops: true), .resume(100, signal: 0, syscalls: false)])
        return t
    }

    /// `parent` forks `child`, whose starting stop follows.
    /// Forked processes are followed through their system calls from their first stop.
    func fork(_ t: inout Tracking, _ parent: Int32, _ child: Int32) {
        let a = t.stopped(parent, .forked(child: child, clone: false), now: 0)
        #expect(a.contains(.resume(parent, signal: 0, syscalls: parent != 100)))
        #expect(t.stopped(child, .signal(stop), now: 0) == [.resume(child, signal: 0, syscalls: true)])
    }

    /// `pid` exits; returns the actions of its exit stop.
    func exit(_ t: inout Tracking, _ pid: Int32, status: Int32 = 0) -> [Tracking.Action] {
        let a = t.stopped(pid, .exiting(rawStatus: status), now: 0)
        _ = t.exited(pid, rawStatus: status, now: 0)
        return a
    }

    @Test func classicDoubleForkEndsWithTheGrandchildOnceItWaitsForWork() {
        var t = started(.daemon)
        fork(&t, 100, 101)
        #expect(!exit(&t, 100).contains { if case .interrupt = $0 { true } else { false } })
        fork(&t, 101, 102)
        _ = exit(&t, 101)
        #expect(t.stopped(102, .syscallEntry(.none), now: 0) == [.resume(102, signal: 0, syscalls: true)])
        let a = t.stopped(102, .syscallEntry(.eventLoop), now: 0)
        #expect(a == [.ready(finalPid: 102), .detach(102, signal: 0)])
        #expect(t.phase == .done)
    }

    @Test func aChildAlreadyWaitingIsTakenWhenItsLastParentExits() {
        var t = started(.daemon)
        fork(&t, 100, 101)
        fork(&t, 101, 102)
        _ = exit(&t, 100)
        #expect(t.stopped(102, .syscallEntry(.eventLoop), now: 0) == [.resume(102, signal: 0, syscalls: true)])
        let a = t.stopped(101, .exiting(rawStatus: 0), now: 0)
        #expect(a == [.ready(finalPid: 102), .interrupt(102), .detach(101, signal: 0)])
        #expect(t.phase == .detaching)
        #expect(t.stopped(102, .syscallExit, now: 0) == [.detach(102, signal: 0), .continueProcess(102)])
        #expect(t.phase == .done)
    }

    @Test func aThirdForkIsFollowedBeforeDeciding() {
        var t = started(.daemon)
        fork(&t, 100, 101)
        _ = exit(&t, 100)
        fork(&t, 101, 102)
        _ = exit(&t, 101)
        fork(&t, 102, 103)
        #expect(t.finalPid == nil)
        _ = exit(&t, 102)
        #expect(t.stopped(103, .syscallEntry(.eventLoop), now: 0).contains(.ready(finalPid: 103)))
    }

    @Test func oneForkUnderExpectDaemonIsTakenWhenTheChildWaitsAlone() {
        var t = started(.daemon)
        fork(&t, 100, 101)
        _ = exit(&t, 100)
        let a = t.stopped(101, .syscallEntry(.eventLoop), now: 0)
        #expect(a.contains(.ready(finalPid: 101)))
        #expect(a.contains { if case .log(.warn, let l) = $0 { l.contains("forked 1 time") } else { false } })
    }

    @Test func twoForksUnderExpectForkEndWithTheSecondChild() {
        var t = started(.fork)
        fork(&t, 100, 101)
        _ = exit(&t, 100)
        #expect(t.stopped(101, .syscallEntry(.none), now: 0) == [.resume(101, signal: 0, syscalls: true)])
        fork(&t, 101, 102)
        _ = exit(&t, 101)
        #expect(t.stopped(102, .syscallEntry(.eventLoop), now: 0).contains(.ready(finalPid: 102)))
    }

    @Test func aChildIsNotTakenWhileItsParentLives() {
        var t = started(.fork)
        fork(&t, 100, 101)
        // The parent waits for the child's readiness; the child waits for work.
        _ = t.stopped(101, .syscallEntry(.eventLoop), now: 0)
        #expect(t.finalPid == nil)
        let a = t.stopped(100, .exiting(rawStatus: 0), now: 0)
        #expect(a.contains(.ready(finalPid: 101)) && a.contains(.interrupt(101)))
    }

    @Test func workersAreDetachedButNotTaken() {
        var t = started(.fork)
        fork(&t, 100, 101)
        fork(&t, 101, 102)
        fork(&t, 101, 103)
        _ = exit(&t, 100)
        let a = t.stopped(101, .syscallEntry(.eventLoop), now: 0)
        #expect(a.contains(.ready(finalPid: 101)))
        #expect(a.contains(.interrupt(102)) && a.contains(.interrupt(103)))
        #expect(a.contains { if case .log(_, let l) = $0 { l.contains("(102) (103)") } else { false } })
        #expect(t.phase == .detaching)
        #expect(t.stopped(102, .signal(stop), now: 0) == [.detach(102, signal: 0)])
        #expect(t.stopped(103, .signal(stop), now: 0) == [.detach(103, signal: 0)])
        #expect(t.phase == .done)
    }

    @Test func aStopBeforeOurInterruptDetachesAndDropsThePendingStop() {
        var t = started(.fork)
        fork(&t, 100, 101)
        fork(&t, 101, 102)
        _ = exit(&t, 100)
        _ = t.stopped(101, .syscallEntry(.eventLoop), now: 0)
        // Worker 102 forks before our SIGSTOP reaches it.
        let a = t.stopped(102, .forked(child: 104, clone: false), now: 0)
        #expect(a == [.log(.info, "svc: process (102) forked process (104)"), .detach(102, signal: 0), .continueProcess(102)])
        #expect(t.phase == .detaching)
        #expect(t.stopped(104, .signal(stop), now: 0) == [.detach(104, signal: 0)])
        #expect(t.phase == .done)
    }

    /// A daemon that starts its helpers before it daemonizes: the parent
    /// forks three workers, then the master, and exits. The master (the
    /// child forked last) is the daemon, as soon as it waits for work; not
    /// the oldest worker after ten seconds.
    @Test func theChildForkedLastIsTheDaemonWhenHelpersCameFirst() {
        var t = started(.fork)
        for w: Int32 in [101, 102, 103] {
            fork(&t, 100, w)
            _ = t.stopped(w, .syscallEntry(.eventLoop), now: 0)
        }
        fork(&t, 100, 104)
        _ = exit(&t, 100)
        #expect(t.finalPid == nil, "the master does not wait for work yet")
        let a = t.stopped(104, .syscallEntry(.eventLoop), now: 0)
        #expect(a.contains(.ready(finalPid: 104)))
        #expect(a.contains(.interrupt(101)) && a.contains(.interrupt(102)) && a.contains(.interrupt(103)))
    }

    /// The same daemon found idle: the master already waits when the
    /// parent exits, so the parent's exit decides.
    @Test func theChildForkedLastAndAlreadyWaitingIsTakenAtItsParentsExit() {
        var t = started(.fork)
        for w: Int32 in [101, 102, 103, 104] {
            fork(&t, 100, w)
            _ = t.stopped(w, .syscallEntry(.eventLoop), now: 0)
        }
        let a = t.stopped(100, .exiting(rawStatus: 0), now: 0)
        #expect(a.contains(.ready(finalPid: 104)))
    }

    /// Siblings whose parent still lives are no candidates.
    @Test func siblingsOfALiveParentAreNotCandidates() {
        var t = started(.fork)
        fork(&t, 100, 101)
        fork(&t, 100, 102)
        _ = t.stopped(102, .syscallEntry(.eventLoop), now: 0)
        #expect(t.finalPid == nil)
        #expect(t.candidate(t.tops()) == 100)
    }

    @Test func aMainProcessThatNeverForksIsTakenWhenIdle() {
        var t = started(.fork)
        #expect(t.nextTick == Tracking.idleNanoseconds)
        #expect(t.idle(blocked: [100: .none], now: Tracking.idleNanoseconds) == [])
        let a = t.idle(blocked: [100: .eventLoop], now: 2 * Tracking.idleNanoseconds)
        #expect(a.contains(.ready(finalPid: 100)) && a.contains(.interrupt(100)))
        #expect(a.contains { if case .log(.warn, let l) = $0 { l.contains("forked never") } else { false } })
    }

    @Test func aParentWaitingForItsChildIsNotTakenWhenIdle() {
        var t = started(.fork)
        fork(&t, 100, 101)
        #expect(!t.idle(blocked: [100: .sleep, 101: .sleep], now: Tracking.idleNanoseconds).contains { if case .ready = $0 { true } else { false } })
    }

    @Test func trackingGivesUpWithTheBestGuess() {
        var t = started(.daemon)
        fork(&t, 100, 101)
        fork(&t, 100, 102)
        _ = t.stopped(102, .execed, now: 0)
        _ = exit(&t, 100)
        let a = t.idle(blocked: [101: .none, 102: .none], now: Tracking.giveUpNanoseconds)
        #expect(a.contains(.ready(finalPid: 102)))
    }

    @Test func whenEveryProcessExitsTheMainProcessHasEnded() {
        var t = started(.daemon)
        fork(&t, 100, 101)
        _ = exit(&t, 100)
        let a = exit(&t, 101, status: 3 << 8)
        #expect(a.contains(.ended(rawStatus: 3 << 8)))
        #expect(t.phase == .done)
    }

    @Test func threadsAreNeitherCandidatesNorForks() {
        var t = started(.fork)
        _ = t.stopped(100, .forked(child: 150, clone: true), now: 0)
        #expect(t.stopped(150, .signal(stop), now: 0) == [.resume(150, signal: 0, syscalls: false)])
        #expect(t.stopped(150, .forked(child: 101, clone: false), now: 0).contains(.resume(150, signal: 0, syscalls: false)))
        #expect(t.stopped(101, .signal(stop), now: 0) == [.resume(101, signal: 0, syscalls: true)])
        #expect(t.tasks[101]?.parent == 100 && t.tasks[101]?.depth == 1)
        #expect(t.tops() == [100])
    }

    @Test func otherSignalsAreDelivered() {
        var t = started(.fork)
        #expect(t.stopped(100, .signal(SignalNumber.user1), now: 0) == [.resume(100, signal: SignalNumber.user1, syscalls: false)])
    }
}

/// The tracker following a lifecycle script: every process known while
/// the script runs, nothing decided, what it leaves behind named and
/// detached when its own process is reaped.
@Suite struct ScriptFollowing {
    let trap = SignalNumber.trap
    let stop = SignalNumber.stop

    /// A tracker of pre-start script 200, past its exec stop.
    func started() -> Tracking {
        var t = Tracking(script: 200, kind: "pre-start", label: "svc", instanceKey: "svc", now: 0)
        #expect(t.stopped(200, .signal(trap), now: 0) == [.setOptions(200, exitStops: false), .resume(200, signal: 0, syscalls: false)])
        return t
    }

    @Test func aScriptsProcessesAreFollowedWithoutSystemCallStops() {
        var t = started()
        #expect(t.stopped(200, .forked(child: 201, clone: false), now: 0).contains(.resume(200, signal: 0, syscalls: false)))
        #expect(t.stopped(201, .signal(stop), now: 0) == [.resume(201, signal: 0, syscalls: false)])
        #expect(t.stopped(201, .execed, now: 0).contains(.resume(201, signal: 0, syscalls: false)))
        #expect(t.liveProcesses == [200, 201])
        #expect(t.followsScript && t.expect == nil)
        #expect(t.nextTick == nil, "a script is never sampled for a daemon")
    }

    @Test func aScriptIsNeverTakenForADaemonWhateverItsProcessesDo() {
        var t = started()
        _ = t.stopped(200, .forked(child: 201, clone: false), now: 0)
        _ = t.stopped(201, .signal(stop), now: 0)
        _ = t.stopped(201, .forked(child: 202, clone: false), now: 0)
        _ = t.stopped(202, .signal(stop), now: 0)
        _ = t.exited(201, rawStatus: 0, now: 0)
        let a = t.stopped(202, .syscallEntry(.eventLoop), now: 0)
        #expect(!a.contains { if case .ready = $0 { true } else { false } })
        #expect(t.idle(blocked: [200: .sleep, 202: .eventLoop], now: Tracking.giveUpNanoseconds) == [])
        #expect(t.phase == .tracing && t.finalPid == nil)
    }

    @Test func aScriptThatLeavesNothingEndsQuietly() {
        var t = started()
        _ = t.stopped(200, .forked(child: 201, clone: false), now: 0)
        _ = t.stopped(201, .signal(stop), now: 0)
        _ = t.exited(201, rawStatus: 0, now: 0)
        #expect(t.phase == .tracing, "the script itself still runs")
        #expect(t.exited(200, rawStatus: 0, now: 0) == [], "nothing left, nothing to say")
        #expect(t.phase == .done)
    }

    @Test func whatAScriptLeftRunningIsNamedAndDetached() {
        var t = started()
        _ = t.stopped(200, .forked(child: 201, clone: false), now: 0)
        _ = t.stopped(201, .signal(stop), now: 0)
        _ = t.stopped(201, .forked(child: 202, clone: false), now: 0)
        // 202's starting stop has not come yet when the script ends.
        let a = t.exited(200, rawStatus: 0, now: 0)
        #expect(a == [.log(.message, "svc pre-start process (200) ended but left processes running: (201) (202)"),
                      .interrupt(201)])
        #expect(t.phase == .detaching)
        #expect(t.stopped(202, .signal(stop), now: 0) == [.detach(202, signal: 0)])
        #expect(t.stopped(201, .signal(stop), now: 0) == [.detach(201, signal: 0)])
        #expect(t.phase == .done)
    }

    @Test func theExitOfAProcessTheScriptStartedEndsNothing() {
        var t = started()
        _ = t.stopped(200, .forked(child: 201, clone: false), now: 0)
        _ = t.stopped(201, .signal(stop), now: 0)
        // Scripts have no exit stops: an exit is known when it is reaped.
        #expect(t.exited(201, rawStatus: 9, now: 0) == [])
        #expect(t.liveProcesses == [200] && t.phase == .tracing)
    }

    @Test func aLongScriptKeepsNoRecordOfTheCommandsItRan() {
        var t = started()
        for child in Int32(1000)..<Int32(4000) {
            _ = t.stopped(200, .forked(child: child, clone: false), now: 0)
            _ = t.stopped(child, .signal(stop), now: 0)
            _ = t.stopped(child, .execed, now: 0)
            _ = t.exited(child, rawStatus: 0, now: 0)
        }
        #expect(t.tasks.count == 1 && t.tasks[200] != nil)
        #expect(t.exited(200, rawStatus: 0, now: 0) == [] && t.phase == .done)
    }
}

@Suite struct NotifyMessages {
    @Test func readyStatusAndMainPidAreRead() {
        let m = NotifyMessage("READY=1\nSTATUS=serving 3 clients\nMAINPID=4242\nWATCHDOG=1\n")
        #expect(m == NotifyMessage(ready: true, mainPid: 4242, status: "serving 3 clients"))
    }

    @Test func otherValuesAndBadPidsAreIgnored() {
        #expect(NotifyMessage("READY=0\nMAINPID=abc\nMAINPID=-1") == NotifyMessage())
    }
}

extension NotifyMessage {
    init(ready: Bool = false, mainPid: Int32? = nil, status: String? = nil) {
        self.init("")
        self.ready = ready
        self.mainPid = mainPid
        self.status = status
    }
}

/// The bounded wait of `expect stop` (`StopWait`).
@Suite struct ExpectStopWait {
    let second = Tracking.idleNanoseconds

    @Test func anIdleProcessIsTakenAsReadyAfterASecond() {
        var w = StopWait(label: "svc", since: 0)
        #expect(w.nextTick == second)
        #expect(w.tick(pid: 7, blocked: .eventLoop, now: second / 2) == nil, "not before its tick")
        let warning = w.tick(pid: 7, blocked: .eventLoop, now: second)
        #expect(warning == "svc: 'expect stop' but main process (7) has not stopped itself after 1 s and waits for work; taking it as ready")
        #expect(w.takenAsReady)
        #expect(w.nextTick == nil)
        #expect(w.tick(pid: 7, blocked: .eventLoop, now: 5 * second) == nil, "decided once")
    }

    @Test func aBusyOrSleepingProcessIsTakenAfterTheGiveUpTime() {
        var w = StopWait(label: "svc", since: 0)
        var now: Int64 = 0
        while now + second < Tracking.giveUpNanoseconds {
            now += second
            #expect(w.tick(pid: 7, blocked: now % (2 * second) == 0 ? .sleep : .none, now: now) == nil)
        }
        let warning = w.tick(pid: 7, blocked: .sleep, now: Tracking.giveUpNanoseconds)
        #expect(warning == "svc: 'expect stop' but main process (7) has not stopped itself after 10 s; taking it as ready")
    }
}
