package org.slim4j.tools.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.ops.SoftmaxOps;
import org.slim4j.autograd.optim.LossScaler;
import org.slim4j.autograd.optim.Optimizer;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.CudaOutOfMemoryError;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.NetworkFn;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * The computation of one training step of train_image_classifier, shared by {@link Trainer} and the
 * benchmark command: per clone, the forward pass (batch-norm statistics updated), TF-Slim's losses
 * (softmax cross-entropy with label smoothing, 0.4 × the aux-logits loss, the regularisation losses
 * on the first clone, all scaled by 1/num_clones) and the backward pass; then one optimizer update.
 * The L2 regularisation losses are part of the loss value, but their gradients (scale · w) are not
 * sent through autograd: the optimizer adds them in its own pass over each weight (momentum: in the
 * same kernel), the gradient TF computes for the same loss, for two passes and two kernels less per
 * regularised weight.
 *
 * <p>Everything runs on the store's device: a host batch is uploaded once ({@link #onDevice}), and
 * the only value read back is the clone's total loss (one float, for the NaN check and the log).
 * With a {@link LossScaler} (fp16 mixed precision, {@link #lossScalerFor}) the backward pass starts
 * from the scaled loss and the update unscales the gradients first, skipping itself when they
 * overflowed (a second value read back).
 */
public final class TrainStep {
    static final double AUX_LOSS_WEIGHT = 0.4;

    private final NetworkFn fn;
    private final VariableStore store;
    private final int numClasses;
    private final double weightDecay;
    private final double labelSmoothing;
    private final int numClones;
    private final Optimizer optimizer;
    private final List<Var> params;
    /** The L2 regularisers' gradient terms, applied by the optimizer (see {@link #forward}). */
    private final Map<Var, Double> weightDecays;
    /** fp16's dynamic loss scaling, or null. */
    private final LossScaler lossScaler;

    public TrainStep(NetworkFn fn, VariableStore store, int numClasses, double weightDecay, double labelSmoothing, int numClones,
                     Optimizer optimizer, List<Var> params) {
        this(fn, store, numClasses, weightDecay, labelSmoothing, numClones, optimizer, params, null);
    }

    public TrainStep(NetworkFn fn, VariableStore store, int numClasses, double weightDecay, double labelSmoothing, int numClones,
                     Optimizer optimizer, List<Var> params, LossScaler lossScaler) {
        this.lossScaler = lossScaler;
        this.fn = fn;
        this.store = store;
        this.numClasses = numClasses;
        this.weightDecay = weightDecay;
        this.labelSmoothing = labelSmoothing;
        this.numClones = numClones;
        this.optimizer = optimizer;
        this.params = List.copyOf(params);
        this.weightDecays = store.weightDecays();
    }

    /** The losses of one clone: by summary name, the clone's loss, the regularisation loss (first clone only, else null) and their sum. */
    public record Losses(Map<String, Var> named, Var cloneLoss, Var regularization, Var total, NetOutput net) {
    }

    /**
     * The out-of-memory error's numbers (asked, free, held) and a batch size that should fit: the
     * batch scaled by free/asked (activation memory grows about linearly with the batch), at most
     * half the batch. {@code flag} names the batch-size flag of the command.
     */
    public static String outOfMemoryAdvice(CudaOutOfMemoryError e, int batchSize, String flag) {
        long fit = e.requestedBytes() <= 0 ? batchSize / 2
            : (long) Math.floor(batchSize * (double) Math.max(e.freeBytes(), 0) / e.requestedBytes());
        long suggest = Math.max(1, Math.min(batchSize / 2, fit));
        return e.getMessage() + (batchSize > 1
            ? " Try " + flag + "=" + suggest + " (the batch of " + batchSize + " scaled by free/asked, at most half of it)."
            : " The batch size is already 1: use smaller images or a smaller model.");
    }

    /** The store's device. */
    public Device device() {
        return store.device();
    }

    /** {@code t} itself when it is on {@code device}, else a copy there (tracked by the open scope). */
    public static Tensor onDevice(Tensor t, Device device) {
        return t.device() == device ? t : t.toDevice(device);
    }

    /**
     * Forward pass and losses of clone {@code clone} on {@code images} [B, H, W, C] and one-hot
     * {@code labels} [B, numClasses] on the device; {@code dropoutSeed} drives its dropout masks.
     */
    public Losses forward(Tensor images, Tensor oneHot, int clone, long dropoutSeed) {
        NetOutput net = NetRunner.forward(fn, store, numClasses, weightDecay, Var.constant(images), true, dropoutSeed);
        String prefix = numClones > 1 ? "clone_" + clone + "/" : "";
        Map<String, Var> losses = new LinkedHashMap<>();
        if (net.endPoints().contains("AuxLogits")) {
            Var aux = ReduceOps.mean(SoftmaxOps.softmaxCrossEntropy(net.endPoints().get("AuxLogits"), oneHot, labelSmoothing));
            losses.put(prefix + "aux_loss/value", ElementwiseOps.scale(aux, AUX_LOSS_WEIGHT));
        }
        losses.put(prefix + "softmax_cross_entropy_loss/value", ReduceOps.mean(SoftmaxOps.softmaxCrossEntropy(net.logits(), oneHot, labelSmoothing)));
        Var cloneLoss = null;
        for (Var l : losses.values()) cloneLoss = cloneLoss == null ? l : ElementwiseOps.add(cloneLoss, l);
        if (numClones > 1) cloneLoss = ElementwiseOps.scale(cloneLoss, 1.0 / numClones);
        Var total = cloneLoss;
        Var reg = null;
        if (clone == 0) {
            // The L2 terms' gradients (scale * w) go to the optimizer's pass instead of autograd.
            reg = store.regularizationLoss(true);
            if (reg != null) total = ElementwiseOps.add(total, reg);
        }
        return new Losses(losses, cloneLoss, reg, total, net);
    }

    /**
     * The loss scaling a device's training needs: a {@link LossScaler} for a GPU computing at
     * {@code --precision=fp16} (fp16's narrow range), else null (fp32, tf32 and bf16 keep float32's).
     */
    public static LossScaler lossScalerFor(Device device) {
        return device instanceof CudaDevice c && c.options().precision() == CudaOptions.Precision.FP16 ? new LossScaler() : null;
    }

    /** This step's loss scaler, or null. */
    public LossScaler lossScaler() {
        return lossScaler;
    }

    /** The backward pass of a clone's total loss; with a loss scaler, from the loss times its scale. */
    public void backward(Losses l) {
        l.total().backward(lossScaler == null ? 1.0 : lossScaler.scale());
    }

    /**
     * The optimizer's update of the trained variables with learning rate {@code lr}; with a loss
     * scaler, after unscaling the gradients. Returns false when the update was skipped because the
     * scaled gradients overflowed (the scaler has halved its scale).
     */
    public boolean update(double lr) {
        if (lossScaler != null && !lossScaler.unscale(params)) return false;
        optimizer.step(params, lr, p -> weightDecays.getOrDefault(p, 0.0));
        return true;
    }

    /** Drops every trainable variable's accumulated gradient. */
    public void zeroGrad() {
        for (Var p : store.trainableVars()) p.zeroGrad();
    }

    /**
     * A whole single-clone step on a device batch: forward, loss (read back), backward, update; the
     * step's temporaries are released. Throws {@link IllegalStateException} on a non-finite loss
     * (before the update). Returns the loss.
     */
    public double run(Tensor images, Tensor oneHot, double lr, long dropoutSeed) {
        try (TensorScope scope = TensorScope.open()) {
            Losses l = forward(images, oneHot, 0, dropoutSeed);
            double value = l.total().value().item();
            if (!Double.isFinite(value)) throw new IllegalStateException("the loss is " + value + ": training diverged");
            backward(l);
            update(lr);
            return value;
        } finally {
            zeroGrad();
        }
    }
}
