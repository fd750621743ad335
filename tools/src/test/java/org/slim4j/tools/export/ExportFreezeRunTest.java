package org.slim4j.tools.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slim4j.autograd.GradMode;
import org.slim4j.io.checkpoint.BundleWriter;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.layers.Arg;
import org.slim4j.layers.Args;
import org.slim4j.layers.Variable;
import org.slim4j.autograd.Var;
import org.slim4j.nets.NetArg;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.Network;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * export → freeze → run for the nets of the factory: a network with random variables (batch-norm
 * statistics included) is saved as a checkpoint, its inference graph exported (any batch), frozen
 * from the checkpoint, serialised and parsed, and run by {@link GraphRunner}; its softmax must match
 * the network's own forward pass within 1e-4 on a batch of 2. Seven classes keep the probabilities
 * large enough for the comparison to mean something.
 */
class ExportFreezeRunTest {
    private static final int CLASSES = 7;

    @TempDir
    Path dir;

    static Stream<Arguments> fast() {
        return Stream.of(
            Arguments.of("lenet", 28, new Arg.Value<?>[0]),
            Arguments.of("cifarnet", 32, new Arg.Value<?>[0]),
            Arguments.of("mobilenet_v1_025", 64, new Arg.Value<?>[0]),
            Arguments.of("mobilenet_v2_035", 64, new Arg.Value<?>[0]),
            Arguments.of("resnet_v1_50", 64, new Arg.Value<?>[0]),
            Arguments.of("resnet_v2_50", 64, new Arg.Value<?>[0]),
            Arguments.of("inception_v1", 96, new Arg.Value<?>[] {NetArg.GLOBAL_POOL.is(true)}),
            Arguments.of("inception_v2", 64, new Arg.Value<?>[0]),
            Arguments.of("inception_v3", 107, new Arg.Value<?>[0]),
            Arguments.of("nasnet_cifar", 32, new Arg.Value<?>[0]));
    }

    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("fast")
    void exportedFrozenGraphMatchesTheNetwork(String name, int size, Arg.Value<?>[] options) throws IOException {
        check(name, size, options);
    }

    static Stream<Arguments> rest() {
        Set<String> done = new HashSet<>();
        fast().forEach(a -> done.add((String) a.get()[0]));
        return Nets.names().stream().filter(n -> !done.contains(n)).map(n -> Arguments.of(n, smallSize(n), new Arg.Value<?>[0]));
    }

    /** The smallest convenient input each remaining net accepts (fully-convolutional heads need their default size). */
    private static int smallSize(String name) {
        return switch (name) {
            case "alexnet_v2", "vgg_a", "vgg_16", "vgg_19" -> 224;
            case "overfeat" -> 231;
            case "inception_v4", "inception_resnet_v2" -> 107;
            case "nasnet_large", "pnasnet_large" -> 96;
            case "nasnet_mobile", "pnasnet_mobile" -> 96;
            default -> 64;
        };
    }

    @Tag("slow")
    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("rest")
    void everyOtherNetExportsAndMatches(String name, int size, Arg.Value<?>[] options) throws IOException {
        check(name, size, options);
    }

    private void check(String name, int size, Arg.Value<?>[] options) throws IOException {
        NetworkFn fn = Nets.get(name);
        long live = CpuDevice.INSTANCE.liveBytes();
        Path prefix = dir.resolve(name + ".ckpt");
        GraphExporter.Exported exported = GraphExporter.export(fn, CLASSES, size, null, Args.of(options));
        assertEquals("input", exported.graph().getNode(0).getName());
        try (Network net = Network.create(fn, CLASSES, 0.0, 11, options)) {
            net.createVariables(size, size, false);
            randomize(net);
            try (BundleWriter w = new BundleWriter(prefix)) {
                for (Variable v : net.variables().variables()) w.add(v.name(), v.value());
                w.finish();
            }
            GraphDef frozen;
            try (CheckpointReader reader = CheckpointReader.open(prefix)) {
                frozen = GraphDef.parseFrom(GraphFreezer.freeze(GraphDef.parseFrom(exported.graph().toByteArray()), reader, java.util.List.of(exported.outputName())).toByteArray());
            }
            for (NodeDef n : frozen.getNodeList()) assertTrue(!n.getOp().startsWith("Variable"), name + ": frozen graph still has variable " + n.getName());
            int channels = fn.defaultImageChannels();
            try (TensorScope s = TensorScope.open(); GradMode.Guard g = GradMode.noGrad(); GraphRunner runner = new GraphRunner(frozen)) {
                Tensor images = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(2, size, size, channels), -1, 1);
                // nets without a softmax end point (VGG, AlexNet, OverFeat) export their logits, as TF-Slim's do
                NetOutput out = net.apply(images, false);
                Var p = GraphExporter.predictions(out);
                Tensor direct = (p != null ? p : out.logits()).value();
                Tensor viaGraph = runner.run(Map.of("input", images), exported.outputName());
                assertEquals(direct.shape(), viaGraph.shape(), name);
                float[] a = direct.toFloatArray(), b = viaGraph.toFloatArray();
                double max = 0, scale = 1;
                for (int i = 0; i < a.length; i++) {
                    max = Math.max(max, Math.abs(a[i] - b[i]));
                    scale = Math.max(scale, Math.abs(a[i]));
                }
                assertTrue(max <= 1e-4 * scale, name + ": max |direct - graph| = " + max + " (largest output " + scale + ")");
                viaGraph.close();
            }
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), name + ": bytes left allocated");
    }

    /** Random biases and batch-norm parameters and statistics, so that every input of every op matters. */
    static void randomize(Network net) {
        long seed = 100;
        for (Variable v : net.variables().variables()) {
            String n = v.name();
            double lo, hi;
            if (n.endsWith("moving_variance")) {
                lo = 0.5;
                hi = 1.5;
            } else if (n.endsWith("gamma")) {
                lo = 0.8;
                hi = 1.2;
            } else if (n.endsWith("moving_mean") || n.endsWith("beta") || n.endsWith("biases")) {
                lo = -0.2;
                hi = 0.2;
            } else {
                continue;
            }
            try (Tensor r = Tensor.randomUniform(seed++, v.value().dtype(), v.shape(), lo, hi)) {
                v.value().copyFrom(r);
            }
        }
    }
}
