#!/usr/bin/env bash
# Where the GPU time of a training step goes, on a lent GPU machine (see bench/gpu/README.md; the
# folders of pack.sh carried along). For each CASES entry (model:batch:size, default ResNet-50 b64):
# slim4j's per-kernel device time (benchmark --profile_steps, stream events) and PyTorch's
# (torch_train_bench.py --profile), then, with NCU=1, Nsight Compute on ConvProbe's TF32 convolutions.
# PRECISION (default tf32) and KERNELS (default builtin) apply to every case. Writes $OUT/profile.md.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/device-env.sh" profile-on-device
out="${OUT:-$root/bench/results/gpu-profile-$(date -u +%F)}"
mkdir -p "$out"
read -r -a cases <<< "${CASES:-resnet_v1_50:64:224}"
precision="${PRECISION:-tf32}"
kernels="${KERNELS:-builtin}"
{
    echo "# slim4j and PyTorch kernel profiles on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1), $(date -u +%FT%TZ)"
    for c in "${cases[@]}"; do
        IFS=: read -r model batch size <<< "$c"
        echo
        echo "## $model b$batch ${size}x$size $precision --kernels=$kernels"
        echo '```'
        timeout 120 "$java" "${jopts[@]}" org.slim4j.tools.Main benchmark --device=cuda --mode=train --kernels="$kernels" --precision="$precision" \
            --model_name="$model" --batch_size="$batch" --image_size="$size" --warmup=3 --warmup_seconds=3 --steps=5 --profile_steps=2 2>&1 | grep -v '^WARNING: Using incubator'
        echo '```'
        timeout 120 python3 "$root/bench/gpu/torch_train_bench.py" "$c" --precisions "$precision" --warmup 3 --steps 5 --profile 2>&1
    done
    if [ "${NCU:-0}" = 1 ]; then
        echo
        echo "## Nsight Compute: ConvProbe's 3x3 64->64 forward and input gradient (56x56, batch 64, TF32)"
        echo '```'
        timeout 180 /usr/local/cuda/bin/ncu --kernel-name regex:'conv_tc_(fwd|bwdi)' --launch-skip 2 --launch-count 2 \
            --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section Occupancy \
            --section SchedulerStats --section WarpStateStats --section InstructionStats --section LaunchStats \
            "$java" "${jopts[@]}" org.slim4j.cuda.ConvProbe 2>&1 | grep -v '^WARNING: Using incubator'
        echo '```'
    fi
} | tee "$out/profile.md"
