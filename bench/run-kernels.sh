#!/usr/bin/env bash
# Kernel benchmarks: slim4j (JMH, bench/) against PyTorch (../shared/peers harness) in one invocation,
# on the same machine, alternating the two; prints the markdown table
#   | case | slim4j | PyTorch | unit | ratio |      (ratio = slim4j speed / PyTorch speed)
# plus the machine's measured fp32 FMA peak (../shared/peers/fma_peak.c) and slim4j's % of it.
#
# Usage: bench/run-kernels.sh [--rounds N] [--all] [--no-build] [--out DIR]
#   --rounds N   slim4j / PyTorch rounds, alternated A/B/A/B (default 2); each side reports its best round
#                (this VM's noise only ever slows a run down, see ../shared/peers/RESULTS.md "Noise")
#   --all        also run the other JMH layers (ResNet-50 / Inception-v3 / MobileNet-v1, batch norm, pooling)
#   --no-build   reuse bench/target (after `mvn -DskipTests -pl bench -am package`)
#   --out DIR    keep the raw results there (default: a fresh temp dir)
# Environment: PEERS (default ../shared/peers), JAVA (default java), JMH_OPTS (extra JMH options, e.g.
# "-wi 1 -i 1" for a smoke test), TORCH_OPTS (extra harness options, e.g. --quick). Root installs the peer once.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
peers="${PEERS:-$root/../shared/peers}"
java="${JAVA:-java}"
rounds=2
all=0
build=1
out=""
while (($#)); do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --all) all=1; shift ;;
        --no-build) build=0; shift ;;
        --out) out="$2"; shift 2 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
[[ -n "$out" ]] || out="$(mktemp -d /tmp/slim4j-kernels-XXXXXX)"
mkdir -p "$out"
log() { echo "[run-kernels] $*" >&2; }

# ---- machine ------------------------------------------------------------------------------------
{
    echo "date_utc: $(date -u +%FT%TZ)"
    echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|L1d|L2|L3|CPU family|Model:)' || true
    grep -m1 -o -w 'avx512f' /proc/cpuinfo >/dev/null && echo "avx512: yes" || echo "avx512: no"
    "$java" -version 2>&1 | head -1
} > "$out/machine.txt"
log "results in $out"

# ---- build --------------------------------------------------------------------------------------
jar="$root/bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar"
if ((build)); then
    # -DskipTests: tools (a dependency of bench) uses the cuda module's test-jar, so test classes are compiled but not run
    log "building (mvn -DskipTests -pl bench -am package) ..."
    (cd "$root" && mvn -q -B -DskipTests -pl bench -am package) >&2
fi
[[ -f "$jar" ]] || { echo "missing $jar (build first)" >&2; exit 1; }
cp="$jar:$root/bench/target/lib/*"

# ---- PyTorch peer -------------------------------------------------------------------------------
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    log "installing the PyTorch peer (bash $peers/setup.sh) ..."
    bash "$peers/setup.sh" >&2
fi

# ---- measured peak: ../shared/peers/fma_peak.c --------------------------------------------------
# Built as the peers build it. On a CPU without AVX-512 its zmm half dies of SIGILL after the clock
# and ymm lines are out; stdbuf keeps those lines (the ymm figure is the peak there).
fma="$out/fma_peak"
if gcc -O2 -mavx512f -mfma -fopenmp "$peers/fma_peak.c" -o "$fma" 2>"$out/fma_build.log"; then
    (stdbuf -oL "$fma" 2 > "$out/peak.jsonl") 2>/dev/null || true
else
    log "could not build fma_peak.c (see $out/fma_build.log)"
fi

# ---- benchmarks, alternated ---------------------------------------------------------------------
# Huge pages where the kernel gives them on request, as ./slim4j does (see there).
thp_opts=""
grep -qs '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled && thp_opts="-jvmArgsPrepend -XX:+UseTransparentHugePages"  # Prepend: a CLI Append would replace @Fork's --add-modules
# Sample like the peer harness does (../shared/peers/torch_cpu_bench.py: the median of up to 9 samples
# of ~0.15-0.2 s each): 15 measurement iterations of 200 ms, the median taken by summarize_kernels.py.
# JMH's default here (5 iterations of 2 s, each an average) lets one slow second of this VM's noise
# move a whole sample. JMH_OPTS (later on the command line) overrides these.
jmh_timing="-wi 3 -w 1s -i 15 -r 200ms"
jmh() {  # jmh TAG CLASS PARAM VALUES: every benchmark method of CLASS, for those parameter values
    local tag="$1" cls="$2" param="$3" values="$4"
    # shellcheck disable=SC2086
    "$java" -cp "$cp" org.openjdk.jmh.Main "\.${cls}\." -p "$param=$values" $thp_opts $jmh_timing ${JMH_OPTS:-} \
        -rf json -rff "$out/jmh-$tag-$cls.json" >"$out/jmh-$tag-$cls.log" 2>&1 \
        || { log "JMH $cls failed: see $out/jmh-$tag-$cls.log"; tail -20 "$out/jmh-$tag-$cls.log" >&2; }
}
slim4j_round() {
    local r="$1"
    log "slim4j round $r: sgemm"
    jmh "r$r" SgemmBenchmark shape "1024x1024x1024,2048x2048x2048"
    log "slim4j round $r: conv"
    jmh "r$r" ConvBenchmark layer "conv3x3_64to64_56x56_b8,conv1x1_256to64_56x56_b8"
    log "slim4j round $r: depthwise conv"
    jmh "r$r" DepthwiseConvBenchmark layer "dwconv3x3_32ch_112x112_b8"
}
torch_round() {
    local r="$1"
    log "PyTorch round $r: sgemm, conv (torch_cpu_bench.py, 2 threads)"
    # shellcheck disable=SC2086
    /usr/bin/python3 "$peers/torch_cpu_bench.py" --sections sgemm,conv --threads 2 --tag "round$r" ${TORCH_OPTS:-} \
        > "$out/torch-r$r.jsonl" 2>"$out/torch-r$r.log" || log "torch round $r failed: see $out/torch-r$r.log"
}
for ((r = 1; r <= rounds; r++)); do
    slim4j_round "$r"
    torch_round "$r"
done
if ((all)); then
    log "slim4j: all other layers"
    jmh all SgemmBenchmark shape "512x512x512,50176x576x64,25088x256x64,25088x64x256"
    jmh all ConvBenchmark layer "conv1x1_64to256_56x56_b8,conv7x7s2_3to64_224x224_b8,conv3x3s2_128to128_56x56_b8,conv3x3_256to256_14x14_b8,conv1x1_1024to256_14x14_b8,conv3x3_32to64_147x147_b4,conv1x1_192to64_35x35_b4,conv1x7_128to128_17x17_b4,conv1x1_32to64_112x112_b8,conv1x1_512to512_14x14_b8"
    jmh all DepthwiseConvBenchmark layer "dwconv3x3s2_64ch_112x112_b8,dwconv3x3_512ch_14x14_b8"
    jmh all BatchNormBenchmark shape "8x56x56x64,8x56x56x256,8x14x14x1024,8x112x112x32"
    jmh all PoolBenchmark layer "max3x3s2_64ch_112x112_b8,avg3x3s1_192ch_35x35_b8"
    [[ -f "$root/bench/src/main/java/org/slim4j/bench/FusedConvBenchmark.java" ]] && \
        jmh all FusedConvBenchmark layer "conv3x3_64to64_56x56_b8,conv1x1_256to64_56x56_b8"
fi
echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

/usr/bin/python3 "$here/summarize_kernels.py" "$out"
