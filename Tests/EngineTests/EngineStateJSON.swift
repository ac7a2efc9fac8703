import FoundationEssentials
@testable import Engine

// JSON bytes for the engine state. The state's Codable conformance lives in
// the Engine module and needs no Foundation; the encoder does, and linking
// FoundationEssentials into the daemon costs about 4 MB of resident memory
// (docs/PERFORMANCE.md), so the byte-level helpers live with the tests until
// stateful re-exec needs them in the daemon.
extension EngineState {
    /// The state as JSON, keys sorted, so equal states give equal bytes.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a state written by `jsonData()`.
    public static func fromJSON(_ data: Data) throws -> EngineState {
        try JSONDecoder().decode(EngineState.self, from: data)
    }
}
