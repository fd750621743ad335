#!/usr/bin/env bash
# Runs on a lent GPU machine (after bench/gpu/pack.sh, carrying .devjre and .devlib): where the
# host's time goes in a CUDA training step, in one call of about 2.5 minutes.
#   1. LaunchProbe: microseconds to queue one kernel launch, with the packed parameter block and
#      with JCuda's one Pointer per parameter (-Dslim4j.cuda.packedParams=false)
#   2. slim4j benchmark --device=cuda --mode=train on CASE (model:batch:image size, default
#      resnet_v1_50:64:224) at PRECISION (tf32) with builtin kernels, under both marshallings
#   3. the same benchmark for each of KERNELS (default "builtin auto") recorded by Java Flight
#      Recorder, Java and native frames sampled every millisecond: $OUT/host-<kernels>.jfr
#      (read them with: jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample FILE)
#   4. PyTorch on the same case
# Writes $OUT/host-profile.md.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/device-env.sh" host-profile-on-device
out="${OUT:-$root/bench/results/host-profile-$(date -u +%F)}"
mkdir -p "$out"
IFS=: read -r model batch size <<< "${CASE:-resnet_v1_50:64:224}"
precision=${PRECISION:-tf32}
read -r -a kernel_sets <<< "${KERNELS:-builtin auto}"
# Flight Recorder's profile settings with both samplers at 1 ms (the defaults, 10 and 20 ms, see too little of a step).
jfc="$out/sampling-1ms.jfc"
sed -e '/method-sampling-java-interval/s/>10 ms</>1 ms</; /method-sampling-native-interval/s/>20 ms</>1 ms</' "$root/.devjre/lib/jfr/profile.jfc" > "$jfc"

bench() {  # bench EXTRA_JAVA_OPTS... -- BENCHMARK_FLAGS...
    local opts=()
    while [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    timeout 90 "$java" "${jopts[@]}" ${opts[@]+"${opts[@]}"} org.slim4j.tools.Main benchmark --device=cuda --mode=train \
        --precision="$precision" --model_name="$model" --batch_size="$batch" --image_size="$size" --warmup_seconds=3 "$@" 2>&1 \
        | grep -v '^WARNING: Using incubator'
}

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
{
    echo "# Host cost of a CUDA training step on ${gpu:-unknown GPU}, $(date -u +%FT%TZ)"
    echo
    echo "## Kernel launch (LaunchProbe)"
    echo '```'
    for packed in true false; do
        timeout 60 "$java" "${jopts[@]}" -Dslim4j.cuda.packedParams=$packed org.slim4j.cuda.LaunchProbe 2>&1 | grep -v '^WARNING: Using incubator'
    done
    echo '```'
    echo
    echo "## $model b$batch $precision builtin: packed parameters, then one Pointer each, then packed again"
    echo '```'
    for packed in true false true; do
        bench -Dslim4j.cuda.packedParams=$packed -- --kernels=builtin --warmup=3 --steps=20
    done
    echo '```'
    echo
    for k in "${kernel_sets[@]}"; do
        echo "## $model b$batch $precision $k under Flight Recorder (host-$k.jfr)"
        echo '```'
        bench "-XX:StartFlightRecording=filename=$out/host-$k.jfr,settings=$jfc" -- --kernels="$k" --warmup=3 --steps=30
        echo '```'
        echo
    done
    echo "## PyTorch"
    echo
    timeout 90 python3 "$root/bench/gpu/torch_train_bench.py" "$model:$batch:$size" --precisions "$precision" --warmup 3 --steps 20 2>&1
} | tee "$out/host-profile.md"
rm -f "$jfc"
