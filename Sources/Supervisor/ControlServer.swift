import Control
import JSON
import Platform

/// What control clients may hold, all of it bounded (docs/running.md,
/// "Limits on control clients"). Every figure is per daemon unless it says
/// otherwise; "privileged" is root, and the session's owner in user mode.
struct ClientLimits {
    /// Connections in all. Derived from the descriptor limit so that at
    /// least half of the descriptors stay for jobs (ptys, pipes, sockets).
    var connections: Int
    /// Of those, kept for privileged clients: an unprivileged flood can
    /// never lock root (or the owner) out.
    var reservedForPrivileged = 16
    /// Connections per unprivileged uid.
    var connectionsPerUser = 64
    /// Subscriptions (`initctl monitor`, bridges) per unprivileged uid.
    var subscribersPerUser = 16
    /// Bytes waiting to be sent to one client.
    var outbox = 4 * 1024 * 1024
    /// Bytes waiting to be sent to all clients together. Over it, a client
    /// with more than `slowReader` bytes waiting is dropped.
    var totalOutbox = 32 * 1024 * 1024
    /// What counts as a slow reader when the total is exceeded.
    var slowReader = 64 * 1024
    /// Bytes of received, unanswered requests held for all clients together.
    var totalInput = 16 * 1024 * 1024
    /// A frame that has begun must be complete within this time.
    var partialFrameTimeout: Int64 = 5_000_000_000
    /// A client with output waiting must take some of it within this time.
    var stalledReaderTimeout: Int64 = 30_000_000_000
    /// Requests served from one client in one turn of the loop.
    var requestsPerTurn = 16
    /// Requests awaiting an engine reply on one connection.
    var inFlight = 64

    /// The limits for a daemon allowed `descriptors` open descriptors.
    static func forDescriptorLimit(_ descriptors: Int) -> ClientLimits {
        ClientLimits(connections: min(4096, max(32, (descriptors - 64) / 2)))
    }
}

/// One connected control client.
///
/// Bounded by construction: a request body over `Frame.maxRequest` drops
/// the client; so does an outbox over `ClientLimits.outbox` (a client that
/// never reads its replies or events), a frame left half-sent or output
/// left untaken past its timeout, or more than `inFlight` requests
/// awaiting replies. Other clients and the daemon go on.
final class Client {
    let fd: Int32
    let credentials: PeerCredentials
    /// Root, or the session's owner in user mode: may change things, and
    /// has connections kept in reserve.
    let privileged: Bool
    var reader = FrameReader(limit: Frame.maxRequest)
    /// Bytes to send; those before `sent` have gone.
    private(set) var outbox: [UInt8] = []
    private var sent = 0
    var subscribed = false
    /// `initctl log -f`: the log file whose new output this client gets.
    var following: String?
    var inFlight = 0
    /// When the oldest unfinished frame began arriving (monotonic ns), if one has.
    var partialSince: Int64?
    /// When output last began waiting or was last taken (monotonic ns), if some waits.
    var waitingSince: Int64?
    /// What epoll watches the client for now.
    var interest: Epoll.Events = []
    /// Descriptors that arrived (SCM_RIGHTS) and wait for the next request
    /// to be handled: an `emit` from a privileged client takes them, any
    /// other request closes them. At most `Client.maxDescriptors`.
    var descriptors: [Int32] = []
    /// The most descriptors one client may have waiting (one frame's worth).
    static let maxDescriptors = 16

    /// Takes the waiting descriptors (the caller owns them now).
    func takeDescriptors() -> [Int32] {
        defer { descriptors = [] }
        return descriptors
    }

    init(fd: Int32, credentials: PeerCredentials, privileged: Bool) {
        self.fd = fd
        self.credentials = credentials
        self.privileged = privileged
    }

    /// Bytes waiting to be sent.
    var waiting: Int { outbox.count - sent }

    /// The bytes waiting to be sent (for a re-exec's document).
    var unsent: [UInt8] { Array(outbox[sent...]) }

    /// Queues one encoded frame.
    func queue(frame: [UInt8], now: Int64) {
        if waiting == 0 { waitingSince = now }
        if sent > 0 && sent >= outbox.count / 2 {
            outbox.removeFirst(sent)
            sent = 0
        }
        outbox += frame
    }

    enum FlushResult { case drained, pending, gone }

    /// Writes what the socket takes now.
    func flush(now: Int64) -> FlushResult {
        while sent < outbox.count {
            switch UnixSocket.send(fd, outbox[sent...]) {
            case .done(let n):
                sent += n
                waitingSince = now
            case .wouldBlock: return .pending
            case .closed, .failed: return .gone
            }
        }
        // A drained outbox gives its buffer back: one large reply (a `list`
        // of many jobs) would otherwise stay allocated for as long as the
        // connection stays open.
        outbox = []
        sent = 0
        waitingSince = nil
        return .drained
    }
}

/// The listening control socket and its clients.
struct ControlServer {
    let listener: Int32
    let path: String
    var clients: [Int32: Client] = [:]
    /// Connections and subscriptions of each unprivileged uid.
    var connectionsByUser: [UInt32: Int] = [:]
    var subscribersByUser: [UInt32: Int] = [:]
    /// Bytes held in all clients' input and output buffers.
    var inputBytes = 0
    var outputBytes = 0
    /// Clients with whole requests received and not yet served: the loop
    /// serves them before it waits again.
    var busy: Set<Int32> = []
    /// Whether the listener is being watched (it is not while the daemon
    /// is out of descriptors), and when to try again.
    var accepting = true
    var acceptAgainAt: Int64?
    /// Refused connections not yet reported in the log, by uid.
    var refused: [UInt32: Int] = [:]

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

    /// Why a new connection from `credentials` may not be kept, if it may not.
    func refusal(_ privileged: Bool, uid: UInt32, limits: ClientLimits) -> String? {
        if privileged {
            return clients.count >= limits.connections ? "the daemon already has \(limits.connections) control connections" : nil
        }
        if clients.count >= limits.connections - limits.reservedForPrivileged {
            return "the daemon already has \(clients.count) control connections; the last \(limits.reservedForPrivileged) are kept for root"
        }
        if connectionsByUser[uid, default: 0] >= limits.connectionsPerUser {
            return "uid \(uid) already has \(limits.connectionsPerUser) control connections"
        }
        return nil
    }
}
