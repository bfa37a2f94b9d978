# bash completion for ipautofwctl (and ipautofw, its 1996 name)

_ipautofwctl_rules()
{
	ipautofwctl "$@" rules 2>/dev/null | sed -n 's/^rule \([^ ]*\) .*/\1/p'
}

_ipautofwctl()
{
	local cur prev words cword
	_init_completion || return
	local commands="list rules add del flush enable disable reload status metrics monitor learn trace reexec help"
	local i cmd= sock=()

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket)
			sock=(-s "${words[i + 1]}")
			((i++))
			;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done
	case $prev in
	-s | --socket)
		_filedir
		return
		;;
	esac
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-s --socket -j --json -h --help -V --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi
	# options may follow the command too (ipautofwctl list -j)
	if [[ $cur == -* && $cmd != add ]]; then
		COMPREPLY=($(compgen -W "-s --socket -j --json -h --help $([[ $cmd == learn ]] && echo --clear)" -- "$cur"))
		return
	fi
	case $cmd in
	del | flush | enable | disable)
		COMPREPLY=($(compgen -W "$(_ipautofwctl_rules "${sock[@]}")" -- "$cur"))
		;;
	learn)
		COMPREPLY=($(compgen -W "--clear $(_ipautofwctl_rules "${sock[@]}")" -- "$cur"))
		;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		;;
	metrics)
		if [[ $prev == --output || $prev == -o ]]; then
			_filedir prom
		elif [[ $prev == metrics ]]; then
			COMPREPLY=($(compgen -W '--output' -- "$cur"))
		fi
		;;
	add)
		COMPREPLY=($(compgen -W 'trigger forward timeout to peer exclusive family lan wan allow max-per-host disabled' -- "$cur"))
		;;
	esac
}

_ipautofw()
{
	local cur prev words cword
	_init_completion || return
	case $prev in
	-r | -c | -p)
		COMPREPLY=($(compgen -W 'tcp udp' -- "$cur"))
		return
		;;
	esac
	COMPREPLY=($(compgen -W '-A -D -F -L -r -c -h -p -u -v' -- "$cur"))
}

complete -F _ipautofwctl ipautofwctl
complete -F _ipautofw ipautofw
