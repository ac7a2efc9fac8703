import JSON
import Testing

/// The Foundation-free Codable coder (`JSONValueEncoder`/`Decoder`).
@Suite struct JSONCoderTests {
    struct Sample: Codable, Equatable {
        enum Kind: String, Codable { case a, b }
        var name: String
        var count: Int32
        var big: UInt64
        var flag: Bool
        var kind: Kind
        var maybe: Int?
        var list: [Int16]
        var table: [String: [UInt8]]
        var byNumber: [Int32: String]
        var nested: [Sample]
    }

    let sample = Sample(name: "x\"y\n", count: -5, big: .max, flag: true, kind: .b, maybe: nil, list: [1, -2],
                        table: ["k": [0, 255]], byNumber: [7: "seven", -1: "minus"],
                        nested: [Sample(name: "", count: 0, big: 0, flag: false, kind: .a, maybe: 3, list: [], table: [:], byNumber: [:], nested: [])])

    @Test func everyKindOfValueRoundTrips() throws {
        let value = try JSONValueEncoder().encode(sample)
        #expect(try JSONValueDecoder().decode(Sample.self, from: value) == sample)
        // Through text and back, as a document is written and read.
        let reparsed = try JSONValue.parse(value.compact)
        #expect(try JSONValueDecoder().decode(Sample.self, from: reparsed) == sample)
    }

    @Test func keysAreSortedSoEqualValuesGiveEqualText() throws {
        let text = try JSONValueEncoder().encode(sample).compact
        #expect(text.hasPrefix("{\"big\":18446744073709551615,\"byNumber\":"), "\(text)")
        #expect(try JSONValueEncoder().encode(sample).compact == text)
    }

    @Test func wrongShapesAreErrorsNotCrashes() throws {
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Sample.self, from: .array([])) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int8.self, from: .number(300)) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(String.self, from: .number(1)) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode([Int].self, from: .object([])) }
        var value = try JSONValueEncoder().encode(sample)
        if case .object(var pairs) = value {
            pairs.removeAll { $0.0 == "count" }
            value = .object(pairs)
        }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Sample.self, from: value) }
    }

    @Test func floatingPointIsRefused() {
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode([1.5]) }
    }
}
