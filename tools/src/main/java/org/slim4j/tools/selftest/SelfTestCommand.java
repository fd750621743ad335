package org.slim4j.tools.selftest;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.Backends;
import org.slim4j.tools.Command;
import org.slim4j.tools.Devices;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j selftest --golden_dir=DIR [--device=cpu] [--cases=regex]}: runs TensorFlow's golden
 * op cases through slim4j's kernels, one line per case, then {@code N passed, N failed}.
 */
public final class SelfTestCommand implements Command {
    private final Flags flags = new Flags("selftest");
    private final Flags.Flag<Path> goldenDir = flags.path("golden_dir", null,
            "golden data folder (holds ops/<case>/case.json and the .npy files)").required();
    private final Flags.Flag<String> device = flags.string("device", "cpu",
            "device whose kernels are tested: " + String.join(", ", Devices.NAMES));
    private final Flags.Flag<Pattern> cases = flags.regex("cases", "",
            "run only cases whose name contains a match of this regex (empty: all)");
    private final Flags.Flag<Double> tolerance = flags.decimal("tolerance", SelfTest.DEFAULT_TOLERANCE,
            "an output passes when max|slim4j - TF| <= tolerance * max(1, max|TF|)");

    @Override
    public String name() {
        return "selftest";
    }

    @Override
    public String description() {
        return "check slim4j's kernels against TensorFlow's golden op outputs";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Path dir = goldenDir.get();
        if (!Files.isDirectory(dir.resolve("ops"))) {
            throw new UsageException("selftest: invalid value '" + dir + "' for flag --golden_dir: no ops/ folder there");
        }
        if (!(tolerance.get() > 0)) {
            throw new UsageException("selftest: invalid value '" + tolerance.get() + "' for flag --tolerance: must be > 0");
        }
        Backend backend = Backends.forDevice(Devices.byName(device.get(), "selftest"));
        SelfTest test = new SelfTest(dir, backend, tolerance.get());
        List<SelfTest.CaseResult> results = test.run(cases.get(), r -> {
            out.println(r.line());
            out.flush();
        });
        if (results.isEmpty()) err.println("selftest: no case name matches --cases=" + cases.get());
        out.println(SelfTest.summaryLine(results));
        boolean allPassed = !results.isEmpty() && results.stream().allMatch(SelfTest.CaseResult::passed);
        return allPassed ? Main.EXIT_OK : Main.EXIT_FAILURE;
    }
}
