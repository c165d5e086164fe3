# bash completion for wasmpull(1). Keep in step with the option tables in
# src/; tests/cli/test_docs.py fails when an option is missing here.

_wasmpull_global_opts='-C --cache-dir -v --verbose -q --quiet -h --help -V --version'
_wasmpull_fetch_opts='--timeout --retries --max-size --authfile -u --username
	--password-stdin --ca-file --insecure-registry --plain-http --mirror
	-H --header'
_wasmpull_pull_opts="--sha256 --policy -o --output --platform --json $_wasmpull_fetch_opts"
_wasmpull_inspect_opts="--json --raw --metadata-only --platform $_wasmpull_fetch_opts"
# Options that take a value in the next word, for every command.
_wasmpull_arg_opts='-C --cache-dir --sha256 --policy -o --output --platform
	--timeout --retries --max-size --authfile -u --username --ca-file
	--insecure-registry --mirror -H --header --older-than'

_wasmpull_files()
{
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$1"))
}

_wasmpull_dirs()
{
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -d -- "$1"))
}

_wasmpull()
{
	local cur prev i w cmd= sub= nargs=0 skip= opts
	local argopts=" $(printf '%s ' $_wasmpull_arg_opts)"
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	# An option's "=value" arrives as two more words (COMP_WORDBREAKS).
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	fi
	# Bundled short flags ending in one that takes a value: -vC DIR.
	if [[ $prev =~ ^-[vqhV]+([CuHo])$ ]]; then
		prev=-${BASH_REMATCH[1]}
	fi

	# The command, the cache subcommand, and how many operands follow.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $skip ]]; then
			skip=
			continue
		fi
		if [[ $w == = ]]; then
			skip=1
			continue
		fi
		case $w in
		-*)
			[[ $argopts == *" $w "* && ${COMP_WORDS[i+1]} != = ]] && skip=1
			[[ $w =~ ^-[vqhV]+[CuHo]$ ]] && skip=1
			;;
		*)
			if [[ -z $cmd ]]; then
				cmd=$w
			elif [[ $cmd == cache && -z $sub ]]; then
				sub=$w
			else
				((nargs++))
			fi
			;;
		esac
	done

	case $prev in
	-C | --cache-dir)
		_wasmpull_dirs "$cur"
		return
		;;
	--policy)
		COMPREPLY=($(compgen -W 'if-not-present always never' -- "$cur"))
		return
		;;
	-o | --output)
		_wasmpull_files "$cur"
		[[ -z $cur || $cur == - ]] && COMPREPLY+=(-)
		return
		;;
	--authfile | --ca-file)
		_wasmpull_files "$cur"
		return
		;;
	--platform)
		COMPREPLY=($(compgen -W 'wasip1/wasm wasi/wasm wasip2/wasm linux/amd64 linux/arm64' -- "$cur"))
		return
		;;
	--sha256 | --timeout | --retries | --max-size | -u | --username | \
	--insecure-registry | --mirror | -H | --header | --older-than)
		return
		;;
	esac

	case $cmd in
	'')
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_wasmpull_global_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'pull inspect cache help' -- "$cur"))
		fi
		return
		;;
	help)
		((nargs == 0)) && [[ -z $sub ]] &&
			COMPREPLY=($(compgen -W 'pull inspect cache' -- "$cur"))
		return
		;;
	pull) opts=$_wasmpull_pull_opts ;;
	inspect) opts=$_wasmpull_inspect_opts ;;
	cache)
		case $sub in
		'')
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "$_wasmpull_global_opts" -- "$cur"))
			else
				COMPREPLY=($(compgen -W 'ls gc rm verify' -- "$cur"))
			fi
			return
			;;
		ls | rm | verify) opts='--json' ;;
		gc) opts='--older-than --max-size --dry-run --json' ;;
		*) return ;;
		esac
		;;
	*) return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $_wasmpull_global_opts" -- "$cur"))
	elif [[ $cmd == pull || $cmd == inspect ]] && ((nargs == 0)); then
		# SOURCE: local paths complete as files; references are free text.
		case $cur in
		/* | ./* | ../* | . | ..) _wasmpull_files "$cur" ;;
		file://*)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -P file:// -- "${cur#file://}"))
			;;
		esac
	fi
}

complete -F _wasmpull wasmpull
