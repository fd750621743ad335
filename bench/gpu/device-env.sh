# Sourced by the *-on-device.sh scripts (bash), with the calling script's name as $1: makes the
# repository root the working directory ($root), checks the carried Java runtime ($java, with the
# options $jopts: the packed jars of .devlib), and puts the cuDNN and cuBLAS of PyTorch's pip wheels
# on the loader path, so doctor reports them and --kernels=vendor finds cuDNN.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
java="$root/.devjre/bin/java"
[ -x "$java" ] || { echo "$1: no .devjre here: run bench/gpu/pack.sh first and carry .devjre and .devlib" >&2; exit 2; }
jopts=(--add-modules jdk.incubator.vector -XX:LoopUnrollLimit=250 -XX:-IncrementalInline -Xmx24g -cp "$root/.devlib/*")
for pkg in cudnn cublas; do
    dir=$(python3 -c "import nvidia.$pkg, os; print(os.path.join(list(nvidia.$pkg.__path__)[0], 'lib'))" 2>/dev/null) \
        && [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
