# bash completion for initctl and its links start, stop, restart, reload,
# status (docs/installing.md). Installed as
# $(datadir)/bash-completion/completions/initctl; source it by hand with
#   . completion/initctl.bash
#
# The commands and options come from the initctl being completed
# (`initctl --help`, `initctl COMMAND --help`), so they never fall behind
# it; job names come from the running daemon (`initctl list`), asked
# through the same --user, --system or --socket the command line gives.

# The commands of this initctl, one a line.
_initctl_commands() {
    "$1" --help 2>/dev/null | sed -n '/^Commands/,$ s/^  \([a-z][a-z-]*\).*/\1/p'
}

# The options a help text lists (`-q, --quiet`, `--socket=VALUE`).
_initctl_options() {
    "$@" --help 2>/dev/null | sed -n '/^Commands/q; s/^  \(-[a-z]\), \(--[a-z-]*\).*/\1 \2/p; s/^      \(--[a-z-]*\).*/\1/p'
}

# Job names from the daemon: the first word of each `initctl list` line.
_initctl_jobs() {
    "$@" list 2>/dev/null | while read -r job _; do printf '%s\n' "$job"; done | sort -u
}

_initctl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prog=${COMP_WORDS[0]}
    local tool=$prog name=${prog##*/}
    local -a daemon=()
    local verb= i word

    case $name in
        start|stop|restart|reload|status)
            # A link to initctl: the command is its name. Only ever run a
            # program named initctl (the link's target, else initctl on
            # PATH): `start list` would start a job.
            verb=$name
            tool=$(readlink -f "$(type -P "$prog")" 2>/dev/null)
            [[ ${tool##*/} == initctl ]] || tool=initctl ;;
    esac

    # The words before the cursor: which daemon, and which command.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            --user|--system|--session) daemon+=("$word") ;;
            --socket) daemon+=("$word" "${COMP_WORDS[i+1]}"); ((i++)) ;;
            --socket=*) daemon+=("$word") ;;
            --dest) ((i++)) ;;
            -*) ;;
            *) if [[ -z $verb ]]; then verb=$word; fi ;;
        esac
    done

    if [[ ${COMP_WORDS[COMP_CWORD-1]} == --socket ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
        return
    fi

    if [[ $cur == -* ]]; then
        if [[ -n $verb ]]; then
            COMPREPLY=($(compgen -W "$(_initctl_options "$tool" "$verb")" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_initctl_options "$tool")" -- "$cur"))
        fi
        return
    fi

    if [[ -z $verb ]]; then
        COMPREPLY=($(compgen -W "$(_initctl_commands "$tool")" -- "$cur"))
        return
    fi

    case $verb in
        start|stop|restart|reload|status|log|usage|show-config|check-config|graph)
            COMPREPLY=($(compgen -W "$(_initctl_jobs "$tool" "${daemon[@]}")" -- "$cur")) ;;
    esac
}

complete -F _initctl initctl start stop restart reload status
