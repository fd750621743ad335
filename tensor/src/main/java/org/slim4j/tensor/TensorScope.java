package org.slim4j.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Deterministic release of tensors: every tensor created on this thread while a scope is open is
 * closed when the scope closes, unless {@link #keep kept}. Scopes nest; a kept tensor moves to the
 * enclosing scope (or becomes unscoped). Typical use: one scope per training step.
 */
public final class TensorScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<TensorScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Map<Tensor, Boolean> tracked = new IdentityHashMap<>();
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    private TensorScope() {
    }

    public static TensorScope open() {
        TensorScope s = new TensorScope();
        STACK.get().push(s);
        return s;
    }

    static void track(Tensor t) {
        TensorScope s = STACK.get().peek();
        if (s != null) s.tracked.put(t, Boolean.TRUE);
    }

    /** Excludes {@code t} from this scope's release; it joins the enclosing scope if there is one. */
    public Tensor keep(Tensor t) {
        if (tracked.remove(t) != null) {
            ArrayDeque<TensorScope> stack = STACK.get();
            boolean passedSelf = false;
            for (TensorScope s : stack) {
                if (passedSelf) {
                    s.tracked.put(t, Boolean.TRUE);
                    break;
                }
                if (s == this) passedSelf = true;
            }
        }
        return t;
    }

    /**
     * Removes {@code t} from every scope of this thread, so that only an explicit close releases it
     * (for long-lived tensors such as parameters and their gradients, created inside a step).
     */
    public static Tensor escape(Tensor t) {
        for (TensorScope s : STACK.get()) s.tracked.remove(t);
        return t;
    }

    public int size() {
        return tracked.size();
    }

    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) throw new IllegalStateException("TensorScope closed on a different thread");
        closed = true;
        ArrayDeque<TensorScope> stack = STACK.get();
        stack.remove(this);
        List<Tensor> ts = new ArrayList<>(tracked.keySet());
        tracked.clear();
        for (Tensor t : ts) t.close();
    }
}
