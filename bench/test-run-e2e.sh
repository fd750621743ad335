#!/usr/bin/env bash
# Checks bench/run-e2e.sh and bench/summarize_e2e.py without the real `slim4j benchmark`:
#   1. the table from hand-made result files (ratio, GFLOP/s, % of peak, best round, best layout,
#      the flop count falling back to PyTorch's, missing and malformed results);
#   2. run-e2e.sh against a fake launcher that writes the benchmark JSON contract, with one real
#      PyTorch case in --quick mode (needs /usr/bin/python3 with torch; ~30 s);
#   3. run-e2e.sh's refusal (exit 3, a clear message) when `slim4j benchmark` is missing.
# Usage: bench/test-run-e2e.sh [--no-torch]   (--no-torch: parts 1 and 3 only)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d /tmp/slim4j-e2e-test-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check DESCRIPTION COMMAND...
    local what="$1"; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }

# ---- 1. summarizer on hand-made files ------------------------------------------------------------
d="$tmp/summary"
mkdir -p "$d"
printf '%s\n' resnet_v1_50_train_b8 lenet_inference_b64 vgg_16_train_b4 > "$d/cases.txt"
cat > "$d/machine.txt" <<'EOF'
cpu_model: Test CPU 9000
cpus: 2
threads_per_core: 1
avx512: yes
threads: 2
load_before: 0.10 0.20 0.30
load_after: 0.40 0.50 0.60
EOF
printf '%s\n' '{"name": "clock_dep_add_chain", "ghz_median": 3.5}' \
    '{"name": "fma_ymm256_fp32", "threads": 2, "gflops_median": 200.0}' \
    '{"name": "fma_zmm512_fp32", "threads": 2, "gflops_median": 224.0}' \
    '{"name": "fma_zmm512_fp32", "threads": 1, "gflops_median": 999.0}' > "$d/peak.jsonl"
# resnet: two slim4j rounds (the faster counts), gflops_per_step given: 24 GFLOP/step at 8 img/s, batch 8 -> 24 GFLOP/s
echo '{"model": "resnet_v1_50", "mode": "train", "batch": 8, "image_size": 224, "images_per_sec": 6.0,
       "ms_per_step_median": 1333.3, "ms_per_step_p10": 1300, "ms_per_step_p90": 1400, "gc_percent": 1.5,
       "gflops_per_step": 24.0}' > "$d/slim4j-resnet_v1_50_train_b8-r1.json"
echo '{"model": "resnet_v1_50", "mode": "train", "batch": 8, "image_size": 224, "images_per_sec": 8.0,
       "ms_per_step_median": 1000.0, "ms_per_step_p10": 990, "ms_per_step_p90": 1100, "gc_percent": 2.0,
       "gflops_per_step": 24.0}' > "$d/slim4j-resnet_v1_50_train_b8-r2.json"
# lenet: no gflops_per_step -> PyTorch's count (1.6 GFLOP/step at 640 img/s, batch 64 -> 16 GFLOP/s)
echo '{"model": "lenet", "mode": "inference", "batch": 64, "image_size": 28, "images_per_sec": 640.0,
       "ms_per_step_median": 100.0, "ms_per_step_p10": 95, "ms_per_step_p90": 120, "gc_percent": 0.0}' \
    > "$d/slim4j-lenet_inference_b64-r1.json"
# vgg: slim4j result malformed -> ignored and reported; PyTorch has it
echo '{"model": "vgg_16", "mode": "train", "batch": 4' > "$d/slim4j-vgg_16_train_b4-r1.json"
cat > "$d/torch-r1.jsonl" <<'EOF'
{"case": "resnet_v1_50_train_b8", "layout": "nchw", "images_per_sec": 4.0, "ms_per_step_median": 2000.0, "ms_per_step_p10": 1900.0, "ms_per_step_p90": 2100.0, "gflops_per_step": 83.6}
{"case": "resnet_v1_50_train_b8", "layout": "channels_last", "images_per_sec": 5.0, "ms_per_step_median": 1600.0, "ms_per_step_p10": 1500.0, "ms_per_step_p90": 1700.0, "gflops_per_step": 83.6}
{"case": "lenet_inference_b64", "layout": "nchw", "images_per_sec": 1280.0, "ms_per_step_median": 50.0, "ms_per_step_p10": 45.0, "ms_per_step_p90": 55.0, "gflops_per_step": 1.6}
{"case": "vgg_16_train_b4", "layout": "nchw", "images_per_sec": 2.5, "ms_per_step_median": 1600.0, "gflops_per_step": 371.0}
not json at all
EOF
rc=0
/usr/bin/python3 "$here/summarize_e2e.py" "$d" > "$d/table.md" || rc=$?
check "summarizer exits 1 when a slim4j file is malformed" test "$rc" = 1
check "machine line names the CPU and the 2-thread peak" \
    has "$d/table.md" "machine: Test CPU 9000, 2 CPUs (1 thread(s) per core), AVX-512; measured fp32 FMA peak 224.0 GFLOP/s on 2 threads (clock 3.50 GHz)"
check "resnet row: best rounds (8 vs 5 img/s), 24 GFLOP/s, 11% of 224, ratio 1.60" \
    has "$d/table.md" "| resnet_v1_50_train_b8 | 8.0 | 5.0 | 24.0 | 11% | 1.60 |"
check "lenet row: flop count from PyTorch, marked *, ratio 0.50" \
    has "$d/table.md" "| lenet_inference_b64 | 640.0 | 1,280.0 | 16.0* | 7% | 0.50 |"
check "vgg row: no slim4j figure" has "$d/table.md" "| vgg_16_train_b4 | – | 2.5 | – | – | – |"
check "detail row: medians, spread, GC %, PyTorch's faster layout" \
    has "$d/table.md" "| resnet_v1_50_train_b8 | 1,000.0 [990.0–1,100.0] | 2.0 | 1,600.0 [1,500.0–1,700.0] | channels_last |"
check "notes name the missing and the ignored results" has "$d/table.md" "no slim4j result: vgg_16_train_b4"
check "notes name the malformed file" has "$d/table.md" "ignored slim4j-vgg_16_train_b4-r1.json: not one JSON object"
check "rows follow cases.txt" test "$(grep -o '^| [a-z_0-9]*_b[0-9]* | [0-9–]' "$d/table.md" | head -3 | cut -d' ' -f2 | paste -sd,)" \
    = "resnet_v1_50_train_b8,lenet_inference_b64,vgg_16_train_b4"

# ---- a fake launcher honouring the benchmark JSON contract ---------------------------------------
fake="$tmp/fake-slim4j"
cat > "$fake" <<'EOF'
#!/usr/bin/env bash
# Test double for ./slim4j: 'help benchmark' lists the flags; 'benchmark' writes fixed figures.
if [[ "$1" == help && "$2" == benchmark ]]; then echo "flags: --model_name --batch_size --output_json"; exit 0; fi
[[ "$1" == benchmark ]] || { echo "slim4j: unknown command '$1'" >&2; exit 2; }
shift
for a in "$@"; do case "$a" in --*=*) k="${a%%=*}"; declare "f_${k#--}=${a#*=}" ;; esac; done
echo "$SLIM4J_JAVA_OPTS" > "${f_output_json}.opts"
printf '{"model": "%s", "mode": "%s", "batch": %d, "image_size": %d, "images_per_sec": 100.0, "ms_per_step_median": %s, "ms_per_step_p10": 1, "ms_per_step_p90": 2, "gc_percent": 0.5, "steps": "%s", "device": "%s"}\n' \
    "$f_model_name" "$f_mode" "$f_batch_size" "$f_image_size" "$((f_batch_size * 10))" "${f_steps:-default}" "$f_device" \
    > "$f_output_json"
EOF
chmod +x "$fake"

# ---- 2. the whole script, fake slim4j, real PyTorch ----------------------------------------------
if [[ "${1:-}" != --no-torch ]]; then
    o="$tmp/run"
    rc=0
    SLIM4J="$fake" "$here/run-e2e.sh" --quick --no-peak --cases lenet_inference_b64 --out "$o" > "$o.stdout" 2> "$o.stderr" || rc=$?
    check "run-e2e.sh --quick with the fake launcher exits 0" test "$rc" = 0
    check "slim4j got model, mode, batch, image size, device and --steps=3 (quick)" \
        grep -q '"model": "lenet", "mode": "inference", "batch": 64, "image_size": 28, .*"steps": "3", "device": "cpu"' \
        "$o/slim4j-lenet_inference_b64-r1.json"
    check "slim4j ran with -Dslim4j.threads=2" grep -q -- '-Dslim4j.threads=2' "$o/slim4j-lenet_inference_b64-r1.json.opts"
    check "PyTorch wrote its lenet inference record" grep -q '"case": "lenet_inference_b64"' "$o/torch-r1.jsonl"
    tv="$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["images_per_sec"])' "$o/torch-r1.jsonl")"
    want="$(/usr/bin/python3 -c "import sys; print(f'| lenet_inference_b64 | 100.0 | {float(sys.argv[1]):,.1f} | ')" "$tv")"
    check "table row pairs the fake 100 img/s with PyTorch's $tv" has "$o.stdout" "$want"
    ratio="$(/usr/bin/python3 -c "import sys; print(f'{100.0 / float(sys.argv[1]):.2f} |')" "$tv")"
    check "ratio = 100 / $tv" grep -qF -- "$ratio" <(grep '^| lenet_inference_b64 | 100.0' "$o.stdout")
    check "table.md saved" test -s "$o/table.md"
fi

# ---- 3. refusal without the benchmark command -----------------------------------------------------
nobench="$tmp/old-slim4j"
printf '#!/usr/bin/env bash\necho "slim4j: unknown command '"'"'benchmark'"'"'; slim4j help lists the commands" >&2\nexit 2\n' > "$nobench"
chmod +x "$nobench"
rc=0
SLIM4J="$nobench" "$here/run-e2e.sh" --quick --no-peak --cases lenet_inference_b64 --out "$tmp/none" 2> "$tmp/none.err" || rc=$?
check "missing 'slim4j benchmark': exit 3" test "$rc" = 3
check "missing 'slim4j benchmark': the message says so and how to go on" \
    grep -q "has no 'benchmark' command" "$tmp/none.err"
check "missing 'slim4j benchmark': nothing was run" test ! -e "$tmp/none/torch-r1.jsonl"
rc=0
"$here/run-e2e.sh" --cases resnet50_train_b8 2> "$tmp/bad.err" || rc=$?
check "bad case name: exit 2 with the expected form" test "$rc" = 2 -a -n "$(grep 'expected <model>_<train|inference>_b<batch>' "$tmp/bad.err")"

echo
if ((fails)); then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
