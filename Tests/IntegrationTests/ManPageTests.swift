import Foundation
import Testing

/// The man pages under man/: each renders without a warning, and each
/// names exactly the options, commands, stanzas and events its page in
/// docs/ names (they are written by hand, beside docs/; this is what keeps
/// the two from disagreeing).
@Suite struct ManPages {
    static let directory = repoRoot.appendingPathComponent("man")
    static var pages: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.range(of: #"\.[0-9]$"#, options: .regularExpression) != nil }.sorted()
    }

    /// What `man --warnings` says about a page, on standard error (nil: no man here).
    static func manWarnings(_ path: String) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/man") else { return nil }
        let r = try runProgram("/usr/bin/man", ["--warnings", "-l", path],
                               environment: ["MANWIDTH": "80", "PATH": "/usr/bin:/bin", "MAN_KEEP_FORMATTING": "0"])
        #expect(r.status == 0, "man -l \(path): \(r.stderr)")
        #expect(!r.stdout.isEmpty, "man -l \(path) rendered nothing")
        return r.stderr
    }

    @Test func everyPageIsThere() {
        #expect(Set(ManPages.pages) == ["daybreak.8", "initctl.8", "init-checkconf.8", "daybreak-job.5", "daybreak-events.7",
                                        "daybreak-time-bridge.8", "daybreak-file-bridge.8", "daybreak-socket-bridge.8",
                                        "daybreak-net-bridge.8", "daybreak-event-bridge.8"])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/man"), "man is not installed (.ci/run installs man-db)"))
    func everyPageRendersWithoutAWarning() throws {
        for page in ManPages.pages {
            let warnings = try ManPages.manWarnings(ManPages.directory.appendingPathComponent(page).path)
            #expect(warnings == "", "\(page): \(warnings ?? "")")
        }
    }

    /// The check above can fail: a page with a mistake in it gets warnings.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/man"), "man is not installed (.ci/run installs man-db)"))
    func aBrokenPageGetsWarnings() throws {
        let dir = try TempDir()
        try dir.write("broken.8", ".TH BROKEN 8\n.SH NAME\nbroken \\- a page \\q with a bad escape\n.BX no such macro\n")
        let warnings = try #require(try ManPages.manWarnings(dir.path("broken.8")))
        #expect(warnings.contains("warning"), "\(warnings)")
    }

    @Test func daybreakNamesTheFlagsOfRunningMd() throws {
        let man = try ManText(page: "daybreak.8")
        let docs = try DocText("running.md")
        #expect(man.options("OPTIONS") == docs.options(inTableUnder: "## Flags"))
    }

    @Test func initctlNamesTheOptionsAndCommandsOfInitctlMd() throws {
        let man = try ManText(page: "initctl.8")
        let docs = try DocText("initctl.md")
        #expect(man.options("OPTIONS") == docs.options(inTableUnder: "## Options"))
        let commands = man.commands("COMMANDS")
        #expect(commands == docs.definedCommands())
        // ... and initctl itself: the commands its help lists.
        let help = try run("initctl", ["--help"]).stdout
        let listed = help.components(separatedBy: "Commands").last!.split(separator: "\n")
            .compactMap { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isLetter == true ? $0.split(separator: " ").first.map(String.init) : nil }
        #expect(commands == Set(listed))
    }

    @Test func initCheckconfNamesTheOptionsOfItsPage() throws {
        let docs = try DocText("init-checkconf.md").options(inTableUnder: "## Usage")
        #expect(try ManText(page: "init-checkconf.8").options("OPTIONS") == docs)
    }

    @Test func theJobPageNamesEveryStanzaOfTheSummary() throws {
        let man = try ManText(page: "daybreak-job.5").names("STANZAS")
        let docs = try DocText("job-files.md").names(inTableUnder: "## 16. Stanza summary")
        #expect(man == docs)
        #expect(docs.count > 40, "the summary was read: \(docs)")
    }

    @Test func theEventsPageNamesTheEventsOfEventsMd() throws {
        let man = try ManText(page: "daybreak-events.7").names("EVENTS")
        let docs = try DocText("events.md").names(inTableUnder: "## 1. The events Daybreak emits")
        #expect(man == docs)
        #expect(man.contains("stopping"))
    }

    @Test(arguments: [("daybreak-time-bridge.8", "time-bridge.md", "## Options"),
                      ("daybreak-file-bridge.8", "file-bridge.md", "## Options"),
                      ("daybreak-socket-bridge.8", "socket-bridge.md", "## Options"),
                      ("daybreak-net-bridge.8", "net-and-power-events.md", "## The net bridge"),
                      ("daybreak-event-bridge.8", "net-and-power-events.md", "## System events in a session")])
    func eachBridgeNamesTheOptionsOfItsDocs(page: String, doc: String, heading: String) throws {
        let man = try ManText(page: page).options("OPTIONS")
        #expect(!man.isEmpty)
        let docs = try DocText(doc).longOptions(inSectionUnder: heading)
        #expect(man == docs)
    }

    @Test func theNetBridgePageNamesItsEvents() throws {
        let docs = try DocText("net-and-power-events.md").names(inTableUnder: "## The net bridge")
        #expect(try ManText(page: "daybreak-net-bridge.8").names("EVENTS") == docs)
        #expect(docs.contains("net-device-up"))
    }

    /// The extraction itself: a tag line's bold words, not its arguments.
    @Test func tagLinesGiveTheirBoldWordsOnly() {
        let man = ManText(text: """
            .SH STANZAS
            .TP
            .BI "respawn limit " "COUNT INTERVAL" \\fR|\\fP unlimited
            text
            .TP
            .BR "oom score" " (or " oom ") \\fIVALUE\\fP"
            .TP
            .BI emits " EVENT" \\fR...\\fP
            .SH OPTIONS
            .TP
            .BR \\-q ", " \\-\\-quiet
            .TP
            .BI \\-\\-socket " PATH"
            """)
        #expect(man.names("STANZAS") == ["respawn limit", "oom score", "oom", "emits"])
        #expect(man.options("OPTIONS") == ["-q", "--quiet", "--socket"])
    }
}

/// A man page's text and the names its `.TP` tags give.
struct ManText {
    let lines: [Substring]

    init(page: String) throws {
        self.init(text: try String(contentsOf: ManPages.directory.appendingPathComponent(page), encoding: .utf8))
    }

    init(text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// The bold pieces of each tag line in section `name` (up to the next `.SH`).
    func tags(_ name: String) -> [[String]] {
        guard let start = lines.firstIndex(of: Substring(".SH \(name)")) else { return [] }
        var out: [[String]] = []
        var i = start + 1
        while i < lines.count, !lines[i].hasPrefix(".SH ") {
            if lines[i] == ".TP", i + 1 < lines.count { out.append(ManText.boldPieces(lines[i + 1])) }
            i += 1
        }
        return out
    }

    /// Stanza or event names: each bold piece, split at commas.
    func names(_ section: String) -> Set<String> {
        Set(tags(section).flatMap { $0 }.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0.rangeOfCharacter(from: CharacterSet(charactersIn: "[]|.=$\\")) == nil })
    }

    /// Options: the first word of each bold piece that starts with `-`.
    func options(_ section: String) -> Set<String> {
        Set(names(section).compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.hasPrefix("-") })
    }

    /// Commands: the first word of each tag.
    func commands(_ section: String) -> Set<String> {
        Set(tags(section).compactMap { $0.first?.split(separator: " ").first.map(String.init) })
    }

    /// A font macro line's bold arguments, with roff's escapes removed.
    static func boldPieces(_ line: Substring) -> [String] {
        let words = line.split(separator: " ", maxSplits: 1)
        guard let macro = words.first, words.count == 2 else { return [] }
        var args: [String] = []
        var current = "", quoted = false, any = false
        for c in words[1] {
            if c == "\"" { quoted.toggle(); any = true } else if c == " " && !quoted {
                if any || !current.isEmpty { args.append(current) }
                current = ""; any = false
            } else { current.append(c) }
        }
        if any || !current.isEmpty { args.append(current) }
        let bold: [String]
        switch macro {
        case ".B": bold = [args.joined(separator: " ")]
        case ".BI", ".BR": bold = args.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        case ".IB", ".RB": bold = args.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        default: bold = []
        }
        return bold.map { piece in
            var s = piece.replacingOccurrences(of: #"\\f[BIRP]"#, with: "", options: .regularExpression)
            s = s.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\&", with: "")
            return s.trimmingCharacters(in: .whitespaces)
        }
    }
}

/// A page of docs/ and the names its tables and sections give.
struct DocText {
    let lines: [Substring]

    init(_ page: String) throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("docs").appendingPathComponent(page), encoding: .utf8)
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The lines from a heading (by prefix) to the next heading of any level up to `##`.
    func section(_ heading: String) -> ArraySlice<Substring> {
        guard let start = lines.firstIndex(where: { $0.hasPrefix(heading) }) else { return [] }
        let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("## ") || $0.hasPrefix("# ") }) ?? lines.count
        return lines[(start + 1)..<end]
    }

    /// The backticked strings of the first column of the first table under a heading.
    func names(inTableUnder heading: String) -> Set<String> {
        let rows = section(heading).drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        return Set(rows.flatMap { row -> [String] in
            let cell = row.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            return DocText.backticked(cell)
        })
    }

    func options(inTableUnder heading: String) -> Set<String> {
        Set(names(inTableUnder: heading).compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.hasPrefix("-") })
    }

    /// Every `--option` named in a section.
    func longOptions(inSectionUnder heading: String) -> Set<String> {
        Set(section(heading).flatMap { line in
            line.matches(of: /(?:^|[^\w-])(--[a-z][a-z-]*)/).map { String($0.output.1) }
        })
    }

    /// Commands defined as `` `VERB ...` `` lines followed by a `: ` line.
    func definedCommands() -> Set<String> {
        var out = Set<String>()
        for (i, line) in lines.enumerated() where line.hasPrefix(": ") {
            var j = i - 1
            while j >= 0, lines[j].hasPrefix("`") {
                for term in DocText.backticked(lines[j]) { if let w = term.split(separator: " ").first { out.insert(String(w)) } }
                j -= 1
            }
        }
        return out
    }

    static func backticked(_ s: Substring) -> [String] {
        s.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
