import Testing
@testable import JobFile

@Suite struct DocumentationStanzas {
    @Test func documentationStanzasTakeOneArgument() throws {
        let job = try parse("description \"d\"\nauthor a\nversion \"$Id$\"\nusage \"tty DEV=ttyX\"\n")
        #expect(job.description == "d")
        #expect(job.author == "a")
        #expect(job.version == "$Id$")
        #expect(job.usage == "tty DEV=ttyX")
    }

    @Test func aRepeatedDocumentationStanzaReplacesTheEarlierOne() throws {
        #expect(try parse("description one\ndescription two\n").description == "two")
    }

    @Test func documentationStanzaWithoutValueIsRejected() {
        expectError("author\n", 1, 7, "expected a value after 'author'")
    }

    @Test func emitsAccumulatesAndKeepsEachNameOnce() throws {
        let job = try parse("emits foo bar\nemits baz foo\nemits device-*\n")
        #expect(job.emits == ["foo", "bar", "baz", "device-*"])
    }

    @Test func emitsRejectsAnEmptyName() {
        expectError("emits a \"\"\n", 1, 9, "expected an event name after 'emits', got an empty string")
    }

    @Test func emitsWithoutNamesIsRejected() {
        expectError("emits # nothing\n", 1, 7, "expected one or more event names after 'emits'")
    }
}

@Suite struct ProcessStanzas {
    @Test func execKeepsTheRestOfTheLineAsWritten() throws {
        let job = try parse("exec /usr/sbin/acpid -c $EVENTSDIR -s \"$SOCKET\"   # comment\n")
        #expect(job.main == .exec("/usr/sbin/acpid -c $EVENTSDIR -s \"$SOCKET\""))
    }

    @Test func execContinuationLinesAreJoinedWithASpace() throws {
        let job = try parse("exec /bin/daemon --one \\\n    --two\n")
        #expect(job.main == .exec("/bin/daemon --one      --two"))
    }

    @Test func execKeepsQuotedHashAndEscapedHash() throws {
        #expect(try parse("exec echo '#not' \\#nor # but this is\n").main == .exec("echo '#not' \\#nor"))
    }

    @Test func execWithoutCommandIsRejected() {
        expectError("exec   # nothing\n", 1, 8, "expected a command after 'exec'")
    }

    @Test func laterExecOrScriptReplacesTheMainProcess() throws {
        #expect(try parse("exec /bin/a\nscript\n  b\nend script\n").main == .script("  b\n"))
        #expect(try parse("script\n  b\nend script\nexec /bin/a\n").main == .exec("/bin/a"))
    }

    @Test func eachLifecycleProcessTakesExecOrScript() throws {
        let job = try parse("""
            pre-start exec /bin/pre
            post-start script
              echo post
            end script
            pre-stop exec /bin/prestop
            post-stop script
              echo bye
            end script
            """)
        #expect(job.preStart == .exec("/bin/pre"))
        #expect(job.postStart == .script("  echo post\n"))
        #expect(job.preStop == .exec("/bin/prestop"))
        #expect(job.postStop == .script("  echo bye\n"))
        #expect(job.main == nil)
    }

    @Test func lifecycleProcessNeedsExecOrScript() {
        expectError("pre-start run /bin/x\n", 1, 11, "expected 'exec' or 'script' after 'pre-start', got 'run'")
        expectError("post-stop\n", 1, 10, "expected 'exec' or 'script' after 'post-stop'")
    }

    @Test func lifecycleExecWithoutCommandNamesTheProcess() {
        expectError("pre-stop exec\n", 1, 14, "expected a command after 'pre-stop exec'")
    }
}

@Suite struct LifecycleStanzas {
    @Test func defaultsMatchUpstart() throws {
        let job = try parse("")
        #expect(job.respawn == false)
        #expect(job.respawnLimit == .limit(count: 10, interval: 5))
        #expect(job.killSignal == .term)
        #expect(job.killTimeout == 5)
        #expect(job.reloadSignal == .hup)
        #expect(job.expect == .none)
        #expect(job.console == .log)
        #expect(job.task == false)
        #expect(job.startOn == nil && job.stopOn == nil)
    }

    @Test func respawnTurnsRespawningOn() throws {
        #expect(try parse("respawn\n").respawn)
    }

    @Test func respawnLimitAloneSetsTheLimitButNotRespawning() throws {
        let job = try parse("respawn limit 3 60\n")
        #expect(job.respawnLimit == .limit(count: 3, interval: 60))
        #expect(job.respawn == false)
    }

    @Test func respawnLimitUnlimitedAndZeroMeanNoLimit() throws {
        #expect(try parse("respawn limit unlimited\n").respawnLimit == .unlimited)
        #expect(try parse("respawn limit 0 5\n").respawnLimit == .unlimited)
        #expect(try parse("respawn limit 5 0\n").respawnLimit == .unlimited)
    }

    @Test func respawnLimitRejectsBadValues() {
        expectError("respawn limit ten 5\n", 1, 15, "expected a respawn count (a whole number from 0) or 'unlimited' after 'respawn limit', got 'ten'")
        expectError("respawn limit 10\n", 1, 17, "expected an interval in seconds after 'respawn limit 10'")
        expectError("respawn limit 10 -1\n", 1, 18, "expected an interval in seconds (a whole number from 0) after 'respawn limit 10', got '-1'")
        expectError("respawn forever\n", 1, 9, "unexpected 'forever' after 'respawn'; expected 'limit', 'delay' or the end of the line")
        expectError("respawn limit 1 2 3\n", 1, 19, "unexpected '3' after 'respawn limit 1 2'; expected the end of the line")
    }

    @Test func normalExitTakesStatusesAndSignalsAndAccumulates() throws {
        let job = try parse("normal exit 0 1 TERM SIGHUP\nnormal exit 2 sigusr1 1\n")
        #expect(job.normalExit == [.status(0), .status(1), .signal(.term), .signal(.hup), .status(2), .signal(Signal(number: 10))])
    }

    @Test func normalExitRejectsOutOfRangeStatusesAndUnknownNames() {
        expectError("normal exit 256\n", 1, 13, "exit status 256 after 'normal exit' is out of range; expected 0 to 255")
        expectError("normal exit 0 BOGUS\n", 1, 15, "expected an exit status or a signal name after 'normal exit', got 'BOGUS'")
        expectError("normal exit\n", 1, 12, "expected exit statuses or signal names after 'normal exit'")
        expectError("normal 0\n", 1, 8, "expected 'exit' after 'normal', got '0'")
    }

    @Test func killSignalAcceptsNamesWithOrWithoutSIGAndNumbers() throws {
        #expect(try parse("kill signal INT\n").killSignal == .int)
        #expect(try parse("kill signal SIGKILL\n").killSignal == .kill)
        #expect(try parse("kill signal sigusr2\n").killSignal == Signal(number: 12))
        #expect(try parse("kill signal 3\n").killSignal == Signal(number: 3))
        #expect(try parse("kill signal RTMIN+2\n").killSignal == Signal(number: 36))
        #expect(try parse("kill signal RTMAX-1\n").killSignal == Signal(number: 63))
        #expect(try parse("kill signal SIGRTMAX\n").killSignal.name == "RTMAX")
        #expect(Signal(number: 34).name == "RTMIN")
        #expect(Signal(number: 40).name == "RTMIN+6")
    }

    @Test func killSignalRejectsUnknownSignals() {
        expectError("kill signal SIGFOO\n", 1, 13, "expected a signal name or number after 'kill signal', got 'SIGFOO'")
        expectError("kill signal 0\n", 1, 13, "expected a signal name or number after 'kill signal', got '0'")
        expectError("kill signal 65\n", 1, 13, "expected a signal name or number after 'kill signal', got '65'")
        expectError("kill signal\n", 1, 12, "expected a signal name or number after 'kill signal'")
    }

    @Test func killTimeoutTakesNonNegativeSeconds() throws {
        #expect(try parse("kill timeout 0\n").killTimeout == 0)
        #expect(try parse("kill timeout 120\n").killTimeout == 120)
        expectError("kill timeout -1\n", 1, 14, "expected a number of seconds (a whole number from 0) after 'kill timeout', got '-1'")
        expectError("kill timeout 5s\n", 1, 14, "expected a number of seconds (a whole number from 0) after 'kill timeout', got '5s'")
        expectError("kill now\n", 1, 6, "expected 'signal' or 'timeout' after 'kill', got 'now'")
    }

    @Test func reloadSignalTakesASignal() throws {
        #expect(try parse("reload signal USR1\n").reloadSignal == Signal(number: 10))
        expectError("reload USR1\n", 1, 8, "expected 'signal' after 'reload', got 'USR1'")
    }

    @Test func expectTakesEachMode() throws {
        for mode in ExpectMode.allCases {
            #expect(try parse("expect \(mode.rawValue)\n").expect == mode)
        }
        expectError("expect forks\n", 1, 8, "expected stop, daemon, fork, notify or none after 'expect', got 'forks'")
    }

    @Test func taskAndManualTakeNoArguments() {
        expectError("task now\n", 1, 6, "unexpected 'now' after 'task'; expected the end of the line")
        expectError("manual please\n", 1, 8, "unexpected 'please' after 'manual'; expected the end of the line")
    }
}

@Suite struct InstanceStanza {
    @Test func instanceKeepsVariableReferencesForLater() throws {
        #expect(try parse("instance $TTY\n").instance == "$TTY")
        #expect(try parse("instance \"${IFACE}-$ADDR\"\n").instance == "${IFACE}-$ADDR")
    }
}

@Suite struct EnvironmentStanzas {
    @Test func envTakesKeyValueOrKeyAlone() throws {
        let job = try parse("env A=1\nenv B\nenv C=\"two words\"\nenv D=\n")
        #expect(job.env == [
            EnvVariable(name: "A", value: "1"), EnvVariable(name: "B", value: nil),
            EnvVariable(name: "C", value: "two words"), EnvVariable(name: "D", value: ""),
        ])
    }

    @Test func envOfTheSameNameReplacesTheValueInPlace() throws {
        let job = try parse("env A=1\nenv B=2\nenv A=3\n")
        #expect(job.env == [EnvVariable(name: "A", value: "3"), EnvVariable(name: "B", value: "2")])
    }

    @Test func envValueMayContainEquals() throws {
        #expect(try parse("env OPTS=a=b\n").env == [EnvVariable(name: "OPTS", value: "a=b")])
    }

    @Test func envRejectsBadNamesAndExtraWords() {
        expectError("env 1A=x\n", 1, 5, "expected a variable name (letters, digits and '_', not starting with a digit) after 'env', got '1A'")
        expectError("env =x\n", 1, 5, "expected a variable name (letters, digits and '_', not starting with a digit) after 'env', got ''")
        expectError("env A=two words\n", 1, 11, "unexpected 'words' after 'env A'; expected the end of the line")
        expectError("env\n", 1, 4, "expected KEY=VALUE or KEY after 'env'")
    }

    @Test func exportAccumulatesNames() throws {
        #expect(try parse("export A B\nexport C A\n").export == ["A", "B", "C"])
    }

    @Test func exportRejectsDollarPrefixedNames() {
        expectError("export $A\n", 1, 8, "expected a variable name after 'export', got '$A'; write the name without '$'")
    }

    @Test func consoleTakesEachMode() throws {
        for mode in ConsoleMode.allCases {
            #expect(try parse("console \(mode.rawValue)\n").console == mode)
        }
        expectError("console logged\n", 1, 9, "expected none, output, owner or log after 'console', got 'logged'")
    }

    @Test func limitTakesResourceSoftAndHard() throws {
        let job = try parse("limit nofile 1024 4096\nlimit core unlimited unlimited\nlimit nofile 10 20\n")
        #expect(job.limits == [
            ResourceLimit(resource: .core, soft: .unlimited, hard: .unlimited),
            ResourceLimit(resource: .nofile, soft: .value(10), hard: .value(20)),
        ])
    }

    @Test func limitAcceptsEveryResource() throws {
        for r in ResourceLimit.Resource.allCases {
            #expect(try parse("limit \(r.rawValue) 1 2\n").limits == [ResourceLimit(resource: r, soft: .value(1), hard: .value(2))])
        }
    }

    @Test func limitRejectsBadInput() {
        expectError("limit files 1 2\n", 1, 7, "expected a resource (core, cpu, data, fsize, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, sigpending, stack) after 'limit', got 'files'")
        expectError("limit nofile 10\n", 1, 16, "expected a hard limit (a whole number or 'unlimited') after 'limit nofile 10'")
        expectError("limit nofile -1 10\n", 1, 14, "expected a soft limit (a whole number or 'unlimited') after 'limit nofile', got '-1'")
        expectError("limit nofile 20 10\n", 1, 7, "soft limit 20 is above hard limit 10 in 'limit nofile'")
        expectError("limit nofile unlimited 10\n", 1, 7, "soft limit unlimited is above hard limit 10 in 'limit nofile'")
    }

    @Test func theLargestLimitIsTheKernelsUnlimited() throws {
        #expect(try parse("limit nofile unlimited 18446744073709551615\n").limits == [ResourceLimit(resource: .nofile, soft: .unlimited, hard: .unlimited)])
        expectError("limit nofile 1 18446744073709551616\n", 1, 16, "expected a hard limit (a whole number or 'unlimited') after 'limit nofile 1', got '18446744073709551616'")
    }

    @Test func numbersAreDigitsWithAnOptionalMinusOnly() {
        expectError("nice +5\n", 1, 6, "expected a nice value from -20 to 19 after 'nice', got '+5'")
        expectError("kill timeout +5\n", 1, 14, "expected a number of seconds (a whole number from 0) after 'kill timeout', got '+5'")
        expectError("normal exit +1\n", 1, 13, "expected an exit status or a signal name after 'normal exit', got '+1'")
        expectError("limit core +1 2\n", 1, 12, "expected a soft limit (a whole number or 'unlimited') after 'limit core', got '+1'")
        expectError("kill signal +9\n", 1, 13, "expected a signal name or number after 'kill signal', got '+9'")
    }

    @Test func niceTakesMinusTwentyToNineteen() throws {
        #expect(try parse("nice -20\n").nice == -20)
        #expect(try parse("nice 19\n").nice == 19)
        expectError("nice 20\n", 1, 6, "expected a nice value from -20 to 19 after 'nice', got '20'")
        expectError("nice -21\n", 1, 6, "expected a nice value from -20 to 19 after 'nice', got '-21'")
    }

    @Test func oomScoreTakesMinus1000To1000OrNever() throws {
        #expect(try parse("oom score -999\n").oomScore == .score(-999))
        #expect(try parse("oom score -1000\n").oomScore == .score(-1000))
        #expect(try parse("oom score 1000\n").oomScore == .score(1000))
        #expect(try parse("oom score never\n").oomScore == .never)
        expectError("oom score 1001\n", 1, 11, "expected a score from -1000 to 1000, or 'never', after 'oom score', got '1001'")
        expectError("oom score -1001\n", 1, 11, "expected a score from -1000 to 1000, or 'never', after 'oom score', got '-1001'")
    }

    @Test func oldOomAdjustmentIsConvertedToAScore() throws {
        #expect(try parse("oom -16\n").oomScore == .score(-941))
        #expect(try parse("oom 15\n").oomScore == .score(1000))
        #expect(try parse("oom 0\n").oomScore == .score(0))
        #expect(try parse("oom never\n").oomScore == .never)
        expectError("oom 16\n", 1, 5, "expected 'score' after 'oom' (or an old-style adjustment from -16 to 15, or 'never'), got '16'")
    }

    @Test func umaskIsOctal() throws {
        #expect(try parse("umask 022\n").umask == 0o22)
        #expect(try parse("umask 0777\n").umask == 0o777)
        #expect(try parse("umask 7\n").umask == 7)
        expectError("umask 0778\n", 1, 7, "expected an octal mask from 0 to 0777 after 'umask', got '0778'")
        expectError("umask 1000\n", 1, 7, "expected an octal mask from 0 to 0777 after 'umask', got '1000'")
        expectError("umask -1\n", 1, 7, "expected an octal mask from 0 to 0777 after 'umask', got '-1'")
    }

    @Test func pathAndIdentityStanzasTakeOneArgument() throws {
        let job = try parse("chdir /srv\nchroot \"/var/jail\"\nsetuid www-data\nsetgid www-data\n")
        #expect(job.chdir == "/srv" && job.chroot == "/var/jail" && job.setuid == "www-data" && job.setgid == "www-data")
        expectError("setuid\n", 1, 7, "expected a value after 'setuid'")
    }

    @Test func apparmorLoadAndSwitch() throws {
        let job = try parse("apparmor load /etc/apparmor.d/usr.sbin.cupsd\napparmor switch /usr/sbin/cupsd\n")
        #expect(job.apparmorLoad == "/etc/apparmor.d/usr.sbin.cupsd")
        #expect(job.apparmorSwitch == "/usr/sbin/cupsd")
        expectError("apparmor enforce x\n", 1, 10, "expected 'load' or 'switch' after 'apparmor', got 'enforce'")
    }
}

@Suite struct ContainmentStanzas {
    @Test func cgroupTakesOneToFourWords() throws {
        let job = try parse("""
            cgroup cpu
            cgroup cpuset mygroup
            cgroup memory memory.max 256M
            cgroup blkio slowio throttle.write_bps_device "8:16 1048576"
            cgroup pids $UPSTART_CGROUP pids.max 64
            """)
        #expect(job.cgroups == [
            CgroupSetting(controller: "cpu"),
            CgroupSetting(controller: "cpuset", name: "mygroup"),
            CgroupSetting(controller: "memory", key: "memory.max", value: "256M"),
            CgroupSetting(controller: "blkio", name: "slowio", key: "throttle.write_bps_device", value: "8:16 1048576"),
            CgroupSetting(controller: "pids", key: "pids.max", value: "64"),
        ])
    }

    @Test func cgroupWithTheSameControllerNameAndKeyReplaces() throws {
        let job = try parse("cgroup memory memory.max 1G\ncgroup memory memory.high 512M\ncgroup memory memory.max 2G\n")
        #expect(job.cgroups == [
            CgroupSetting(controller: "memory", key: "memory.max", value: "2G"),
            CgroupSetting(controller: "memory", key: "memory.high", value: "512M"),
        ])
    }

    @Test func cgroupRejectsNoWordsAndTooMany() {
        expectError("cgroup\n", 1, 7, "expected a controller after 'cgroup', such as 'cgroup memory' or 'cgroup pids pids.max 64'")
        expectError("cgroup a b c d e\n", 1, 16, "too many words after 'cgroup'; expected CONTROLLER [NAME] [KEY VALUE]")
    }

    @Test func namespaceAccumulatesSortedAndUnique() throws {
        let job = try parse("namespace pid net\nnamespace uts net\n")
        #expect(job.namespaces == [.net, .pid, .uts])
        #expect(try parse("namespace net pid mount uts ipc user cgroup\n").namespaces == NamespaceKind.allCases.sorted())
    }

    @Test func namespaceRejectsUnknownKinds() {
        expectError("namespace net time\n", 1, 15, "expected a namespace kind (cgroup, ipc, mount, net, pid, user, uts) after 'namespace', got 'time'")
        expectError("namespace\n", 1, 10, "expected one or more namespace kinds (cgroup, ipc, mount, net, pid, user, uts) after 'namespace'")
    }

    @Test func namespaceNetWithANameJoinsThatNamespace() throws {
        let job = try parse("namespace net=blue pid\n")
        #expect(job.namespaces == [.net, .pid])
        #expect(job.joinNetwork == "blue")
        #expect(NamespaceKind.networkPath("blue") == "/run/netns/blue")
        #expect(try parse("namespace net=/proc/1/ns/net\n").joinNetwork == "/proc/1/ns/net")
        #expect(NamespaceKind.networkPath("/proc/1/ns/net") == "/proc/1/ns/net")
        // A later plain `net` asks for a new one again; a later name replaces.
        #expect(try parse("namespace net=blue\nnamespace net\n").joinNetwork == nil)
        #expect(try parse("namespace net=blue\nnamespace net=red\n").joinNetwork == "red")
        #expect(try parse("namespace net\n").joinNetwork == nil)
    }

    @Test func namespaceUtsTakesAHostname() throws {
        let job = try parse("namespace uts=box-1.example\n")
        #expect(job.namespaces == [.uts])
        #expect(job.hostname == "box-1.example")
        #expect(try parse("namespace uts\n").hostname == nil)
        #expect(try parse("namespace uts=" + String(repeating: "a", count: 64) + "\n").hostname?.count == 64)
    }

    @Test func namespaceValuesAreCheckedWithFileAndLine() {
        expectError("namespace pid=x\n", 1, 11, "'namespace pid' takes no value (only net=NAME and uts=NAME do), got 'pid=x'")
        expectError("namespace mount\nnamespace net=\n", 2, 11, "expected a network namespace name (as 'ip netns add NAME' makes) or an absolute path after 'net=', got ''")
        expectError("namespace net=a/b\n", 1, 11, "expected a network namespace name (as 'ip netns add NAME' makes) or an absolute path after 'net=', got 'a/b'")
        expectError("namespace net=..\n", 1, 11, "expected a network namespace name (as 'ip netns add NAME' makes) or an absolute path after 'net=', got '..'")
        expectError("namespace uts=\n", 1, 11, "expected a hostname (1 to 64 letters, digits, '-', '.' or '_') after 'uts=', got ''")
        expectError("namespace uts=a:b\n", 1, 11, "expected a hostname (1 to 64 letters, digits, '-', '.' or '_') after 'uts=', got 'a:b'")
        let long = String(repeating: "a", count: 65)
        expectError("namespace uts=\(long)\n", 1, 11, "expected a hostname (1 to 64 letters, digits, '-', '.' or '_') after 'uts=', got '\(long)'")
        expectError("namespace network=x\n", 1, 11, "expected a namespace kind (cgroup, ipc, mount, net, pid, user, uts) after 'namespace', got 'network=x'")
    }

    @Test func namespaceValuesArePrintedAndReadBack() throws {
        let job = try parse("namespace net=blue uts=box user\n")
        let again = try parse(job.jobFileText)
        #expect(again.namespaces == [.net, .user, .uts])
        #expect(again.joinNetwork == "blue")
        #expect(again.hostname == "box")
    }
}

@Suite struct RespawnDelayStanzaTests {
    @Test func respawnDelayTakesSecondsAndAnOptionalMaximum() throws {
        let a = try Parser.parse(name: "a", text: "respawn delay 1 8\n", file: "a.conf")
        #expect(a.respawnDelay == RespawnDelay(initialMilliseconds: 1000, maximumMilliseconds: 8000))
        #expect(a.respawn == false)
        let b = try Parser.parse(name: "b", text: "respawn delay 0.25\n", file: "b.conf")
        #expect(b.respawnDelay == RespawnDelay(initialMilliseconds: 250, maximumMilliseconds: 250))
        #expect(try Parser.parse(name: "c", text: "exec x\n", file: "c.conf").respawnDelay == nil)
    }

    @Test func respawnDelayRejectsBadValuesWithFileLineAndColumn() {
        for (text, words) in [("respawn delay\n", "expected a delay"), ("respawn delay x\n", "got 'x'"),
                              ("respawn delay 0\n", "got '0'"), ("respawn delay 1.2345\n", "got '1.2345'"),
                              ("respawn delay 4 2\n", "shorter"), ("respawn delay 1 2 3\n", "respawn delay")] {
            do {
                _ = try Parser.parse(name: "a", text: text, file: "a.conf")
                Issue.record("\(text) parsed")
            } catch {
                #expect("\(error)".hasPrefix("a.conf:1:"), "\(error)")
                #expect("\(error)".contains(words), "\(error)")
            }
        }
    }

    @Test func respawnDelayPrintsBackAsWritten() throws {
        let a = try Parser.parse(name: "a", text: "respawn\nrespawn delay 0.5 30\n", file: "a.conf")
        #expect(a.jobFileText.contains("respawn delay 0.5 30\n"))
        #expect(a.json.compact.contains(#""respawn_delay":{"seconds":"0.5","max":"30"}"#))
    }
}
