/// A small JSON value with a deterministic printer, for `init-checkconf
/// --json` and other machine-readable output. Keys print in the order they
/// were given, so the output of one `JobClass` is the same on every run.
///
/// Not `indirect`: arrays and objects already hold their items out of
/// line, so a value is made without a box of its own (a re-exec document
/// holds tens of thousands of them).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Int)
    case unsigned(UInt64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Equal when they print the same: members in the same order, and a
    /// number equal whether it was read as `number` or `unsigned`.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && $0.1 == $1.1 }
        case let (.number(x), .number(y)): return x == y
        case let (.unsigned(x), .unsigned(y)): return x == y
        case let (.number(x), .unsigned(y)), let (.unsigned(y), .number(x)): return x >= 0 && UInt64(x) == y
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let b): h.combine(b)
        case .string(let s): var bytes = s; bytes.withUTF8 { h.combine(bytes: UnsafeRawBufferPointer($0)) }; h.combine(0xFF as UInt8)
        case .array(let items): h.combine(items.count); items.forEach { h.combine($0) }
        case .object(let pairs):
            h.combine(pairs.count)
            for (k, v) in pairs { h.combine(JSONValue.string(k)); h.combine(v) }
        // number and unsigned of one value are equal: hash them alike.
        case .number(let n): if n >= 0 { h.combine(UInt64(n)) } else { h.combine(n) }
        case .unsigned(let u): h.combine(u)
        }
    }

    /// One line, no spaces.
    public var compact: String { String(decoding: compactBytes, as: UTF8.self) }

    /// `compact` as UTF-8 bytes, without going through a `String`: what a
    /// frame or a file takes.
    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        write(into: &out, indent: nil, level: 0)
        return out
    }

    /// `compactBytes` appended to `out` (which may have room reserved
    /// already, so that a large document is not copied as it grows).
    public func appendCompact(to out: inout [UInt8]) {
        write(into: &out, indent: nil, level: 0)
    }

    /// Two-space indentation, one key or element a line.
    public var pretty: String {
        var out: [UInt8] = []
        write(into: &out, indent: Array("  ".utf8), level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8], indent: [UInt8]?, level: Int) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out.append(UInt8(ascii: "\n"))
            for _ in 0..<level { out += indent }
        }
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .number(let n):
            if n < 0 { out.append(UInt8(ascii: "-")) }
            appendDigits(UInt64(n.magnitude), to: &out)
        case .unsigned(let n): appendDigits(n, to: &out)
        case .string(let s): appendJSONQuoted(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]".utf8; return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                item.write(into: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            if pairs.isEmpty { out += "{}".utf8; return }
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                appendJSONQuoted(k, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                v.write(into: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// The decimal digits of `n`, without making a String.
private func appendDigits(_ n: UInt64, to out: inout [UInt8]) {
    if n < 10 { out.append(UInt8(ascii: "0") + UInt8(n)); return }
    var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var count = 0
    var rest = n
    withUnsafeMutableBytes(of: &digits) { buffer in
        while rest > 0 {
            buffer[31 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            count += 1
        }
        out.append(contentsOf: buffer[(32 - count)...])
    }
}

/// Quotes a string for JSON: `"`, `\` and control characters escaped.
public func jsonQuote(_ s: String) -> String {
    var out: [UInt8] = []
    appendJSONQuoted(s, to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// Appends `s` quoted for JSON to UTF-8 bytes: runs of bytes that need no
/// escape are copied as they are (a String's UTF-8 is valid, and every
/// byte of a multi-byte sequence is 0x80 or above).
public func appendJSONQuoted(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    var copy = s
    copy.withUTF8 { bytes in
        var run = 0
        for (i, b) in bytes.enumerated() {
            // The letter after the backslash; nil for `\u00XX`.
            let short: UInt8?
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): short = b
            case UInt8(ascii: "\n"): short = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): short = UInt8(ascii: "r")
            case UInt8(ascii: "\t"): short = UInt8(ascii: "t")
            case 0..<0x20: short = nil
            default: continue
            }
            out += UnsafeBufferPointer(rebasing: bytes[run..<i])
            run = i + 1
            if let short {
                out += [UInt8(ascii: "\\"), short]
            } else {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]]
            }
        }
        out += UnsafeBufferPointer(rebasing: bytes[run...])
    }
    out.append(UInt8(ascii: "\""))
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
