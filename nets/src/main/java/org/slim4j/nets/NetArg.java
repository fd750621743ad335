package org.slim4j.nets;

import org.slim4j.kernels.Padding;
import org.slim4j.layers.Arg;

/**
 * Keyword options of network functions (the {@code **kwargs} the nets factory forwards), shared by
 * the families that take them. A family with options of its own defines further keys with
 * {@link Arg#key} next to its code. Each {@link NetworkFn} lists the options it accepts; passing
 * another is an error, as in Python.
 */
public final class NetArg {
    private NetArg() {
    }

    /** Variable scope of the whole network (default: the network's own, e.g. {@code vgg_16}). */
    public static final Arg<String> SCOPE = Arg.SCOPE;
    /** Keep probability of the dropout before the logits. */
    public static final Arg<Double> DROPOUT_KEEP_PROB = Arg.key("dropout_keep_prob", Double.class);
    /** Squeeze the spatial [1, 1] dimensions of conv logits to [N, num_classes]. */
    public static final Arg<Boolean> SPATIAL_SQUEEZE = Arg.key("spatial_squeeze", Boolean.class);
    /** Average the final feature map over all positions (reduce_mean) instead of a fixed window. */
    public static final Arg<Boolean> GLOBAL_POOL = Arg.key("global_pool", Boolean.class);
    /** VGG: padding of the fc6 convolution ('VALID' in the classification net, 'SAME' for dense prediction). */
    public static final Arg<Padding> FC_CONV_PADDING = Arg.key("fc_conv_padding", Padding.class);
    /** The function applied to the logits to make the {@code Predictions} end point (null: none). */
    public static final Arg<PredictionFn> PREDICTION_FN = Arg.key("prediction_fn", PredictionFn.class);
    /** Width multiplier of the channel counts (Inception v2/v3, MobileNet). */
    public static final Arg<Double> DEPTH_MULTIPLIER = Arg.key("depth_multiplier", Double.class);
    /** Lower bound of channel counts under a depth multiplier. */
    public static final Arg<Integer> MIN_DEPTH = Arg.key("min_depth", Integer.class);
    /** Ratio of input to output spatial resolution (atrous nets); null = the net's natural stride. */
    public static final Arg<Integer> OUTPUT_STRIDE = Arg.key("output_stride", Integer.class);
    /** Whether to build the auxiliary logits head. */
    public static final Arg<Boolean> CREATE_AUX_LOGITS = Arg.key("create_aux_logits", Boolean.class);
}
