import Testing

@testable import FileWatch

func spec(_ pairs: (String?, String)...) throws -> FileSpec {
    try FileSpec(pairs.map { (key: $0.0, value: $0.1) })
}

func error(_ pairs: (String?, String)...) -> String? {
    do {
        _ = try FileSpec(pairs.map { (key: $0.0, value: $0.1) })
        return nil
    } catch {
        return error.description
    }
}

@Suite struct FileSpecTests {
    @Test func aPathIsAFileAGlobInTheLastComponentIsAGlobATrailingSlashIsADirectory() throws {
        #expect(try spec(("FILE", "/run/app.pid")).kind == .file(directory: "/run", name: "app.pid"))
        #expect(try spec(("FILE", "/var/crash/*.crash")).kind == .glob(directory: "/var/crash", pattern: "*.crash"))
        #expect(try spec(("FILE", "/var/log/")).kind == .directory("/var/log"))
        #expect(try spec(("FILE", "//var//log//")).kind == .directory("/var/log"))
        #expect(try spec(("FILE", "/")).kind == .directory("/"))
        #expect(try spec(("FILE", "/top")).kind == .file(directory: "/", name: "top"))
        #expect(try spec(("FILE", "/a"), ("EVENT", "delete")).event == .delete)
        #expect(try spec(("FILE", "/a"), ("EVENT!", "delete")).event == nil, "EVENT!= is the daemon's to match")
        #expect(try spec(("FILE", "/a"), ("MATCH", "/a")).variables == ["FILE=/a"])
    }

    @Test func badInputSaysWhatWasExpected() {
        #expect(error(("FILE", "tmp/a")) == "FILE='tmp/a': expected an absolute path (starting with /)")
        #expect(error(("FILE", "")) == "FILE is empty: expected an absolute path")
        #expect(error(("EVENT", "create")) == "expected FILE=/absolute/path")
        #expect(error(("FILE", "/a"), ("EVENT", "created")) == "EVENT='created': expected create, modify or delete")
        #expect(error(("FILE", "/a/*/b")) == "FILE='/a/*/b': a glob (*, ?, [...]) is allowed in the last component only")
        #expect(error(("FILE", "/a/*/")) == "FILE='/a/*/': a glob (*, ?, [...]) is allowed in the last component only")
        #expect(error(("FILE", "/a/[ab")) == "FILE='/a/[ab': '[' without a closing ']'")
        #expect(error(("FILE", "/a/../b")) == "FILE='/a/../b': expected a path without '.' or '..' components")
        #expect(error((nil, "/a")) == "'/a': expected FILE=/absolute/path (and EVENT=create, modify or delete) by name")
        #expect(error(("FILE!", "/a")) == "FILE!='/a': FILE names what to watch, expected FILE=/absolute/path")
    }

    @Test func aFileMatchesItsOwnNameOnlyWithoutMatch() throws {
        let s = try spec(("FILE", "/tmp/a"))
        #expect(s.interpret(directory: "/tmp", entry: "a", isDirectory: false, change: .create)! == (.create, nil))
        #expect(s.interpret(directory: "/tmp", entry: "a", isDirectory: false, change: .modify)! == (.modify, nil))
        #expect(s.interpret(directory: "/tmp", entry: "ab", isDirectory: false, change: .create) == nil)
        #expect(s.interpret(directory: "/var", entry: "a", isDirectory: false, change: .create) == nil)
        let created = try spec(("FILE", "/tmp/a"), ("EVENT", "create"))
        #expect(created.interpret(directory: "/tmp", entry: "a", isDirectory: false, change: .delete) == nil)
        #expect(created.environment(event: .create, match: nil) == ["FILE=/tmp/a", "EVENT=create"])
    }

    @Test func aGlobSetsMatchToTheFullPathAndKeepsFileAsWritten() throws {
        let s = try spec(("FILE", "/var//crash/*.crash"))
        let r = try #require(s.interpret(directory: "/var/crash", entry: "x.crash", isDirectory: false, change: .create))
        #expect(r == (.create, "/var/crash/x.crash"))
        #expect(s.environment(event: r.event, match: r.match) == ["FILE=/var//crash/*.crash", "EVENT=create", "MATCH=/var/crash/x.crash"])
        #expect(s.interpret(directory: "/var/crash", entry: "x.log", isDirectory: false, change: .create) == nil)
    }

    @Test func aDirectoryIsCreatedAndDeletedItselfAndModifiedByItsEntries() throws {
        let s = try spec(("FILE", "/srv/drop/"))
        #expect(s.targets == ["/srv", "/srv/drop"])
        #expect(s.interpret(directory: "/srv", entry: "drop", isDirectory: true, change: .create)! == (.create, nil))
        #expect(s.interpret(directory: "/srv", entry: "drop", isDirectory: true, change: .delete)! == (.delete, nil))
        #expect(s.interpret(directory: "/srv", entry: "drop", isDirectory: false, change: .create) == nil, "a file of that name is not the directory")
        #expect(s.interpret(directory: "/srv/drop", entry: "f", isDirectory: false, change: .create)! == (.modify, "/srv/drop/f"))
        #expect(s.interpret(directory: "/srv/drop", entry: "f", isDirectory: false, change: .delete)! == (.modify, "/srv/drop/f"))
        // Already there when watched: the directory is created; its entries are not.
        #expect(s.existing(directory: "/srv", entry: "drop", isDirectory: true)! == (.create, nil))
        #expect(s.existing(directory: "/srv/drop", entry: "f", isDirectory: false) == nil)
        let deleted = try spec(("FILE", "/srv/drop/"), ("EVENT", "delete"))
        #expect(deleted.existing(directory: "/srv", entry: "drop", isDirectory: true) == nil)
    }
}

@Suite struct GlobTests {
    @Test func fnmatchForOneComponent() {
        let cases: [(String, String, Bool)] = [
            ("*", "anything", true), ("*", "", true), ("*", ".hidden", true),
            ("*.log", "a.log", true), ("*.log", "a.log.1", false), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false),
            ("?", "x", true), ("?", "xy", false), ("a?c", "abc", true),
            ("[abc]", "b", true), ("[abc]", "d", false), ("[a-c]x", "bx", true), ("[!a-c]", "d", true), ("[^a-c]", "b", false),
            ("[]]", "]", true), ("\\*", "*", true), ("\\*", "x", false), ("*[0-9]", "log7", true), ("*[0-9]", "log", false),
            ("**x", "yyx", true),
        ]
        for (p, s, want) in cases {
            #expect(Glob.matches(p, s) == want, "\(p) vs \(s)")
        }
        #expect(Glob.hasWildcards("a*") && Glob.hasWildcards("[x]") && !Glob.hasWildcards("a\\*") && !Glob.hasWildcards("plain"))
    }
}

@Suite struct WatchPlanTests {
    @Test func anExistingDirectoryIsWatchedAndArmed() throws {
        let plan = WatchPlan([try spec(("FILE", "/tmp/a"))], isDirectory: { ["/", "/tmp"].contains($0) })
        #expect(plan.directories == ["/tmp"])
        #expect(plan.armed == [.init(watch: 0, directory: "/tmp")])
    }

    @Test func missingParentsAreWaitedForFromTheNearestExistingAncestorOneLevelAtATime() throws {
        let specs = [try spec(("FILE", "/tmp/x/y/f"))]
        var existing: Set<String> = ["/", "/tmp"]
        var plan = WatchPlan(specs, isDirectory: existing.contains)
        #expect(plan.directories == ["/tmp"])
        #expect(plan.armed.isEmpty)
        #expect(WatchPlan.matters("/tmp/x", to: specs))
        #expect(!WatchPlan.matters("/tmp/z", to: specs))
        #expect(!WatchPlan.matters("/tmp/x/y/f/g", to: specs))
        existing.insert("/tmp/x")
        plan = WatchPlan(specs, isDirectory: existing.contains)
        #expect(plan.directories == ["/tmp/x"])
        existing.insert("/tmp/x/y")
        plan = WatchPlan(specs, isDirectory: existing.contains)
        #expect(plan.directories == ["/tmp/x/y"])
        #expect(plan.armed == [.init(watch: 0, directory: "/tmp/x/y")])
        // Removed again: back up to what exists.
        existing = ["/", "/tmp"]
        #expect(WatchPlan(specs, isDirectory: existing.contains).directories == ["/tmp"])
    }

    @Test func aDirectoryWatchWatchesItsParentAndItselfAndWatchesAreShared() throws {
        let specs = [try spec(("FILE", "/srv/drop/")), try spec(("FILE", "/srv/drop/*.txt")), try spec(("FILE", "/srv/other"))]
        let plan = WatchPlan(specs, isDirectory: { ["/", "/srv", "/srv/drop"].contains($0) })
        #expect(plan.directories == ["/srv", "/srv/drop"])
        #expect(plan.armed.count == 4)
        let none = WatchPlan(specs, isDirectory: { _ in false })
        #expect(none.directories.isEmpty && none.armed.isEmpty)
    }
}

@Suite struct FairQueueTests {
    @Test func jobsTakeTurnsRepeatsAreOneAndTheBoundsDropAndCount() {
        var q = FairQueue<String, Int>(limit: 6, perKey: 4)
        for i in 0..<10 { q.push(i, for: "flood") }
        #expect(q.count == 4 && q.dropped == 6, "one job gets at most perKey")
        let repeated = q.push(0, for: "flood")
        #expect(!repeated && q.dropped == 6, "a repeat of a waiting item is the same item, not a drop")
        q.push(100, for: "other")
        q.push(101, for: "other")
        let over = q.push(102, for: "other")
        #expect(!over && q.dropped == 7, "the whole queue holds at most limit")
        var order: [String] = []
        while let (k, _) = q.pop() { order.append(k) }
        #expect(order == ["flood", "other", "flood", "other", "flood", "flood"])
        #expect(q.isEmpty)
        let again = q.push(0, for: "flood")
        #expect(again, "popped items may come again")
    }

    @Test func aLongLineStaysFifoWhileItIsCompacted() {
        var q = FairQueue<String, Int>(limit: 10_000, perKey: 10_000)
        for i in 0..<1000 { q.push(i, for: "a") }
        var got: [Int] = []
        for i in 1000..<1500 {
            got.append(q.pop()!.item)
            q.push(i, for: "a")
        }
        while let (_, v) = q.pop() { got.append(v) }
        #expect(got == Array(0..<1500))
    }
}
