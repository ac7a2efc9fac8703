/// Upstart's rules for turning a job's `exec` line or `script` body into an
/// argument vector (init/job_process.c, `job_process_start`):
///
/// - an `exec` command with none of the shell characters is split on
///   spaces, tabs, carriage returns and newlines (runs of them count as one)
///   and run directly;
/// - an `exec` command with any of them runs as
///   `/bin/sh -e -c "exec COMMAND" /bin/sh`, so variables, quotes and
///   redirections work and the shell then gets out of the way;
/// - a `script` runs as `/bin/sh -e -c BODY /bin/sh`: the first failing
///   command ends it. (The trailing `/bin/sh` is `$0`.)
///
/// Upstart passes a script of more than one line through a pipe, running
/// `/bin/sh -e /proc/self/fd/9`, and only one-line scripts with `-c`.
/// Daybreak passes every script with `-c` for now, which limits a script to
/// Linux's 128 KiB for one argument (MAX_ARG_STRLEN).
public enum ShellCommand {
    /// The shell Upstart runs scripts and shell-character commands with.
    public static let shell = "/bin/sh"

    /// Upstart's SHELL_CHARS: any of them in an `exec` line means a shell.
    public static let specialCharacters: Set<Character> = [
        "~", "`", "!", "$", "^", "&", "*", "(", ")", "=", "|", "\\", "{", "}", "[", "]", ";", "\"", "'", "<",
        ">", "?",
    ]

    /// Whether the `exec` line needs a shell.
    public static func needsShell(_ command: String) -> Bool {
        command.contains(where: specialCharacters.contains)
    }
}

/// The argument vector for an `exec` line (see `ShellCommand`).
public func commandArguments(for exec: String) -> [String] {
    if ShellCommand.needsShell(exec) {
        return [ShellCommand.shell, "-e", "-c", "exec " + trimmingTrailingNewlines(exec), ShellCommand.shell]
    }
    // "\r\n" is one Character in Swift, so it is listed too.
    let separators: Set<Character> = [" ", "\t", "\r", "\n", "\r\n"]
    return exec.split(whereSeparator: separators.contains).map(String.init)
}

/// The argument vector for a `script` body (see `ShellCommand`). Trailing
/// newlines are dropped, as Upstart does for one-line scripts.
public func scriptArguments(for body: String) -> [String] {
    [ShellCommand.shell, "-e", "-c", trimmingTrailingNewlines(body), ShellCommand.shell]
}

private func trimmingTrailingNewlines(_ text: String) -> String {
    var end = text.endIndex
    while end > text.startIndex, text[text.index(before: end)] == "\n" {
        end = text.index(before: end)
    }
    return String(text[..<end])
}
