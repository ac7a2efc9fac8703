import Platform
import Testing

// Upstart's rules for exec lines and scripts (init/job_process.c, job_process_start).

@Test func plainCommandIsSplitOnWhitespaceAndRunDirectly() {
    #expect(commandArguments(for: "/usr/sbin/daemon  --foreground\t-v") == ["/usr/sbin/daemon", "--foreground", "-v"])
    #expect(commandArguments(for: " sleep 10 \r\n") == ["sleep", "10"])
}

@Test func everyShellCharacterSendsTheCommandThroughTheShell() {
    for character in "~`!$^&*()=|\\{}[];\"'<>?" {
        let command = "run a\(character)b"
        #expect(commandArguments(for: command) == ["/bin/sh", "-e", "-c", "exec " + command, "/bin/sh"], "\(character)")
    }
    #expect(ShellCommand.specialCharacters.count == 22)
}

@Test func charactersOutsideTheSetDoNotNeedAShell() {
    // '#', '%', '-', '.', '/', ':', ',' and '+' are not in Upstart's set.
    #expect(commandArguments(for: "prog -a --b=1") == ["/bin/sh", "-e", "-c", "exec prog -a --b=1", "/bin/sh"])
    #expect(commandArguments(for: "prog -a #x %y ./z:1,2+3") == ["prog", "-a", "#x", "%y", "./z:1,2+3"])
}

@Test func scriptRunsWithShellErrexitAndWithoutTrailingNewlines() {
    #expect(scriptArguments(for: "echo one\necho two\n\n") == ["/bin/sh", "-e", "-c", "echo one\necho two", "/bin/sh"])
}
