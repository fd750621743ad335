package org.slim4j.tools.export;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slim4j.io.proto.AttrValue;
import org.slim4j.io.proto.DataType;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;

/**
 * What TF's summarize_graph tool reports: the inputs (Placeholders with dtype and shape), the
 * likely outputs (nodes nothing reads), the count of each op, and the parameters (elements of
 * float constants and variables).
 */
public record GraphSummary(List<String> inputs, List<String> outputs, Map<String, Integer> opCounts, long parameters, long constParameters, long variableParameters) {

    public static GraphSummary of(GraphDef graph) {
        List<String> inputs = new ArrayList<>();
        Map<String, Integer> ops = new TreeMap<>();
        long consts = 0;
        long vars = 0;
        for (NodeDef n : graph.getNodeList()) {
            ops.merge(n.getOp(), 1, Integer::sum);
            switch (n.getOp()) {
                case "Placeholder" -> {
                    AttrValue t = n.getAttrMap().get("dtype");
                    AttrValue s = n.getAttrMap().get("shape");
                    inputs.add(n.getName() + " (type=" + (t == null ? "?" : dtypeName(t.getType())) + ", shape="
                        + (s == null || s.getShape().getUnknownRank() ? "unknown" : shapeString(GraphProtoValues.dims(s.getShape()))) + ")");
                }
                case "Const" -> {
                    AttrValue v = n.getAttrMap().get("value");
                    if (v != null && v.getTensor().getDtype() == DataType.DT_FLOAT) consts += GraphProtoValues.numElements(v.getTensor().getTensorShape());
                }
                case "VariableV2", "Variable", "VarHandleOp" -> {
                    AttrValue s = n.getAttrMap().get("shape");
                    if (s != null) vars += GraphProtoValues.numElements(s.getShape());
                }
                default -> { }
            }
        }
        return new GraphSummary(inputs, GraphFreezer.outputCandidates(graph), ops, consts + vars, consts, vars);
    }

    /** The report, in summarize_graph's layout. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("Found ").append(inputs.size()).append(" possible inputs: ");
        for (String i : inputs) sb.append("(name=").append(i.replaceFirst(" \\(", ", ")).append(' ');
        sb.append('\n');
        sb.append("Found ").append(outputs.size()).append(" possible outputs: ");
        for (String o : outputs) sb.append("(name=").append(o).append(") ");
        sb.append('\n');
        sb.append(String.format("Found %,d (%s) const parameters, %,d (%s) variable parameters%n", constParameters, human(constParameters), variableParameters, human(variableParameters)));
        int total = 0;
        for (int c : opCounts.values()) total += c;
        sb.append(opCounts.size()).append(" op types, ").append(total).append(" nodes:\n");
        opCounts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue() != 0 ? b.getValue() - a.getValue() : a.getKey().compareTo(b.getKey()))
            .forEach(e -> sb.append(String.format("  %6d %s%n", e.getValue(), e.getKey())));
        return sb.toString();
    }

    private static String human(long n) {
        if (n >= 1_000_000) return String.format("%.2fM", n / 1e6);
        if (n >= 1_000) return String.format("%.2fk", n / 1e3);
        return Long.toString(n);
    }

    private static String dtypeName(DataType t) {
        return t == DataType.DT_FLOAT ? "float" : t.name().substring(3).toLowerCase();
    }

    private static String shapeString(int[] dims) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) sb.append(i > 0 ? "," : "").append(dims[i]);
        return sb.append(']').toString();
    }
}
