package org.slim4j.tools.export;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.proto.AttrValue;
import org.slim4j.io.proto.DataType;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;

/**
 * TF's freeze_graph: every variable node ({@code VariableV2}, or a resource {@code VarHandleOp}
 * with its {@code ReadVariableOp}s) the outputs need becomes a {@code Const} holding the
 * checkpoint's value (slim4j's or TensorFlow's checkpoints, V1 or V2), and the nodes the outputs
 * do not need are pruned.
 */
public final class GraphFreezer {
    private GraphFreezer() {
    }

    /** The frozen, pruned graph. Throws naming the variable a checkpoint lacks or whose shape/dtype differs. */
    public static GraphDef freeze(GraphDef graph, CheckpointReader checkpoint, List<String> outputs) throws IOException {
        GraphDef pruned = prune(graph, outputs);
        GraphDef.Builder out = pruned.toBuilder().clearNode();
        for (NodeDef n : pruned.getNodeList()) {
            switch (n.getOp()) {
                case "VariableV2", "Variable", "VarHandleOp" -> out.addNode(constant(n, checkpoint));
                case "ReadVariableOp" -> out.addNode(NodeDef.newBuilder().setName(n.getName()).setOp("Identity").addAllInput(n.getInputList())
                    .putAttr("T", n.getAttrOrThrow("dtype")).build());
                default -> out.addNode(n);
            }
        }
        return out.build();
    }

    private static NodeDef constant(NodeDef n, CheckpointReader checkpoint) throws IOException {
        Optional<CheckpointEntry> found = checkpoint.find(n.getName());
        if (found.isEmpty()) {
            throw new IllegalArgumentException("freeze_graph: checkpoint " + checkpoint.path() + " has no variable '" + n.getName()
                + "' that the graph's node '" + n.getName() + "' (" + n.getOp() + ") needs");
        }
        CheckpointEntry e = found.get();
        AttrValue dtype = n.getAttrMap().get("dtype");
        DataType want = dtype == null ? DataType.DT_FLOAT : dtype.getType();
        if (want.getNumber() != e.dtype().code()) {
            throw new IllegalArgumentException("freeze_graph: variable '" + n.getName() + "' is " + want + " in the graph but " + e.dtype() + " in checkpoint " + checkpoint.path());
        }
        AttrValue shape = n.getAttrMap().get("shape");
        if (shape != null && !shape.getShape().getUnknownRank()) {
            long[] g = new long[shape.getShape().getDimCount()];
            for (int i = 0; i < g.length; i++) g[i] = shape.getShape().getDim(i).getSize();
            if (!Arrays.equals(g, e.dims())) {
                throw new IllegalArgumentException("freeze_graph: variable '" + n.getName() + "' has shape " + Arrays.toString(g) + " in the graph but "
                    + e.shapeString() + " in checkpoint " + checkpoint.path());
            }
        }
        var value = GraphProtoValues.content(want, e.dims(), checkpoint.readBytes(n.getName()));
        return NodeDef.newBuilder().setName(n.getName()).setOp("Const").putAttr("dtype", AttrValue.newBuilder().setType(want).build())
            .putAttr("value", AttrValue.newBuilder().setTensor(value).build()).build();
    }

    /** The nodes {@code outputs} depend on (data and control inputs), in the graph's order. A missing output lists the candidates. */
    public static GraphDef prune(GraphDef graph, List<String> outputs) {
        Map<String, NodeDef> byName = new HashMap<>();
        for (NodeDef n : graph.getNodeList()) byName.put(n.getName(), n);
        if (outputs.isEmpty()) throw new IllegalArgumentException("freeze_graph: no output node names given; candidates: " + candidates(graph));
        Set<String> keep = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>();
        for (String o : outputs) {
            if (!byName.containsKey(o)) throw new IllegalArgumentException("output node '" + o + "' is not in the graph; candidates: " + candidates(graph));
            todo.push(o);
        }
        while (!todo.isEmpty()) {
            String name = todo.pop();
            if (!keep.add(name)) continue;
            NodeDef n = byName.get(name);
            if (n == null) throw new IllegalArgumentException("graph: a node reads '" + name + "', which is not in the graph");
            for (String in : n.getInputList()) todo.push(nodeName(in));
        }
        GraphDef.Builder out = graph.toBuilder().clearNode();
        for (NodeDef n : graph.getNodeList()) if (keep.contains(n.getName())) out.addNode(n);
        return out.build();
    }

    /** The node an input string names: {@code "^a"}, {@code "a:1"} and {@code "a"} all name {@code a}. */
    public static String nodeName(String input) {
        String s = input.startsWith("^") ? input.substring(1) : input;
        int colon = s.lastIndexOf(':');
        if (colon > 0 && s.substring(colon + 1).chars().allMatch(Character::isDigit)) s = s.substring(0, colon);
        return s;
    }

    /** The likely outputs: nodes no other node reads, other than constants and variables. */
    public static List<String> outputCandidates(GraphDef graph) {
        Set<String> read = new HashSet<>();
        for (NodeDef n : graph.getNodeList()) for (String in : n.getInputList()) read.add(nodeName(in));
        Set<String> out = new LinkedHashSet<>();
        for (NodeDef n : graph.getNodeList()) {
            if (read.contains(n.getName())) continue;
            switch (n.getOp()) {
                case "Const", "VariableV2", "Variable", "VarHandleOp", "Assign", "NoOp", "Placeholder" -> { }
                default -> out.add(n.getName());
            }
        }
        return new ArrayList<>(out);
    }

    private static String candidates(GraphDef graph) {
        List<String> c = outputCandidates(graph);
        if (c.size() > 20) return String.join(", ", c.subList(0, 20)) + ", ... (" + c.size() + " in all)";
        return c.isEmpty() ? "(none)" : String.join(", ", c);
    }
}
