package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.tools.Main;

/**
 * --help of train_image_classifier and eval_image_classifier lists every flag of TF-Slim's scripts
 * with TF-Slim's default, and flags slim4j cannot honour fail with what to do instead.
 */
class TrainFlagsTest {
    /** train_image_classifier.py's flags and defaults as --help prints them (spec section 3). */
    static final Map<String, String> TRAIN = new LinkedHashMap<>();
    /** eval_image_classifier.py's flags (spec section 4). */
    static final Map<String, String> EVAL = new LinkedHashMap<>();

    static {
        String[] t = {
            "master", "\"\"", "train_dir", "/tmp/tfmodel", "num_clones", "1", "clone_on_cpu", "false", "worker_replicas", "1",
            "num_ps_tasks", "0", "num_readers", "4", "num_preprocessing_threads", "4", "log_every_n_steps", "10",
            "save_summaries_secs", "600", "save_interval_secs", "600", "task", "0", "weight_decay", "4e-5", "optimizer", "rmsprop",
            "adadelta_rho", "0.95", "adagrad_initial_accumulator_value", "0.1", "adam_beta1", "0.9", "adam_beta2", "0.999",
            "opt_epsilon", "1", "ftrl_learning_rate_power", "-0.5", "ftrl_initial_accumulator_value", "0.1", "ftrl_l1", "0",
            "ftrl_l2", "0", "momentum", "0.9", "rmsprop_momentum", "0.9", "rmsprop_decay", "0.9", "quantize_delay", "-1",
            "learning_rate_decay_type", "exponential", "learning_rate", "0.01", "end_learning_rate", "1e-4", "label_smoothing", "0",
            "learning_rate_decay_factor", "0.94", "num_epochs_per_decay", "2", "sync_replicas", "false", "replicas_to_aggregate", "1",
            "moving_average_decay", "none", "dataset_name", "imagenet", "dataset_split_name", "train", "dataset_dir", "none",
            "labels_offset", "0", "model_name", "inception_v3", "preprocessing_name", "none", "batch_size", "32",
            "train_image_size", "none", "max_number_of_steps", "none", "use_grayscale", "false", "checkpoint_path", "none",
            "checkpoint_exclude_scopes", "none", "trainable_scopes", "none", "ignore_missing_vars", "false",
            "device", "cpu", "kernels", "auto", "precision", "none", "seed", "none"};
        for (int i = 0; i < t.length; i += 2) TRAIN.put(t[i], t[i + 1]);
        String[] e = {
            "batch_size", "100", "max_num_batches", "none", "master", "\"\"", "checkpoint_path", "/tmp/tfmodel", "eval_dir", "/tmp/tfmodel",
            "num_preprocessing_threads", "4", "dataset_name", "imagenet", "dataset_split_name", "test", "dataset_dir", "none",
            "labels_offset", "0", "model_name", "inception_v3", "preprocessing_name", "none", "moving_average_decay", "none",
            "eval_image_size", "none", "quantize", "false", "use_grayscale", "false", "device", "cpu", "kernels", "auto", "precision", "none",
            "eval_interval_secs", "none"};
        for (int i = 0; i < e.length; i += 2) EVAL.put(e[i], e[i + 1]);
    }

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int s = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(s, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    private static void assertHelpLists(String command, Map<String, String> flags) {
        Run r = run(command, "--help");
        assertEquals(Main.EXIT_OK, r.status());
        String[] lines = r.out().split("\n");
        for (Map.Entry<String, String> f : flags.entrySet()) {
            String line = null;
            for (String l : lines) {
                if (l.startsWith("  --" + f.getKey() + "=") || l.startsWith("  --[no]" + f.getKey() + " ")) line = l;
            }
            assertTrue(line != null, "--" + f.getKey() + " missing from " + command + " --help:\n" + r.out());
            String d = "(default: " + f.getValue() + ")";
            assertTrue(line.endsWith(d) || line.endsWith("(default: " + f.getValue() + "/)"), line + " should end with " + d);
        }
    }

    @Test
    void trainHelpListsEveryTfSlimFlagWithItsDefault() {
        assertHelpLists("train_image_classifier", TRAIN);
    }

    @Test
    void evalHelpListsEveryTfSlimFlagWithItsDefault() {
        assertHelpLists("eval_image_classifier", EVAL);
    }

    @Test
    void deviceKernelsAndPrecisionAreCheckedBeforeAnythingRuns() {
        for (String cmd : new String[] {"train_image_classifier", "eval_image_classifier"}) {
            Run tpu = run(cmd, "--dataset_dir=/tmp", "--device=tpu");
            assertEquals(Main.EXIT_USAGE, tpu.status());
            assertTrue(tpu.err().contains("--device") && tpu.err().contains("unknown device"), tpu.err());
            Run n = run(cmd, "--dataset_dir=/tmp", "--device=cuda:x");
            assertEquals(Main.EXIT_USAGE, n.status());
            assertTrue(n.err().contains("cuda:N"), n.err());
            Run bf16 = run(cmd, "--dataset_dir=/tmp", "--device=cuda", "--precision=bf16", "--kernels=vendor");
            assertEquals(Main.EXIT_USAGE, bf16.status());
            assertTrue(bf16.err().contains("--precision=bf16 runs on slim4j's kernels only"), bf16.err());
            Run fp16 = run(cmd, "--dataset_dir=/tmp", "--device=cuda:0", "--precision=fp16", "--kernels=vendor");
            assertEquals(Main.EXIT_USAGE, fp16.status());
            assertTrue(fp16.err().contains("--precision=fp16"), fp16.err());
            Run cpuTf32 = run(cmd, "--dataset_dir=/tmp", "--precision=tf32");
            assertEquals(Main.EXIT_USAGE, cpuTf32.status());
            assertTrue(cpuTf32.err().contains("--precision=tf32 applies to --device=cuda only"), cpuTf32.err());
            Run cpuVendor = run(cmd, "--dataset_dir=/tmp", "--kernels=builtin");
            assertEquals(Main.EXIT_USAGE, cpuVendor.status());
            assertTrue(cpuVendor.err().contains("--kernels=builtin applies to --device=cuda only"), cpuVendor.err());
            Run badKernels = run(cmd, "--dataset_dir=/tmp", "--device=cuda", "--kernels=cudnn");
            assertEquals(Main.EXIT_USAGE, badKernels.status());
            assertTrue(badKernels.err().contains("--kernels") && badKernels.err().contains("builtin, vendor, auto"), badKernels.err());
            Run badPrecision = run(cmd, "--dataset_dir=/tmp", "--device=cuda", "--precision=fp64");
            assertEquals(Main.EXIT_USAGE, badPrecision.status());
            assertTrue(badPrecision.err().contains("--precision") && badPrecision.err().contains("fp32, tf32, bf16, fp16"), badPrecision.err());
        }
    }

    @Test
    void cudaWithoutAGpuFailsSayingWhy() {
        org.junit.jupiter.api.Assumptions.assumeFalse(org.slim4j.cuda.CudaRuntime.probe().available(), "this machine has a GPU");
        Run r = run("train_image_classifier", "--dataset_dir=/tmp", "--dataset_name=mnist", "--model_name=lenet", "--device=cuda");
        assertEquals(Main.EXIT_FAILURE, r.status(), r.err());
        assertTrue(r.err().contains("--device=cuda") && r.err().contains("doctor"), r.err());
    }

    @Test
    void precisionDefaultsToTf32FromAmpereOn() {
        org.slim4j.tools.Flags f = new org.slim4j.tools.Flags("t");
        org.slim4j.tools.DeviceFlags d = new org.slim4j.tools.DeviceFlags(f, "run");
        assertEquals(org.slim4j.cuda.CudaOptions.parse("auto", "tf32"), d.cudaOptions(9));
        assertEquals(org.slim4j.cuda.CudaOptions.parse("auto", "tf32"), d.cudaOptions(8));
        assertEquals(org.slim4j.cuda.CudaOptions.parse("auto", "fp32"), d.cudaOptions(7));
        org.slim4j.tools.Flags g = new org.slim4j.tools.Flags("t");
        org.slim4j.tools.DeviceFlags e = new org.slim4j.tools.DeviceFlags(g, "run");
        try {
            g.parse("--device=cuda:1", "--kernels=builtin", "--precision=fp32");
            e.validate("t");
        } catch (org.slim4j.tools.UsageException x) {
            throw new AssertionError(x);
        }
        assertEquals(1, e.ordinal());
        assertEquals(org.slim4j.cuda.CudaOptions.parse("builtin", "fp32"), e.cudaOptions(9));
    }

    @Test
    void datasetDirIsRequiredAsInTfSlim() {
        Run r = run("train_image_classifier");
        assertEquals(Main.EXIT_USAGE, r.status());
        assertTrue(r.err().contains("You must supply the dataset directory with --dataset_dir"), r.err());
        Run e = run("eval_image_classifier");
        assertEquals(Main.EXIT_USAGE, e.status());
        assertTrue(e.err().contains("You must supply the dataset directory with --dataset_dir"), e.err());
    }

    @Test
    void distributedAndQuantizedTrainingAreRejectedWithAReason() {
        for (String flag : new String[] {"--worker_replicas=2", "--num_ps_tasks=1", "--task=1", "--sync_replicas"}) {
            Run r = run("train_image_classifier", "--dataset_dir=/tmp", flag);
            assertEquals(Main.EXIT_USAGE, r.status(), flag);
            assertTrue(r.err().contains("distributed training") && r.err().contains("--num_clones"), r.err());
        }
        Run q = run("train_image_classifier", "--dataset_dir=/tmp", "--quantize_delay=0");
        assertEquals(Main.EXIT_USAGE, q.status());
        assertTrue(q.err().contains("quantized training"), q.err());
        Run m = run("train_image_classifier", "--dataset_dir=/tmp", "--moving_average_decay=1.5");
        assertEquals(Main.EXIT_USAGE, m.status());
        assertTrue(m.err().contains("--moving_average_decay") && m.err().contains("(0, 1)"), m.err());
    }

    @Test
    void unknownModelAndDatasetAreUsageErrorsListingTheKnownOnes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("x"), "");
        Run r = run("train_image_classifier", "--dataset_dir=" + dir, "--model_name=resnet_v9", "--dataset_name=mnist");
        assertEquals(Main.EXIT_USAGE, r.status());
        assertTrue(r.err().contains("resnet_v9") && r.err().contains("lenet"), r.err());
        Run d = run("train_image_classifier", "--dataset_dir=" + dir, "--model_name=lenet", "--dataset_name=nosuch");
        assertEquals(Main.EXIT_USAGE, d.status());
        assertTrue(d.err().contains("unknown dataset 'nosuch'"), d.err());
    }
}
