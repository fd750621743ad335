#!/usr/bin/env bash
# Packs what a lent GPU machine needs (it has a GPU, CUDA 13, PyTorch, but no Java, no Maven and no
# network) into two git-ignored folders that the device tool's `carry` takes along:
#   .devjre  a jlinked Java runtime (java.base, java.logging, java.management, jdk.jfr, jdk.unsupported,
#            jdk.incubator.vector; no java.desktop; jdk.jfr for host profiles) -- about 37 MB
#   .devlib  the slim4j jars and their runtime dependencies, the cuda and tools modules' test classes
#            and JUnit (for GpuTestMain, GpuTrainTestMain), with JCuda's natives cut down to the driver binding
# Then, on the device: bench/gpu/run-on-device.sh (see bench/gpu/README.md).
# JLINK_JDK selects the JDK whose jlink builds the runtime (default: the JDK of javac on the PATH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

jdk="${JLINK_JDK:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
echo "pack: building jars (mvn -DskipTests package) ..." >&2
mvn -q -B -DskipTests package dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/test-classpath.txt -pl tools -am

rm -rf .devlib .devjre
mkdir -p .devlib
cp tools/target/slim4j-tools-*.jar tools/target/lib/*.jar .devlib/
# Test-scope jars of the cuda module (JUnit, the tensor test-jar, ...), minus what is already there.
tr ':' '\n' < cuda/target/test-classpath.txt | while read -r jar || [ -n "$jar" ]; do
    [ -f "$jar" ] || continue
    [ -e ".devlib/$(basename "$jar")" ] || cp "$jar" .devlib/
done
(cd cuda/target/test-classes && jar cf "$root/.devlib/slim4j-cuda-tests.jar" .)
# The tools module's test classes: GpuTrainTestMain and the gpu training tests (GpuTrainTest).
(cd tools/target/test-classes && jar cf "$root/.devlib/slim4j-tools-tests.jar" .)
# JCuda's natives jar also carries the NVRTC / PTX-compiler bindings (24 MB); only the driver binding is used.
natives=$(ls .devlib/jcuda-natives-*-linux-x86_64.jar)
python3 - "$natives" <<'PY'
import sys, zipfile, shutil
src = sys.argv[1]
tmp = src + ".tmp"
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        if item.filename.startswith("lib/") and "JCudaDriver" not in item.filename and not item.is_dir():
            continue
        zout.writestr(item, zin.read(item.filename))
shutil.move(tmp, src)
PY

# TensorFlow's golden op outputs (3 MB of ../shared/golden) for the gpu op tests and `selftest --device=cuda`.
rm -rf .devshared
if [ -d ../shared/golden/ops ]; then
    mkdir -p .devshared/golden
    cp -r ../shared/golden/ops ../shared/golden/README.md ../shared/golden/index.json .devshared/golden/ 2>/dev/null || true
fi

echo "pack: jlink with $jdk ..." >&2
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.jfr,jdk.unsupported,jdk.incubator.vector \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output .devjre

grep -qx '.devjre/' .gitignore 2>/dev/null || grep -qx '.devjre/' .git/info/exclude 2>/dev/null || printf '.devjre/\n.devlib/\n' >> .git/info/exclude
du -sh .devjre .devlib .devshared 2>/dev/null || true
total=$(du -sm .devjre .devlib .devshared 2>/dev/null | awk '{s += $1} END {print s}')
if [ "$total" -gt 62 ]; then
    echo "pack: WARNING: ${total} MiB; the device tool carries at most 64 MiB with the working tree" >&2
fi
# Smoke test of the packed runtime on this machine (no GPU here: doctor says why).
.devjre/bin/java --add-modules jdk.incubator.vector -cp '.devlib/*' org.slim4j.tools.Main doctor --nosmoke_test | head -8
