package org.slim4j.tools.export;

import static org.slim4j.tools.export.GraphProtoValues.boolAttr;
import static org.slim4j.tools.export.GraphProtoValues.floatAttr;
import static org.slim4j.tools.export.GraphProtoValues.intAttr;
import static org.slim4j.tools.export.GraphProtoValues.intList;
import static org.slim4j.tools.export.GraphProtoValues.string;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.BatchNormOps;
import org.slim4j.io.proto.DataType;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.layers.Ops;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * Runs a frozen TensorFlow GraphDef on slim4j's kernels (what label_image needs): float32 data,
 * int32 shape operands, the op set TF-Slim's inference graphs use (convolutions, batch norm,
 * pooling, LRN, concat, matmul, reshape/squeeze/slice/pad, mean, softmax, elementwise arithmetic).
 * Only the nodes the requested output needs run. A node whose op is not supported is an error
 * naming the op and the node, found before anything runs.
 */
public final class GraphRunner implements AutoCloseable {
    /** The ops this interpreter runs. */
    public static final Set<String> SUPPORTED = new TreeSet<>(List.of("Placeholder", "PlaceholderWithDefault", "Const", "Identity", "StopGradient",
        "Conv2D", "DepthwiseConv2dNative", "BiasAdd", "BiasAddV1", "Relu", "Relu6", "Sigmoid", "Tanh", "Exp", "Neg", "Sqrt", "Rsqrt", "Square",
        "MaxPool", "AvgPool", "LRN", "ConcatV2", "Concat", "MatMul", "Reshape", "Squeeze", "ExpandDims", "Softmax", "Mean", "Sum", "Pad", "PadV2",
        "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Slice", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "Shape"));

    private final GraphDef graph;
    private final Map<String, NodeDef> byName = new LinkedHashMap<>();
    /** float32 constants, decoded once. */
    private final Map<String, Tensor> constants = new HashMap<>();

    public GraphRunner(GraphDef graph) {
        this.graph = graph;
        for (NodeDef n : graph.getNodeList()) {
            if (byName.putIfAbsent(n.getName(), n) != null) throw new IllegalArgumentException("graph: two nodes are named '" + n.getName() + "'");
        }
    }

    public GraphDef graph() {
        return graph;
    }

    /** The Placeholder nodes. */
    public List<NodeDef> placeholders() {
        List<NodeDef> out = new ArrayList<>();
        for (NodeDef n : graph.getNodeList()) if (n.getOp().equals("Placeholder")) out.add(n);
        return out;
    }

    /** A value: a float32 tensor, or an int32 array of a shape (shape operands). */
    private record Value(Tensor tensor, int[] ints, int[] shape) {
        static Value of(Tensor t) {
            return new Value(t, null, null);
        }

        Tensor t(NodeDef consumer, int i) {
            if (tensor == null) throw new IllegalArgumentException("node '" + consumer.getName() + "' (" + consumer.getOp() + "): input " + i + " is int32, a float32 tensor is expected");
            return tensor;
        }

        int[] i(NodeDef consumer, int i) {
            if (ints == null) throw new IllegalArgumentException("node '" + consumer.getName() + "' (" + consumer.getOp() + "): input " + i + " must be an int32 constant");
            return ints;
        }
    }

    /**
     * Evaluates {@code output} (a node name, or {@code name:0}) with {@code feeds} for the
     * placeholders. The result is a new float32 tensor the caller closes; nothing else stays allocated.
     */
    public Tensor run(Map<String, Tensor> feeds, String output) {
        String out = output.endsWith(":0") ? output.substring(0, output.length() - 2) : output;
        if (!byName.containsKey(out)) {
            throw new IllegalArgumentException("output node '" + output + "' is not in the graph; candidates: " + String.join(", ", GraphFreezer.outputCandidates(graph)));
        }
        List<NodeDef> order = schedule(out);
        for (NodeDef n : order) {
            if (!SUPPORTED.contains(n.getOp()) && !isVariable(n)) {
                throw new IllegalArgumentException("op '" + n.getOp() + "' of node '" + n.getName() + "' is not supported by slim4j's graph runner");
            }
        }
        for (NodeDef n : order) {
            if (isVariable(n)) throw new IllegalArgumentException("node '" + n.getName() + "' is a variable (" + n.getOp() + "): freeze the graph first (freeze_graph)");
        }
        try (GradMode.Guard g = GradMode.noGrad(); TensorScope scope = TensorScope.open()) {
            Map<String, Value> values = new HashMap<>();
            for (NodeDef n : order) values.put(n.getName(), eval(n, values, feeds));
            Tensor result = values.get(out).t(byName.get(out), 0);
            // a view of a constant or feed must not be returned as the caller's to close
            return scope.keep(result.copy());
        }
    }

    private static boolean isVariable(NodeDef n) {
        return n.getOp().startsWith("Variable") || n.getOp().equals("VarHandleOp");
    }

    /** The nodes {@code output} needs, inputs before consumers (iterative: graphs are deep). */
    private List<NodeDef> schedule(String output) {
        List<NodeDef> order = new ArrayList<>();
        Map<String, Integer> state = new HashMap<>(); // 1 visiting, 2 done
        ArrayDeque<String[]> stack = new ArrayDeque<>();
        stack.push(new String[] {output, null});
        while (!stack.isEmpty()) {
            String[] top = stack.peek();
            String name = top[0];
            NodeDef n = byName.get(name);
            if (n == null) throw new IllegalArgumentException("graph: node '" + top[1] + "' reads '" + name + "', which is not in the graph");
            Integer s = state.get(name);
            if (s != null && s == 2) {
                stack.pop();
                continue;
            }
            if (s == null) {
                state.put(name, 1);
                for (String in : n.getInputList()) {
                    String dep = GraphFreezer.nodeName(in);
                    Integer ds = state.get(dep);
                    if (ds == null) stack.push(new String[] {dep, name});
                    else if (ds == 1) throw new IllegalArgumentException("graph: cycle through node '" + dep + "'");
                }
            } else {
                state.put(name, 2);
                order.add(n);
                stack.pop();
            }
        }
        return order;
    }

    private Value eval(NodeDef n, Map<String, Value> values, Map<String, Tensor> feeds) {
        List<Value> in = new ArrayList<>();
        for (String s : n.getInputList()) {
            if (s.startsWith("^")) continue;
            int colon = s.lastIndexOf(':');
            if (colon > 0 && !s.substring(colon + 1).equals("0") && s.substring(colon + 1).chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOp() + ") reads output " + s.substring(colon + 1)
                    + " of '" + GraphFreezer.nodeName(s) + "'; only output 0 is computed");
            }
            in.add(values.get(GraphFreezer.nodeName(s)));
        }
        String op = n.getOp();
        return switch (op) {
            case "Placeholder", "PlaceholderWithDefault" -> feed(n, feeds, in);
            case "Const" -> constant(n);
            case "Identity", "StopGradient" -> in.get(0);
            case "Conv2D", "DepthwiseConv2dNative" -> {
                nhwc(n);
                int[] st = intList(n, "strides");
                int[] dl = n.getAttrMap().containsKey("dilations") ? intList(n, "dilations") : new int[] {1, 1, 1, 1};
                Conv2dSpec spec = new Conv2dSpec(st[1], st[2], dl[1], dl[2], padding(n));
                Var x = var(in, n, 0), f = var(in, n, 1);
                yield v(op.equals("Conv2D") ? Ops.conv2d(x, f, spec) : Ops.depthwiseConv2d(x, f, spec));
            }
            case "BiasAdd", "BiasAddV1" -> {
                nhwc(n);
                yield v(Ops.biasAdd(var(in, n, 0), var(in, n, 1)));
            }
            case "Relu" -> v(Ops.unary(UnaryOp.RELU, var(in, n, 0)));
            case "Relu6" -> v(Ops.unary(UnaryOp.RELU6, var(in, n, 0)));
            case "Sigmoid" -> v(Ops.unary(UnaryOp.SIGMOID, var(in, n, 0)));
            case "Tanh" -> v(Ops.unary(UnaryOp.TANH, var(in, n, 0)));
            case "Exp" -> v(Ops.unary(UnaryOp.EXP, var(in, n, 0)));
            case "Neg" -> v(Ops.unary(UnaryOp.NEG, var(in, n, 0)));
            case "Sqrt" -> v(Ops.unary(UnaryOp.SQRT, var(in, n, 0)));
            case "Rsqrt" -> v(Ops.unary(UnaryOp.RSQRT, var(in, n, 0)));
            case "Square" -> v(Ops.unary(UnaryOp.SQUARE, var(in, n, 0)));
            case "MaxPool", "AvgPool" -> {
                nhwc(n);
                int[] k = intList(n, "ksize");
                int[] st = intList(n, "strides");
                if (k[0] != 1 || k[3] != 1 || st[0] != 1 || st[3] != 1) {
                    throw new IllegalArgumentException("node '" + n.getName() + "' (" + op + "): pooling over batch or channels is not supported (ksize " + Arrays.toString(k) + ", strides " + Arrays.toString(st) + ")");
                }
                PoolSpec spec = new PoolSpec(k[1], k[2], st[1], st[2], padding(n));
                yield v(op.equals("MaxPool") ? Ops.maxPool(var(in, n, 0), spec) : Ops.avgPool(var(in, n, 0), spec));
            }
            case "LRN" -> v(Ops.lrn(var(in, n, 0), new LrnSpec((int) intAttr(n, "depth_radius", 5), floatAttr(n, "bias", 1f),
                floatAttr(n, "alpha", 1f), floatAttr(n, "beta", 0.5f))));
            case "ConcatV2", "Concat" -> {
                boolean v2 = op.equals("ConcatV2");
                int axisAt = v2 ? in.size() - 1 : 0;
                int axis = scalarInt(in.get(axisAt).i(n, axisAt), n);
                List<Var> xs = new ArrayList<>();
                for (int i = 0; i < in.size(); i++) if (i != axisAt) xs.add(var(in, n, i));
                yield v(Ops.concat(xs, axis));
            }
            case "MatMul" -> {
                if (boolAttr(n, "transpose_a", false) || boolAttr(n, "transpose_b", false)) {
                    throw new IllegalArgumentException("node '" + n.getName() + "' (MatMul): transpose_a/transpose_b are not supported");
                }
                yield v(Ops.matmul(var(in, n, 0), var(in, n, 1)));
            }
            case "Reshape" -> v(Ops.reshape(var(in, n, 0), in.get(1).i(n, 1)));
            case "Squeeze" -> {
                Tensor x = in.get(0).t(n, 0);
                int[] dims = n.getAttrMap().containsKey("squeeze_dims") ? intList(n, "squeeze_dims") : new int[0];
                if (dims.length == 0) {
                    List<Integer> ones = new ArrayList<>();
                    for (int d = 0; d < x.rank(); d++) if (x.dim(d) == 1) ones.add(d);
                    dims = ones.stream().mapToInt(Integer::intValue).toArray();
                }
                yield v(Ops.squeeze(Var.constant(x), dims));
            }
            case "ExpandDims" -> v(Ops.expandDims(var(in, n, 0), scalarInt(in.get(1).i(n, 1), n)));
            case "Softmax" -> v(Ops.softmax(var(in, n, 0)));
            case "Mean", "Sum" -> {
                int[] axes = in.get(1).i(n, 1);
                boolean keep = boolAttr(n, "keep_dims", false);
                if (axes.length == 0) yield in.get(0);
                yield v(op.equals("Mean") ? Ops.reduceMean(var(in, n, 0), axes, keep) : Ops.reduceSum(var(in, n, 0), axes, keep));
            }
            case "Pad", "PadV2" -> {
                int[] p = in.get(1).i(n, 1);
                int[][] pads = new int[p.length / 2][];
                for (int d = 0; d < pads.length; d++) pads[d] = new int[] {p[2 * d], p[2 * d + 1]};
                double value = op.equals("PadV2") ? in.get(2).t(n, 2).item() : 0.0;
                yield v(Ops.pad(var(in, n, 0), pads, value));
            }
            case "Add", "AddV2" -> binary(BinaryOp.ADD, n, in);
            case "Sub" -> binary(BinaryOp.SUB, n, in);
            case "Mul" -> binary(BinaryOp.MUL, n, in);
            case "RealDiv" -> binary(BinaryOp.DIV, n, in);
            case "Maximum" -> binary(BinaryOp.MAXIMUM, n, in);
            case "Minimum" -> binary(BinaryOp.MINIMUM, n, in);
            case "Slice" -> v(Ops.slice(var(in, n, 0), in.get(1).i(n, 1), in.get(2).i(n, 2)));
            case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3" -> {
                nhwc(n);
                if (boolAttr(n, "is_training", true)) {
                    throw new IllegalArgumentException("node '" + n.getName() + "' (" + op + "): is_training=true batch norm is not supported; export with --is_training=false");
                }
                float eps = floatAttr(n, "epsilon", 1e-4f);
                yield v(BatchNormOps.inference(var(in, n, 0), var(in, n, 1), var(in, n, 2), in.get(3).t(n, 3), in.get(4).t(n, 4), eps));
            }
            case "Shape" -> {
                Value x = in.get(0);
                int[] dims = x.tensor() != null ? x.tensor().dims() : x.shape();
                yield new Value(null, dims.clone(), new int[] {dims.length});
            }
            default -> throw new IllegalArgumentException("op '" + op + "' of node '" + n.getName() + "' is not supported by slim4j's graph runner");
        };
    }

    private static Value feed(NodeDef n, Map<String, Tensor> feeds, List<Value> in) {
        Tensor t = feeds.get(n.getName());
        if (t == null) {
            if (!in.isEmpty()) return in.get(0);
            throw new IllegalArgumentException("placeholder '" + n.getName() + "' needs a value (fed: " + feeds.keySet() + ")");
        }
        var shape = n.getAttrMap().get("shape");
        if (shape != null && !shape.getShape().getUnknownRank() && shape.getShape().getDimCount() > 0) {
            int[] want = GraphProtoValues.dims(shape.getShape());
            boolean ok = want.length == t.rank();
            for (int d = 0; ok && d < want.length; d++) ok = want[d] < 0 || want[d] == t.dim(d);
            if (!ok) throw new IllegalArgumentException("placeholder '" + n.getName() + "' has shape " + Arrays.toString(want) + ", fed " + t.shape());
        }
        return Value.of(t);
    }

    private Value constant(NodeDef n) {
        var value = GraphProtoValues.require(n, "value").getTensor();
        if (value.getDtype() == DataType.DT_INT32) {
            return new Value(null, GraphProtoValues.toInts(n.getName(), value), GraphProtoValues.dims(value.getTensorShape()));
        }
        Tensor t = constants.get(n.getName());
        if (t == null) {
            t = TensorScope.escape(GraphProtoValues.toFloatTensor(n.getName(), value));
            constants.put(n.getName(), t);
        }
        return Value.of(t);
    }

    private static Value binary(BinaryOp op, NodeDef n, List<Value> in) {
        Tensor a = in.get(0).t(n, 0), b = in.get(1).t(n, 1);
        return Value.of(Backends.kernels(a, ElementwiseKernels.class).binary(op, a, b));
    }

    private static Value v(Var x) {
        return Value.of(x.value());
    }

    private static Var var(List<Value> in, NodeDef n, int i) {
        if (i >= in.size()) throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOp() + ") needs at least " + (i + 1) + " inputs, has " + in.size());
        return Var.constant(in.get(i).t(n, i));
    }

    private static int scalarInt(int[] v, NodeDef n) {
        if (v.length != 1) throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOp() + "): expected a scalar int32, got " + v.length + " values");
        return v[0];
    }

    private static void nhwc(NodeDef n) {
        String f = string(n, "data_format", "NHWC");
        if (!f.equals("NHWC")) throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOp() + "): data_format " + f + " is not supported (only NHWC)");
    }

    private static Padding padding(NodeDef n) {
        String p = string(n, "padding", "");
        return switch (p) {
            case "SAME" -> Padding.SAME;
            case "VALID" -> Padding.VALID;
            default -> throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOp() + "): padding '" + p + "' is not supported (SAME or VALID)");
        };
    }

    /** Releases the decoded constants. */
    @Override
    public void close() {
        for (Tensor t : constants.values()) t.close();
        constants.clear();
    }
}
