package org.slim4j.tools;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.slim4j.tools.checkpoint.ConvertCheckpointCommand;
import org.slim4j.tools.checkpoint.InspectCheckpointCommand;
import org.slim4j.tools.data.BuildImagenetDataCommand;
import org.slim4j.tools.data.DownloadAndConvertDataCommand;
import org.slim4j.tools.demo.DemoCommand;
import org.slim4j.tools.doctor.DoctorCommand;
import org.slim4j.tools.eval.EvalImageClassifierCommand;
import org.slim4j.tools.export.ExportInferenceGraphCommand;
import org.slim4j.tools.export.FreezeGraphCommand;
import org.slim4j.tools.export.LabelImageCommand;
import org.slim4j.tools.export.SummarizeGraphCommand;
import org.slim4j.tools.nets.ModelSummaryCommand;
import org.slim4j.tools.selftest.SelfTestCommand;
import org.slim4j.tools.train.TrainImageClassifierCommand;

/**
 * The {@code slim4j} command line: {@code slim4j <command> --flag=value ...}.
 * {@code slim4j help} lists the commands, {@code slim4j <command> --help} a command's flags.
 * Exit status: 0 ok, 1 failure, 2 usage error.
 */
public final class Main {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    /** Every command, in the order {@code slim4j help} lists them. To add one, add its constructor here. */
    private static final List<Supplier<Command>> COMMANDS = List.of(
            DemoCommand::new,
            DownloadAndConvertDataCommand::new,
            TrainImageClassifierCommand::new,
            EvalImageClassifierCommand::new,
            BuildImagenetDataCommand::new,
            InspectCheckpointCommand::new,
            ConvertCheckpointCommand::new,
            ModelSummaryCommand::new,
            org.slim4j.tools.bench.BenchmarkCommand::new,
            ExportInferenceGraphCommand::new,
            FreezeGraphCommand::new,
            SummarizeGraphCommand::new,
            LabelImageCommand::new,
            DoctorCommand::new,
            SelfTestCommand::new);

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; returns the exit status instead of exiting (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(overview());
            return EXIT_USAGE;
        }
        String first = args[0];
        if (first.equals("help") || first.equals("--help") || first.equals("-h")) {
            if (args.length == 1) {
                out.print(overview());
                return EXIT_OK;
            }
            Command c = find(args[1]);
            if (c == null) {
                err.println(unknownCommand(args[1]));
                return EXIT_USAGE;
            }
            out.print(commandHelp(c));
            return EXIT_OK;
        }
        Command command = find(first);
        if (command == null) {
            err.println(unknownCommand(first));
            return EXIT_USAGE;
        }
        try {
            command.flags().parse(Arrays.copyOfRange(args, 1, args.length));
            if (command.flags().helpRequested()) {
                out.print(commandHelp(command));
                return EXIT_OK;
            }
            return command.run(out, err);
        } catch (UsageException e) {
            err.println(e.getMessage());
            err.println("(slim4j " + command.name() + " --help lists the flags)");
            return EXIT_USAGE;
        } catch (Exception e) {
            err.println("slim4j " + command.name() + ": error: " + describe(e));
            return EXIT_FAILURE;
        }
    }

    /** A fresh instance of every registered command. */
    public static List<Command> commands() {
        List<Command> all = new ArrayList<>();
        for (Supplier<Command> s : COMMANDS) all.add(s.get());
        return all;
    }

    private static Command find(String name) {
        for (Supplier<Command> s : COMMANDS) {
            Command c = s.get();
            if (c.name().equals(name)) return c;
        }
        return null;
    }

    private static String unknownCommand(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (Command c : commands()) {
            int d = Flags.editDistance(name, c.name());
            if (d < bestDistance) {
                bestDistance = d;
                best = c.name();
            }
        }
        return "slim4j: unknown command '" + name + "'" + (best != null ? " (did you mean '" + best + "'?)" : "")
                + "; slim4j help lists the commands";
    }

    /** The listing printed by {@code slim4j help}. */
    static String overview() {
        List<Command> all = commands();
        int width = "help".length();
        for (Command c : all) width = Math.max(width, c.name().length());
        StringBuilder sb = new StringBuilder();
        sb.append("usage: slim4j <command> [--flag=value ...]\n\ncommands:\n");
        for (Command c : all) sb.append(String.format("  %-" + width + "s   %s\n", c.name(), c.description()));
        sb.append(String.format("  %-" + width + "s   %s\n", "help", "list the commands; slim4j <command> --help lists a command's flags"));
        return sb.toString();
    }

    /** The text printed by {@code slim4j <command> --help}. */
    static String commandHelp(Command c) {
        return "usage: slim4j " + c.name() + " [--flag=value ...]\n\n" + c.description() + "\n\nflags:\n" + c.flags().usage();
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
