package org.slim4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FlagsTest {
    private final Flags flags = new Flags("train");
    private final Flags.Flag<Path> dir = flags.path("train_dir", Path.of("/tmp/train"), "where checkpoints go");
    private final Flags.Flag<Integer> batch = flags.integer("batch_size", 32, "examples per step");
    private final Flags.Flag<Double> lr = flags.decimal("learning_rate", 0.01, "initial learning rate");
    private final Flags.Flag<Boolean> clones = flags.bool("clone_on_cpu", false, "place clones on the CPU");
    private final Flags.Flag<String> optimizer = flags.choice("optimizer", "sgd", List.of("sgd", "momentum", "rmsprop"), "the optimizer");
    private final Flags.Flag<Pattern> scopes = flags.regex("trainable_scopes", "", "scopes to train");

    @Test
    void defaultsWhenNothingIsGiven() throws UsageException {
        flags.parse();
        assertEquals(Path.of("/tmp/train"), dir.get());
        assertEquals(32, batch.get());
        assertEquals(0.01, lr.get());
        assertFalse(clones.get());
        assertEquals("sgd", optimizer.get());
        assertFalse(batch.isSet());
    }

    @Test
    void equalsFormSpaceFormAndBooleans() throws UsageException {
        flags.parse("--batch_size=8", "--learning_rate", "-0.5", "--clone_on_cpu", "--optimizer=rmsprop", "--train_dir", "out dir");
        assertEquals(8, batch.get());
        assertEquals(-0.5, lr.get());
        assertTrue(clones.get());
        assertTrue(batch.isSet());
        assertEquals("rmsprop", optimizer.get());
        assertEquals(Path.of("out dir"), dir.get());
    }

    @Test
    void negatedAndExplicitBooleans() throws UsageException {
        flags.parse("--clone_on_cpu", "--noclone_on_cpu");
        assertFalse(clones.get());
        Flags other = new Flags("x");
        Flags.Flag<Boolean> b = other.bool("verbose", false, "talk");
        other.parse("--verbose=yes");
        assertTrue(b.get());
        other.parse("--verbose=false");
        assertFalse(b.get());
    }

    @Test
    void unknownFlagNamesItAndSuggestsTheClosest() {
        UsageException e = assertThrows(UsageException.class, () -> flags.parse("--batchsize=3"));
        assertEquals("train: unknown flag --batchsize (did you mean --batch_size?)", e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("--learning_rat=0.1"));
        assertTrue(e.getMessage().contains("--learning_rat") && e.getMessage().contains("did you mean --learning_rate?"), e.getMessage());
        // --noX only negates booleans.
        e = assertThrows(UsageException.class, () -> flags.parse("--nobatch_size"));
        assertTrue(e.getMessage().contains("unknown flag --nobatch_size"), e.getMessage());
    }

    @Test
    void badValuesNameTheFlag() {
        UsageException e = assertThrows(UsageException.class, () -> flags.parse("--batch_size=many"));
        assertEquals("train: invalid value 'many' for flag --batch_size: not an integer", e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("--learning_rate=fast"));
        assertTrue(e.getMessage().contains("--learning_rate") && e.getMessage().contains("'fast'"), e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("--clone_on_cpu=maybe"));
        assertTrue(e.getMessage().contains("--clone_on_cpu") && e.getMessage().contains("true or false"), e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("--optimizer=adam"));
        assertTrue(e.getMessage().contains("--optimizer") && e.getMessage().contains("sgd, momentum, rmsprop"), e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("--trainable_scopes=(unclosed"));
        assertTrue(e.getMessage().contains("--trainable_scopes") && e.getMessage().contains("regular expression"), e.getMessage());
    }

    @Test
    void missingValueRequiredFlagsAndPositionals() {
        UsageException e = assertThrows(UsageException.class, () -> flags.parse("--batch_size"));
        assertTrue(e.getMessage().contains("--batch_size needs a value"), e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("--batch_size", "--clone_on_cpu"));
        assertTrue(e.getMessage().contains("--batch_size needs a value"), e.getMessage());
        e = assertThrows(UsageException.class, () -> flags.parse("stray"));
        assertTrue(e.getMessage().contains("unexpected argument 'stray'"), e.getMessage());

        Flags req = new Flags("eval");
        req.path("checkpoint_path", null, "checkpoint").required();
        e = assertThrows(UsageException.class, req::parse);
        assertTrue(e.getMessage().contains("--checkpoint_path is required"), e.getMessage());
    }

    @Test
    void positionalArgumentsWhenAccepted() throws UsageException {
        Flags f = new Flags("classify").acceptPositional("IMAGE...");
        Flags.Flag<Integer> k = f.integer("top_k", 5, "how many classes");
        f.parse("a.png", "--top_k=3", "--", "--not-a-flag.png");
        assertEquals(List.of("a.png", "--not-a-flag.png"), f.positional());
        assertEquals(3, k.get());
    }

    @Test
    void helpAnywhereWinsOverErrors() throws UsageException {
        flags.parse("--bogus", "--help");
        assertTrue(flags.helpRequested());
    }

    @Test
    void usageListsEveryFlagWithTypeHelpAndDefault() {
        flags.path("required_one", null, "something needed").required();
        String u = flags.usage();
        assertTrue(u.contains("--batch_size=<int>") && u.contains("examples per step (default: 32)"), u);
        assertTrue(u.contains("--learning_rate=<float>") && u.contains("(default: 0.01)"), u);
        Flags f = new Flags("x");
        f.decimal("a", 1e-4, "tiny");
        f.decimal("b", 32, "whole");
        assertTrue(f.usage().contains("tiny (default: 1e-4)") && f.usage().contains("whole (default: 32)"), f.usage());
        assertTrue(u.contains("--[no]clone_on_cpu") && u.contains("place clones on the CPU (default: false)"), u);
        assertTrue(u.contains("--optimizer=<sgd|momentum|rmsprop>"), u);
        assertTrue(u.contains("--trainable_scopes=<regex>") && u.contains("(default: \"\")"), u);
        assertTrue(u.contains("--required_one=<path>") && u.contains("something needed (required)"), u);
        assertTrue(u.contains("--help"), u);
    }

    @Test
    void definitionErrors() {
        assertThrows(IllegalArgumentException.class, () -> flags.integer("batch_size", 1, "again"));
        assertThrows(IllegalArgumentException.class, () -> flags.integer("Bad-Name", 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> flags.bool("help", false, "x"));
    }

    @Test
    void editDistance() {
        assertEquals(0, Flags.editDistance("abc", "abc"));
        assertEquals(1, Flags.editDistance("batchsize", "batch_size"));
        assertEquals(3, Flags.editDistance("kitten", "sitting"));
        assertEquals(4, Flags.editDistance("", "abcd"));
    }
}
