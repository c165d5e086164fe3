# fish completion for wasmpull(1). Keep in step with the option tables in
# src/; tests/cli/test_docs.py fails when an option is missing here.

# Prints the operands typed so far (command, cache subcommand, ...),
# skipping options and the values of options that take one.
function __wasmpull_operands
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case -C --cache-dir --sha256 --policy -o --output --platform --timeout --retries --max-size --authfile -u --username --ca-file --insecure-registry --mirror -H --header --older-than
                set skip 1
            case '--*'
            case '-*'
                # bundled short flags ending in one that takes a value: -vC DIR
                string match -qr -- '^-[vqhV]+[CuHo]$' $t; and set skip 1
            case '*'
                echo $t
        end
    end
end

# True when the operands so far are exactly $argv (plus, with -a, any more).
function __wasmpull_at
    set -l ops (__wasmpull_operands)
    set -l any 0
    if test "$argv[1]" = -a
        set any 1
        set -e argv[1]
    end
    if test $any = 0; and test (count $ops) -ne (count $argv)
        return 1
    end
    if test (count $ops) -lt (count $argv)
        return 1
    end
    for i in (seq (count $argv))
        test "$ops[$i]" = "$argv[$i]"; or return 1
    end
end

complete -c wasmpull -f

# Global options, before or after the command.
complete -c wasmpull -s C -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache root'
complete -c wasmpull -s v -l verbose -d 'More messages; -vv traces HTTP requests'
complete -c wasmpull -s q -l quiet -d 'Errors only'
complete -c wasmpull -s h -l help -d 'Show usage'
complete -c wasmpull -s V -l version -d 'Show versions'

# Commands.
complete -c wasmpull -n '__wasmpull_at' -a pull -d 'Fetch a module into the cache and verify it'
complete -c wasmpull -n '__wasmpull_at' -a inspect -d 'Show what a source is, without caching it'
complete -c wasmpull -n '__wasmpull_at' -a cache -d 'List, collect, remove and verify cached modules'
complete -c wasmpull -n '__wasmpull_at' -a help -d 'Show help for a command'
complete -c wasmpull -n '__wasmpull_at help' -a 'pull inspect cache'

# pull and inspect: SOURCE, and the options that control fetching.
set -l fetch '__wasmpull_at -a pull; or __wasmpull_at -a inspect'
complete -c wasmpull -n '__wasmpull_at pull; or __wasmpull_at inspect' -F
complete -c wasmpull -n $fetch -l timeout -x -d 'Deadline for the whole command (30s, 2m, 1h)'
complete -c wasmpull -n $fetch -l retries -x -d 'Attempts for transient failures, in total'
complete -c wasmpull -n $fetch -l max-size -x -d 'Largest module accepted (256MiB, 10M)'
complete -c wasmpull -n $fetch -l authfile -r -F -d 'Credentials file in docker config.json form'
complete -c wasmpull -n $fetch -s u -l username -x -d 'Registry user name'
complete -c wasmpull -n $fetch -l password-stdin -d 'Read the password from standard input'
complete -c wasmpull -n $fetch -l ca-file -r -F -d 'Extra trusted CA certificates (PEM)'
complete -c wasmpull -n $fetch -l insecure-registry -x -d 'Skip TLS verification for HOST[:PORT] (* for all)'
complete -c wasmpull -n $fetch -l plain-http -d 'Talk plain HTTP to registries'
complete -c wasmpull -n $fetch -l mirror -x -d 'REGISTRY=MIRROR: try MIRROR first'
complete -c wasmpull -n $fetch -s H -l header -x -d "Extra request header 'Name: value'"
complete -c wasmpull -n $fetch -l platform -x -a 'wasip1/wasm wasi/wasm wasip2/wasm linux/amd64 linux/arm64' -d 'Entry of an image index (OS/ARCH[/VARIANT])'
complete -c wasmpull -n $fetch -l json -d 'Print JSON'

# pull only.
set -l pull '__wasmpull_at -a pull'
complete -c wasmpull -n $pull -l sha256 -x -d 'Expected digest of the manifest or module'
complete -c wasmpull -n $pull -l policy -x -a 'if-not-present always never' -d 'When to go to the network'
complete -c wasmpull -n $pull -s o -l output -r -F -d 'Also write the module to PATH (- for stdout)'

# inspect only.
set -l inspect '__wasmpull_at -a inspect'
complete -c wasmpull -n $inspect -l raw -d 'Print the manifest exactly as served'
complete -c wasmpull -n $inspect -l metadata-only -d 'Skip the module download'

# cache and its subcommands.
complete -c wasmpull -n '__wasmpull_at cache' -a ls -d 'List cached modules'
complete -c wasmpull -n '__wasmpull_at cache' -a gc -d 'Remove old and unused modules'
complete -c wasmpull -n '__wasmpull_at cache' -a rm -d 'Forget sources or delete modules'
complete -c wasmpull -n '__wasmpull_at cache' -a verify -d 'Re-hash every module'
set -l cache_json '__wasmpull_at -a cache ls; or __wasmpull_at -a cache gc; or __wasmpull_at -a cache rm; or __wasmpull_at -a cache verify'
complete -c wasmpull -n $cache_json -l json -d 'Print JSON'
set -l gc '__wasmpull_at -a cache gc'
complete -c wasmpull -n $gc -l older-than -x -d 'Remove modules not used for DURATION (24h, 7d)'
complete -c wasmpull -n $gc -l max-size -x -d 'Then remove least recently used until the cache fits'
complete -c wasmpull -n $gc -l dry-run -d 'List what would be removed'
