package org.slim4j.tools.nets;

import java.io.PrintStream;
import java.util.function.Function;
import org.slim4j.nets.ModelSummary;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j model_summary --model_name=NAME [--num_classes=N] [--image_size=S]}: a network's
 * end points (name, output shape), its variables (name, shape, parameter count) and the totals
 * {@code Trainable parameters}, {@code All parameters} (with moving statistics) and
 * {@code Multiply-adds} (one image), from a shape-only build that allocates nothing.
 */
public final class ModelSummaryCommand implements Command {
    private final Flags flags = new Flags("model_summary");
    private final Flags.Flag<String> modelName = flags.string("model_name", "", "network of the nets factory, e.g. vgg_16").required();
    private final Flags.Flag<Integer> numClasses = flags.define("num_classes", "int", null, positiveOrZero(),
        "number of logits, 0 for the pre-logits features; none = the network's default");
    private final Flags.Flag<Integer> imageSize = flags.define("image_size", "int", null, positive(),
        "side of the square input image; none = the network's default_image_size");

    @Override
    public String name() {
        return "model_summary";
    }

    @Override
    public String description() {
        return "print a network's end points, variables, parameter counts and multiply-adds";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        NetworkFn fn;
        try {
            fn = Nets.get(modelName.get());
        } catch (IllegalArgumentException e) {
            throw new UsageException("model_summary: invalid value '" + modelName.get() + "' for flag --model_name: " + e.getMessage());
        }
        int classes = numClasses.get() != null ? numClasses.get() : fn.defaultNumClasses();
        int size = imageSize.get() != null ? imageSize.get() : fn.defaultImageSize();
        out.print(ModelSummary.of(fn, classes, size, fn.defaultImageChannels()).format());
        return Main.EXIT_OK;
    }

    private static Function<String, Integer> positiveOrZero() {
        return s -> {
            int v = parse(s);
            if (v < 0) throw new IllegalArgumentException("must be >= 0");
            return v;
        };
    }

    private static Function<String, Integer> positive() {
        return s -> {
            int v = parse(s);
            if (v < 1) throw new IllegalArgumentException("must be >= 1");
            return v;
        };
    }

    private static int parse(String s) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an integer");
        }
    }
}
