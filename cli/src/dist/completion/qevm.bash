# bash completion for qevm: options, the values of -d and --page-size, a file for -f and
# --save, the transports of --incoming, a directory for -o, the snapshots of the qcow2 image given with -f for --snapshot. Long options are completed in full, and an abbreviated one (--fi, which the
# CLI accepts as argparse does) still gets its value completed.
# Use: source it from ~/.bashrc, or copy it to ~/.local/share/bash-completion/completions/qevm.
# Needs bash alone (not the bash-completion package). Keep the lists below in step with
# qevm --help (cli/src/main/java/io/qevm/cli/Options.java).

# the IDs and names of the snapshots of qcow2 image $1 that start with $cur, as qevm
# --list-snapshots lists them (the first two columns of its rows: a name with spaces only up to
# its first)
_qevm_snapshots() {
    if [ -n "$1" ] && [ -f "$1" ]; then
        COMPREPLY=($(compgen -W "$(qevm -f "$1" --list-snapshots 2>/dev/null \
            | awk 'NR > 2 { print $1; print $2 }')" -- "$cur"))
    fi
}

# qevm diff A B: its options, files for A and B, the snapshots of A or B for --snapshot-a/-b
_qevm_diff() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i file= files=()
    case $prev in
        --snapshot-a | --snapshot-b)
            # A and B: the first two words that are not options or option values
            for ((i = 2; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                    --snapshot-a | --snapshot-b) i=$((i + 1)) ;;
                    -*) ;;
                    *) files+=("${COMP_WORDS[i]}") ;;
                esac
            done
            [ "$prev" = --snapshot-a ] && file=${files[0]} || file=${files[1]}
            _qevm_snapshots "$file"
            return
            ;;
    esac
    case $cur in
        -*) COMPREPLY=($(compgen -W '--help --json --snapshot-a --snapshot-b --debug' -- "$cur")) ;;
        *)
            compopt -o filenames 2>/dev/null
            local IFS=$'\n'
            COMPREPLY=($(compgen -f -- "$cur"))
            ;;
    esac
}

_qevm() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev= option
    # subcommands (qevm NAME ARGS...): their names as the first word, then their own completion
    local subcommands='read grep stats diff events report'
    if [ "$COMP_CWORD" -eq 1 ] && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
        return
    fi
    case ${COMP_WORDS[1]} in
        diff) _qevm_diff; return ;;
    esac
    local long='--help --file --incoming --memory --dump --extract --output-dir --ram-only
        --page-size --no-clobber --snapshot --list-snapshots --save --timeout --progress
        --no-progress --debug --version'
    local short='-h -f -m -d -x -o'
    if [ "$COMP_CWORD" -gt 0 ]; then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi
    case ${COMP_WORDS[1]} in
        stats | events | report)
            case $prev in
                -o | --output)
                    compopt -o filenames 2>/dev/null
                    local IFS=$'\n'
                    COMPREPLY=($(compgen -f -- "$cur"))
                    return
                    ;;
                --snapshot) return ;;
            esac
            local own='--snapshot --debug --help'
            case ${COMP_WORDS[1]} in
                stats) own="--json $own" ;;
                report) own="--output $own" ;;
            esac
            if [ "${cur#-}" != "$cur" ]; then
                COMPREPLY=($(compgen -W "$own" -- "$cur"))
            else
                compopt -o filenames 2>/dev/null
                local IFS=$'\n'
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return
            ;;
    esac
    # --name=value: bash splits it at '=' (COMP_WORDBREAKS), into --name, = and value
    if [ "$cur" = "=" ]; then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        cur=
    elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    # qevm read|grep FILE ...: the subcommand's own options (qevm NAME --help), else a file
    case ${COMP_WORDS[1]:-} in
        read | grep)
            if [ "$COMP_CWORD" -gt 1 ]; then
                local sub_long='--text --hex --max --json --snapshot --debug --help' sub_short='-h'
                if [ "${COMP_WORDS[1]}" = read ]; then
                    sub_long='--gpa --block --offset --length --raw --output --snapshot --debug --help'
                    sub_short='-o -h'
                fi
                case $cur in
                    -*) COMPREPLY=($(compgen -W "$sub_short $sub_long" -- "$cur")) ;;
                    *)
                        compopt -o filenames 2>/dev/null
                        local IFS=$'\n'
                        COMPREPLY=($(compgen -f -- "$cur"))
                        ;;
                esac
                return
            fi
            ;;
    esac
    # an abbreviated long option stands for the one option it is a prefix of
    case $prev in
        --?*)
            local match= count=0
            for option in $long; do
                case $option in
                    "$prev"*) match=$option; count=$((count + 1)) ;;
                esac
            done
            [ "$count" -eq 1 ] && prev=$match
            ;;
    esac
    case $prev in
        -f | --file | --save)
            compopt -o filenames 2>/dev/null
            local IFS=$'\n' # names may hold spaces
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        -o | --output-dir)
            compopt -o filenames 2>/dev/null
            local IFS=$'\n'
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        -d | --dump)
            COMPREPLY=($(compgen -W 'state desc' -- "$cur"))
            return
            ;;
        --incoming)
            # QEMU's -incoming syntax: the transports qevm listens on
            COMPREPLY=($(compgen -W 'tcp: unix:' -- "$cur"))
            compopt -o nospace 2>/dev/null
            return
            ;;
        --timeout)
            COMPREPLY=($(compgen -W '60 0' -- "$cur"))
            return
            ;;
        --page-size)
            COMPREPLY=($(compgen -W '4096 8192 16384 65536 1024' -- "$cur"))
            return
            ;;
        --snapshot)
            # the snapshots of the image given with -f/--file
            local i file=
            for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                    -f | --f | --fi | --fil | --file) file=${COMP_WORDS[i + 1]} ;;
                esac
            done
            _qevm_snapshots "$file"
            return
            ;;
    esac
    case $cur in
        --*) COMPREPLY=($(compgen -W "$long" -- "$cur")) ;;
        -*) COMPREPLY=($(compgen -W "$short $long" -- "$cur")) ;;
        *) COMPREPLY=() ;; # a subcommand's name as the first word: above
    esac
}

complete -F _qevm qevm
