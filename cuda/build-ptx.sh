#!/usr/bin/env bash
# Compiles the CUDA kernels src/main/cuda/*.cu to PTX in src/main/resources/ptx/ (committed, so
# machines without nvcc still run). Maven calls it in generate-resources.
#
# Each PTX file starts with "// slim4j-source-sha256: HASH", where HASH is the sha256 of
#   "flags:<FLAGS>\n", then "file:<name>\n" + bytes for the .cu file, then for every *.cuh in
#   byte order of their names;
# PtxFreshnessTest recomputes it and fails when a committed PTX is stale. A PTX whose hash matches
# is left alone, so the build does not need nvcc unless a kernel source changed.
#
# Usage: build-ptx.sh           regenerate stale PTX (no-op when everything is up to date)
#        build-ptx.sh --force   regenerate every PTX
#        build-ptx.sh --check   compile each .cu to an sm_90 cubin with -Xptxas -v, print registers,
#                               shared memory and spills; exit 1 on any spill or warning
# NVCC selects the compiler (default: nvcc on the PATH, then /usr/local/cuda/bin/nvcc).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src/main/cuda"
out="$here/src/main/resources/ptx"
FLAGS="-ptx -arch=compute_80 -std=c++17 -Werror all-warnings"

nvcc="${NVCC:-}"
if [ -z "$nvcc" ]; then
    if command -v nvcc >/dev/null 2>&1; then nvcc=nvcc
    elif [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc
    fi
fi

source_hash() {
    {
        printf 'flags:%s\n' "$FLAGS"
        printf 'file:%s\n' "$(basename "$1")"
        cat "$1"
        for h in $(cd "$src" && LC_ALL=C ls -1 -- *.cuh 2>/dev/null | LC_ALL=C sort); do
            printf 'file:%s\n' "$h"
            cat "$src/$h"
        done
    } | sha256sum | cut -d' ' -f1
}

if [ "${1:-}" = "--check" ]; then
    [ -n "$nvcc" ] || { echo "build-ptx: --check needs nvcc" >&2; exit 1; }
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    status=0
    for cu in "$src"/*.cu; do
        name="$(basename "$cu" .cu)"
        if ! log="$(cd "$src" && "$nvcc" -cubin -arch=sm_90 -std=c++17 -Werror all-warnings -Xptxas -v,-warn-spills,-warn-lmem-usage \
                -o "$tmp/$name.cubin" "$cu" 2>&1)"; then
            echo "$log"
            echo "build-ptx: $name.cu FAILED" >&2
            status=1
            continue
        fi
        # ptxas prints one "Compiling entry function" block per kernel; keep the kernel name and its usage lines.
        echo "$log" | sed -n -e "s/.*Compiling entry function '\([^']*\)'.*/$name: \1/p" -e 's/^ptxas info *: *\(Used .*\)/    \1/p' \
            -e 's/^ *\([0-9]* bytes stack frame.*\)/    \1/p'
        if echo "$log" | grep -E '[1-9][0-9]* bytes spill (stores|loads)|warning' >/dev/null; then
            echo "build-ptx: $name.cu spills registers or warns:" >&2
            echo "$log" | grep -E 'spill|warning' >&2
            status=1
        fi
    done
    exit $status
fi

force=0
[ "${1:-}" = "--force" ] && force=1
mkdir -p "$out"
stale=()
for cu in "$src"/*.cu; do
    name="$(basename "$cu" .cu)"
    ptx="$out/$name.ptx"
    hash="$(source_hash "$cu")"
    if [ $force -eq 0 ] && [ -f "$ptx" ] && [ "$(head -n 1 "$ptx")" = "// slim4j-source-sha256: $hash" ]; then
        continue
    fi
    if [ -z "$nvcc" ]; then
        stale+=("$name")
        continue
    fi
    echo "build-ptx: $name.cu -> ptx/$name.ptx"
    tmp="$(mktemp)"
    (cd "$src" && "$nvcc" $FLAGS -o "$tmp" "$cu")
    { echo "// slim4j-source-sha256: $hash"; cat "$tmp"; } > "$ptx"
    rm -f "$tmp"
done
# PTX whose source is gone.
for ptx in "$out"/*.ptx; do
    [ -e "$ptx" ] || continue
    name="$(basename "$ptx" .ptx)"
    [ -f "$src/$name.cu" ] || { echo "build-ptx: removing ptx/$name.ptx (no $name.cu)"; rm -f "$ptx"; }
done
if [ ${#stale[@]} -gt 0 ]; then
    echo "build-ptx: WARNING: nvcc not found and these PTX files are stale: ${stale[*]} (install the CUDA toolkit or set NVCC)" >&2
fi
