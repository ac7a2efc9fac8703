import JSON
import Platform

/// A blocking client of the control socket, for `initctl` and the bridges.
public final class ControlClient {
    public let path: String
    private let fd: Int32
    private var reader = FrameReader(limit: Frame.maxReply)
    private var nextID = 1

    /// Connects to the daemon at `path`.
    public init(path: String) throws(PlatformError) {
        self.path = path
        self.fd = try UnixSocket.connect(path: path)
    }

    deinit { Platform.closeDescriptor(fd) }

    /// The socket, for a client that waits on it with epoll (the bridges).
    public var descriptor: Int32 { fd }

    /// Whether bytes already read wait to be handed out: another event may
    /// be ready although the socket is not readable.
    public var hasBuffered: Bool { reader.pending > 0 }

    /// Sends a request and waits for its reply; events that arrive first
    /// are handed to `onEvent`.
    ///
    /// `descriptors` travel with the request (SCM_RIGHTS, at most 16): an
    /// `emit` gives them to the event (docs/protocol.md). The caller keeps
    /// its own copies.
    public func call(_ method: Method, _ params: Request.Params = Request.Params(), descriptors: [Int32] = [],
                     onEvent: (JSONValue) -> Void = { _ in }) throws(ControlError) -> JSONValue {
        let id = nextID
        nextID += 1
        try send(Request(id: id, method: method, params: params).json, descriptors: descriptors)
        while true {
            let message = try receive()
            if let event = message["event"] {
                onEvent(event)
                continue
            }
            guard message["id"]?.int == id else { continue }
            if let error = message["error"] {
                let code = error["code"]?.string.flatMap(ErrorCode.init(rawValue:)) ?? .internalError
                throw ControlError(id: id, code: code, message: error["message"]?.string ?? "unknown error")
            }
            return message["result"] ?? .null
        }
    }

    /// Reads the next event after `subscribe`; nil when the daemon hangs up.
    public func nextEvent() throws(ControlError) -> JSONValue? {
        while true {
            let message: JSONValue
            do {
                message = try receive()
            } catch where error.code == .internalError && error.message == ControlClient.hungUp {
                return nil
            }
            if let event = message["event"] { return event }
        }
    }

    static let hungUp = "the daemon closed the connection"

    private func send(_ value: JSONValue, descriptors: [Int32] = []) throws(ControlError) {
        var bytes = Frame.encode(value.compactBytes)[...]
        var fds = descriptors
        while !bytes.isEmpty {
            switch UnixSocket.send(fd, bytes, fds: fds) {
            case .done(let n):
                bytes = bytes.dropFirst(n)
                fds = []
            case .wouldBlock: continue
            case .closed: throw ControlError(id: nil, code: .internalError, message: ControlClient.hungUp)
            case .failed(let e): throw ControlError(id: nil, code: .internalError, message: "cannot write to \(path): \(e)")
            }
        }
    }

    private func receive() throws(ControlError) -> JSONValue {
        while true {
            let body: [UInt8]?
            do {
                body = try reader.next()
            } catch {
                throw ControlError(id: nil, code: .internalError, message: "the daemon sent a bad frame: \(error)")
            }
            if let body {
                do {
                    return try JSONValue.parse(body)
                } catch {
                    throw ControlError(id: nil, code: .internalError, message: "the daemon sent \(error)")
                }
            }
            let (io, bytes, fds) = UnixSocket.receive(fd)
            for f in fds { Platform.closeDescriptor(f) }
            switch io {
            case .done: reader.append(bytes)
            case .wouldBlock: continue
            case .closed: throw ControlError(id: nil, code: .internalError, message: ControlClient.hungUp)
            case .failed(let e): throw ControlError(id: nil, code: .internalError, message: "cannot read from \(path): \(e)")
            }
        }
    }
}
