package org.slim4j.tools.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Restores variables from a TensorFlow checkpoint with TF-Slim's rules (train_image_classifier's
 * {@code _get_init_fn} + {@code slim.assign_from_checkpoint_fn}, and eval's variables_to_restore):
 * <ul>
 * <li>a variable whose name starts with one of {@code checkpoint_exclude_scopes} (plain string
 *     prefixes, as TF-Slim compares {@code var.op.name.startswith(exclusion)}) is not restored;</li>
 * <li>every other variable is read from the checkpoint under {@code checkpointName(var)} — its own
 *     name, or {@code <var>/ExponentialMovingAverage} when evaluating moving averages;</li>
 * <li>a variable the checkpoint lacks is an error, unless {@code ignore_missing_vars}, which skips it
 *     with a warning;</li>
 * <li>a shape mismatch is always an error; it names the variable and both shapes, and when the class
 *     count differs says what to do ({@code --labels_offset} for the 1001-vs-1000 ImageNet case,
 *     otherwise excluding the logits scopes).</li>
 * </ul>
 * Every name and shape is checked before anything is assigned, so a failed restore leaves the
 * variables untouched, and the error lists every problem at once.
 */
public final class CheckpointRestorer {
    /** TF's ExponentialMovingAverage shadow name suffix: {@code <var>/ExponentialMovingAverage}. */
    public static final String MOVING_AVERAGE_SUFFIX = "/ExponentialMovingAverage";

    private CheckpointRestorer() {
    }

    /** The checkpoint name of {@code variable}'s moving average (what eval restores with --moving_average_decay). */
    public static String movingAverageName(String variable) {
        return variable + MOVING_AVERAGE_SUFFIX;
    }

    /** A variable whose checkpoint tensor has another shape. */
    public record Mismatch(String variable, String checkpointName, int[] networkDims, long[] checkpointDims) {
        String describe() {
            return variable + (checkpointName.equals(variable) ? "" : " (checkpoint tensor " + checkpointName + ")")
                + ": the checkpoint has shape " + shapeString(checkpointDims) + ", the network has " + shapeString(toLong(networkDims));
        }
    }

    /** What a restore did, by variable name. */
    public record Report(Path checkpoint, List<String> restored, List<String> excluded, List<String> missing,
                         List<Mismatch> mismatched, int unusedCheckpointTensors) {
        public Report {
            restored = List.copyOf(restored);
            excluded = List.copyOf(excluded);
            missing = List.copyOf(missing);
            mismatched = List.copyOf(mismatched);
        }

        /**
         * The report as TF-Slim users read it: counts, then the excluded, missing and mismatched
         * variables by name; restored names are listed when there are at most {@code listLimit}.
         */
        public void print(PrintStream out, int listLimit) {
            out.printf("restored %d variables from %s%n", restored.size(), checkpoint);
            if (restored.size() <= listLimit) for (String n : restored) out.println("  restored: " + n);
            for (String n : excluded) out.println("  excluded (--checkpoint_exclude_scopes): " + n);
            for (String n : missing) out.println("  missing in checkpoint (--ignore_missing_vars), left at its initial value: " + n);
            for (Mismatch m : mismatched) out.println("  shape mismatch: " + m.describe());
            if (unusedCheckpointTensors > 0) out.printf("  (%d checkpoint tensors not used by the network)%n", unusedCheckpointTensors);
        }
    }

    /** A restore that cannot be done: missing variables or shape mismatches. Nothing was assigned. */
    public static final class RestoreException extends RuntimeException {
        private final Report report;

        RestoreException(String message, Report report) {
            super(message);
            this.report = report;
        }

        public Report report() {
            return report;
        }
    }

    /** Splits a comma-separated scope list as TF-Slim does ({@code [s.strip() for s in flag.split(',')]}), dropping empty entries. */
    public static List<String> scopes(String flag) {
        List<String> out = new ArrayList<>();
        if (flag == null) return out;
        for (String s : flag.split(",")) {
            String t = s.strip();
            if (!t.isEmpty()) out.add(t);
        }
        return out;
    }

    /** Whether {@code name} starts with one of {@code exclusions}. */
    public static boolean excluded(String name, List<String> exclusions) {
        for (String e : exclusions) if (name.startsWith(e)) return true;
        return false;
    }

    /**
     * Restores {@code variables} (name → live value, filled in place) from {@code reader}.
     *
     * @param checkpointName the checkpoint tensor holding a variable (identity, or the EMA shadow's name)
     * @throws RestoreException missing variables (without ignoreMissingVars) or shape mismatches
     */
    public static Report restore(CheckpointReader reader, Map<String, Tensor> variables, List<String> excludeScopes,
                                 boolean ignoreMissingVars, UnaryOperator<String> checkpointName) throws IOException {
        List<String> restored = new ArrayList<>();
        List<String> excluded = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<Mismatch> mismatched = new ArrayList<>();
        List<String> badType = new ArrayList<>();
        Map<String, String> plan = new LinkedHashMap<>();
        Set<String> used = new LinkedHashSet<>();
        for (Map.Entry<String, Tensor> e : variables.entrySet()) {
            String name = e.getKey();
            if (excluded(name, excludeScopes)) {
                excluded.add(name);
                continue;
            }
            String ckName = checkpointName.apply(name);
            Optional<CheckpointEntry> entry = reader.find(ckName);
            if (entry.isEmpty()) {
                missing.add(name);
                continue;
            }
            used.add(ckName);
            CheckpointEntry ce = entry.get();
            Tensor target = e.getValue();
            if (!Arrays.equals(ce.dims(), toLong(target.dims()))) {
                mismatched.add(new Mismatch(name, ckName, target.dims(), ce.dims()));
                continue;
            }
            DType dt = ce.dtype().dtype();
            if (dt == null || !(dt.isFloating() == target.dtype().isFloating())) {
                badType.add(name + ": the checkpoint holds " + ce.dtype().tfName() + ", the variable is " + target.dtype());
                continue;
            }
            plan.put(name, ckName);
        }
        int unused = 0;
        for (CheckpointEntry ce : reader.entries()) if (!used.contains(ce.name())) unused++;
        Report report = new Report(reader.path(), new ArrayList<>(plan.keySet()), excluded, ignoreMissingVars ? missing : List.of(),
            mismatched, unused);
        String problems = problems(reader.path(), missing, ignoreMissingVars, mismatched, badType, checkpointName);
        if (problems != null) throw new RestoreException(problems, report);
        for (Map.Entry<String, String> p : plan.entrySet()) {
            Tensor target = variables.get(p.getKey());
            try (Tensor value = reader.read(p.getValue())) {
                if (value.dtype() == target.dtype()) {
                    target.copyFrom(value);
                } else {
                    try (Tensor cast = value.cast(target.dtype())) {
                        target.copyFrom(cast);
                    }
                }
            }
        }
        return report;
    }

    private static String problems(Path checkpoint, List<String> missing, boolean ignoreMissingVars, List<Mismatch> mismatched,
                                   List<String> badType, UnaryOperator<String> checkpointName) {
        StringBuilder sb = new StringBuilder();
        if (!mismatched.isEmpty()) {
            sb.append(mismatched.size() == 1 ? "a variable does" : mismatched.size() + " variables do")
                .append(" not fit checkpoint ").append(checkpoint).append(':');
            for (Mismatch m : mismatched) sb.append("\n  shape mismatch for ").append(m.describe());
            String hint = classCountHint(mismatched);
            if (hint != null) sb.append('\n').append(hint);
        }
        if (!missing.isEmpty() && !ignoreMissingVars) {
            if (sb.length() > 0) sb.append('\n');
            sb.append(missing.size()).append(missing.size() == 1 ? " variable is" : " variables are")
                .append(" missing in checkpoint ").append(checkpoint).append(':');
            int shown = 0;
            for (String n : missing) {
                if (shown++ == 20) {
                    sb.append("\n  ... and ").append(missing.size() - 20).append(" more");
                    break;
                }
                String ck = checkpointName.apply(n);
                sb.append("\n  ").append(ck).append(ck.equals(n) ? "" : " (for " + n + ")");
            }
            sb.append("\n(pass --ignore_missing_vars to leave them at their initial values, or --checkpoint_exclude_scopes to skip their scopes)");
        }
        if (!badType.isEmpty()) {
            if (sb.length() > 0) sb.append('\n');
            sb.append("dtype mismatch in checkpoint ").append(checkpoint).append(':');
            for (String b : badType) sb.append("\n  ").append(b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /**
     * When mismatches differ only in the last dimension (the class count of logits weights and
     * biases), what to do about it, as the TF-Slim README's troubleshooting section says.
     */
    static String classCountHint(List<Mismatch> mismatched) {
        Set<String> scopes = new LinkedHashSet<>();
        long ckClasses = -1;
        long netClasses = -1;
        for (Mismatch m : mismatched) {
            long[] ck = m.checkpointDims();
            int[] net = m.networkDims();
            if (ck.length != net.length || ck.length == 0) return null;
            for (int i = 0; i < ck.length - 1; i++) if (ck[i] != net[i]) return null;
            ckClasses = ck[ck.length - 1];
            netClasses = net[net.length - 1];
            scopes.add(logitsScope(m.variable()));
        }
        if (scopes.isEmpty()) return null;
        String exclude = "--checkpoint_exclude_scopes=" + String.join(",", scopes);
        String newLogits = "to train new logits for your classes instead (fine-tuning), pass " + exclude
            + " (and --trainable_scopes=" + String.join(",", scopes) + " to train only them)";
        if (ckClasses == netClasses - 1) {
            return "The checkpoint has " + ckClasses + " classes and the network " + netClasses + ": checkpoints without ImageNet's"
                + " background class 0 (VGG and ResNet V1, converted from Caffe, have 1000) need --labels_offset=1, which shifts"
                + " the labels down by one so the network gets " + ckClasses + " classes; or, " + newLogits + ".";
        }
        if (ckClasses == netClasses + 1) {
            return "The checkpoint has " + ckClasses + " classes (with ImageNet's background class 0) and the network " + netClasses
                + ": drop --labels_offset (use --labels_offset=0) so the network gets " + ckClasses + " classes; or, " + newLogits + ".";
        }
        return "The checkpoint was trained for " + ckClasses + " classes and the network has " + netClasses + ": " + newLogits + ".";
    }

    /** The scope to exclude for a logits variable: its first two name components (LeNet/fc4, InceptionV3/AuxLogits). */
    static String logitsScope(String variable) {
        String[] parts = variable.split("/");
        if (parts.length <= 2) return parts.length == 1 ? variable : parts[0];
        return parts[0] + "/" + parts[1];
    }

    static long[] toLong(int[] dims) {
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) out[i] = dims[i];
        return out;
    }

    static String shapeString(long[] dims) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(dims[i]);
        }
        return sb.append(']').toString();
    }
}
