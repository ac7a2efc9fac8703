import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The user, group and supplementary groups a process is to run as, resolved
/// from names before the fork (getpwnam and friends are not
/// async-signal-safe, so the child cannot call them).
///
/// Names are looked up in the daemon's own user database. A statically
/// linked daemon (the release build) reads only /etc/passwd and /etc/group:
/// static glibc cannot load NSS modules (LDAP, sssd, systemd) without
/// risking a crash, so they are switched off before the first lookup.
/// Upstart looked
/// them up after `chroot`, in the new root's; a job with both `chroot` and
/// `setuid` sees the host's users here.
struct Credentials: Equatable {
    var uid: uid_t?
    var gid: gid_t?
    /// The supplementary groups, set only when the daemon is root (as
    /// Upstart's initgroups call); nil leaves them unchanged.
    var groups: [gid_t]?

    /// Resolves `setuid USER` and `setgid GROUP`. The group defaults to the
    /// user's primary group; when root, the supplementary groups become the
    /// user's (or, with only `setgid`, the daemon's own user's), as
    /// initgroups(3) would set them.
    static func resolve(user: String?, group: String?) throws(SpawnError) -> Credentials {
        _ = staticUserDatabase
        var result = Credentials()
        var account: String?
        if let user {
            switch lookupUser(user) {
            case .found(let uid, let gid):
                result.uid = uid
                result.gid = gid
                account = user
            case .missing:
                throw SpawnError(step: .setuid, subject: "to user '\(user)'", reason: "no such user")
            case .failed(let errno):
                throw SpawnError(step: .setuid, subject: "to user '\(user)'", errno: errno)
            }
        }
        if let group {
            switch lookupGroup(group) {
            case .found(let gid):
                result.gid = gid
            case .missing:
                throw SpawnError(step: .setgid, subject: "to group '\(group)'", reason: "no such group")
            case .failed(let errno):
                throw SpawnError(step: .setgid, subject: "to group '\(group)'", errno: errno)
            }
        }
        if let gid = result.gid, geteuid() == 0 {
            let name = account ?? userName(of: geteuid())
            result.groups = name.map { groupList(user: $0, gid: gid) } ?? [gid]
        }
        return result
    }

    /// Whether lookups are limited to the files (a static build); set once,
    /// before the first lookup.
    static let staticUserDatabase: Bool = cplatform_user_database_files_only() != 0

    enum UserLookup {
        case found(uid_t, gid_t)
        case missing
        case failed(Errno)
    }

    enum GroupLookup {
        case found(gid_t)
        case missing
        case failed(Errno)
    }

    static func lookupUser(_ name: String) -> UserLookup {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = max(Int(sysconf(Int32(_SC_GETPW_R_SIZE_MAX))), 1024)
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwnam_r(name, &entry, &buffer, size, &result)
            if rc == ERANGE && size < 1 << 20 {
                size *= 2
                continue
            }
            if rc != 0 { return .failed(Errno(rawValue: rc)) }
            guard let found = result else { return .missing }
            return .found(found.pointee.pw_uid, found.pointee.pw_gid)
        }
    }

    static func lookupGroup(_ name: String) -> GroupLookup {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var size = max(Int(sysconf(Int32(_SC_GETGR_R_SIZE_MAX))), 1024)
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getgrnam_r(name, &entry, &buffer, size, &result)
            if rc == ERANGE && size < 1 << 24 {
                size *= 2
                continue
            }
            if rc != 0 { return .failed(Errno(rawValue: rc)) }
            guard let found = result else { return .missing }
            return .found(found.pointee.gr_gid)
        }
    }

    /// The home directory of a uid (from the password database), or nil.
    static func homeDirectory(of uid: uid_t) -> String? {
        passwordEntry(of: uid) { $0.pw_dir }
    }

    /// The name of a uid, or nil.
    static func userName(of uid: uid_t) -> String? {
        passwordEntry(of: uid) { $0.pw_name }
    }

    /// One text field of a uid's password entry (getpwuid_r, growing the
    /// buffer as it asks), or nil when there is no entry or no such field.
    private static func passwordEntry(of uid: uid_t, _ field: (passwd) -> UnsafeMutablePointer<CChar>?) -> String? {
        _ = staticUserDatabase  // a static build reads the files only
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = max(Int(sysconf(Int32(_SC_GETPW_R_SIZE_MAX))), 1024)
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwuid_r(uid, &entry, &buffer, size, &result)
            if rc == ERANGE && size < 1 << 20 {
                size *= 2
                continue
            }
            guard rc == 0, let found = result, let text = field(found.pointee) else { return nil }
            return String(cString: text)
        }
    }

    /// `gid` and every group listing `user` as a member (getgrouplist(3)).
    static func groupList(user: String, gid: gid_t) -> [gid_t] {
        var count: Int32 = 32
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var n = count
            if getgrouplist(user, gid, &groups, &n) >= 0 {
                return Array(groups.prefix(Int(n)))
            }
            // Too small: n now holds the size needed.
            count = max(n, count * 2)
            if count > 1 << 16 { return [gid] }
        }
    }
}
