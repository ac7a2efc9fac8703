import Engine
import JobFile
import Platform

/// `env-file` (a Daybreak stanza): reads a job's environment files at each
/// spawn and lays their variables over the environment the engine gave.
///
/// The order, lowest first: the daemon's defaults and `initctl set-env`,
/// `env` stanzas, each `env-file` in the order written (a later file
/// replaces an earlier one's value), then the variables of the events or
/// request that started the job, the stop's variables (pre-stop,
/// post-stop), and `UPSTART_JOB`, `UPSTART_INSTANCE`. A name the engine
/// marks fixed (`fixedNames`) is never replaced by a file.
///
/// A required file that cannot be read, or a line that is not
/// `KEY=VALUE`, fails the spawn with a message naming the file (and line).
/// Files are limited to 1 MiB, like job files.
func applyEnvFiles(_ files: [EnvFileEntry], to environment: [String], fixed: [String]) throws(EnvFileFailure) -> [String] {
    var env = Environment(environment)
    let fixed = Set(fixed)
    for f in files {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(f.path)
        } catch {
            if f.optional && error.errno == .noSuchFileOrDirectory { continue }
            throw EnvFileFailure(message: "env-file: \(error.description)")
        }
        let entries: [String]
        do {
            entries = try EnvFile.parse(String(decoding: bytes, as: UTF8.self), file: f.path)
        } catch {
            throw EnvFileFailure(message: "env-file \(error.description)")
        }
        for e in entries {
            let name = e[..<e.firstIndex(of: "=")!]
            if !fixed.contains(String(name)) { env.set(e) }
        }
    }
    return env.entries
}

/// Why a job's env-files could not be applied: the spawn fails with it.
struct EnvFileFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
