package org.slim4j.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class PickleReaderTest {
    /**
     * gzip of {@code pickle.dumps(d, protocol=2)} (Python 3.11, numpy 2.4) for
     * d = {b'batch_label': b'testing batch 1 of 1', b'labels': [3, 7],
     *      b'data': (np.arange(2*3072)*7 % 251).astype(np.uint8).reshape(2, 3072), b'filenames': [b'a.png', b'b.png']}.
     * Protocol 2 from Python 3 stores bytes as _codecs.encode(text, 'latin1').
     */
    static final String PY3_PROTOCOL2 = "H4sIAAAAAAACA+3aV1cTYRAG4E1oEkCUajc0DYrR2HtvEEFdWyyIm2QhaAhMslGxgkoAQVQUKVakCqgogoCo58z8MP0W+BmzF3v2zDvf7OxzvVXGuyBZXEWucrfqCphUn/5gAoMjRpIkp6K5PEVexal6weiIFBWvopX6bBAWgnAZIjwGR5IoampAVEvM0+1mm7m82GyDSI9oipJhjmiaOSmmBCBaL5tkiCmEWIs9zB6lijxc5G5FUyBOT+fKEO/yBcsqKq1iLb9qLQt6tVLF71cqTUV+1VXuC2j+oEszwbyZNpPPPZPCfLtUAwliokHfHhL1cUkyJNdCigypFrvBbsyXYkOwYPagW6usEF+70GEU/UEbLKqvq4XFMiwRq03PuANLCwoK8v6Ja/pmlzRY5qwXb5jKEHHU3OQlGatsW/cczj990VlaceMe1mAjvsAO7MR+/Ipj+JseUQM1Uzt9oD76QqOGOfEpSzNXr9+290jBmUuuq3DzPobwCb7E1/gRP+Ew/sQ/VEON9II6qJP66SuNGaPnpS7Lytmwfd/R42cL3df8lViFtdiELfgGu3AAv+E4/qUQPaGX9Jo+0icapp9hpvkLlq9Ys3HH/twT5y4L/ltYjXX4FF/hW+zGQfyOE1RFtdRELfSGumiAvtF4eEzCQvNK66adB/JOOoqKy7Tb+ADr8Rm24jvswSEcwUmqpjp6Sq/oLXXTIH2niYjYxEVplrWbdx20y+evlPiCd/AhPsbn2IbvsRc/4w/8RQ+onp5RK72jHhqiEZqMjEtanJ69bsvuQ8dOXVA85dfv4iNswGZsxw/Yh19wFKfoIT2m59RG76mXPtMPVmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmd1Vmf13BOwXP85yCxDmgbpTo/BES1JUnGpV/UpZWoAMvQ0U4asQlhhEWmESBVrha8EVuqJRYbs2apzurpKr66WIUcNWv8DrKPrAVQlAAA=";
    /** The same dict at protocol 4 (FRAME, SHORT_BINBYTES, BINBYTES, MEMOIZE, STACK_GLOBAL). */
    static final String PY3_PROTOCOL4 = "H4sIAAAAAAACA2tgmfpBggEMaqdoOHMnJZYkZ8TnJCal5kxxFilJLS7JzEtXAIsqGCrkpykYTnFmA0sXT4mdouHN7M2e6sySkliSOKVHLK80t6BSLz45vyhVL7c0pyQzsagosXJKD098UWpyfl5xSVFpcsmUyVN6WMEqp/Sw56VAlEye4s3QOsWZMWlK+5QgoLGM3ky+DDxtUzI4e1hTSioLUkG6mEoNp3R2QBQw9zDWTPHz8/P6DwRgwpuhZEpSpxMDyDfsfKIyylqGFvZuviHRSZkF5XWtPZNnLVyxftveI6cv3Xzw/N1XRg5+MVkVbSNLB3e/0JjkrMKK+rbeKbMXrdywfd/RM5dvPXzx/hsTp4C4nKqOsZWjh39YbEp2UWVDe9/UOYtXbdyx/9jZK7cfvfzwnZlLUEJeTdfE2skzIDwOGCxVjR390+YuWb1p54Hj567eefzq4w8WbiFJBXU9Uxtnr8CI+LTckuqmzgnT5y1ds3nXwRPnr9198vrTT1YeYSlFDX0zWxfvoMiE9LzSmuauiTPmL1u7Zfehkxeu33v65vMvNl4RaSVNA3M7V5/gqMSM/LLalu5JMxcsX7d1z+FTF2/cf/b2y6jXR70+6vVRr496fdTro14f9fqo10e9Pur1Ua+Pen3U66NeH/X6qNdHvT7q9VGvj3p91OvD1utTSqYkOXOmZeak5iXmpoInKpxZE/UK8tKnOLMmgenUUj0Adz4wWPsYAAA=";

    static byte[] gunzip(String b64) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(b64)))) {
            return in.readAllBytes();
        }
    }

    private static void checkCifarDict(byte[] pickle) throws IOException {
        Object root = PickleReader.load(pickle, "test");
        Map<?, ?> d = (Map<?, ?>) root;
        assertEquals(List.of(3L, 7L), d.get("labels"));
        assertArrayEquals("testing batch 1 of 1".getBytes(), (byte[]) d.get("batch_label"));
        Cifar10Converter.Batch b = Cifar10Converter.fromPickle(pickle, Path.of("test_batch"));
        assertArrayEquals(new int[] {3, 7}, b.labels());
        assertEquals(2 * 3072, b.planar().length);
        for (int i = 0; i < b.planar().length; i++) assertEquals((i * 7) % 251, b.planar()[i] & 0xff, "byte " + i);
    }

    @Test
    void readsNumpyPicklesOfPython3() throws IOException {
        checkCifarDict(gunzip(PY3_PROTOCOL2));
        checkCifarDict(gunzip(PY3_PROTOCOL4));
    }

    @Test
    void readsPython2StylePickles() throws IOException {
        byte[] planar = new byte[2 * 3072];
        for (int i = 0; i < planar.length; i++) planar[i] = (byte) ((i * 7) % 251);
        byte[] p = CifarPickles.python2Batch(new int[] {3, 7}, planar);
        checkCifarDict(p);
    }

    @Test
    void plainValues() throws IOException {
        // pickle.dumps((None, True, -1, 300, 70000, 2**70, 1.5, 'é', [1, 2], {'a': 1}), protocol=2)
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.writeBytes(hex("8002")); // PROTO 2
        o.write('(');              // MARK
        o.write('N');
        o.write(0x88);             // NEWTRUE
        o.writeBytes(hex("4affffffff")); // BININT -1
        o.writeBytes(hex("4d2c01"));     // BININT2 300
        o.writeBytes(hex("8a09000000000000000040")); // LONG1 2**70
        o.writeBytes(hex("473ff8000000000000"));     // BINFLOAT 1.5
        o.writeBytes(hex("5802000000c3a9"));         // BINUNICODE 'é'
        o.write(']');
        o.write('(');
        o.writeBytes(hex("4b014b02"));
        o.write('e');              // APPENDS
        o.write('}');
        o.writeBytes(hex("580100000061"));
        o.writeBytes(hex("4b01"));
        o.write('s');              // SETITEM
        o.write('t');              // TUPLE
        o.write('.');
        Object[] t = (Object[]) PickleReader.load(o.toByteArray(), "values");
        assertEquals(null, t[0]);
        assertEquals(Boolean.TRUE, t[1]);
        assertEquals(-1L, t[2]);
        assertEquals(300L, t[3]);
        assertEquals(java.math.BigInteger.ONE.shiftLeft(70), t[4]);
        assertEquals(1.5, t[5]);
        assertEquals("é", t[6]);
        assertEquals(List.of(1L, 2L), t[7]);
        assertEquals(Map.of("a", 1L), t[8]);
    }

    @Test
    void malformedInputFailsWithTheSourceAndOffset() {
        IOException e = assertThrows(IOException.class, () -> PickleReader.load(hex("8002ff"), "f.pkl"));
        assertTrue(e.getMessage().contains("f.pkl") && e.getMessage().contains("byte 2") && e.getMessage().contains("0xff"), e.getMessage());
        e = assertThrows(IOException.class, () -> PickleReader.load(hex("80025d"), "g.pkl"));
        assertTrue(e.getMessage().contains("without a STOP"), e.getMessage());
        // A BINBYTES claiming 2 GB in a 10-byte input: rejected before allocating.
        e = assertThrows(IOException.class, () -> PickleReader.load(hex("800242ffffff7f00"), "h.pkl"));
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
        e = assertThrows(IOException.class, () -> PickleReader.load(hex("80026871"), "i.pkl"));
        assertTrue(e.getMessage().contains("memo"), e.getMessage());
    }

    @Test
    void fuzzedPicklesFailCleanly() throws IOException {
        byte[] good = gunzip(PY3_PROTOCOL2);
        Random rnd = new Random(42);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int trial = 0; trial < 3000; trial++) {
                byte[] b = good.clone();
                switch (trial % 3) {
                    case 0 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
                    case 1 -> {
                        for (int k = 0; k < 1 + rnd.nextInt(4); k++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                    default -> {
                        int at = rnd.nextInt(b.length - 4);
                        b[at] = 'B'; // BINBYTES with an absurd length
                        b[at + 1] = (byte) 0xff;
                        b[at + 2] = (byte) 0xff;
                        b[at + 3] = (byte) 0xff;
                        b[at + 4] = (byte) 0x7f;
                    }
                }
                try {
                    Cifar10Converter.fromPickle(b, Path.of("fuzz"));
                } catch (IOException expected) {
                    assertTrue(expected.getMessage().contains("fuzz"), expected.getMessage());
                }
            }
        });
    }

    static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }
}
