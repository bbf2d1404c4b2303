#!/usr/bin/env bash
# Builds every libFuzzer target with ASan+UBSan and runs each for a bounded
# time from its checked-in seed corpus. Usage: run.sh CLANG SECONDS [TARGET...]
# A crash fails the run (exit 1) and leaves the reproducer under build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
clang=${1:-clang-14}
secs=${2:-60}
shift 2 || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request response body rules pathdiff env judge redact learn scope tls)
out=build/fuzz
mkdir -p "$out"
declare -A srcs=(
    [request]="core/http1.c" [response]="core/http1.c" [body]="core/http1.c"
    [rules]="rules/rules.c rules/presets.c rules/body.c rules/gojson.c rules/scope.c rules/path.c" [pathdiff]="rules/path.c" [env]="rules/rules.c rules/presets.c rules/body.c rules/gojson.c rules/scope.c rules/path.c core/config.c core/log.c"
    [judge]="rules/body.c rules/gojson.c" [redact]="rules/redact.c" [scope]="rules/scope.c rules/gojson.c"
    [learn]="core/learn.c core/learn_log.c rules/rules.c rules/presets.c rules/body.c rules/gojson.c rules/scope.c rules/path.c"
    [tls]="core/tls.c"
)
for t in "${targets[@]}"; do
    extra=""
    case $t in env | judge | rules | redact | learn | scope) extra="$(pkg-config --cflags --libs libcjson)" ;; esac
    # Debian's mbed TLS (libmbedtls-dev), not instrumented: the coverage is core/tls.c's.
    case $t in tls) extra="-lmbedtls -lmbedx509 -lmbedcrypto" ;; esac
    # shellcheck disable=SC2086
    "$clang" -g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -o "$out/fuzz_$t" "tests/fuzz/fuzz_$t.c" ${srcs[$t]} $extra
    work="$out/corpus_$t"
    mkdir -p "$work"
    log="$out/fuzz_$t.log"
    if ! "$out/fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=10 -artifact_prefix="$out/crash_${t}_" \
        "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz_$t: FAILED (see $log)"
        exit 1
    fi
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || true)
    [ -n "$execs" ] || execs=$(grep -Eo '#[0-9]+' "$log" | tail -1 | tr -d '#')
    echo "fuzz_$t: ok, $execs executions in ${secs}s"
done
