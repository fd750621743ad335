#!/usr/bin/env bash
# Runs on a lent GPU machine (see bench/gpu/README.md), from the repository root, with the folders
# made by bench/gpu/pack.sh carried along (.devjre, .devlib). One call does everything:
#   1. slim4j doctor            driver, GPU, PTX smoke test, cuBLAS/cuDNN status
#   2. the gpu-tagged tests     every implemented CUDA op against the CPU backend (GpuTestMain)
#   3. kernel timings           slim4j's hand-written kernels, then PyTorch on the same GPU and shapes
# and writes them to $OUT/results.md ($OUT is the device tool's output folder; without it,
# bench/results/gpu-<date>/). Exit status: that of the gpu tests.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${OUT:-$root/bench/results/gpu-$(date -u +%F)}"
mkdir -p "$out"
java="$root/.devjre/bin/java"
[ -x "$java" ] || { echo "run-on-device: no .devjre here: run bench/gpu/pack.sh first and carry .devjre and .devlib" >&2; exit 2; }
jopts=(--add-modules jdk.incubator.vector -Xmx24g -cp "$root/.devlib/*")

# PyTorch's pip wheels hold cuDNN 9 and cuBLAS: put them on the loader path so doctor can report them.
for pkg in cudnn cublas; do
    dir=$(python3 -c "import nvidia.$pkg, os; print(os.path.join(list(nvidia.$pkg.__path__)[0], 'lib'))" 2>/dev/null) \
        && [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
status=0
{
    echo "# slim4j CUDA backend on ${gpu:-unknown GPU}, $(date -u +%FT%TZ)"
    echo
    echo "## slim4j doctor"
    echo '```'
    "$java" "${jopts[@]}" org.slim4j.tools.Main doctor 2>&1
    echo '```'
    echo
    echo "## GPU tests (GpuTestMain: gpu-tagged tests, every CUDA op vs the CPU backend) and kernel timings"
    echo '```'
    "$java" "${jopts[@]}" org.slim4j.cuda.GpuTestMain --bench 2>&1
    echo "gpu tests exit status: $?"
    echo '```'
    echo
    echo "## PyTorch on the same GPU (float32, TF32 off; convolutions also with TF32 on)"
    python3 "$root/bench/gpu/torch_bench.py" 2>&1
} | tee "$out/results.md"
grep -q '^gpu tests exit status: 0$' "$out/results.md" || status=1
echo "run-on-device: results in $out/results.md" >&2
exit $status
