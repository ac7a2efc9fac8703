/// libFuzzer target: the job-file parser, on any bytes.
///
/// Properties checked for every input (docs/architecture.md, "The parser's
/// guarantees"):
/// - total: the parser returns a job or a `JobParseError`, never traps;
/// - an error has a position inside the input (line 1...lines+1, column ≥ 1)
///   and a message;
/// - round trip: an accepted job, printed (`jobFileText`) and parsed again,
///   is the same value, and printing that again gives the same text;
/// - `init-checkconf --json`'s form of an accepted job is JSON that parses
///   back to the same value (unless it nests deeper than the JSON reader's
///   64-level bound, which a long `start on` can).
import FuzzSupport
import JSON
import JobFile

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    checkJobFile(fuzzBytes(data, size))
    return 0
}

func checkJobFile(_ bytes: [UInt8]) {
    let job: JobClass
    do {
        job = try Parser.parse(name: "fuzz", bytes: bytes, file: "fuzz.conf")
    } catch {
        let lines = bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        fuzzCheck(error.file == "fuzz.conf", "error names another file: \(error)")
        fuzzCheck(error.line >= 1 && error.line <= lines, "error line outside the input (\(lines) lines): \(error)")
        fuzzCheck(error.column >= 1, "error column below 1: \(error)")
        fuzzCheck(!error.message.isEmpty, "error without a message: \(error)")
        return
    }
    fuzzCheck(job.name == "fuzz", "job has another name: \(job.name)")
    let text = job.jobFileText
    do {
        let again = try Parser.parse(name: "fuzz", text: text, file: "printed.conf")
        fuzzCheck(again == job, "printed job parses to another value; printed:\n\(text)")
        fuzzCheck(again.jobFileText == text, "printed form is not a fixed point; printed:\n\(text)")
    } catch {
        fuzzCheck(false, "printed job does not parse: \(error); printed:\n\(text)")
    }
    // Compared as printed text: `JSONValue.==` prints both sides, and
    // printing is most of this target's time.
    let compact = job.json.compact
    do {
        let back = try JSONValue.parse(compact)
        fuzzCheck(back.compact == compact, "--json output parses to another value: \(compact)")
    } catch {
        fuzzCheck(error.message.hasPrefix("nested deeper"), "--json output is not JSON: \(error): \(compact)")
    }
}
