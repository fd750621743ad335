package org.slim4j.io.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Expected values were printed by CPython 3.11's random module (the same MT19937 as Python 2.7's). */
class PythonRandomTest {
    private static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(i);
        return l;
    }

    @Test
    void randomMatchesCPython() {
        PythonRandom r = new PythonRandom(0);
        assertEquals(0.8444218515250481, r.random(), 0.0);
        assertEquals(0.7579544029403025, r.random(), 0.0);
        assertEquals(0.420571580830845, r.random(), 0.0);
        PythonRandom big = new PythonRandom((1L << 40) + 7); // a seed of two 32-bit words
        assertEquals(0.6137037779936511, big.random(), 0.0);
        assertEquals(0.8149162973309487, big.random(), 0.0);
    }

    @Test
    void getrandbitsMatchesCPython() {
        PythonRandom r = new PythonRandom(0);
        assertEquals(1, r.getrandbits(1));
        assertEquals(12, r.getrandbits(5));
        assertEquals(99346, r.getrandbits(17));
        assertEquals(3823568514L, r.getrandbits(32));
    }

    @Test
    void python3ShuffleMatchesCPython() {
        List<Integer> x = range(20);
        new PythonRandom(0).shuffle(x);
        assertEquals(List.of(10, 18, 16, 14, 0, 17, 11, 2, 3, 9, 5, 7, 4, 19, 6, 15, 8, 1, 13, 12), x);
        // flowers: 3670 photos, seed 0
        List<Integer> f = range(3670);
        new PythonRandom(0).shuffle(f);
        assertEquals(List.of(1843, 2215, 1614, 547, 2355, 2529, 3515, 1067, 2923, 2377), f.subList(0, 10));
        assertEquals(List.of(1722, 3646, 3104, 1577, 3458), f.subList(3665, 3670));
    }

    @Test
    void python2ShuffleMatchesCPython() {
        List<Integer> x = range(20);
        new PythonRandom(12345).shufflePython2(x);
        assertEquals(List.of(13, 6, 19, 3, 18, 9, 12, 10, 11, 15, 4, 1, 17, 7, 2, 16, 5, 14, 0, 8), x);
        List<Integer> y = range(20);
        new PythonRandom(12345).shuffle(y);
        assertNotEquals(x, y, "Python 2 and 3 shuffles differ");
    }
}
