/// What every fuzz target shares.
import CFuzzer
#if canImport(Glibc)
import Glibc
#endif

/// Checks a property of one input. A failure prints what was expected and
/// traps, which libFuzzer reports as a crash and saves the input for.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fatalError("property failed: \(message())", file: file, line: line)
    }
}

/// The input libFuzzer passes, as an array of bytes.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Runs libFuzzer on `callback` with the process's arguments (libFuzzer's
/// flags, corpus directories or input files) and exits with its status.
public func fuzzMain(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}
