#!/usr/bin/env bash
# End-to-end CPU throughput: slim4j (`./slim4j benchmark`) against PyTorch (bench/peers/torch_e2e.py, the
# same TF-Slim architectures) on the same models, batch sizes, image sizes and thread count, in one
# invocation, case by case (slim4j then PyTorch, so both sides see the machine in the same state).
# Prints the machine line and the markdown table
#   | case | slim4j img/s | PyTorch img/s | slim4j GFLOP/s | % of peak | ratio |     (ratio = slim4j / PyTorch)
# and a detail table (ms/step median [p10-p90], slim4j GC %, PyTorch's faster memory layout).
#
# Usage: bench/run-e2e.sh [--quick] [--cases LIST] [--rounds N] [--steps N] [--warmup N] [--warmup-seconds S]
#                         [--threads N] [--torch-only] [--no-peak] [--out DIR]
#   --quick       smoke test: 1 warm-up + 3 timed steps per side (PyTorch NCHW only)
#   --cases LIST  comma list of <model>_<train|inference>_b<batch> (default: the 12 cases below)
#   --rounds N    repeat every case N times (default 1); each side reports its best round
#   --steps N     timed steps per case and side (default: each side's own default)
#   --warmup N    untimed steps first (default: each side's own default, 5)
#   --warmup-seconds S  and untimed steps until S seconds have passed (default: each side's own, 10:
#                 the JVM compiles hot code in its first seconds, and 5 LeNet steps take half a second)
#   --threads N   compute threads on both sides (default 2: this project's reference machine has 2 cores)
#   --torch-only  run the PyTorch side alone (the slim4j column stays empty)
#   --no-peak     skip measuring the fp32 FMA peak (../shared/peers/fma_peak.c, ~10 s)
#   --out DIR     keep the raw results there (default: a fresh temp dir)
# Environment: PEERS (default ../shared/peers), SLIM4J (the launcher, default ./slim4j), SLIM4J_JAVA_OPTS
# (default -Xmx8g; -Dslim4j.threads is added), CASE_TIMEOUT (seconds per case and side, default 1800).
# Exit status: 0 all cases ran on both sides, 1 some case failed (the table shows which), 2 usage,
# 3 `slim4j benchmark` is missing from this checkout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
peers="${PEERS:-$root/../shared/peers}"
slim4j="${SLIM4J:-$root/slim4j}"
python=/usr/bin/python3   # Debian's: the pyenv python3 on PATH does not see python3-torch
all_cases="lenet_train_b64,lenet_inference_b64,cifarnet_train_b128,cifarnet_inference_b128,\
mobilenet_v1_train_b16,mobilenet_v1_inference_b16,resnet_v1_50_train_b8,resnet_v1_50_inference_b8,\
inception_v3_train_b4,inception_v3_inference_b4,vgg_16_train_b4,vgg_16_inference_b4"
cases="$all_cases"
quick=0 rounds=1 steps="" warmup="" warmup_s="" threads=2 torch_only=0 do_peak=1 out=""
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit "${1:-2}"; }
while (($#)); do
    case "$1" in
        --quick) quick=1; shift ;;
        --cases) cases="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --warmup-seconds) warmup_s="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --torch-only) torch_only=1; shift ;;
        --no-peak) do_peak=0; shift ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "run-e2e: unknown option: $1" >&2; usage ;;
    esac
done
log() { echo "[run-e2e $(date -u +%H:%M:%S)] $*" >&2; }
for n in "$rounds" "$threads" ${steps:+"$steps"} ${warmup:+"$warmup"}; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "run-e2e: expected a number, got '$n'" >&2; exit 2; }
done
[[ -z "$warmup_s" || "$warmup_s" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "run-e2e: expected seconds, got '$warmup_s'" >&2; exit 2; }

# Image size per model: TF-Slim's default_image_size.
image_size() {
    case "$1" in
        lenet) echo 28 ;; cifarnet) echo 32 ;; inception_v3) echo 299 ;;
        mobilenet_v1|resnet_v1_50|vgg_16) echo 224 ;;
        *) return 1 ;;
    esac
}
declare -a case_list=()
IFS=',' read -r -a case_list <<< "$cases"
for c in "${case_list[@]}"; do
    if [[ ! "$c" =~ ^(.+)_(train|inference)_b([0-9]+)$ ]] || ! image_size "${BASH_REMATCH[1]}" >/dev/null; then
        echo "run-e2e: bad case '$c' (expected <model>_<train|inference>_b<batch>, model one of lenet, cifarnet," \
             "mobilenet_v1, resnet_v1_50, inception_v3, vgg_16)" >&2
        exit 2
    fi
done

# ---- slim4j benchmark present? ------------------------------------------------------------------
if ((!torch_only)); then
    [[ -x "$slim4j" ]] || { echo "run-e2e: no slim4j launcher at $slim4j" >&2; exit 3; }
    log "checking '$slim4j help benchmark' (the launcher builds the jars first if sources changed) ..."
    if ! help_text="$("$slim4j" help benchmark 2>&1)"; then
        {
            echo "run-e2e: this checkout's slim4j has no 'benchmark' command; 'slim4j help benchmark' said:"
            echo "$help_text" | tail -5 | sed 's/^/    /'
            echo "run-e2e needs: slim4j benchmark --model_name=NAME --batch_size=B --image_size=S --mode=train|inference"
            echo "               --device=cpu [--steps=N] [--warmup=N] --output_json=FILE"
            echo "Merge that command first, or run with --torch-only for the PyTorch side alone."
        } >&2
        exit 3
    fi
    grep -q -- 'output_json' <<< "$help_text" || {
        echo "run-e2e: 'slim4j benchmark' has no --output_json flag (see 'slim4j help benchmark')" >&2; exit 3; }
fi
if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
    log "installing the PyTorch peer (sudo bash $peers/setup.sh) ..."
    if [[ $EUID -eq 0 ]]; then bash "$peers/setup.sh" >&2; else sudo bash "$peers/setup.sh" >&2; fi
fi

[[ -n "$out" ]] || out="$(mktemp -d /tmp/slim4j-e2e-XXXXXX)"
mkdir -p "$out"
log "results in $out"
printf '%s\n' "${case_list[@]}" > "$out/cases.txt"

# ---- machine ------------------------------------------------------------------------------------
{
    echo "date_utc: $(date -u +%FT%TZ)"
    echo "cpu_model: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cpus: $(nproc)"
    echo "threads_per_core: $(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1)"
    grep -q -m1 -w 'avx512f' /proc/cpuinfo && echo "avx512: yes" || echo "avx512: no"
    echo "mem_total: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    # The JDK the launcher runs: JAVA_HOME's when set (./slim4j uses it), else the one on PATH.
    echo "java: $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1)"
    echo "torch: $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo missing)"
    echo "threads: $threads"
    echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

# ---- measured peak: ../shared/peers/fma_peak.c (as run-kernels.sh builds it) ---------------------
# On a CPU without AVX-512 the zmm half dies of SIGILL after the clock and ymm lines are out; stdbuf
# keeps those lines (the ymm figure is the peak there).
if ((do_peak)); then
    log "measuring the fp32 FMA peak (fma_peak.c, $threads threads) ..."
    if gcc -O2 -mavx512f -mfma -fopenmp "$peers/fma_peak.c" -o "$out/fma_peak" 2>"$out/fma_build.log"; then
        (stdbuf -oL "$out/fma_peak" "$threads" > "$out/peak.jsonl") 2>/dev/null || true
    else
        log "could not build fma_peak.c (see $out/fma_build.log)"
    fi
fi

# ---- the cases ----------------------------------------------------------------------------------
export SLIM4J_JAVA_OPTS="${SLIM4J_JAVA_OPTS:--Xmx8g} -Dslim4j.threads=$threads"
timeout_s="${CASE_TIMEOUT:-1800}"
failed=0
slim4j_case() {  # slim4j_case CASE ROUND
    local c="$1" r="$2" model mode batch size
    [[ "$c" =~ ^(.+)_(train|inference)_b([0-9]+)$ ]]
    model="${BASH_REMATCH[1]}" mode="${BASH_REMATCH[2]}" batch="${BASH_REMATCH[3]}"
    size="$(image_size "$model")"
    local json="$out/slim4j-$c-r$r.json" args=()
    args=(benchmark "--model_name=$model" "--batch_size=$batch" "--image_size=$size" "--mode=$mode" --device=cpu
          "--output_json=$json")
    if ((quick)); then args+=(--steps=3 --warmup=1 --warmup_seconds=0); fi
    [[ -n "$steps" ]] && args+=("--steps=$steps")
    [[ -n "$warmup" ]] && args+=("--warmup=$warmup")
    [[ -n "$warmup_s" ]] && args+=("--warmup_seconds=$warmup_s")
    log "slim4j  $c (round $r)"
    rm -f "$json"
    if ! timeout "$timeout_s" "$slim4j" "${args[@]}" > "$out/slim4j-$c-r$r.log" 2>&1 || [[ ! -s "$json" ]]; then
        log "slim4j $c failed: see $out/slim4j-$c-r$r.log"
        tail -5 "$out/slim4j-$c-r$r.log" | sed 's/^/    /' >&2
        failed=1
    fi
}
torch_case() {  # torch_case CASE ROUND
    local c="$1" r="$2" args=(--cases "$1" --threads "$threads")
    if ((quick)); then args+=(--quick); fi
    [[ -n "$steps" ]] && args+=(--steps "$steps" --min-steps "$((steps < 5 ? steps : 5))")
    [[ -n "$warmup" ]] && args+=(--warmup "$warmup")
    [[ -n "$warmup_s" ]] && args+=(--warmup-s "$warmup_s")
    log "PyTorch $c (round $r)"
    if ! PEERS="$peers" timeout "$timeout_s" "$python" "$here/peers/torch_e2e.py" "${args[@]}" \
            >> "$out/torch-r$r.jsonl" 2>> "$out/torch-r$r.log"; then
        log "PyTorch $c failed: see $out/torch-r$r.log"
        tail -5 "$out/torch-r$r.log" | sed 's/^/    /' >&2
        failed=1
    fi
}
for ((r = 1; r <= rounds; r++)); do
    for c in "${case_list[@]}"; do
        ((torch_only)) || slim4j_case "$c" "$r"
        torch_case "$c" "$r"
    done
done
echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

summary_rc=0
"$python" "$here/summarize_e2e.py" "$out" | tee "$out/table.md" || summary_rc=$?
((summary_rc == 0)) || failed=1
exit "$failed"
