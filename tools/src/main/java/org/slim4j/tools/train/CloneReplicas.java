package org.slim4j.tools.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.optim.Optimizer;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetworkFn;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Tensor;

/**
 * Model clones on devices other than the variables' own (--num_clones over several GPUs: TF-Slim's
 * model_deploy with one clone per GPU). Every such device holds a replica of every variable of the
 * master store, refreshed from it before each step; a clone's forward and backward run on its
 * device's replica, and its gradients are then added into the master variables' gradients on the
 * master device, where the one optimizer update runs. The clone losses are scaled by 1/num_clones,
 * so the summed gradients are the clones' average, as TF-Slim's. Only the first clone (on the
 * master device) applies the regularisation losses and keeps its batch-norm statistics updates;
 * a replica's are overwritten by the next refresh. Copies between GPUs are peer copies
 * ({@code Tensor.copyFrom} / {@code toDevice}: cuMemcpyPeer), each synchronous.
 */
final class CloneReplicas implements AutoCloseable {
    /** One device's replica: its store, a TrainStep over it, and (master, replica) variable pairs. */
    private record Replica(VariableStore store, TrainStep step, List<Variable[]> pairs) {
    }

    private final VariableStore master;
    private final Map<Device, Replica> replicas = new LinkedHashMap<>();

    /**
     * Replicas of {@code master} (whose variables {@code NetRunner.createVariables} made with these
     * arguments) on each device of {@code devices} other than the master's.
     */
    CloneReplicas(NetworkFn fn, VariableStore master, List<Device> devices, long seed, int numClasses, double weightDecay,
                  double labelSmoothing, int numClones, int imageSize, int channels, Optimizer optimizer) {
        this.master = master;
        try {
            for (Device d : devices) {
                if (d == master.device() || replicas.containsKey(d)) continue;
                VariableStore store = new VariableStore(seed, d);
                try {
                    NetRunner.createVariables(fn, store, numClasses, weightDecay, imageSize, imageSize, channels, true);
                    List<Variable[]> pairs = new ArrayList<>();
                    for (Variable v : master.variables()) {
                        Variable r = store.get(v.name());
                        if (r == null || !r.shape().equals(v.shape())) {
                            throw new IllegalStateException("clone replica on " + d.name() + ": variable " + v.name() + " " + v.shape()
                                + (r == null ? " is missing" : " is " + r.shape()));
                        }
                        pairs.add(new Variable[] {v, r});
                    }
                    TrainStep step = new TrainStep(fn, store, numClasses, weightDecay, labelSmoothing, numClones, optimizer,
                        store.trainableVars());
                    replicas.put(d, new Replica(store, step, pairs));
                } catch (RuntimeException e) {
                    store.close();
                    throw e;
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Devices that hold a replica. */
    List<Device> devices() {
        return List.copyOf(replicas.keySet());
    }

    /** The TrainStep of a clone on {@code device}: the master's own {@code masterStep} on the master device. */
    TrainStep step(Device device, TrainStep masterStep) {
        if (device == master.device()) return masterStep;
        Replica r = replicas.get(device);
        if (r == null) throw new IllegalArgumentException("no clone replica on " + device.name());
        return r.step();
    }

    /** Copies every master variable's value into each replica (before a step's clones run). */
    void refresh() {
        for (Replica r : replicas.values()) {
            for (Variable[] p : r.pairs()) p[1].value().copyFrom(p[0].value());
        }
    }

    /**
     * Adds the gradients the clone on {@code device} left in its replica into the master variables'
     * gradients (on the master device) and clears the replica's.
     */
    void gatherGradients(Device device) {
        Replica r = replicas.get(device);
        if (r == null) return;
        for (Variable[] p : r.pairs()) {
            Var rv = p[1].var();
            Tensor g = rv.grad();
            if (g == null) continue;
            Var mv = p[0].var();
            if (mv.requiresGrad()) mv.accumulateGrad(g.toDevice(master.device()));
            rv.zeroGrad();
        }
    }

    /** Drops every replica's gradients (a step that failed half-way). */
    void zeroGrad() {
        for (Replica r : replicas.values()) r.step().zeroGrad();
    }

    @Override
    public void close() {
        for (Replica r : replicas.values()) {
            r.step().zeroGrad();
            r.store().close();
        }
        replicas.clear();
    }
}
