import Testing
import CSpawn
#if canImport(Glibc)
import Glibc
#endif

@Test func cloexecPipeSetsCloseOnExecOnBothEnds() {
    var fds: [Int32] = [-1, -1]
    let rc = fds.withUnsafeMutableBufferPointer { cspawn_cloexec_pipe($0.baseAddress!) }
    #expect(rc == 0)
    defer { close(fds[0]); close(fds[1]) }
    #expect(fcntl(fds[0], F_GETFD) & FD_CLOEXEC != 0)
    #expect(fcntl(fds[1], F_GETFD) & FD_CLOEXEC != 0)
}
