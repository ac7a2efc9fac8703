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
///
/// Where is worked out only when something is wrong: an error starts with
/// the member or item it is about, and each record and array it passes
/// through on its way out puts its own name in front (`within`), so that
/// reading a well-formed document builds no path at all.

/// Why a value read by hand does not have the shape expected: where (a
/// path such as `engine.instances[3].pids`) and what.
public struct JSONShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// The same error seen from one level out: `component` (a member's
    /// name, or an index as `[3]`) put in front of the path.
    public func within(_ component: String) -> JSONShapeError {
        let joined = path.isEmpty ? component : (path.hasPrefix("[") ? component + path : component + "." + path)
        return JSONShapeError(joined, message)
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// The members of one JSON object, read by key.
public struct JSONFields {
    public let pairs: [(String, JSONValue)]

    /// The object `value`, or an error if it is not one.
    public init(_ value: JSONValue) throws(JSONShapeError) {
        guard case .object(let pairs) = value else { throw JSONShapeError("", "expected an object, found \(value.kindName)") }
        self.pairs = pairs
    }

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
        guard let v = member(key) else { throw JSONShapeError("", "no '\(key)'") }
        return v
    }

    /// A member that may be absent or `null`.
    public func optional(_ key: String) -> JSONValue? {
        guard let v = member(key), !v.isNull else { return nil }
        return v
    }

    /// The member `key` read by `read`; its errors say they are within it.
    public func nested<T>(_ key: String, _ read: (JSONValue) throws(JSONShapeError) -> T) throws(JSONShapeError) -> T {
        let v = try value(key)
        do {
            return try read(v)
        } catch {
            throw error.within(key)
        }
    }

    /// The same for a member that may be absent or `null` (nil then).
    public func optionalNested<T>(_ key: String, _ read: (JSONValue) throws(JSONShapeError) -> T) throws(JSONShapeError) -> T? {
        guard let v = optional(key) else { return nil }
        do {
            return try read(v)
        } catch {
            throw error.within(key)
        }
    }

    public func string(_ key: String) throws(JSONShapeError) -> String {
        try nested(key) { v throws(JSONShapeError) in try v.asString() }
    }

    public func bool(_ key: String) throws(JSONShapeError) -> Bool {
        try nested(key) { v throws(JSONShapeError) in try v.asBool() }
    }

    public func integer<I: FixedWidthInteger>(_ key: String, as: I.Type = I.self) throws(JSONShapeError) -> I {
        try nested(key) { v throws(JSONShapeError) in try v.asInteger(I.self) }
    }

    public func strings(_ key: String) throws(JSONShapeError) -> [String] {
        try nested(key) { v throws(JSONShapeError) in try v.asStrings() }
    }

    public func integers<I: FixedWidthInteger>(_ key: String, as: I.Type = I.self) throws(JSONShapeError) -> [I] {
        try nested(key) { v throws(JSONShapeError) in try v.asIntegers(I.self) }
    }

    public func optionalString(_ key: String) throws(JSONShapeError) -> String? {
        try optionalNested(key) { v throws(JSONShapeError) in try v.asString() }
    }

    public func optionalBool(_ key: String) throws(JSONShapeError) -> Bool? {
        try optionalNested(key) { v throws(JSONShapeError) in try v.asBool() }
    }

    public func optionalInteger<I: FixedWidthInteger>(_ key: String, as: I.Type = I.self) throws(JSONShapeError) -> I? {
        try optionalNested(key) { v throws(JSONShapeError) in try v.asInteger(I.self) }
    }

    /// Each item of the array `key` read by `read`.
    public func records<T>(_ key: String, _ read: (JSONValue) throws(JSONShapeError) -> T) throws(JSONShapeError) -> [T] {
        try nested(key) { v throws(JSONShapeError) in try v.asRecords(read) }
    }

    public func optionalRecords<T>(_ key: String, _ read: (JSONValue) throws(JSONShapeError) -> T) throws(JSONShapeError) -> [T]? {
        try optionalNested(key) { v throws(JSONShapeError) in try v.asRecords(read) }
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

    public func asString() throws(JSONShapeError) -> String {
        guard case .string(let s) = self else { throw JSONShapeError("", "expected a string, found \(kindName)") }
        return s
    }

    public func asBool() throws(JSONShapeError) -> Bool {
        guard case .bool(let b) = self else { throw JSONShapeError("", "expected true or false, found \(kindName)") }
        return b
    }

    /// An integer that fits `I` exactly.
    public func asInteger<I: FixedWidthInteger>(_: I.Type) throws(JSONShapeError) -> I {
        switch self {
        case .number(let n): if let v = I(exactly: n) { return v }
        case .unsigned(let u): if let v = I(exactly: u) { return v }
        default: throw JSONShapeError("", "expected an integer, found \(kindName)")
        }
        throw JSONShapeError("", "expected an integer that fits \(I.self)")
    }

    public func asArray() throws(JSONShapeError) -> [JSONValue] {
        guard case .array(let items) = self else { throw JSONShapeError("", "expected an array, found \(kindName)") }
        return items
    }

    /// Each item read by `read`; an error says which item.
    public func asRecords<T>(_ read: (JSONValue) throws(JSONShapeError) -> T) throws(JSONShapeError) -> [T] {
        let items = try asArray()
        var out: [T] = []
        out.reserveCapacity(items.count)
        for i in items.indices {
            do {
                out.append(try read(items[i]))
            } catch {
                throw error.within("[\(i)]")
            }
        }
        return out
    }

    public func asStrings() throws(JSONShapeError) -> [String] {
        try asRecords { v throws(JSONShapeError) in try v.asString() }
    }

    public func asIntegers<I: FixedWidthInteger>(_: I.Type) throws(JSONShapeError) -> [I] {
        try asRecords { v throws(JSONShapeError) in try v.asInteger(I.self) }
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
