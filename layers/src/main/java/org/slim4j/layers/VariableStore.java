package org.slim4j.layers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * The variables of a model by full TF name, in creation order: TF's global variables with the
 * TRAINABLE_VARIABLES and MODEL_VARIABLES collections, and the regularisers that feed
 * REGULARIZATION_LOSSES. Layers reach it through the open {@link Graph}; a network is built by
 * calling its function once per forward pass against the same store, so the first pass creates
 * the variables and later passes find them by name (a checkpoint restore fills {@link #asMap()}'s
 * values in place).
 *
 * <p>Initial values are reproducible: each variable's random stream is seeded from the store's
 * seed and the variable's name. A {@link #shapeOnly} store creates value-less variables on the
 * {@link MetaDevice}. The store owns the variables' memory: {@link #close()} releases it.
 *
 * <p>Variables live on the store's {@link #device()}: they are initialised on the host with the same
 * seeded initialisers whatever the device (so a CPU and a GPU run start from identical weights) and
 * copied to the device once.
 */
public final class VariableStore implements AutoCloseable {
    private final DType dtype;
    private final long seed;
    private final boolean shapeOnly;
    private final Device device;
    private final Map<String, Variable> variables = new LinkedHashMap<>();
    private final Map<String, Var> view = new LinkedHashMap<>();
    private boolean closed;

    private VariableStore(DType dtype, long seed, boolean shapeOnly, Device device) {
        if (device == null) throw new IllegalArgumentException("VariableStore: device is null");
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
            throw new IllegalArgumentException("variables are float32 or float64, not " + dtype);
        }
        this.dtype = dtype;
        this.seed = seed;
        this.shapeOnly = shapeOnly;
        this.device = device;
    }

    /** A float32 store whose initial values derive from {@code seed}. */
    public VariableStore(long seed) {
        this(DType.FLOAT32, seed, false, CpuDevice.INSTANCE);
    }

    /** A float32 store whose variables live on {@code device} (initialised on the host, then copied there once). */
    public VariableStore(long seed, Device device) {
        this(DType.FLOAT32, seed, false, device);
    }

    /** A store of {@code dtype} variables (float64 for reference computations and gradient checks). */
    public VariableStore(DType dtype, long seed) {
        this(dtype, seed, false, CpuDevice.INSTANCE);
    }

    /** A store that records names and shapes only (see {@link MetaDevice}). */
    public static VariableStore shapeOnly(DType dtype) {
        return new VariableStore(dtype, 0, true, CpuDevice.INSTANCE);
    }

    public static VariableStore shapeOnly() {
        return shapeOnly(DType.FLOAT32);
    }

    public DType dtype() {
        return dtype;
    }

    public long seed() {
        return seed;
    }

    /** Where the variables live. */
    public Device device() {
        return device;
    }

    public boolean isShapeOnly() {
        return shapeOnly;
    }

    /**
     * Creates a variable. It is an error if the name exists (layers go through
     * {@link Graph#variable}, which handles reuse).
     *
     * @param regularizer null for none
     * @param modelVariable whether it belongs to the model (saved/restored with it; TF's MODEL_VARIABLES)
     */
    public Variable create(String name, Shape shape, Initializer initializer, Regularizer regularizer, boolean trainable, boolean modelVariable) {
        checkOpen();
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("a variable needs a name");
        if (variables.containsKey(name)) {
            throw new IllegalArgumentException("Variable " + name + " already exists, disallowed");
        }
        for (int d : shape.dims()) {
            if (d <= 0) throw new IllegalArgumentException("variable " + name + ": every dimension must be positive, got shape " + shape);
        }
        Tensor value;
        if (shapeOnly) {
            value = MetaDevice.tensor(dtype, shape);
        } else {
            if (initializer == null) throw new IllegalArgumentException("variable " + name + " needs an initializer");
            value = initializer.create(shape, dtype, new SeededRandom(variableSeed(seed, name)));
            if (!value.shape().equals(shape) || value.dtype() != dtype) {
                Shape got = value.shape();
                DType gotType = value.dtype();
                value.close();
                throw new IllegalStateException("initializer of " + name + " made " + gotType + got + ", expected " + dtype + shape);
            }
            if (value.device() != device) {
                Tensor host = value;
                value = host.toDevice(device);
                host.close();
            }
        }
        TensorScope.escape(value);
        Var v = trainable ? Var.param(value, name) : Var.constant(value);
        Variable variable = new Variable(name, v, trainable, modelVariable, regularizer);
        variables.put(name, variable);
        view.put(name, v);
        return variable;
    }

    /** The variable called {@code name}, or null. */
    public Variable get(String name) {
        return variables.get(name);
    }

    public boolean contains(String name) {
        return variables.containsKey(name);
    }

    /** Every variable, by name, in creation order (read-only). */
    public Map<String, Var> asMap() {
        return Collections.unmodifiableMap(view);
    }

    /** Every variable in creation order. */
    public List<Variable> variables() {
        return List.copyOf(variables.values());
    }

    /** TF's TRAINABLE_VARIABLES. */
    public List<Variable> trainableVariables() {
        List<Variable> out = new ArrayList<>();
        for (Variable v : variables.values()) if (v.trainable()) out.add(v);
        return out;
    }

    /** TF's MODEL_VARIABLES (what slim saves and restores for a model: weights and moving statistics). */
    public List<Variable> modelVariables() {
        List<Variable> out = new ArrayList<>();
        for (Variable v : variables.values()) if (v.modelVariable()) out.add(v);
        return out;
    }

    /** The autograd leaves of the trainable variables, for an optimiser. */
    public List<Var> trainableVars() {
        List<Var> out = new ArrayList<>();
        for (Variable v : variables.values()) if (v.trainable()) out.add(v.var());
        return out;
    }

    /** Number of scalars in all variables (moving statistics included). */
    public long parameterCount() {
        long n = 0;
        for (Variable v : variables.values()) n += v.size();
        return n;
    }

    /** Number of scalars in trainable variables. */
    public long trainableParameterCount() {
        long n = 0;
        for (Variable v : variables.values()) if (v.trainable()) n += v.size();
        return n;
    }

    /** One term of REGULARIZATION_LOSSES, named as TF names it ({@code <var>/Regularizer/<fn>}). */
    public record RegularizationLoss(String name, Var loss) {
    }

    /**
     * Every regulariser applied to its variable's current value, in creation order (differentiable;
     * evaluate it once per training step, inside the step's scope).
     */
    public List<RegularizationLoss> regularizationLosses() {
        checkOpen();
        List<RegularizationLoss> out = new ArrayList<>();
        if (shapeOnly) return out;
        for (Variable v : variables.values()) {
            Regularizer r = v.regularizer();
            if (r == null) continue;
            Var loss = r.apply(v.var());
            if (loss != null) out.add(new RegularizationLoss(v.name() + "/Regularizer", loss));
        }
        return out;
    }

    /** The sum of {@link #regularizationLosses()} (TF's get_regularization_loss), or null when there is none. */
    public Var regularizationLoss() {
        return regularizationLoss(false);
    }

    /**
     * The sum of {@link #regularizationLosses()}: the same value either way, up to rounding. With
     * {@code l2AsWeightDecay} its gradient leaves out the L2 terms, which the training step hands to
     * the optimizer as {@link #weightDecays()}. That saves two passes over every regularised weight
     * per step (the l2 gradient's product and its addition to the weight's gradient); and the L2
     * terms, having no gradient to record, are summed by one {@link ReduceKernels#l2LossSum} per
     * device and dtype (on a GPU, two launches in all instead of about four per weight).
     */
    public Var regularizationLoss(boolean l2AsWeightDecay) {
        if (!l2AsWeightDecay) {
            Var total = null;
            for (RegularizationLoss r : regularizationLosses()) total = total == null ? r.loss() : ElementwiseOps.add(total, r.loss());
            return total;
        }
        checkOpen();
        if (shapeOnly) return null;
        Var total = null;
        Map<List<Object>, List<Variable>> l2 = new LinkedHashMap<>();  // by device and dtype
        for (Variable v : variables.values()) {
            Regularizer r = v.regularizer();
            if (r == null) continue;
            if (r.weightDecay() != 0) {
                l2.computeIfAbsent(List.of(v.value().device(), v.value().dtype()), k -> new ArrayList<>()).add(v);
                continue;
            }
            Var loss = r.apply(v.var());
            if (loss != null) total = total == null ? loss : ElementwiseOps.add(total, loss);
        }
        for (List<Variable> group : l2.values()) {
            List<Tensor> xs = group.stream().map(Variable::value).toList();
            double[] d = group.stream().mapToDouble(v -> v.regularizer().weightDecay()).toArray();
            Var sum = Var.constant(Backends.kernels(xs.get(0), ReduceKernels.class).l2LossSum(xs, d));
            total = total == null ? sum : ElementwiseOps.add(total, sum);
        }
        return total;
    }

    /**
     * The trainable variables whose regulariser has a {@link Regularizer#weightDecay()}, with it: the
     * gradient term d · w that {@link #regularizationLoss(boolean) regularizationLoss(true)} leaves to
     * the optimizer.
     */
    public Map<Var, Double> weightDecays() {
        Map<Var, Double> out = new IdentityHashMap<>();
        for (Variable v : variables.values()) {
            if (v.trainable() && v.regularizer() != null && v.regularizer().weightDecay() != 0) {
                out.put(v.var(), v.regularizer().weightDecay());
            }
        }
        return out;
    }

    /** Releases every variable's value and gradient. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Variable v : variables.values()) {
            v.var().zeroGrad();
            v.value().close();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("variable store is closed");
    }

    /** A per-variable seed: the store seed mixed with a 64-bit FNV-1a hash of the name. */
    static long variableSeed(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(seed ^ mix(h));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
