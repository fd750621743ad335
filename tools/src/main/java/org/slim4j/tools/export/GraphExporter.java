package org.slim4j.tools.export;

import static org.slim4j.tools.export.GraphProtoValues.attr;
import static org.slim4j.tools.export.GraphProtoValues.shape;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slim4j.autograd.Var;
import org.slim4j.io.proto.AttrValue;
import org.slim4j.io.proto.DataType;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.io.proto.VersionDef;
import org.slim4j.layers.Args;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.TracedOp;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.NetworkFn;
import org.slim4j.tensor.DType;

/**
 * TF-Slim's export_inference_graph: builds a network in inference mode (is_training=false) on a
 * shape-only store while tracing the ops its layers emit ({@link TracedOp}), and writes them as a
 * TensorFlow GraphDef: a float32 {@code Placeholder} named {@code input} (NHWC; batch -1 unless a
 * batch size is given), each variable as {@code VariableV2} named as in the checkpoint with its
 * {@code <name>/read} Identity (as TF 1.x), and each op as the TF op TensorFlow uses for it, named
 * {@code <variable scope>/<op>} made unique as TF does ({@code Reshape}, {@code Reshape_1}, ...).
 * The output is the node of the {@code Predictions} end point, e.g.
 * {@code InceptionV3/Predictions/Reshape_1} ({@code resnet_v1_50/predictions/Reshape_1}; the logits
 * when the network has no predictions).
 */
public final class GraphExporter {
    private GraphExporter() {
    }

    /** TF 1.15's GRAPH_DEF_VERSION: the op set written here is TF 1.x's and TF 2.x's. */
    static final int PRODUCER = 134;
    /** The batch a graph without a fixed batch size is traced at; dimensions equal to it in shape operands become -1. */
    private static final int TRACE_BATCH = 7;

    /** An exported graph and the names of its input and output nodes. */
    public record Exported(GraphDef graph, String inputName, String outputName, int[] inputShape) {
    }

    /**
     * Exports {@code fn} with {@code numClasses} logits for square images of {@code imageSize};
     * {@code batchSize} null = any batch (-1).
     */
    public static Exported export(NetworkFn fn, int numClasses, int imageSize, Integer batchSize) {
        return export(fn, numClasses, imageSize, batchSize, Args.empty());
    }

    /** As {@link #export(NetworkFn, int, int, Integer)} with network options (e.g. {@code global_pool}). */
    public static Exported export(NetworkFn fn, int numClasses, int imageSize, Integer batchSize, Args options) {
        int batch = batchSize != null ? batchSize : TRACE_BATCH;
        List<TracedOp> ops = new ArrayList<>();
        try (VariableStore store = VariableStore.shapeOnly(DType.FLOAT32); Graph g = Graph.open(store)) {
            g.trace(ops::add);
            Var input = MetaDevice.placeholder(DType.FLOAT32, batch, imageSize, imageSize, fn.defaultImageChannels());
            NetOutput out = fn.apply(input, numClasses, 0.0, false, options);
            Var predictions = predictions(out);
            Var output = predictions != null ? predictions : out.logits();
            Writer w = new Writer(fn.name(), batchSize == null ? batch : -1);
            int[] inShape = {batchSize == null ? -1 : batch, imageSize, imageSize, fn.defaultImageChannels()};
            w.placeholder("input", input, inShape);
            for (Variable v : store.variables()) w.variable(v);
            for (TracedOp op : ops) w.op(op);
            String outName = w.names.get(output);
            if (outName == null) throw new IllegalStateException("export_inference_graph: " + fn.name() + "'s output was not produced by a traced op");
            GraphDef graph = GraphDef.newBuilder().addAllNode(w.nodes).setVersions(VersionDef.newBuilder().setProducer(PRODUCER)).build();
            return new Exported(graph, "input", outName, inShape);
        }
    }

    /** The softmax end point: {@code Predictions}, or ResNet's {@code predictions}; null when the network has none. */
    public static Var predictions(NetOutput out) {
        for (String key : new String[] {"Predictions", "predictions"}) if (out.endPoints().contains(key)) return out.endPoints().get(key);
        return null;
    }

    /** Turns traced ops into NodeDefs. */
    private static final class Writer {
        final String model;
        /** The traced batch size to write as -1 in shape operands, or -1 when the batch is fixed. */
        final int dynamicBatch;
        final List<NodeDef> nodes = new ArrayList<>();
        final Map<Var, String> names = new IdentityHashMap<>();
        final Set<String> used = new HashSet<>();

        Writer(String model, int dynamicBatch) {
            this.model = model;
            this.dynamicBatch = dynamicBatch;
        }

        void placeholder(String name, Var input, int[] shape) {
            add(name, "Placeholder", List.of(), Map.of("dtype", DataType.DT_FLOAT, "shape", shape(shape)));
            names.put(input, name);
        }

        void variable(Variable v) {
            String name = unique(v.name());
            if (!name.equals(v.name())) throw new IllegalStateException("export_inference_graph: variable name " + v.name() + " clashes with another node");
            add(name, "VariableV2", List.of(), Map.of("dtype", DataType.DT_FLOAT, "shape", shape(v.shape().dims()), "container", "", "shared_name", ""));
            String read = add(unique(name + "/read"), "Identity", List.of(name), Map.of("T", DataType.DT_FLOAT));
            names.put(v.var(), read);
        }

        void op(TracedOp op) {
            String scope = op.scope().isEmpty() ? "" : op.scope() + "/";
            Map<String, Object> attrs = new LinkedHashMap<>(op.attrs());
            // TracedOp.NAME: the op's own name inside its scope, as a net's tf.nn.softmax(name='Predictions') gives it.
            String explicitName = (String) attrs.remove(TracedOp.NAME);
            switch (op.type()) {
                case "Affine" -> {
                    String mul = add(unique(scope + "mul"), "Mul", List.of(input(op, 0), constNode(scope + "mul/y", scalar((Float) attrs.get("scale")))), tAttr());
                    names.put(op.output(), add(unique(scope + "add"), "AddV2", List.of(mul, constNode(scope + "add/y", scalar((Float) attrs.get("shift")))), tAttr()));
                }
                case "ClipByValue" -> {
                    String base = unique(scope + "clip_by_value");
                    String min = add(base + "/Minimum", "Minimum", List.of(input(op, 0), constNode(base + "/Minimum/y", scalar((Float) attrs.get("hi")))), tAttr());
                    names.put(op.output(), add(base, "Maximum", List.of(min, constNode(base + "/y", scalar((Float) attrs.get("lo")))), tAttr()));
                }
                default -> {
                    if (op.type().equals("FusedBatchNormV3")) {
                        int rank = ((Var) op.inputs().get(0)).value().rank();
                        if (rank != 4) throw new IllegalArgumentException("export_inference_graph: " + model + ": batch norm on a rank-" + rank + " input in scope " + op.scope() + " is not exportable (FusedBatchNormV3 takes NHWC)");
                        attrs.put("U", DataType.DT_FLOAT);
                        attrs.put("exponential_avg_factor", 1.0f);
                    }
                    switch (op.type()) {
                        case "ConcatV2", "Mean", "Sum" -> attrs.put("Tidx", DataType.DT_INT32);
                        case "Reshape" -> attrs.put("Tshape", DataType.DT_INT32);
                        case "Slice" -> attrs.put("Index", DataType.DT_INT32);
                        case "Pad", "PadV2" -> attrs.put("Tpaddings", DataType.DT_INT32);
                        default -> { }
                    }
                    String name = unique(scope + (explicitName != null ? explicitName : baseName(op.type())));
                    List<String> inputs = new ArrayList<>();
                    for (int i = 0; i < op.inputs().size(); i++) {
                        Object in = op.inputs().get(i);
                        // an op's own operands are <op>/<input name> (Reshape/shape); a layer's constants <scope>/Const
                        if (in instanceof TracedOp.Const c) inputs.add(constNode((c.name().startsWith("Const") ? scope : name + "/") + c.name(), batchFree(op, c)));
                        else inputs.add(input(op, i));
                    }
                    attrs.put("T", DataType.DT_FLOAT);
                    Map<String, AttrValue> a = new LinkedHashMap<>();
                    attrs.forEach((k, v) -> a.put(k, attr(v)));
                    nodes.add(GraphProtoValues.node(name, op.type(), inputs, a));
                    names.put(op.output(), name);
                }
            }
        }

        /** Shape operands (Reshape's shape, Slice's size) hold the traced batch; written as -1 so any batch runs. */
        private TracedOp.Const batchFree(TracedOp op, TracedOp.Const c) {
            boolean shapeOperand = (op.type().equals("Reshape") && c.name().equals("shape")) || (op.type().equals("Slice") && c.name().equals("size"));
            if (dynamicBatch < 0 || !shapeOperand || c.ints() == null || c.ints().length == 0) return c;
            Var x = (Var) op.inputs().get(0);
            if (c.ints()[0] != dynamicBatch || x.value().rank() == 0 || x.value().dim(0) != dynamicBatch) return c;
            int[] v = c.ints().clone();
            v[0] = -1;
            return new TracedOp.Const(c.name(), c.shape(), v, null);
        }

        private String input(TracedOp op, int i) {
            Var v = (Var) op.inputs().get(i);
            String n = names.get(v);
            if (n == null) {
                throw new IllegalArgumentException("export_inference_graph: " + model + ": input " + i + " of " + op.type() + " in scope '" + op.scope()
                    + "' comes from a computation that has no TensorFlow op here (training-only ops are not exported; use --is_training=false)");
            }
            return n;
        }

        private static TracedOp.Const scalar(float v) {
            return TracedOp.Const.scalar("y", v);
        }

        private String constNode(String wanted, TracedOp.Const c) {
            String name = unique(wanted);
            var value = c.ints() != null ? GraphProtoValues.ints(c.shape(), c.ints()) : GraphProtoValues.floats(c.shape(), c.floats());
            return add(name, "Const", List.of(), Map.of("dtype", value.getDtype(), "value", value));
        }

        private static Map<String, Object> tAttr() {
            return Map.of("T", DataType.DT_FLOAT);
        }

        private String add(String name, String op, List<String> inputs, Map<String, Object> attrs) {
            used.add(name);
            Map<String, AttrValue> a = new LinkedHashMap<>();
            attrs.forEach((k, v) -> a.put(k, attr(v)));
            nodes.add(GraphProtoValues.node(name, op, inputs, a));
            return name;
        }

        /** TF's unique_name: name, else name_1, name_2, ... */
        private String unique(String name) {
            if (used.add(name)) return name;
            for (int i = 1;; i++) {
                String n = name + "_" + i;
                if (used.add(n)) return n;
            }
        }
    }

    /** The node name TF's Python wrappers give each op type. */
    private static String baseName(String type) {
        return switch (type) {
            case "DepthwiseConv2dNative" -> "depthwise";
            case "AddV2" -> "add";
            case "Sub" -> "sub";
            case "Mul" -> "mul";
            case "RealDiv" -> "truediv";
            case "ConcatV2" -> "concat";
            default -> type;
        };
    }
}
