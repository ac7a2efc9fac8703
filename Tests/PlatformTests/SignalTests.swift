import Platform
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Test func waitStatusesDecode() {
    #expect(ChildStatus(rawStatus: 0x0000) == .exited(0))
    #expect(ChildStatus(rawStatus: 0x0300) == .exited(3))
    #expect(ChildStatus(rawStatus: 0xff00) == .exited(255))
    #expect(ChildStatus(rawStatus: 0x000f) == .signaled(15, coreDumped: false))
    #expect(ChildStatus(rawStatus: 0x008b) == .signaled(11, coreDumped: true))
    #expect(ChildStatus(rawStatus: 0x137f) == .stopped(19, ptraceEvent: 0))
    #expect(ChildStatus(rawStatus: 0x1_057f) == .stopped(5, ptraceEvent: 1))  // PTRACE_EVENT_FORK
    #expect(ChildStatus(rawStatus: 0xffff) == .continued)
}

@Test func reapingWithNoChildOfThatPidReturnsNothing() throws {
    // A pid that is not our child: waitpid says ECHILD, the reaper says nil.
    #expect(try Reaper.reap(1) == nil)
}

@Test func signalDescriptorReadsABlockedSignal() throws {
    // SIGUSR2 sent to this thread only: the test process has other threads,
    // and a process-wide SIGUSR2 could land on one that does not block it.
    let usr2 = SignalSet([SIGUSR2])
    let before = try SignalMask.block(usr2)
    defer { _ = try? SignalMask.set(before) }
    let signals = try SignalDescriptor.open(usr2)
    defer { signals.close() }
    #expect(fcntl(signals.fileDescriptor.rawValue, F_GETFD) & FD_CLOEXEC != 0)
    #expect(try signals.read() == nil)  // nothing pending, and no blocking
    #expect(pthread_kill(pthread_self(), SIGUSR2) == 0)
    let info = try #require(try signals.read())
    #expect(info.signal == SIGUSR2)
    #expect(info.code == SI_TKILL)
    #expect(info.pid == getpid())
    #expect(try signals.read() == nil)
}

@Test func signalSetHoldsItsSignals() {
    let set = SignalSet([SIGCHLD, SIGHUP])
    #expect(set.contains(SIGCHLD))
    #expect(set.contains(SIGHUP))
    #expect(!set.contains(SIGTERM))
}
