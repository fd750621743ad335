package org.slim4j.tools.selftest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Npy;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * Runs the golden op cases ({@code <golden>/ops/<case>/case.json}, see the golden README) through
 * a backend's kernels via {@link GoldenOpTable} and compares every output with TensorFlow's
 * {@code out_*.npy}. An output passes when max|slim4j − TF| ≤ tolerance × max(1, max|TF|); a case
 * passes when all its outputs do. A case slim4j cannot run fails (never skips).
 */
public final class SelfTest {
    /** The pass rule's relative tolerance. */
    public static final double DEFAULT_TOLERANCE = 1e-4;

    /** The outcome of one case; {@code maxAbsErr} is NaN when nothing could be compared. */
    public record CaseResult(String name, boolean passed, double maxAbsErr, String reason) {
        /** {@code <name>  max_abs_err=<e>  PASS}, or {@code ... FAIL (reason)}. */
        public String line() {
            String base = String.format(Locale.ROOT, "%s  max_abs_err=%.3e  %s", name, maxAbsErr, passed ? "PASS" : "FAIL");
            return passed ? base : base + " (" + reason + ")";
        }
    }

    private final Path goldenDir;
    private final Backend backend;
    private final double tolerance;

    /** {@code goldenDir} holds {@code ops/}; kernels come from {@code backend}, inputs go to its device. */
    public SelfTest(Path goldenDir, Backend backend, double tolerance) {
        this.goldenDir = goldenDir;
        this.backend = backend;
        this.tolerance = tolerance;
    }

    /** The case folders under ops/, sorted by name. */
    public List<Path> caseDirs() throws IOException {
        Path ops = goldenDir.resolve("ops");
        if (!Files.isDirectory(ops)) throw new IOException(goldenDir + " has no ops/ folder");
        try (Stream<Path> s = Files.list(ops)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("case.json")))
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        }
    }

    /** Runs every case whose folder name contains a match of {@code filter}, in name order. */
    public List<CaseResult> run(Pattern filter, Consumer<CaseResult> onResult) throws IOException {
        List<CaseResult> results = new ArrayList<>();
        for (Path dir : caseDirs()) {
            if (!filter.matcher(dir.getFileName().toString()).find()) continue;
            CaseResult r = runCase(dir);
            results.add(r);
            onResult.accept(r);
        }
        return results;
    }

    /** Runs one case folder; never throws: every problem becomes a failed result with a reason. */
    public CaseResult runCase(Path dir) {
        String name = dir.getFileName().toString();
        GoldenCase gc;
        try {
            gc = GoldenCase.load(dir);
        } catch (IOException | RuntimeException e) {
            return fail(name, "cannot read case.json: " + message(e));
        }
        GoldenOpTable.GoldenOp fn = GoldenOpTable.lookup(gc.op());
        if (fn == null) return fail(gc.name(), "missing op: slim4j has no mapping for TF op '" + gc.op() + "'");
        // Everything the case allocates (inputs, outputs, expected values) is released with the scope.
        try (TensorScope scope = TensorScope.open()) {
            Map<String, Tensor> inputs = new LinkedHashMap<>();
            Map<String, List<Tensor>> lists = new LinkedHashMap<>();
            for (GoldenCase.TensorSpec in : gc.inputs()) {
                if (in.isList()) {
                    List<Tensor> items = new ArrayList<>();
                    for (GoldenCase.TensorSpec item : in.list()) items.add(loadInput(dir, item));
                    lists.put(in.name(), items);
                } else {
                    inputs.put(in.name(), loadInput(dir, in));
                }
            }
            Map<String, Tensor> produced = fn.run(new OpCall(gc.op(), inputs, lists, gc.attrs(), backend));
            if (produced == null) produced = Map.of();
            return compare(gc, produced);
        } catch (OpCall.Unsupported e) {
            return fail(gc.name(), e.getMessage());
        } catch (Exception | AssertionError | LinkageError e) {
            return fail(gc.name(), "exception: " + e.getClass().getSimpleName() + ": " + message(e));
        }
    }

    private CaseResult compare(GoldenCase gc, Map<String, Tensor> produced) throws IOException {
        if (gc.outputs().isEmpty()) return fail(gc.name(), "case.json lists no outputs");
        double worst = 0;
        List<String> problems = new ArrayList<>();
        for (GoldenCase.TensorSpec out : gc.outputs()) {
            Tensor expected = Npy.read(gc.dir().resolve(out.file()));
            Tensor actual = produced.get(out.name());
            if (actual == null) {
                problems.add("no output '" + out.name() + "' (slim4j gave " + produced.keySet() + ")");
                worst = Double.NaN;
                continue;
            }
            if (!(actual.device() instanceof CpuDevice)) actual = actual.toDevice(CpuDevice.INSTANCE);
            if (!actual.shape().equals(expected.shape())) {
                problems.add("output " + out.name() + ": shape " + actual.shape() + " != TF's " + expected.shape());
                worst = Double.NaN;
                continue;
            }
            DType want = dtypeOf(out.tfDtype());
            if (actual.dtype() != want) {
                problems.add("output " + out.name() + ": dtype " + actual.dtype().tfName() + " != TF's " + want.tfName());
            }
            double[] e = expected.toDoubleArray();
            double[] a = actual.toDoubleArray();
            double err = 0;
            double scale = 0;
            for (int i = 0; i < e.length; i++) {
                err = Math.max(err, Math.abs(a[i] - e[i])); // Math.max keeps a NaN
                scale = Math.max(scale, Math.abs(e[i]));
            }
            double bound = tolerance * Math.max(1.0, scale);
            worst = Math.max(worst, err);
            if (!(err <= bound)) {
                problems.add(String.format(Locale.ROOT, "output %s: max_abs_err %.3e > %.1e x max(1, %.4g)", out.name(), err, tolerance, scale));
            }
        }
        if (problems.isEmpty()) return new CaseResult(gc.name(), true, worst, "");
        return new CaseResult(gc.name(), false, worst, String.join("; ", problems));
    }

    /** Reads an input .npy and converts it to its TF dtype (ints and uint8 are stored as int64). */
    private Tensor loadInput(Path dir, GoldenCase.TensorSpec spec) throws IOException {
        Tensor raw = Npy.read(dir.resolve(spec.file()));
        if (!raw.shape().equals(Shape.of(spec.shape()))) {
            throw new IOException(spec.file() + " has shape " + raw.shape() + " but case.json says " + Shape.of(spec.shape()));
        }
        DType want = dtypeOf(spec.tfDtype());
        Tensor t = raw.dtype() == want ? raw : raw.cast(want);
        if (t != raw) raw.close();
        Device device = backend.device();
        if (device instanceof CpuDevice) return t;
        Tensor moved = t.toDevice(device);
        t.close();
        return moved;
    }

    static DType dtypeOf(String tfDtype) {
        return switch (tfDtype) {
            case "float32" -> DType.FLOAT32;
            case "float64" -> DType.FLOAT64;
            case "int32" -> DType.INT32;
            case "int64" -> DType.INT64;
            case "uint8" -> DType.UINT8;
            default -> throw new IllegalArgumentException("unsupported TF dtype '" + tfDtype + "'");
        };
    }

    private static CaseResult fail(String name, String reason) {
        return new CaseResult(name, false, Double.NaN, reason);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replace('\n', ' ');
    }

    /** {@code N passed, N failed}. */
    public static String summaryLine(List<CaseResult> results) {
        long passed = results.stream().filter(CaseResult::passed).count();
        return passed + " passed, " + (results.size() - passed) + " failed";
    }
}
