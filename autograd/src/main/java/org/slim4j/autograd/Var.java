package org.slim4j.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * A tensor that takes part in reverse-mode differentiation. Leaves are parameters (which collect
 * gradients) or constants; every op output remembers how it was made, so {@link #backward()} on a
 * scalar loss sends gradients back through the recorded graph. Gradients accumulate across
 * backward calls until {@link #zeroGrad()}.
 */
public final class Var {
    /** Computes the gradients of an op's inputs from the gradient of its output. */
    @FunctionalInterface
    public interface BackwardFn {
        /**
         * One entry per input, null for inputs that need no gradient. Returned tensors must be new
         * tensors the caller owns: fresh memory, or, for at most one entry, a view of {@code dy}'s
         * memory (a pass-through gradient costs no copy: the caller closes {@code dy} right after,
         * so the view is then the only holder and may be accumulated into in place).
         */
        Tensor[] apply(Tensor dy);
    }

    private static final class Node {
        final Var[] inputs;
        final BackwardFn backward;
        final List<Tensor> saved;

        Node(Var[] inputs, BackwardFn backward, List<Tensor> saved) {
            this.inputs = inputs;
            this.backward = backward;
            this.saved = saved;
        }
    }

    private final Tensor value;
    private final boolean requiresGrad;
    private final String name;
    private Node node;
    private Tensor grad;

    private Var(Tensor value, boolean requiresGrad, String name, Node node) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.name = name;
        this.node = node;
    }

    /** A leaf that collects gradients (a trainable variable). */
    public static Var param(Tensor value, String name) {
        return new Var(value, true, name, null);
    }

    /** A leaf that needs no gradient (inputs, labels, frozen weights). */
    public static Var constant(Tensor value) {
        return new Var(value, false, null, null);
    }

    /**
     * The output of an op. When grad mode is on and any input requires a gradient, the op is
     * recorded with {@code backward}; {@code saved} are tensors created only for the backward pass
     * and are released once it has run (or with the enclosing scope if it never does).
     */
    public static Var result(Tensor value, BackwardFn backward, List<Tensor> saved, Var... inputs) {
        boolean needs = false;
        if (GradMode.isEnabled()) {
            for (Var in : inputs) needs |= in != null && in.requiresGrad;
        }
        if (!needs) {
            for (Tensor t : saved) t.close();
            return new Var(value, false, null, null);
        }
        return new Var(value, true, null, new Node(inputs, backward, saved));
    }

    public static Var result(Tensor value, BackwardFn backward, Var... inputs) {
        return result(value, backward, List.of(), inputs);
    }

    public Tensor value() {
        return value;
    }

    /** The accumulated gradient of a leaf, or null before any backward pass reached it. */
    public Tensor grad() {
        return grad;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public boolean isLeaf() {
        return node == null;
    }

    public String name() {
        return name;
    }

    /**
     * Adds {@code g} (same shape, on this leaf's device; ownership passes to the leaf) to the
     * accumulated gradient, as a backward pass reaching this leaf would: how a gradient computed
     * elsewhere (a model clone's replica on another device) joins the variable's.
     */
    public void accumulateGrad(Tensor g) {
        if (!isLeaf()) throw new IllegalStateException("accumulateGrad: " + (name == null ? "the value" : name) + " is not a leaf");
        if (!g.shape().equals(value.shape()) || g.device() != value.device()) {
            throw new IllegalArgumentException("accumulateGrad: gradient " + g.shape() + " on " + g.device().name() + " for "
                    + (name == null ? "a value" : name) + " " + value.shape() + " on " + value.device().name());
        }
        accumulate(g);
    }

    /** Releases the accumulated gradient. */
    public void zeroGrad() {
        if (grad != null) {
            grad.close();
            grad = null;
        }
    }

    /** Backward from this scalar (one-element) value with an initial gradient of 1. */
    public void backward() {
        backward(1.0);
    }

    /**
     * Backward from this scalar (one-element) value with the initial gradient {@code seed}: the
     * gradients of seed times the value (a loss scaler's scaled loss).
     */
    public void backward(double seed) {
        if (value.numel() != 1) {
            throw new IllegalStateException("backward() needs a scalar loss, got shape " + value.shape() + "; pass an explicit gradient");
        }
        Tensor s = Tensor.fill(value.dtype(), value.shape(), seed);
        if (s.device() != value.device()) {
            Tensor host = s;
            s = host.toDevice(value.device());
            host.close();
        }
        backward(s);
        s.close();
    }

    /** Backward with an explicit upstream gradient of this value's shape (not consumed). */
    public void backward(Tensor seed) {
        if (!seed.shape().equals(value.shape())) {
            throw new IllegalArgumentException("backward seed shape " + seed.shape() + " != value shape " + value.shape());
        }
        if (!requiresGrad) throw new IllegalStateException("backward() on a value that does not depend on any parameter");
        List<Var> order = topologicalOrder();
        Map<Var, Tensor> pending = new IdentityHashMap<>();
        pending.put(this, seed.copy());
        for (Var v : order) {
            Tensor g = pending.remove(v);
            if (g == null) continue;
            if (v.node == null) {
                v.accumulate(g);
                continue;
            }
            Node n = v.node;
            Tensor[] gin = n.backward.apply(g);
            g.close();
            for (int i = 0; i < n.inputs.length; i++) {
                Var in = n.inputs[i];
                Tensor gi = gin[i];
                if (in == null || !in.requiresGrad) {
                    if (gi != null) gi.close();
                    continue;
                }
                if (gi == null) continue;
                if (!gi.shape().equals(in.value.shape())) {
                    throw new IllegalStateException("gradient of shape " + gi.shape() + " for an input of shape " + in.value.shape());
                }
                Tensor prev = pending.get(in);
                if (prev == null) {
                    pending.put(in, gi);
                } else if (prev.sharesStorage()) {
                    // A view of a gradient another input holds too (add hands both operands views of
                    // dy): summing into it would change that input's gradient as well.
                    pending.put(in, elementwise(prev).binary(BinaryOp.ADD, prev, gi));
                    prev.close();
                    gi.close();
                } else {
                    elementwise(prev).addInPlace(prev, gi, 1.0);
                    gi.close();
                }
            }
            for (Tensor t : n.saved) t.close();
            v.node = null;
        }
        for (Tensor t : pending.values()) t.close();
    }

    private void accumulate(Tensor g) {
        if (!requiresGrad) {
            g.close();
            return;
        }
        if (grad == null) {
            // A leaf's gradient is its own (optimizers and accumulation write into it): a view
            // another value's gradient shares is copied.
            if (g.sharesStorage()) {
                Tensor own = g.copy();
                g.close();
                g = own;
            }
            grad = TensorScope.escape(g);
        } else {
            elementwise(grad).addInPlace(grad, g, 1.0);
            g.close();
        }
    }

    private static ElementwiseKernels elementwise(Tensor t) {
        return Backends.kernels(t, ElementwiseKernels.class);
    }

    /** Outputs before inputs (reverse post-order of a DFS), iteratively so deep nets don't overflow. */
    private List<Var> topologicalOrder() {
        List<Var> post = new ArrayList<>();
        Set<Var> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {this, 0});
        visited.add(this);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Var v = (Var) frame[0];
            int i = (Integer) frame[1];
            Var[] ins = v.node == null ? new Var[0] : v.node.inputs;
            if (i < ins.length) {
                frame[1] = i + 1;
                Var in = ins[i];
                if (in != null && in.requiresGrad && visited.add(in)) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                post.add(v);
            }
        }
        Collections.reverse(post);
        return post;
    }

    @Override
    public String toString() {
        return "Var(" + (name != null ? name + ", " : "") + value + (requiresGrad ? ", requires_grad" : "") + ")";
    }

}
