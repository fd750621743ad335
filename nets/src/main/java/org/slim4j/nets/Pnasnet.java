package org.slim4j.nets;

import java.util.List;
import java.util.function.LongSupplier;
import org.slim4j.autograd.Var;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.nets.Nasnet.Config;
import org.slim4j.nets.NasnetUtils.Cell;

/**
 * TF-Slim's PNASNet-5 ({@code nets/nasnet/pnasnet.py}, Liu et al. 2017, arXiv:1712.00559):
 * pnasnet_large (331x331) and pnasnet_mobile (224x224). NASNet's ImageNet stem with the PNAS cell
 * as stem cell, then {@code num_cells} PNAS cells {@code cell_i}; there are no separate reduction
 * cells — at the reduction indices the cell runs with stride 2 and doubled filters. Aux head,
 * final layer, variable names (no enclosing scope) and end points ({@code Stem}, {@code Cell_i},
 * {@code AuxLogits}, {@code global_pool}, {@code Logits}, {@code Predictions}) as in {@link Nasnet}.
 */
public final class Pnasnet {
    private Pnasnet() {
    }

    /** large_imagenet_config(): 12 cells of 216 filters, stem ×3, drop path 0.6, dense keep 0.5. */
    public static Config largeImagenetConfig() {
        return new Config(3.0, 0.5, 12, 2.0, 216, 0.6, true, 2, "NHWC", true, 250_000, false);
    }

    /** mobile_imagenet_config(): 9 cells of 54 filters, stem ×1, no drop path, dense keep 0.5. */
    public static Config mobileImagenetConfig() {
        return new Config(1.0, 0.5, 9, 2.0, 54, 1.0, true, 2, "NHWC", true, 250_000, false);
    }

    /** pnasnet_large_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001): NASNet-large's. */
    public static ArgScope pnasnetLargeArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon) {
        return Nasnet.nasnetLargeArgScope(weightDecay, batchNormDecay, batchNormEpsilon);
    }

    public static ArgScope pnasnetLargeArgScope(double weightDecay) {
        return pnasnetLargeArgScope(weightDecay, 0.9997, 0.001);
    }

    /** pnasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001): NASNet-mobile's. */
    public static ArgScope pnasnetMobileArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon) {
        return Nasnet.nasnetMobileArgScope(weightDecay, batchNormDecay, batchNormEpsilon);
    }

    public static ArgScope pnasnetMobileArgScope(double weightDecay) {
        return pnasnetMobileArgScope(weightDecay, 0.9997, 0.001);
    }

    /** PNasNetNormalCell (PNASNet-5): 5 states concatenated (the five combinations). */
    public static Cell normalCell(int numConvFilters, double dropPathKeepProb, int totalNumCells, long totalTrainingSteps, boolean useBoundedActivation) {
        return new Cell(numConvFilters,
            List.of("separable_5x5_2", "max_pool_3x3", "separable_7x7_2", "max_pool_3x3", "separable_5x5_2",
                "separable_3x3_2", "separable_3x3_2", "max_pool_3x3", "separable_3x3_2", "none"),
            new int[] {1, 1, 0, 0, 0, 0, 0},
            new int[] {1, 1, 0, 0, 0, 0, 4, 0, 1, 0},
            dropPathKeepProb, totalNumCells, totalTrainingSteps, useBoundedActivation);
    }

    /** build_pnasnet_large(images, num_classes, is_training=True, final_endpoint=None, config=None). */
    public static NetOutput buildPnasnetLarge(Var images, int numClasses, boolean isTraining, String finalEndpoint, Config config,
                                              LongSupplier currentStep) {
        return build(images, numClasses, isTraining, finalEndpoint, config == null ? largeImagenetConfig() : config, currentStep);
    }

    /** build_pnasnet_mobile(images, num_classes, is_training=True, final_endpoint=None, config=None). */
    public static NetOutput buildPnasnetMobile(Var images, int numClasses, boolean isTraining, String finalEndpoint, Config config,
                                               LongSupplier currentStep) {
        return build(images, numClasses, isTraining, finalEndpoint, config == null ? mobileImagenetConfig() : config, currentStep);
    }

    private static NetOutput build(Var images, int numClasses, boolean isTraining, String finalEndpoint, Config config, LongSupplier currentStep) {
        Config hparams = Nasnet.updateHparams(config, isTraining);
        // no distinction between reduction and normal cells: the cells plus the two stem cells
        int totalNumCells = hparams.numCells() + 2;
        Cell normalCell = normalCell(hparams.numConvFilters(), hparams.dropPathKeepProb(), totalNumCells, hparams.totalTrainingSteps(),
            hparams.useBoundedActivation());
        try (ArgScope.Opened s = Nasnet.buildScope(isTraining, hparams).open()) {
            return buildPnasnetBase(images, normalCell, numClasses, hparams, isTraining, finalEndpoint, currentStep);
        }
    }

    /** _build_pnasnet_base. */
    private static NetOutput buildPnasnetBase(Var images, Cell normalCell, int numClasses, Config hparams, boolean isTraining,
                                              String finalEndpoint, LongSupplier currentStep) {
        if (images.value().rank() != 4) throw new IllegalArgumentException("pnasnet: images must be rank 4 (NHWC), got shape " + images.value().shape());
        EndPoints endPoints = new EndPoints();
        int[] reductionIndices = NasnetUtils.calcReductionLayers(hparams.numCells(), hparams.numReductionLayers());
        Nasnet.Stem stem = Nasnet.imagenetStem(images, hparams, normalCell, currentStep);
        Var net = stem.net();
        List<Var> cellOutputs = stem.cellOutputs();
        if (Nasnet.add(endPoints, "Stem", net, finalEndpoint)) return new NetOutput(net, endPoints);

        int auxHeadCellIdx = reductionIndices.length >= 2 ? reductionIndices[1] - 1 : -1;
        double filterScaling = 1.0;
        // true_cell_num counts the stem cells too
        int trueCellNum = 2;
        Var prevLayer = null;
        for (int cellNum = 0; cellNum < hparams.numCells(); cellNum++) {
            boolean isReduction = Nasnet.indexOf(reductionIndices, cellNum) >= 0;
            int stride = isReduction ? 2 : 1;
            if (isReduction) filterScaling *= hparams.filterScalingRate();
            if (hparams.skipReductionLayerInput() || !isReduction) prevLayer = Nasnet.secondLast(cellOutputs);
            net = normalCell.apply(net, "cell_" + cellNum, filterScaling, stride, prevLayer, trueCellNum, currentStep);
            if (Nasnet.add(endPoints, "Cell_" + cellNum, net, finalEndpoint)) return new NetOutput(net, endPoints);
            trueCellNum++;
            cellOutputs.add(net);
            if (hparams.useAuxHead() && cellNum == auxHeadCellIdx && numClasses > 0 && isTraining) {
                Var auxNet = NasnetUtils.activation(net, hparams.useBoundedActivation());
                Nasnet.buildAuxHead(auxNet, endPoints, numClasses, hparams, "aux_" + cellNum);
            }
        }
        return Nasnet.finalLayer(net, endPoints, numClasses, hparams, finalEndpoint);
    }

    // ---- nets factory entries ------------------------------------------------------------------------

    public static final NetworkFn PNASNET_LARGE = NetworkFn.of("pnasnet_large", 331, 3, 1001, Pnasnet::pnasnetLargeArgScope,
        List.of(Nasnet.FINAL_ENDPOINT, Nasnet.CONFIG, Nasnet.CURRENT_STEP),
        (images, numClasses, training, o) -> buildPnasnetLarge(images, numClasses, training, o.get(Nasnet.FINAL_ENDPOINT, null),
            o.get(Nasnet.CONFIG, null), o.get(Nasnet.CURRENT_STEP, null)));

    public static final NetworkFn PNASNET_MOBILE = NetworkFn.of("pnasnet_mobile", 224, 3, 1001, Pnasnet::pnasnetMobileArgScope,
        List.of(Nasnet.FINAL_ENDPOINT, Nasnet.CONFIG, Nasnet.CURRENT_STEP),
        (images, numClasses, training, o) -> buildPnasnetMobile(images, numClasses, training, o.get(Nasnet.FINAL_ENDPOINT, null),
            o.get(Nasnet.CONFIG, null), o.get(Nasnet.CURRENT_STEP, null)));
}
