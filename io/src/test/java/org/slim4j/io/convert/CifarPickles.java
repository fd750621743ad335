package org.slim4j.io.convert;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes CIFAR-10 batches the way the real cifar-10-batches-py files are pickled (Python 2 cPickle, protocol 2). */
final class CifarPickles {
    private CifarPickles() {
    }

    static byte[] python2Batch(int[] labels, byte[] planar) {
        int n = labels.length;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(0x80);
        o.write(2);
        o.write('}');
        o.write('(');
        shortString(o, "data");
        global(o, "numpy.core.multiarray", "_reconstruct");
        global(o, "numpy", "ndarray");
        o.write('K');
        o.write(0);
        o.write(0x85); // (0,)
        shortString(o, "b");
        o.write(0x87); // TUPLE3
        o.write('R');
        o.write('(');
        o.write('K');
        o.write(1); // version
        int2(o, n);
        int2(o, 3072);
        o.write(0x86); // shape
        global(o, "numpy", "dtype");
        shortString(o, "u1");
        o.write('K');
        o.write(0);
        o.write('K');
        o.write(1);
        o.write(0x87);
        o.write('R');
        o.write('(');
        o.write('K');
        o.write(3);
        shortString(o, "|");
        o.write('N');
        o.write('N');
        o.write('N');
        o.writeBytes(new byte[] {'J', -1, -1, -1, -1, 'J', -1, -1, -1, -1, 'K', 0});
        o.write('t');
        o.write('b'); // dtype state
        o.write(0x89); // not Fortran
        o.write('T'); // BINSTRING
        int len = planar.length;
        o.writeBytes(new byte[] {(byte) len, (byte) (len >>> 8), (byte) (len >>> 16), (byte) (len >>> 24)});
        o.writeBytes(planar);
        o.write('t');
        o.write('b');
        shortString(o, "labels");
        o.write(']');
        o.write('(');
        for (int l : labels) {
            o.write('K');
            o.write(l);
        }
        o.write('e');
        shortString(o, "batch_label");
        shortString(o, "testing batch 1 of 1");
        o.write('u'); // SETITEMS
        o.write('.');
        return o.toByteArray();
    }

    private static void shortString(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        o.write('U');
        o.write(b.length);
        o.writeBytes(b);
    }

    private static void global(ByteArrayOutputStream o, String module, String name) {
        o.write('c');
        o.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void int2(ByteArrayOutputStream o, int v) {
        o.write('M');
        o.write(v & 0xff);
        o.write((v >>> 8) & 0xff);
    }
}
