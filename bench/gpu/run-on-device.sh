#!/usr/bin/env bash
# Runs on a lent GPU machine (see bench/gpu/README.md), from the repository root, with the folders
# made by bench/gpu/pack.sh carried along (.devjre, .devlib). One call does everything, in < 6 min on
# an H200:
#   1. slim4j doctor            driver, GPU, PTX smoke test, cuBLAS/cuDNN status
#   2. the gpu-tagged op tests  every implemented CUDA op against the CPU backend (GpuTestMain)
#   3. the gpu training tests   lenet, cifarnet, mobilenet_v1, resnet_v1_50: 3 steps on cuda:0 vs the
#                               CPU; train/eval command lines with --device=cuda (GpuTrainTestMain)
#   4. training throughput      slim4j benchmark --device=cuda --mode=train, --kernels=builtin,
#                               --precision=tf32 and fp32 (resnet_v1_50 first), then PyTorch on the
#                               same models, batches and precisions (torch_train_bench.py); one table
# KERNEL_BENCH=1 adds the single-kernel timings (GpuBench and torch_bench.py; about 2 more minutes).
# Writes $OUT/results.md and $OUT/bench/*.json ($OUT is the device tool's output folder; without it,
# bench/results/gpu-<date>/). Exit status: 1 if the op tests or the training tests failed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/device-env.sh" run-on-device
out="${OUT:-$root/bench/results/gpu-$(date -u +%F)}"
mkdir -p "$out/bench"

# Seconds the whole script may take (the device call's limit is 6 minutes): each step gets at most
# what is left. The tests come first and keep back only what the later tests need (reserving the
# benchmarks' time too once left them 1 s each under a small BUDGET_S); the slim4j benchmarks stop
# early enough to leave PyTorch its minute.
budget=${BUDGET_S:-340}
left() {  # left CAP [RESERVE]: seconds for the next step, at most CAP, keeping RESERVE for later steps
    local t=$(( budget - SECONDS - ${2:-0} ))
    (( t > $1 )) && t=$1
    echo $(( t > 0 ? t : 1 ))  # timeout 0 would mean no limit
}

# model:batch:image size, the most important first (the device time may run out).
# CASES / PRECISIONS / KERNELS override them (PROFILE_STEPS=N adds benchmark's per-kernel profile), e.g. CASES="resnet_v1_50:64:224" KERNELS="builtin vendor".
read -r -a cases <<< "${CASES:-resnet_v1_50:64:224 inception_v3:32:299 vgg_16:32:224 mobilenet_v1:64:224}"
read -r -a precisions <<< "${PRECISIONS:-tf32 fp32}"
read -r -a kernel_sets <<< "${KERNELS:-builtin}"
# TensorFlow's golden op outputs, when pack.sh copied them (.devshared/golden): op tests and selftest use them.
[ -d "$root/.devshared/golden" ] && jopts+=("-Dslim4j.shared=$root/.devshared")

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
status=0
{
    echo "# slim4j CUDA backend on ${gpu:-unknown GPU}, $(date -u +%FT%TZ)"
    echo
    echo "## slim4j doctor"
    echo '```'
    timeout "$(left 60)" "$java" "${jopts[@]}" org.slim4j.tools.Main doctor 2>&1
    echo '```'
    echo
    echo "## GPU op tests (GpuTestMain: gpu-tagged tests, every CUDA op vs the CPU backend)"
    echo '```'
    bench=()
    [ "${KERNEL_BENCH:-0}" = 1 ] && bench=(--bench)
    timeout "$(left 120 40)" "$java" "${jopts[@]}" org.slim4j.cuda.GpuTestMain ${bench[@]+"${bench[@]}"} 2>&1
    echo "gpu tests exit status: $?"
    echo '```'
    echo
    if [ -d "$root/.devshared/golden" ]; then
        echo "## selftest --device=cuda (TensorFlow's golden op outputs)"
        echo '```'
        timeout "$(left 60 30)" "$java" "${jopts[@]}" org.slim4j.tools.Main selftest --device=cuda --golden_dir="$root/.devshared/golden" 2>&1 | grep -v ' PASS$' | tail -40
        echo '```'
        echo
    fi
    echo "## GPU training tests (GpuTrainTestMain: 3 steps of lenet, cifarnet, mobilenet_v1, resnet_v1_50 vs the CPU; train/eval CLIs)"
    echo '```'
    timeout "$(left 120)" "$java" "${jopts[@]}" org.slim4j.tools.GpuTrainTestMain 2>&1
    echo "gpu training tests exit status: $?"
    echo '```'
    echo
    echo "## Training throughput: slim4j benchmark --device=cuda --mode=train --kernels=${kernel_sets[*]} (warmup 3, steps 10)"
    echo '```'
    for c in "${cases[@]}"; do
        IFS=: read -r model batch size <<< "$c"
        for p in "${precisions[@]}"; do
          for k in "${kernel_sets[@]}"; do
            t=$(left 75 60)
            if (( t < 15 )); then echo "benchmark $model b$batch $p $k: skipped (time budget)"; continue; fi
            timeout "$t" "$java" "${jopts[@]}" org.slim4j.tools.Main benchmark --device=cuda --mode=train --kernels="$k" \
                --precision="$p" --model_name="$model" --batch_size="$batch" --image_size="$size" --warmup=3 --warmup_seconds=3 --steps=10 --profile_steps="${PROFILE_STEPS:-0}" \
                --output_json="$out/bench/$model-b$batch-$p-$k.json" 2>&1 | grep -v '^WARNING: Using incubator' \
                || echo "benchmark $model b$batch $p $k: failed or timed out (exit ${PIPESTATUS[0]})"
          done
        done
    done
    echo '```'
    echo
    echo "## PyTorch on the same GPU (torch_train_bench.py: SGD momentum, channels_last, cuDNN autotuned)"
    echo
    torch_cases=()
    for c in "${cases[@]}"; do torch_cases+=("$c"); done
    timeout "$(left 120 10)" python3 "$root/bench/gpu/torch_train_bench.py" "${torch_cases[@]}" --precisions "$(IFS=,; echo "${precisions[*]}")" \
        --warmup 3 --steps 10 2>&1 | tee "$out/bench/torch.md"
    echo
    echo "## slim4j vs PyTorch, training images/s"
    echo
    python3 - "$out/bench" <<'PY'
import glob, json, os, sys
d = sys.argv[1]
torch = {}
if os.path.exists(os.path.join(d, "torch.md")):
    for line in open(os.path.join(d, "torch.md")):
        f = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(f) == 6 and f[1].isdigit():
            torch[(f[0], int(f[1]), int(f[2]), f[3])] = float(f[4])
print("| model | batch | image | precision | kernels | slim4j img/s | ms/step median (p10-p90) | host busy ms | launches/step | peak device memory | GC % | TFLOP/s | PyTorch img/s | slim4j / PyTorch |")
print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
rows = [json.load(open(p)) for p in glob.glob(os.path.join(d, "*.json"))]
order = {"resnet_v1_50": 0, "inception_v3": 1, "vgg_16": 2, "mobilenet_v1": 3}
for r in sorted(rows, key=lambda r: (order.get(r["model"], 9), r["precision"] != "tf32", r.get("kernels", ""))):
    t = torch.get((r["model"], r["batch"], r["image_size"], r["precision"]))
    tflops = r["gflops_per_step"] / r["ms_per_step_median"] if r.get("gflops_per_step") else float("nan")
    print(f"| {r['model']} | {r['batch']} | {r['image_size']} | {r['precision']} | {r.get('kernels', '?')} | {r['images_per_sec']:.1f} | "
          f"{r['ms_per_step_median']:.1f} ({r['ms_per_step_p10']:.1f}-{r['ms_per_step_p90']:.1f}) | {r.get('host_busy_ms_median', float('nan')):.1f} | "
          f"{r.get('launches_per_step', float('nan')):.0f} | {r['peak_memory']} | "
          f"{r['gc_percent']:.1f} | {tflops:.1f} | {t if t else 'n/a'} | {(r['images_per_sec'] / t) if t else float('nan'):.2f} |")
print()
print("(PyTorch's mobilenet_v1 row is torchvision's mobilenet_v2, the closest net it has. Host busy: the step's time minus the host's")
print("time blocked on the GPU; near the step time the step is launch-bound.)")
PY
    if [ "${KERNEL_BENCH:-0}" = 1 ]; then
        echo
        echo "## PyTorch kernels on the same GPU (float32, TF32 off)"
        python3 "$root/bench/gpu/torch_bench.py" 2>&1
        python3 "$root/bench/gpu/torch_conv_bench.py" 2>&1
    fi
} | tee "$out/results.md"
grep -q '^gpu tests exit status: 0$' "$out/results.md" || status=1
grep -q '^gpu training tests exit status: 0$' "$out/results.md" || status=1
echo "run-on-device: results in $out/results.md" >&2
exit $status
