/// Framing for the control socket: each message is a 4-byte big-endian
/// length followed by that many bytes of UTF-8 JSON (docs/protocol.md).
///
/// `FrameReader` accumulates bytes as they arrive and hands out whole
/// frames. It never holds more than one frame's worth of unread data plus
/// the 4-byte header, so a client that sends a huge length is refused at
/// once, before the daemon allocates anything for it.
public enum Frame {
    /// The largest request body the daemon accepts.
    public static let maxRequest = 64 * 1024
    /// The largest reply or event body a client accepts.
    public static let maxReply = 16 * 1024 * 1024

    /// The bytes on the wire for one message body.
    public static func encode(_ body: [UInt8]) -> [UInt8] {
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + body
    }
}

public struct FrameReader {
    public enum Failure: Error, Equatable, Sendable {
        /// The header announced a body over the limit (or empty).
        case badLength(Int)

        /// The length the header announced.
        public var announced: Int {
            switch self {
            case .badLength(let n): return n
            }
        }
    }

    public let limit: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limit: Int) {
        self.limit = limit
    }

    /// Bytes received but not yet returned as frames.
    public var pending: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Whether a whole frame (or a header that `next()` will refuse) is waiting.
    public var hasWholeFrame: Bool {
        guard pending >= 4 else { return false }
        let n = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        return n <= 0 || n > limit || pending >= 4 + n
    }

    /// The next whole frame's body, nil when more bytes are needed.
    public mutating func next() throws(Failure) -> [UInt8]? {
        guard pending >= 4 else { return nil }
        let n = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard n > 0 && n <= limit else { throw .badLength(n) }
        guard pending >= 4 + n else { return nil }
        let body = Array(buffer[(start + 4)..<(start + 4 + n)])
        start += 4 + n
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            start = 0
        } else if start > 64 * 1024 {
            buffer.removeFirst(start)
            start = 0
        }
        return body
    }
}
