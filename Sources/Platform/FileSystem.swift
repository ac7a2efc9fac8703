import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call on a path, with a message that names both.
public struct PlatformError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Errno
    /// Replaces the errno text when the failure is ours, not the kernel's.
    public var detail: String?

    public init(operation: String, path: String, errno: Errno, detail: String? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    public var description: String { "cannot \(operation) \(path): \(detail ?? errno.description)" }
}

/// What a path is, as far as job-file discovery cares.
public enum FileKind: Sendable {
    case regular
    case directory
    case other
}

/// Reading files and walking directories: the file-system calls the job-file
/// tools need, behind typed errors.
public enum FileSystem {
    /// Job files larger than this are refused rather than read.
    public static let maxFileSize = 1 << 20

    /// Reads a whole file. Refuses files over `limit` bytes.
    public static func readFile(_ path: String, limit: Int = maxFileSize) throws(PlatformError) -> [UInt8] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw PlatformError(operation: "open", path: path, errno: (error as? Errno) ?? .ioError)
        }
        defer { try? fd.close() }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            } catch {
                throw PlatformError(operation: "read", path: path, errno: (error as? Errno) ?? .ioError)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                throw PlatformError(operation: "read", path: path, errno: .fileTooLarge,
                                    detail: "larger than \(limit / 1024) KiB; job files that big are refused")
            }
        }
        return out
    }

    /// The kind of file at `path`, following symbolic links; nil when it does not exist.
    /// Whether this process may write the file (access(2) W_OK).
    public static func isWritable(_ path: String) -> Bool {
        access(path, W_OK) == 0
    }

    /// The target of a symbolic link (`/proc/self/exe`), or nil.
    public static func resolvedLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func kind(of path: String) -> FileKind? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Every regular file below `directory`, as paths relative to it, sorted.
    /// Hidden entries (starting with `.`) are skipped. Symbolic links to
    /// directories are not followed, so a link loop cannot trap the walk.
    public static func walk(_ directory: String) throws(PlatformError) -> [String] {
        var out: [String] = []
        var pending = [""]
        while let rel = pending.popLast() {
            let full = rel.isEmpty ? directory : directory + "/" + rel
            guard let dir = opendir(full) else {
                throw PlatformError(operation: "open directory", path: full, errno: Errno(rawValue: Glibc.errno))
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name.hasPrefix(".") { continue }
                let child = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                guard lstat(directory + "/" + child, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: pending.append(child)
                case S_IFREG: out.append(child)
                case S_IFLNK:
                    if kind(of: directory + "/" + child) == .regular { out.append(child) }
                default: break
                }
            }
        }
        return out.sorted()
    }
}

extension FileSystem {
    /// Writes text to standard output, unbuffered.
    public static func writeStandardOutput(_ text: String) {
        writeAll(1, text)
    }

    /// Writes text to standard error, unbuffered.
    public static func writeStandardError(_ text: String) {
        writeAll(2, text)
    }

    private static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}

extension FileSystem {
    /// The directories directly below `directory` (not following links), as full paths.
    public static func subdirectories(of directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            var st = stat()
            let path = directory + "/" + name
            if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR { out.append(path) }
        }
        return out.sorted()
    }

    /// Creates `path` and its missing parents with `mode`. Returns false when it cannot.
    @discardableResult
    public static func makeDirectories(_ path: String, mode: mode_t) -> Bool {
        if kind(of: path) == .directory { return true }
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if kind(of: built) == nil && mkdir(built, mode) != 0 && Glibc.errno != EEXIST { return false }
        }
        return kind(of: path) == .directory
    }

    /// The owner and permission bits of `path`, or nil.
    public static func ownerAndMode(_ path: String) -> (uid: UInt32, mode: UInt32)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return (st.st_uid, st.st_mode & 0o7777)
    }

    /// Replaces `path` with `bytes` atomically: writes `path.tmp`, syncs it
    /// and renames it over `path`, so a reader (or a crash) sees the old
    /// file or the new, never half of one. Nil on success, else why not.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) -> Errno? {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return Errno(rawValue: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = Errno(rawValue: errno)
                close(fd)
                unlink(tmp)
                return e
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let e = Errno(rawValue: errno)
            close(fd)
            unlink(tmp)
            return e
        }
        close(fd)
        if systemRename(tmp, path) != 0 {
            let e = Errno(rawValue: errno)
            unlink(tmp)
            return e
        }
        return nil
    }

    /// Appends bytes to a file, creating it with mode 0640. Returns false on failure.
    public static func append(_ bytes: [UInt8], to path: String) -> Bool {
        appendSome(bytes[...], to: path).error == nil
    }

    /// Appends as much of `bytes` as the file takes: how many bytes were
    /// written, and why the rest was not (nil when all of it was). A disk
    /// that fills up part-way leaves a written prefix the caller must not
    /// write again.
    /// rename(2): nil, or why not (a missing `from` is ENOENT).
    public static func rename(_ from: String, to: String) -> Errno? {
        systemRename(from, to) == 0 ? nil : Errno(rawValue: errno)
    }

    /// unlink(2), ignoring a file that is not there.
    public static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// The last `count` bytes of a file (fewer when it is shorter), or
    /// nil when it cannot be read. Reads only that much, at its end.
    public static func readTail(_ path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(st.st_size)
        let want = min(count, size)
        var out = [UInt8](repeating: 0, count: want)
        var got = 0
        while got < want {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, want - got, off_t(size - want + got)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        return Array(out[0..<got])
    }

    public static func appendSome(_ bytes: ArraySlice<UInt8>, to path: String) -> (written: Int, error: Errno?) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return (0, Errno(rawValue: errno)) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[(bytes.startIndex + offset)...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return (offset, Errno(rawValue: n < 0 ? errno : ENOSPC)) }
            offset += n
        }
        return (offset, nil)
    }
}

/// What identifies a file's version cheaply: device, inode, size and
/// modification time. Equal stamps mean (in practice) unchanged contents.
public struct FileStamp: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64

    /// The stamp of `path` (following links), or nil when it does not exist.
    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }
}

extension FileSystem {
    /// Calls `body` with each entry of `directory` (hidden ones too, not
    /// `.` and `..`) and a way to ask whether it is a directory (following
    /// links; asked only when needed, answered from the entry's type where
    /// it can be). Streams: a directory of a million files costs no list.
    public static func forEachEntry(of directory: String, _ body: (_ name: String, _ isDirectory: () -> Bool) -> Void) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let type = entry.pointee.d_type
            body(name) {
                if type == UInt8(DT_DIR) { return true }
                if type == UInt8(DT_REG) { return false }
                return kind(of: directory == "/" ? "/" + name : directory + "/" + name) == .directory
            }
        }
    }
}
/// rename(2), out of reach of `FileSystem.rename`'s name.
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
