/// libFuzzer target: the control protocol's decoding, as the daemon runs it
/// on bytes from a client: `FrameReader` (framing), `JSONValue.parse` and
/// `Request.decode`.
///
/// The first byte is a selector: its top bit set means the rest is one
/// request body (JSON), decoded directly; otherwise the rest is a byte stream
/// from a client, fed to a `FrameReader` in chunks of 1 to 64 bytes (the low
/// six bits), with the daemon's limit or a small one (bit 6).
///
/// Properties checked for every input:
/// - framing does not depend on chunking: the frames (and the failure, if
///   any) are those a one-pass reference decoder finds in the whole stream;
/// - after each chunk is drained, the reader holds less than one header and
///   one largest body (4 + limit bytes);
/// - a body that is JSON prints (`compact`) to JSON that parses to the same
///   value;
/// - a decoded request encodes (`json`) and decodes to the same request;
/// - a refused request gets an error with a message, whose reply is JSON,
///   and which carries an id only when the body had that whole-number id.
import Control
import FuzzSupport
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let selector = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    if selector & 0x80 != 0 {
        checkRequest(rest)
    } else {
        let chunk = Int(selector & 0x3F) + 1
        let limit = selector & 0x40 != 0 ? 64 : Frame.maxRequest
        for body in checkFrames(rest, chunk: chunk, limit: limit) { checkRequest(body) }
    }
    return 0
}

/// Feeds `wire` to a FrameReader `chunk` bytes at a time, as the daemon does
/// (draining after each read), and returns the frames.
func checkFrames(_ wire: [UInt8], chunk: Int, limit: Int) -> [[UInt8]] {
    var reader = FrameReader(limit: limit)
    var frames: [[UInt8]] = []
    var failure: FrameReader.Failure?
    var i = 0
    reading: while i < wire.count {
        reader.append(wire[i..<min(i + chunk, wire.count)])
        i += chunk
        do {
            while let body = try reader.next() { frames.append(body) }
        } catch {
            failure = error
            break reading
        }
        fuzzCheck(reader.pending < 4 + limit, "reader holds \(reader.pending) bytes after draining (limit \(limit))")
    }
    let (expected, expectedFailure) = referenceFrames(wire, limit: limit)
    if failure == nil {
        fuzzCheck(frames == expected && expectedFailure == nil,
                  "chunks of \(chunk) gave \(frames.count) frames, the reference \(expected.count) and \(String(describing: expectedFailure))")
    } else {
        // The reader stops at the first bad header, which the reference sees
        // once it has read every frame before it.
        fuzzCheck(failure == expectedFailure && frames == expected,
                  "chunks of \(chunk) failed with \(String(describing: failure)), the reference with \(String(describing: expectedFailure))")
    }
    return frames
}

/// The frames in a whole stream, by the protocol's definition
/// (docs/protocol.md): a 4-byte big-endian length (1...limit), then the body.
func referenceFrames(_ wire: [UInt8], limit: Int) -> ([[UInt8]], FrameReader.Failure?) {
    var frames: [[UInt8]] = []
    var at = 0
    while wire.count - at >= 4 {
        let n = wire[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard n > 0 && n <= limit else { return (frames, .badLength(n)) }
        guard wire.count - at - 4 >= n else { break }
        frames.append(Array(wire[(at + 4)..<(at + 4 + n)]))
        at += 4 + n
    }
    return (frames, nil)
}

func checkRequest(_ body: [UInt8]) {
    let parsed = try? JSONValue.parse(body)
    if let parsed {
        let compact = parsed.compact
        let again = try? JSONValue.parse(compact)
        fuzzCheck(again == parsed, "JSON printed as \(compact) does not parse back to the same value")
    }
    switch Request.decode(body) {
    case .success(let request):
        fuzzCheck(parsed != nil, "a body that is not JSON decoded as a request")
        let encoded = Array(request.json.compact.utf8)
        fuzzCheck(Request.decode(encoded) == .success(request), "request \(request.json.compact) does not decode to itself")
    case .failure(let error):
        fuzzCheck(!error.message.isEmpty, "an error reply without a message")
        fuzzCheck((try? JSONValue.parse(error.json.compact)) != nil, "error reply is not JSON: \(error.json.compact)")
        if let id = error.id {
            fuzzCheck(parsed?["id"]?.int == id, "error carries id \(id) the request did not have")
        }
    }
}
