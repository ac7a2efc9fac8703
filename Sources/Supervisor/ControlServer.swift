import Control
import JSON
import Platform

/// One connected control client.
///
/// Bounded by construction: a request body over `Frame.maxRequest` drops
/// the client; so does an outbox over `Client.maxOutbox` (a client that
/// never reads its replies or events), or more than `maxInFlight` requests
/// awaiting replies. Other clients and the daemon go on.
final class Client {
    static let maxOutbox = 4 * 1024 * 1024
    static let maxInFlight = 64

    let fd: Int32
    let credentials: PeerCredentials
    var reader = FrameReader(limit: Frame.maxRequest)
    var outbox: [UInt8] = []
    var subscribed = false
    var inFlight = 0
    /// Set when the client must be dropped (after its outbox is flushed, if `flushFirst`).
    var closing = false

    init(fd: Int32, credentials: PeerCredentials) {
        self.fd = fd
        self.credentials = credentials
    }

    /// Queues one message. Returns false when the outbox would overflow.
    func queue(_ value: JSONValue) -> Bool {
        let frame = Frame.encode(Array(value.compact.utf8))
        guard outbox.count + frame.count <= Client.maxOutbox else { return false }
        outbox += frame
        return true
    }

    enum FlushResult { case drained, pending, gone }

    /// Writes what the socket takes now.
    func flush() -> FlushResult {
        while !outbox.isEmpty {
            switch UnixSocket.send(fd, outbox[...]) {
            // A drained outbox gives its buffer back: one large reply (a
            // `list` of many jobs) would otherwise stay allocated for as
            // long as the connection stays open.
            case .done(let n) where n == outbox.count: outbox = []
            case .done(let n): outbox.removeFirst(n)
            case .wouldBlock: return .pending
            case .closed, .failed: return .gone
            }
        }
        return .drained
    }
}

/// The listening control socket and its clients.
struct ControlServer {
    let listener: Int32
    let path: String
    var clients: [Int32: Client] = [:]

    /// Creates the socket, its directory and permissions.
    ///
    /// User mode: the directory is made 0700 and must belong to us; the
    /// socket is 0600. System mode: the socket is 0666, and authorisation
    /// (SO_PEERCRED) decides what each client may do.
    static func open(path: String, userMode: Bool) throws(PlatformError) -> ControlServer {
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !dir.isEmpty {
            guard FileSystem.makeDirectories(dir, mode: userMode ? 0o700 : 0o755) else {
                throw PlatformError(operation: "create directory", path: dir, errno: .permissionDenied)
            }
            if userMode, let (uid, mode) = FileSystem.ownerAndMode(dir), uid != Identity.effectiveUserID || mode & 0o077 != 0 {
                throw PlatformError(operation: "use", path: dir, errno: .permissionDenied,
                                    detail: "the directory must belong to uid \(Identity.effectiveUserID) and be private (mode 0700)")
            }
        }
        let fd = try UnixSocket.listen(path: path, mode: userMode ? 0o600 : 0o666)
        return ControlServer(listener: fd, path: path)
    }
}
