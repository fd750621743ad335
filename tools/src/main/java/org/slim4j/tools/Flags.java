package org.slim4j.tools;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A command's flags, TF-Slim (absl) style: {@code --name=value}, also {@code --name value};
 * booleans as {@code --name}, {@code --noname} or {@code --name=true|false}. {@code --help} (or
 * {@code -h}) anywhere asks for {@link #usage()}; {@code --} ends the flags. Unknown flags are
 * rejected with the closest known name as a suggestion, and bad values name their flag.
 *
 * <pre>
 * Flags flags = new Flags("selftest");
 * Flags.Flag&lt;Path&gt; dir = flags.path("golden_dir", null, "golden data folder").required();
 * flags.parse(args);
 * dir.get();
 * </pre>
 */
public final class Flags {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");

    private final String command;
    private final Map<String, Flag<?>> flags = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    private String positionalUsage;
    private boolean helpRequested;

    /** {@code command} names the command in messages and usage. */
    public Flags(String command) {
        this.command = command;
    }

    /** One defined flag; {@link #get()} gives the parsed value or the default. */
    public static final class Flag<T> {
        private final String name;
        private final String type;
        private final T defaultValue;
        private final Function<String, T> parser;
        private final String help;
        private boolean required;
        private T value;
        private boolean set;

        private Flag(String name, String type, T defaultValue, Function<String, T> parser, String help) {
            this.name = name;
            this.type = type;
            this.defaultValue = defaultValue;
            this.parser = parser;
            this.help = help;
            this.value = defaultValue;
        }

        /** Makes {@link Flags#parse} fail when the flag is not given. */
        public Flag<T> required() {
            required = true;
            return this;
        }

        public String name() {
            return name;
        }

        public T get() {
            return value;
        }

        public T defaultValue() {
            return defaultValue;
        }

        /** Whether the command line set this flag. */
        public boolean isSet() {
            return set;
        }

        boolean isBoolean() {
            return "bool".equals(type);
        }

        private void assign(String text, String command) throws UsageException {
            try {
                value = parser.apply(text);
            } catch (IllegalArgumentException e) {
                String why = e.getMessage() == null ? "expected " + type : e.getMessage();
                throw new UsageException(command + ": invalid value '" + text + "' for flag --" + name + ": " + why);
            }
            set = true;
        }
    }

    // ---- definitions --------------------------------------------------------------------------

    /**
     * Defines a flag of any type. {@code parser} turns the text after {@code =} into a value and
     * throws IllegalArgumentException (with a message saying what was expected) for bad text.
     */
    public <T> Flag<T> define(String name, String type, T defaultValue, Function<String, T> parser, String help) {
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("bad flag name '" + name + "' (use lower_case)");
        if (name.equals("help")) throw new IllegalArgumentException("--help is built in");
        if (flags.containsKey(name)) throw new IllegalArgumentException("flag --" + name + " defined twice");
        Flag<T> f = new Flag<>(name, type, defaultValue, parser, help);
        flags.put(name, f);
        return f;
    }

    public Flag<String> string(String name, String defaultValue, String help) {
        return define(name, "string", defaultValue, s -> s, help);
    }

    public Flag<Integer> integer(String name, int defaultValue, String help) {
        return define(name, "int", defaultValue, s -> {
            try {
                return Integer.valueOf(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer");
            }
        }, help);
    }

    public Flag<Double> decimal(String name, double defaultValue, String help) {
        return define(name, "float", defaultValue, s -> {
            try {
                double v = Double.parseDouble(s.trim());
                if (Double.isNaN(v)) throw new IllegalArgumentException("not a number");
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number");
            }
        }, help);
    }

    public Flag<Boolean> bool(String name, boolean defaultValue, String help) {
        return define(name, "bool", defaultValue, Flags::parseBool, help);
    }

    public Flag<Path> path(String name, Path defaultValue, String help) {
        return define(name, "path", defaultValue, s -> {
            if (s.isEmpty()) throw new IllegalArgumentException("empty path");
            return Path.of(s);
        }, help);
    }

    /** A Java regular expression; the empty string (the usual default) matches everything. */
    public Flag<Pattern> regex(String name, String defaultValue, String help) {
        return define(name, "regex", Pattern.compile(defaultValue), s -> {
            try {
                return Pattern.compile(s);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IllegalArgumentException("not a valid regular expression (" + e.getDescription() + ")");
            }
        }, help);
    }

    /** A string limited to {@code choices}. */
    public Flag<String> choice(String name, String defaultValue, List<String> choices, String help) {
        return define(name, String.join("|", choices), defaultValue, s -> {
            if (!choices.contains(s)) throw new IllegalArgumentException("expected one of " + String.join(", ", choices));
            return s;
        }, help);
    }

    /** Lets the command take plain arguments (otherwise they are a usage error). */
    public Flags acceptPositional(String usage) {
        positionalUsage = usage;
        return this;
    }

    // ---- parsing ------------------------------------------------------------------------------

    /** Parses {@code args} into the defined flags. Stops early, without errors, when help was asked for. */
    public void parse(String... args) throws UsageException {
        for (String a : args) {
            if (a.equals("--")) break;
            if (a.equals("--help") || a.equals("-h") || a.equals("-help")) {
                helpRequested = true;
                return;
            }
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                for (int j = i + 1; j < args.length; j++) addPositional(args[j]);
                break;
            }
            if (!a.startsWith("--") || a.length() == 2) {
                addPositional(a);
                continue;
            }
            String body = a.substring(2);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            Flag<?> f = flags.get(name);
            if (f == null && eq < 0 && name.startsWith("no")) {
                Flag<?> negated = flags.get(name.substring(2));
                if (negated != null && negated.isBoolean()) {
                    negated.assign("false", command);
                    continue;
                }
            }
            if (f == null) throw new UsageException(unknownFlagMessage(name));
            if (eq >= 0) {
                f.assign(body.substring(eq + 1), command);
            } else if (f.isBoolean()) {
                f.assign("true", command);
            } else {
                // "--name value": the next argument is the value, unless it is another flag.
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new UsageException(command + ": flag --" + name + " needs a value (--" + name + "=<" + f.type + ">)");
                }
                f.assign(args[++i], command);
            }
        }
        for (Flag<?> f : flags.values()) {
            if (f.required && !f.set) {
                throw new UsageException(command + ": flag --" + f.name + " is required (--" + f.name + "=<" + f.type + ">)");
            }
        }
    }

    private void addPositional(String a) throws UsageException {
        if (positionalUsage == null) {
            throw new UsageException(command + ": unexpected argument '" + a + "' (flags are written --name=value; see slim4j " + command + " --help)");
        }
        positional.add(a);
    }

    private String unknownFlagMessage(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        List<String> known = new ArrayList<>(flags.keySet());
        known.add("help");
        for (String k : known) {
            int d = editDistance(name, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return command + ": unknown flag --" + name + " (did you mean --" + best + "?)";
    }

    /** Levenshtein distance: the number of single-character edits between a and b. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static boolean parseBool(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true", "t", "1", "yes" -> true;
            case "false", "f", "0", "no" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }

    // ---- results ------------------------------------------------------------------------------

    public boolean helpRequested() {
        return helpRequested;
    }

    /** Plain arguments, when {@link #acceptPositional} allowed them. */
    public List<String> positional() {
        return Collections.unmodifiableList(positional);
    }

    public List<Flag<?>> all() {
        return List.copyOf(flags.values());
    }

    /** The flags section of a command's help: each flag with its type, help text and default. */
    public String usage() {
        List<String[]> rows = new ArrayList<>();
        for (Flag<?> f : flags.values()) {
            String left = f.isBoolean() ? "--[no]" + f.name : "--" + f.name + "=<" + f.type + ">";
            String right = f.help + (f.required ? " (required)" : " (default: " + describe(f.defaultValue) + ")");
            rows.add(new String[] {left, right});
        }
        rows.add(new String[] {"--help", "show this help"});
        if (positionalUsage != null) rows.add(0, new String[] {positionalUsage, ""});
        int width = 0;
        for (String[] r : rows) width = Math.max(width, r[0].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            sb.append("  ").append(r[0]);
            if (!r[1].isEmpty()) sb.append(" ".repeat(width - r[0].length() + 3)).append(r[1]);
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String describe(Object v) {
        if (v == null) return "none";
        String s = v.toString();
        if (v instanceof Double) {
            // 1.0E-4 -> 1e-4, 32.0 -> 32
            s = s.replace(".0E", "E").replace('E', 'e');
            if (s.endsWith(".0")) s = s.substring(0, s.length() - 2);
        }
        return s.isEmpty() ? "\"\"" : s;
    }
}
