import JobFile
import Platform

/// What this machine offers of what some stanzas need: the stanzas the
/// parser accepts everywhere (a job file is the same file on every machine)
/// but that the daemon can honour only where the kernel has the feature.
/// `init-checkconf` warns about those it cannot honour here
/// (docs/init-checkconf.md, "Warnings about this machine").
///
/// Read from /sys and /proc under `root`: "" for this machine. The tests
/// set `DAYBREAK_CHECKCONF_ROOT` to a directory that describes another
/// machine, so that both answers of each probe are checked on any machine.
struct MachineSupport {
    /// The environment variable naming the root, for tests only.
    static let rootVariable = "DAYBREAK_CHECKCONF_ROOT"

    /// Where the probe reads: "" or the test's directory.
    var root: String
    /// AppArmor is enabled in the kernel (`Y` in its module parameter).
    var appArmor: Bool
    /// At least one cgroup hierarchy (v1 or v2) is mounted.
    var cgroups: Bool
    /// The namespace kinds the kernel has (an entry in /proc/self/ns).
    var namespaces: Set<NamespaceKind>
    /// User namespaces may be made (`max_user_namespaces` is not 0).
    var userNamespacesAllowed: Bool

    /// The probe of the machine under `root`.
    init(root: String) {
        self.root = root
        let enabled = (try? FileSystem.readFile(root + MachineSupport.appArmorEnabled, limit: 64)) ?? []
        appArmor = enabled.first == UInt8(ascii: "Y")
        cgroups = !Cgroups.hierarchies(root: root).isEmpty
        namespaces = Set(NamespaceKind.allCases.filter { FileSystem.kind(of: root + MachineSupport.namespaceFile($0)) != nil })
        let max = (try? FileSystem.readFile(root + MachineSupport.maxUserNamespaces, limit: 64)).map { String(decoding: $0, as: UTF8.self) }
        userNamespacesAllowed = max.map { $0.split(separator: "\n").first != "0" } ?? true
    }

    /// The probe of the machine the tool runs on, or of the tests' root.
    static func current() -> MachineSupport {
        MachineSupport(root: Environment.current[rootVariable] ?? "")
    }

    static let appArmorEnabled = "/sys/module/apparmor/parameters/enabled"
    static let maxUserNamespaces = "/proc/sys/user/max_user_namespaces"

    /// The file whose presence says the kernel has namespaces of `kind`.
    static func namespaceFile(_ kind: NamespaceKind) -> String {
        "/proc/self/ns/" + (kind == .mount ? "mnt" : kind.rawValue)
    }

    /// Whether `job` has a stanza the probe is about: only then are its
    /// files read again for the stanzas' places (a big file costs a parse).
    static func concerns(_ job: JobClass) -> Bool {
        job.apparmorLoad != nil || job.apparmorSwitch != nil || !job.cgroups.isEmpty || !job.namespaces.isEmpty
    }

    /// A warning for each stanza of `places` (read from `file`) that the
    /// daemon cannot honour here, as `job` (the job as finally parsed,
    /// override included) still asks for it.
    func warnings(for job: JobClass, places: [StanzaPlace], file: String) -> [JobParseError] {
        var out: [JobParseError] = []
        func warn(_ place: StanzaPlace, _ message: String) {
            out.append(JobParseError(file: file, line: place.line, column: place.column, message: message))
        }
        for place in places {
            switch place.stanza {
            case "apparmor" where job.apparmorLoad != nil || job.apparmorSwitch != nil:
                if appArmor {
                    warn(place, "apparmor: Daybreak does not apply AppArmor profiles yet; the job will run unconfined")
                } else {
                    warn(place, "apparmor: AppArmor is not enabled on this machine (\(MachineSupport.appArmorEnabled)); the job will run unconfined")
                }
            case "cgroup" where !cgroups:
                if let setting = place.cgroup, job.cgroups.contains(setting) {
                    warn(place, "cgroup: this machine has no cgroup hierarchy mounted (/proc/self/mounts); the daemon ignores the stanza, and stopping the job reaches its main process's process group only")
                }
            case "namespace":
                for kind in place.namespaces where job.namespaces.contains(kind) {
                    if !namespaces.contains(kind) {
                        warn(place, "namespace \(kind.rawValue): this kernel has no \(kind.rawValue) namespaces (no \(MachineSupport.namespaceFile(kind))); every start of the job will fail")
                    } else if kind == .user && !userNamespacesAllowed {
                        warn(place, "namespace user: user namespaces are turned off on this machine (\(MachineSupport.maxUserNamespaces) is 0); every start of the job will fail")
                    }
                }
            default:
                break
            }
        }
        return out
    }
}
