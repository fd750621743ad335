package org.slim4j.tools.export;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.slim4j.io.proto.AttrValue;
import org.slim4j.io.proto.DataType;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.io.proto.TensorProto;
import org.slim4j.io.proto.TensorShapeProto;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Conversions between Java values and a GraphDef's AttrValue / TensorProto / TensorShapeProto, in
 * the encodings TensorFlow writes: list attrs as {@code list.i}, constants as little-endian
 * {@code tensor_content} (one-element constants also accepted as {@code float_val}/{@code int_val},
 * a single value filling the shape as TF allows).
 */
final class GraphProtoValues {
    private GraphProtoValues() {
    }

    /** An attribute from a Java value: int[] (list of ints), String, Boolean, Integer, Float, DataType, Shape. */
    static AttrValue attr(Object v) {
        AttrValue.Builder b = AttrValue.newBuilder();
        if (v instanceof int[] ints) {
            AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
            for (int i : ints) l.addI(i);
            b.setList(l);
        } else if (v instanceof String s) {
            b.setS(ByteString.copyFromUtf8(s));
        } else if (v instanceof Boolean x) {
            b.setB(x);
        } else if (v instanceof Integer x) {
            b.setI(x);
        } else if (v instanceof Long x) {
            b.setI(x);
        } else if (v instanceof Float x) {
            b.setF(x);
        } else if (v instanceof Double x) {
            b.setF(x.floatValue());
        } else if (v instanceof DataType t) {
            b.setType(t);
        } else if (v instanceof TensorShapeProto s) {
            b.setShape(s);
        } else if (v instanceof TensorProto t) {
            b.setTensor(t);
        } else {
            throw new IllegalArgumentException("no AttrValue encoding for " + v.getClass().getSimpleName() + " " + v);
        }
        return b.build();
    }

    /** A shape proto; -1 = unknown size. */
    static TensorShapeProto shape(long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        return s.build();
    }

    static TensorShapeProto shape(int... dims) {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) l[i] = dims[i];
        return shape(l);
    }

    static int[] dims(TensorShapeProto s) {
        int[] d = new int[s.getDimCount()];
        for (int i = 0; i < d.length; i++) d[i] = (int) s.getDim(i).getSize();
        return d;
    }

    static TensorProto floats(int[] shape, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) buf.putFloat(v);
        return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(shape))
            .setTensorContent(ByteString.copyFrom(buf.array())).build();
    }

    static TensorProto ints(int[] shape, int[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) buf.putInt(v);
        return TensorProto.newBuilder().setDtype(DataType.DT_INT32).setTensorShape(shape(shape))
            .setTensorContent(ByteString.copyFrom(buf.array())).build();
    }

    /** A TensorProto holding {@code littleEndian} bytes of a tensor of {@code dtype} and shape. */
    static TensorProto content(DataType dtype, long[] dims, byte[] littleEndian) {
        return TensorProto.newBuilder().setDtype(dtype).setTensorShape(shape(dims)).setTensorContent(ByteString.copyFrom(littleEndian)).build();
    }

    static long numElements(TensorShapeProto s) {
        long n = 1;
        for (TensorShapeProto.Dim d : s.getDimList()) n *= Math.max(d.getSize(), 0);
        return n;
    }

    /** A float32 constant as a slim4j tensor. */
    static Tensor toFloatTensor(String node, TensorProto t) {
        if (t.getDtype() != DataType.DT_FLOAT) throw new IllegalArgumentException("Const node '" + node + "': expected DT_FLOAT, got " + t.getDtype());
        int[] dims = dims(t.getTensorShape());
        int n = Shape.of(dims).numel();
        float[] v = new float[n];
        if (!t.getTensorContent().isEmpty()) {
            ByteBuffer buf = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (buf.remaining() != n * 4) throw new IllegalArgumentException("Const node '" + node + "': tensor_content has " + buf.remaining() + " bytes for shape " + Shape.of(dims));
            buf.asFloatBuffer().get(v);
        } else {
            int k = t.getFloatValCount();
            if (k != n && k != 1 && !(k == 0 && n == 0)) throw new IllegalArgumentException("Const node '" + node + "': " + k + " float_val for shape " + Shape.of(dims));
            for (int i = 0; i < n; i++) v[i] = k == 0 ? 0f : t.getFloatVal(k == 1 ? 0 : i);
        }
        return Tensor.of(v, dims);
    }

    /** An int32 constant's values (shape operands). */
    static int[] toInts(String node, TensorProto t) {
        if (t.getDtype() != DataType.DT_INT32) throw new IllegalArgumentException("Const node '" + node + "': expected DT_INT32, got " + t.getDtype());
        int n = (int) numElements(t.getTensorShape());
        int[] v = new int[n];
        if (!t.getTensorContent().isEmpty()) {
            ByteBuffer buf = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (buf.remaining() != n * 4) throw new IllegalArgumentException("Const node '" + node + "': tensor_content has " + buf.remaining() + " bytes for " + n + " int32");
            buf.asIntBuffer().get(v);
        } else {
            int k = t.getIntValCount();
            for (int i = 0; i < n; i++) v[i] = k == 0 ? 0 : t.getIntVal(k == 1 ? 0 : i);
        }
        return v;
    }

    // ---- reading a node's attributes ----

    static AttrValue require(NodeDef n, String name) {
        AttrValue v = n.getAttrMap().get(name);
        if (v == null) throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOp() + ") has no attribute '" + name + "'");
        return v;
    }

    static int[] intList(NodeDef n, String name) {
        AttrValue.ListValue l = require(n, name).getList();
        int[] v = new int[l.getICount()];
        for (int i = 0; i < v.length; i++) v[i] = (int) l.getI(i);
        return v;
    }

    static String string(NodeDef n, String name, String dflt) {
        AttrValue v = n.getAttrMap().get(name);
        return v == null ? dflt : v.getS().toStringUtf8();
    }

    static float floatAttr(NodeDef n, String name, float dflt) {
        AttrValue v = n.getAttrMap().get(name);
        return v == null ? dflt : v.getF();
    }

    static boolean boolAttr(NodeDef n, String name, boolean dflt) {
        AttrValue v = n.getAttrMap().get(name);
        return v == null ? dflt : v.getB();
    }

    static long intAttr(NodeDef n, String name, long dflt) {
        AttrValue v = n.getAttrMap().get(name);
        return v == null ? dflt : v.getI();
    }

    static NodeDef node(String name, String op, Iterable<String> inputs, Map<String, AttrValue> attrs) {
        return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(inputs).putAllAttr(attrs).build();
    }
}
