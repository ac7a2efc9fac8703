import FoundationEssentials
import JSON
@testable import Engine

// JSON for the engine state, through the Foundation-free coder the daemon
// uses for a stateful re-exec (JSON.JSONValueEncoder), so the tests pin the
// very code that writes and reads the document.
extension EngineState {
    /// The state as JSON, keys sorted, so equal states give equal bytes.
    public func jsonData() throws -> Data {
        Data(try JSONValueEncoder().encode(self).compact.utf8)
    }

    /// Reads a state written by `jsonData()`.
    public static func fromJSON(_ data: Data) throws -> EngineState {
        let value = try JSONValue.parse(Array(data))
        return try JSONValueDecoder().decode(EngineState.self, from: value)
    }

    /// The same state through Foundation's own coder, to check ours against.
    public func foundationJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
