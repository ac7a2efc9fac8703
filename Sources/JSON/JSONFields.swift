/// Reading and writing records by hand, without Codable: what the re-exec
/// document's bulk (hundreds of instances and their shell records) goes
/// through, because the Codable path (`JSONValueEncoder`/`Decoder`) costs
/// a box, a metadata lookup and a coding path per value
/// (docs/PERFORMANCE.md, "Re-exec").
///
/// Reading keeps the Codable path's rules, so that both read a document
/// alike (the tests and the `reexec` fuzz target compare them): a member
/// given twice counts by its last value; an optional member that is absent
/// or `null` is nil; an integer must fit its type exactly; anything else
/// of the wrong kind is an error naming where it is.

/// Why a value read by hand does not have the shape expected: where (a
/// path such as `engine.instances[3].pids`) and what.
public struct JSONShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// The members of one JSON object, read by key.
public struct JSONFields {
    public let pairs: [(String, JSONValue)]
    /// Where the object is, for errors.
    public let path: String

    /// The object `value`, or an error if it is not one.
    public init(_ value: JSONValue, at path: String) throws(JSONShapeError) {
        guard case .object(let pairs) = value else { throw JSONShapeError(path, "expected an object, found \(value.kindName)") }
        self.pairs = pairs
        self.path = path
    }

    /// The path of a member, for errors and nested records.
    public func path(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member `key` (its last value), or nil when absent.
    @inline(__always)
    public func member(_ key: String) -> JSONValue? {
        var i = pairs.count
        while i > 0 {
            i -= 1
            if pairs[i].0 == key { return pairs[i].1 }
        }
        return nil
    }

    /// A member that must be there.
    public func value(_ key: String) throws(JSONShapeError) -> JSONValue {
        guard let v = member(key) else { throw JSONShapeError(path, "no '\(key)'") }
        return v
    }

    /// A member that may be absent or `null`.
    public func optional(_ key: String) -> JSONValue? {
        guard let v = member(key), !v.isNull else { return nil }
        return v
    }

    public func string(_ key: String) throws(JSONShapeError) -> String {
        try value(key).asString(at: path(key))
    }

    public func bool(_ key: String) throws(JSONShapeError) -> Bool {
        try value(key).asBool(at: path(key))
    }

    public func integer<I: FixedWidthInteger>(_ key: String, as: I.Type = I.self) throws(JSONShapeError) -> I {
        try value(key).asInteger(I.self, at: path(key))
    }

    public func strings(_ key: String) throws(JSONShapeError) -> [String] {
        try value(key).asStrings(at: path(key))
    }

    public func array(_ key: String) throws(JSONShapeError) -> [JSONValue] {
        try value(key).asArray(at: path(key))
    }

    public func object(_ key: String) throws(JSONShapeError) -> JSONFields {
        try JSONFields(value(key), at: path(key))
    }

    public func optionalString(_ key: String) throws(JSONShapeError) -> String? {
        try optional(key)?.asString(at: path(key))
    }

    public func optionalBool(_ key: String) throws(JSONShapeError) -> Bool? {
        try optional(key)?.asBool(at: path(key))
    }

    public func optionalInteger<I: FixedWidthInteger>(_ key: String, as: I.Type = I.self) throws(JSONShapeError) -> I? {
        try optional(key)?.asInteger(I.self, at: path(key))
    }

    public func optionalArray(_ key: String) throws(JSONShapeError) -> [JSONValue]? {
        try optional(key)?.asArray(at: path(key))
    }

    public func optionalObject(_ key: String) throws(JSONShapeError) -> JSONFields? {
        guard let v = optional(key) else { return nil }
        return try JSONFields(v, at: path(key))
    }

    /// Each item of the array `key` read by `read`, with its path.
    public func records<T>(_ key: String, _ read: (JSONValue, String) throws(JSONShapeError) -> T) throws(JSONShapeError) -> [T] {
        try value(key).asRecords(at: path(key), read)
    }

    public func optionalRecords<T>(_ key: String, _ read: (JSONValue, String) throws(JSONShapeError) -> T) throws(JSONShapeError) -> [T]? {
        try optional(key)?.asRecords(at: path(key), read)
    }
}

extension JSONValue {
    /// What kind of value this is, for errors.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "true or false"
        case .number, .unsigned: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public func asString(at path: @autoclosure () -> String) throws(JSONShapeError) -> String {
        guard case .string(let s) = self else { throw JSONShapeError(path(), "expected a string, found \(kindName)") }
        return s
    }

    public func asBool(at path: @autoclosure () -> String) throws(JSONShapeError) -> Bool {
        guard case .bool(let b) = self else { throw JSONShapeError(path(), "expected true or false, found \(kindName)") }
        return b
    }

    /// An integer that fits `I` exactly.
    public func asInteger<I: FixedWidthInteger>(_: I.Type, at path: @autoclosure () -> String) throws(JSONShapeError) -> I {
        switch self {
        case .number(let n): if let v = I(exactly: n) { return v }
        case .unsigned(let u): if let v = I(exactly: u) { return v }
        default: throw JSONShapeError(path(), "expected an integer, found \(kindName)")
        }
        throw JSONShapeError(path(), "expected an integer that fits \(I.self)")
    }

    public func asArray(at path: @autoclosure () -> String) throws(JSONShapeError) -> [JSONValue] {
        guard case .array(let items) = self else { throw JSONShapeError(path(), "expected an array, found \(kindName)") }
        return items
    }

    public func asStrings(at path: @autoclosure () -> String) throws(JSONShapeError) -> [String] {
        let items = try asArray(at: path())
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try item.asString(at: "\(path())[\(i)]")) }
        return out
    }

    public func asIntegers<I: FixedWidthInteger>(_: I.Type, at path: @autoclosure () -> String) throws(JSONShapeError) -> [I] {
        let items = try asArray(at: path())
        var out: [I] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try item.asInteger(I.self, at: "\(path())[\(i)]")) }
        return out
    }

    /// Each item read by `read`, given the item's path.
    public func asRecords<T>(at path: String, _ read: (JSONValue, String) throws(JSONShapeError) -> T) throws(JSONShapeError) -> [T] {
        let items = try asArray(at: path)
        var out: [T] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try read(item, "\(path)[\(i)]")) }
        return out
    }

    // MARK: Writing

    /// An integer as the Codable path writes it: `unsigned` for the
    /// unsigned 64-bit types, `number` for the rest.
    @inline(__always)
    public static func integer<I: FixedWidthInteger>(_ v: I) -> JSONValue {
        if I.self == UInt64.self || I.self == UInt.self { return .unsigned(UInt64(v)) }
        return .number(Int(v))
    }

    public static func strings(_ items: [String]) -> JSONValue {
        .array(items.map(JSONValue.string))
    }

    public static func integers<I: FixedWidthInteger>(_ items: [I]) -> JSONValue {
        .array(items.map(JSONValue.integer))
    }
}
