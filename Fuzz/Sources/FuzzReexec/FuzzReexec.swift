/// libFuzzer target: the re-exec state document's reader,
/// `ReexecDocument.decode`, as a new daemon runs it on the bytes of its
/// `--state-fd` (docs/running.md, "Re-exec").
///
/// Properties checked for every input:
/// - decoding returns a document or a refusal with a message; it never
///   traps (a trap is what libFuzzer saves);
/// - a document that decodes encodes to bytes that decode to an equal
///   document, and encode again to the same bytes;
/// - the daemon's reader and writer (by hand) agree with the Codable
///   conformances they replaced: the same documents accepted, read to
///   equal values, written to the same bytes.
import Engine
import FuzzSupport
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReexec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let byCodable = (try? JSONValue.parse(bytes)).flatMap { try? JSONValueDecoder().decode(ReexecDocument.self, from: $0) }
    switch ReexecDocument.decode(bytes) {
    case .failure(let error):
        fuzzCheck(!error.description.isEmpty, "a refusal without a message")
        if let c = byCodable, c.format == ReexecDocument.formatName, c.version == ReexecDocument.currentVersion {
            fuzzCheck(false, "the Codable reader accepts a document the daemon's refuses: \(error)")
        }
    case .success(let document):
        fuzzCheck(byCodable == document, "the daemon's reader and the Codable one read different documents")
        fuzzCheck((try? JSONValueEncoder().encode(document).compactBytes) == (try? document.encoded()),
                  "the daemon's writer and the Codable one write different bytes")
        guard let encoded = try? document.encoded() else {
            fuzzCheck(false, "a decoded document does not encode")
            return 0
        }
        guard case .success(let again) = ReexecDocument.decode(encoded) else {
            fuzzCheck(false, "an encoded document does not decode")
            return 0
        }
        fuzzCheck(again == document, "a document does not round-trip")
        fuzzCheck((try? again.encoded()) == encoded, "equal documents encode to different bytes")
    }
    return 0
}
