package org.slim4j.tools.train;

import org.slim4j.autograd.Var;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.layers.Args;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.NetworkFn;
import org.slim4j.tensor.Tensor;

/**
 * Runs a nets-factory network against a variable store the way the train and eval commands need:
 * variables created for the data set's channel count (LeNet on CIFAR, CifarNet on MNIST work as in
 * TF, where the first conv takes whatever the images have), and forward passes with an explicit
 * dropout seed, so a step's randomness depends only on the run's seed and the step.
 */
public final class NetRunner {
    private NetRunner() {
    }

    /** Channels of the images the pipeline produces for {@code dataset} (1 with use_grayscale). */
    public static int imageChannels(Dataset dataset, NetworkFn fn, boolean grayscale) {
        if (grayscale) return 1;
        int c = dataset.descriptor().channels();
        if (c == 1 || c == 3) return c;
        int[] shape = dataset.descriptor().imageShape();
        return shape != null ? shape[2] : fn.defaultImageChannels();
    }

    /** Creates every variable of the network (initial values) without computing anything. */
    public static void createVariables(NetworkFn fn, VariableStore store, int numClasses, double weightDecay,
                                       int height, int width, int channels, boolean isTraining) {
        try (Graph g = Graph.open(store)) {
            Var images = MetaDevice.placeholder(store.dtype(), 1, height, width, channels);
            fn.apply(images, numClasses, weightDecay, isTraining, Args.empty());
        }
    }

    /** One forward pass; {@code seed} drives its dropout masks. */
    public static NetOutput forward(NetworkFn fn, VariableStore store, int numClasses, double weightDecay, Var images,
                                    boolean isTraining, long seed) {
        try (Graph g = Graph.open(store, seed)) {
            return fn.apply(images, numClasses, weightDecay, isTraining, Args.empty());
        }
    }

    /**
     * tf.image.rgb_to_grayscale on a float batch [B, H, W, 3] → [B, H, W, 1] with TF's weights
     * (0.2989, 0.5870, 0.1140); other channel counts are returned as a copy.
     */
    public static Tensor toGrayscale(Tensor images) {
        if (images.dim(3) != 3) return images.copy();
        float[] v = images.toFloatArray();
        int pixels = v.length / 3;
        float[] g = new float[pixels];
        for (int p = 0; p < pixels; p++) {
            g[p] = 0.2989f * v[3 * p] + 0.5870f * v[3 * p + 1] + 0.1140f * v[3 * p + 2];
        }
        return Tensor.of(g, images.dim(0), images.dim(1), images.dim(2), 1);
    }

    /** One-hot float32 rows [N, numClasses] of int labels; a label outside [0, numClasses) is an error naming it. */
    public static Tensor oneHot(Tensor labels, int numClasses, int labelsOffset) {
        int[] l = labels.toIntArray();
        float[] v = new float[l.length * numClasses];
        for (int i = 0; i < l.length; i++) {
            if (l[i] < 0 || l[i] >= numClasses) throw badLabel(l[i], numClasses, labelsOffset);
            v[i * numClasses + l[i]] = 1f;
        }
        return Tensor.of(v, l.length, numClasses);
    }

    static IllegalArgumentException badLabel(int label, int numClasses, int labelsOffset) {
        return new IllegalArgumentException("label " + label + " (after --labels_offset=" + labelsOffset + ") is outside the network's "
            + numClasses + " classes [0, " + numClasses + ")" + (label == -1 ? "; the dataset has a background class 0: use --labels_offset=0" : "")
            + "; the dataset's files do not match its --dataset_name?");
    }

    /** SplitMix64: decorrelates seeds derived from a run seed and a counter. */
    public static long mix(long seed, long counter) {
        long z = seed + 0x9E3779B97F4A7C15L * (counter + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
