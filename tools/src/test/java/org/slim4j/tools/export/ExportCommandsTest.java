package org.slim4j.tools.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.checkpoint.BundleWriter;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.layers.Variable;
import org.slim4j.nets.Network;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.Tensor;
import org.slim4j.tools.Main;

/** TF-Slim's README flow with slim4j's commands: export_inference_graph → freeze_graph → summarize_graph → label_image. */
class ExportCommandsTest {
    @TempDir
    Path dir;

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void exportFreezeSummarizeLabelImageEndToEnd() throws Exception {
        Path graph = dir.resolve("lenet.pb");
        Run export = run("export_inference_graph", "--model_name=lenet", "--dataset_name=mnist", "--output_file=" + graph);
        assertEquals(0, export.status(), export.err());
        assertTrue(export.out().contains("output: Predictions/Reshape_1"), export.out());
        GraphDef g = FreezeGraphCommand.read(graph);
        assertEquals("Placeholder", g.getNode(0).getOp());
        assertTrue(g.getNodeList().stream().anyMatch(n -> n.getName().equals("LeNet/conv1/weights") && n.getOp().equals("VariableV2")));
        assertTrue(g.getNodeList().stream().anyMatch(n -> n.getName().equals("LeNet/conv1/Conv2D") && n.getOp().equals("Conv2D")));

        Path prefix = dir.resolve("model.ckpt-5");
        try (Network net = Network.create(Nets.get("lenet"), 10, 0.0, 3)) {
            net.createVariables(28, 28, true);
            try (BundleWriter w = new BundleWriter(prefix)) {
                for (Variable v : net.variables().variables()) w.add(v.name(), v.value());
                w.finish();
            }
        }
        Path frozen = dir.resolve("frozen.pb");
        Run freeze = run("freeze_graph", "--input_graph=" + graph, "--input_checkpoint=" + prefix, "--output_graph=" + frozen,
            "--output_node_names=Predictions/Reshape_1");
        assertEquals(0, freeze.status(), freeze.err());
        for (NodeDef n : FreezeGraphCommand.read(frozen).getNodeList()) assertTrue(!n.getOp().equals("VariableV2"), n.getName());

        Run summary = run("summarize_graph", "--in_graph=" + frozen);
        assertEquals(0, summary.status(), summary.err());
        assertTrue(summary.out().contains("(name=input, type=float, shape=[-1,28,28,1])"), summary.out());
        assertTrue(summary.out().contains("(name=Predictions/Reshape_1)"), summary.out());
        assertTrue(summary.out().contains(String.format("%,d", 3_274_634)), "lenet's parameter count: " + summary.out());

        Path labels = dir.resolve("labels.txt");
        Files.writeString(labels, "0:zero\n1:one\n2:two\n3:three\n4:four\n5:five\n6:six\n7:seven\n8:eight\n9:nine\n");
        List<String> images = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            byte[] px = new byte[40 * 36];
            for (int k = 0; k < px.length; k++) px[k] = (byte) ((k * (7 + i * 13)) % 251);
            Path img = dir.resolve("digit" + i + ".png");
            Files.write(img, ImageEncoder.png(px, 0, 40, 36, 1));
            images.add("--image=" + img);
        }
        List<String> a = new ArrayList<>(List.of("label_image", "--graph=" + frozen, "--labels=" + labels));
        a.addAll(images);
        Run viaGraph = run(a.toArray(new String[0]));
        assertEquals(0, viaGraph.status(), viaGraph.err());
        List<String> b = new ArrayList<>(List.of("label_image", "--checkpoint_path=" + prefix, "--model_name=lenet", "--labels=" + labels));
        b.addAll(images);
        Run viaCheckpoint = run(b.toArray(new String[0]));
        assertEquals(0, viaCheckpoint.status(), viaCheckpoint.err());
        List<double[]> p = scores(viaGraph.out()), q = scores(viaCheckpoint.out());
        assertEquals(10, p.size(), viaGraph.out());
        assertEquals(labelsOf(viaGraph.out()), labelsOf(viaCheckpoint.out()), viaGraph.out() + viaCheckpoint.out());
        for (int i = 0; i < p.size(); i++) assertEquals(p.get(i)[1], q.get(i)[1], 2e-5, viaGraph.out());
    }

    private static final Pattern LINE = Pattern.compile("  (\\w+) \\((\\d+)\\): ([0-9.]+)");

    private static List<double[]> scores(String out) {
        List<double[]> r = new ArrayList<>();
        Matcher m = LINE.matcher(out);
        while (m.find()) r.add(new double[] {Integer.parseInt(m.group(2)), Double.parseDouble(m.group(3))});
        return r;
    }

    private static List<String> labelsOf(String out) {
        List<String> r = new ArrayList<>();
        Matcher m = LINE.matcher(out);
        while (m.find()) r.add(m.group(1));
        return r;
    }

    @Test
    void outputNodesAndVariablesAreNamedAsTfSlimNamesThem() {
        assertEquals("InceptionV3/Predictions/Reshape_1", GraphExporter.export(Nets.get("inception_v3"), 1001, 299, null).outputName());
        assertEquals("MobilenetV1/Predictions/Reshape_1", GraphExporter.export(Nets.get("mobilenet_v1"), 1001, 224, null).outputName());
        assertEquals("resnet_v1_50/predictions/Reshape_1", GraphExporter.export(Nets.get("resnet_v1_50"), 1000, 224, null).outputName());
        // Ops TF-Slim names explicitly (tf.squeeze(name='fc8/squeezed'), tf.nn.softmax(name='Predictions')).
        assertEquals("vgg_16/fc8/squeezed", GraphExporter.export(Nets.get("vgg_16"), 1000, 224, null).outputName());
        assertEquals("InceptionResnetV2/Logits/Predictions", GraphExporter.export(Nets.get("inception_resnet_v2"), 1001, 299, null).outputName());
        assertEquals("final_layer/predictions", GraphExporter.export(Nets.get("nasnet_cifar"), 10, 32, null).outputName());
        java.util.Set<String> names = new java.util.HashSet<>();
        for (NodeDef n : GraphExporter.export(Nets.get("inception_v3"), 1001, 299, null).graph().getNodeList()) names.add(n.getName());
        assertTrue(names.contains("InceptionV3/Logits/SpatialSqueeze") && names.contains("InceptionV3/AuxLogits/SpatialSqueeze"), "SpatialSqueeze nodes");
        GraphExporter.Exported g = GraphExporter.export(Nets.get("inception_v3"), 1001, 299, 4);
        java.util.Map<String, NodeDef> nodes = new java.util.HashMap<>();
        for (NodeDef n : g.graph().getNodeList()) nodes.put(n.getName(), n);
        assertEquals("[4, 299, 299, 3]", java.util.Arrays.toString(g.inputShape()));
        NodeDef conv = nodes.get("InceptionV3/Conv2d_1a_3x3/Conv2D");
        assertEquals(List.of("input", "InceptionV3/Conv2d_1a_3x3/weights/read"), conv.getInputList());
        assertEquals("VALID", conv.getAttrOrThrow("padding").getS().toStringUtf8());
        assertEquals(List.of(1L, 2L, 2L, 1L), conv.getAttrOrThrow("strides").getList().getIList());
        NodeDef bn = nodes.get("InceptionV3/Conv2d_1a_3x3/BatchNorm/FusedBatchNormV3");
        assertEquals(List.of("InceptionV3/Conv2d_1a_3x3/Conv2D", "InceptionV3/Conv2d_1a_3x3/BatchNorm/Const", "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta/read",
            "InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean/read", "InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_variance/read"), bn.getInputList());
        assertEquals(0.001f, bn.getAttrOrThrow("epsilon").getF());
        assertEquals("VariableV2", nodes.get("InceptionV3/Logits/Conv2d_1c_1x1/biases").getOp());
        assertEquals("Relu", nodes.get("InceptionV3/Conv2d_1a_3x3/Relu").getOp());
    }

    @Test
    void badInputNamesWhatIsWrong() throws Exception {
        Path graph = dir.resolve("lenet.pb");
        assertEquals(0, run("export_inference_graph", "--model_name=lenet", "--dataset_name=mnist", "--output_file=" + graph).status());
        // a checkpoint that does not exist is named
        Run missing = run("freeze_graph", "--input_graph=" + graph, "--input_checkpoint=" + dir.resolve("none"), "--output_graph=" + dir.resolve("f.pb"),
            "--output_node_names=Predictions/Softmax_9");
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("none"), missing.err());

        Path prefix = dir.resolve("partial.ckpt");
        try (BundleWriter w = new BundleWriter(prefix); Tensor t = Tensor.zeros(5, 5, 1, 32)) {
            w.add("LeNet/conv1/weights", t);
            w.finish();
        }
        Run partial = run("freeze_graph", "--input_graph=" + graph, "--input_checkpoint=" + prefix, "--output_graph=" + dir.resolve("f.pb"),
            "--output_node_names=Predictions/Reshape_1");
        assertEquals(1, partial.status());
        assertTrue(partial.err().contains("no variable 'LeNet/conv1/biases'"), partial.err());

        Run wrongOutput = run("freeze_graph", "--input_graph=" + graph, "--input_checkpoint=" + prefix, "--output_graph=" + dir.resolve("f.pb"),
            "--output_node_names=Predictions/Softmax_9");
        assertEquals(1, wrongOutput.status());
        assertTrue(wrongOutput.err().contains("'Predictions/Softmax_9' is not in the graph; candidates: Predictions/Reshape_1"), wrongOutput.err());

        // an op slim4j cannot run: named with its node
        GraphDef g = FreezeGraphCommand.read(graph);
        GraphDef.Builder b = g.toBuilder();
        for (int i = 0; i < b.getNodeCount(); i++) {
            if (b.getNode(i).getName().equals("LeNet/conv1/Relu")) b.setNode(i, b.getNode(i).toBuilder().setOp("Elu"));
        }
        try (GraphRunner runner = new GraphRunner(b.build())) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> runner.run(java.util.Map.of(), "Predictions/Reshape_1"));
            assertTrue(e.getMessage().contains("op 'Elu' of node 'LeNet/conv1/Relu' is not supported"), e.getMessage());
        }
        // an unfrozen graph
        try (GraphRunner runner = new GraphRunner(g)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> runner.run(java.util.Map.of(), "Predictions/Reshape_1"));
            assertTrue(e.getMessage().contains("freeze the graph first"), e.getMessage());
        }
        // unknown output for the runner
        try (GraphRunner runner = new GraphRunner(g)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> runner.run(java.util.Map.of(), "logits"));
            assertTrue(e.getMessage().contains("candidates: Predictions/Reshape_1"), e.getMessage());
        }
    }
}
