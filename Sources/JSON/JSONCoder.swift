/// Codable to and from `JSONValue`, without Foundation: what the daemon
/// needs to write its whole state for a stateful re-exec (the engine's
/// state is `Codable`) and to read it back, in the static executable that
/// must not link Foundation (docs/architecture.md).
///
/// Integers of every width, `Bool`, `String`, arrays, keyed and optional
/// values. Object keys are written sorted, so equal values give equal
/// documents. Floating-point numbers are refused: nothing in the state has
/// them, and a document must read back exactly.
public struct JSONValueEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let box = Box()
        try encodeValue(value, into: box, path: [])
        return box.value ?? .null
    }
}

public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

// MARK: Encoding

/// Where an encoder puts its value; containers fill it as they go.
private final class Box {
    var value: JSONValue?
    /// Keyed and unkeyed containers keep their children as boxes until read.
    var object: [(String, Box)]?
    var array: [Box]?

    /// The finished value.
    var resolved: JSONValue {
        if let object {
            // Sorted by key; a key written twice keeps its last value.
            let order = object.indices.sorted { object[$0].0 < object[$1].0 || (object[$0].0 == object[$1].0 && $0 < $1) }
            var pairs: [(String, JSONValue)] = []
            pairs.reserveCapacity(order.count)
            for (n, i) in order.enumerated() where n + 1 == order.count || object[order[n + 1]].0 != object[i].0 {
                pairs.append((object[i].0, object[i].1.resolved))
            }
            return .object(pairs)
        }
        if let array { return .array(array.map(\.resolved)) }
        return value ?? .null
    }
}

private struct ValueEncoder: Encoder {
    let box: Box
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.object == nil { box.object = [] }
        return KeyedEncodingContainer(KeyedEncoder<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if box.array == nil { box.array = [] }
        return UnkeyedEncoder(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleEncoder(box: box, codingPath: codingPath) }
}

/// A plain value as JSON, or nil when it needs its own encoder.
private func primitive<T: Encodable>(_ value: T, _ path: [any CodingKey]) throws -> JSONValue? {
    switch value {
    case let v as Bool: return .bool(v)
    case let v as String: return .string(v)
    case let v as Int: return .number(v)
    case let v as Int8: return .number(Int(v))
    case let v as Int16: return .number(Int(v))
    case let v as Int32: return .number(Int(v))
    case let v as Int64: return .number(Int(v))
    case let v as UInt8: return .number(Int(v))
    case let v as UInt16: return .number(Int(v))
    case let v as UInt32: return .number(Int(v))
    case let v as UInt: return .unsigned(UInt64(v))
    case let v as UInt64: return .unsigned(v)
    case is Double, is Float:
        throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "floating-point numbers are not written"))
    default: return nil
    }
}

private func encodeValue<T: Encodable>(_ value: T, into box: Box, path: [any CodingKey]) throws {
    if let p = try primitive(value, path) {
        box.value = p
        return
    }
    try value.encode(to: ValueEncoder(box: box, codingPath: path))
    box.value = box.resolved
    box.object = nil
    box.array = nil
}

private struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: Box
    var codingPath: [any CodingKey]

    private func child(_ key: Key) -> Box {
        let b = Box()
        box.object!.append((key.stringValue, b))
        return b
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).value = .null }
    // The plain types directly, without the generic path's casts.
    mutating func encode(_ value: Bool, forKey key: Key) throws { child(key).value = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { child(key).value = .string(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { child(key).value = .number(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { child(key).value = .number(Int(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { child(key).value = .number(Int(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { child(key).value = .number(Int(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { child(key).value = .unsigned(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: child(key), path: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(box: child(key), codingPath: codingPath + [key]).container(keyedBy: NestedKey.self)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(box: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(box: child(Key(stringValue: "super")!), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { ValueEncoder(box: child(key), codingPath: codingPath + [key]) }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(intValue!) }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { intValue = Int(stringValue) }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey]
    var count: Int { box.array!.count }

    private func next() -> Box {
        let b = Box()
        box.array!.append(b)
        return b
    }

    mutating func encodeNil() throws { next().value = .null }
    mutating func encode(_ value: String) throws { next().value = .string(value) }
    mutating func encode(_ value: Int) throws { next().value = .number(value) }
    mutating func encode(_ value: Int32) throws { next().value = .number(Int(value)) }
    mutating func encode(_ value: UInt64) throws { next().value = .unsigned(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: next(), path: codingPath + [IndexKey(count)])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(box: next(), codingPath: codingPath + [IndexKey(count)]).container(keyedBy: NestedKey.self)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        ValueEncoder(box: next(), codingPath: codingPath + [IndexKey(count)]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(box: next(), codingPath: codingPath) }
}

private struct SingleEncoder: SingleValueEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.value = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value, into: box, path: codingPath) }
}

// MARK: Decoding

private struct ValueDecoder: Decoder {
    let value: JSONValue
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let pairs) = value else { throw mismatch("an object", value, codingPath) }
        return KeyedDecodingContainer(KeyedDecoder<Key>(fields: Fields(pairs), codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch("an array", value, codingPath) }
        return UnkeyedDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleDecoder(value: value, codingPath: codingPath) }
}

private func mismatch(_ expected: String, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    .dataCorrupted(.init(codingPath: path, debugDescription: "expected \(expected), found \(value.compact.prefix(60))"))
}

/// Reads a plain value, or nil when `T` decodes itself.
/// An integer of type `I`, refused if the value is not one or does not fit.
private func decodeInteger<I: FixedWidthInteger>(_: I.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> I {
    switch value {
    case .unsigned(let u):
        if let v = I(exactly: u) { return v }
    case .number(let n):
        if let v = I(exactly: n) { return v }
    default:
        throw mismatch("an integer", value, path)
    }
    throw mismatch("an integer that fits \(I.self)", value, path)
}

private func decodePrimitive<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T? {
    func exact<I: FixedWidthInteger>(_: I.Type) throws -> I { try decodeInteger(I.self, value, path) }
    switch type {
    case is Bool.Type:
        guard case .bool(let b) = value else { throw mismatch("true or false", value, path) }
        return b as? T
    case is String.Type:
        guard case .string(let s) = value else { throw mismatch("a string", value, path) }
        return s as? T
    case is Int.Type: return try exact(Int.self) as? T
    case is Int8.Type: return try exact(Int8.self) as? T
    case is Int16.Type: return try exact(Int16.self) as? T
    case is Int32.Type: return try exact(Int32.self) as? T
    case is Int64.Type: return try exact(Int64.self) as? T
    case is UInt.Type: return try exact(UInt.self) as? T
    case is UInt8.Type: return try exact(UInt8.self) as? T
    case is UInt16.Type: return try exact(UInt16.self) as? T
    case is UInt32.Type: return try exact(UInt32.self) as? T
    case is UInt64.Type: return try exact(UInt64.self) as? T
    default: return nil
    }
}

private func decodeValue<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
    if let p = try decodePrimitive(type, value, path) { return p }
    return try T(from: ValueDecoder(value: value, codingPath: path))
}

/// An object's members, found by key: by a linear search from the end
/// for the few keys a record has (a key given twice: the last one), by a
/// dictionary for a large object.
private struct Fields {
    let pairs: [(String, JSONValue)]
    let index: [String: JSONValue]?

    init(_ pairs: [(String, JSONValue)]) {
        self.pairs = pairs
        if pairs.count > 16 {
            var index: [String: JSONValue] = [:]
            for (k, v) in pairs { index[k] = v }
            self.index = index
        } else {
            index = nil
        }
    }

    subscript(_ key: String) -> JSONValue? {
        if let index { return index[key] }
        return pairs.last { $0.0 == key }?.1
    }

    var keys: [String] { Array(Set(pairs.map(\.0))).sorted() }
}

private struct KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: Fields
    var codingPath: [any CodingKey]
    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    private func field(_ key: Key) throws -> JSONValue {
        guard let v = fields[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no '\(key.stringValue)'"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = fields[key.stringValue] else { return true }
        return v.isNull
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, try field(key), codingPath + [key])
    }
    // The plain types directly, without the generic path's casts.
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        let v = try field(key)
        guard case .string(let s) = v else { throw mismatch("a string", v, codingPath + [key]) }
        return s
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let v = try field(key)
        guard case .bool(let b) = v else { throw mismatch("true or false", v, codingPath + [key]) }
        return b
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeInteger(Int.self, try field(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeInteger(Int32.self, try field(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeInteger(UInt64.self, try field(key), codingPath + [key]) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try field(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try field(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: fields["super"] ?? .null, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(value: try field(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [JSONValue]
    var codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    private mutating func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "the array has \(items.count) items"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, path) = try next()
        return try decodeValue(type, v, path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, path) = try next()
        return try ValueDecoder(value: v, codingPath: path).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, path) = try next()
        return try ValueDecoder(value: v, codingPath: path).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let (v, path) = try next()
        return ValueDecoder(value: v, codingPath: path)
    }
}

private struct SingleDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    var codingPath: [any CodingKey]

    func decodeNil() -> Bool { value.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, value, codingPath) }
}
