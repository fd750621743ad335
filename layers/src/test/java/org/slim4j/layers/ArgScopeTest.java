package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.PADDING;
import static org.slim4j.layers.Arg.STRIDE;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.keepProb;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.AVG_POOL2D;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.MAX_POOL2D;

import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.tensor.DType;

class ArgScopeTest {
    @Test
    void scopeGivesDefaultsOnlyToListedKinds() {
        try (var s = ArgScope.of(CONV2D, FULLY_CONNECTED).set(activationFn(Activation.RELU6)).open()) {
            assertSame(Activation.RELU6, ArgScope.resolve(CONV2D).get(Arg.ACTIVATION_FN, null));
            assertSame(Activation.RELU6, ArgScope.resolve(FULLY_CONNECTED).get(Arg.ACTIVATION_FN, null));
            assertFalse(ArgScope.resolve(Layers.BATCH_NORM).has(Arg.ACTIVATION_FN));
        }
        assertFalse(ArgScope.resolve(CONV2D).has(Arg.ACTIVATION_FN), "closed scope must not leak");
    }

    @Test
    void innerScopeWinsAndOuterComesBack() {
        try (var outer = ArgScope.of(CONV2D, MAX_POOL2D).set(padding(VALID), stride(2)).open()) {
            try (var inner = ArgScope.of(CONV2D).set(padding(SAME)).open()) {
                assertEquals(SAME, ArgScope.resolve(CONV2D).get(PADDING, null));
                // inner did not mention stride: the outer value stays
                assertArrayEquals(new int[] {2, 2}, ArgScope.resolve(CONV2D).get(STRIDE, null));
                // inner only listed conv2d: max_pool2d keeps the outer padding
                assertEquals(VALID, ArgScope.resolve(MAX_POOL2D).get(PADDING, null));
            }
            assertEquals(VALID, ArgScope.resolve(CONV2D).get(PADDING, null));
        }
    }

    @Test
    void explicitArgumentsOverrideEveryScope() {
        try (var s = ArgScope.of(CONV2D).set(padding(VALID), activationFn(Activation.RELU6)).open()) {
            Args a = ArgScope.resolve(CONV2D, padding(SAME), activationFn(null));
            assertEquals(SAME, a.get(PADDING, VALID));
            assertTrue(a.has(Arg.ACTIVATION_FN));
            assertNull(a.get(Arg.ACTIVATION_FN, Activation.RELU), "explicit None must stay None, not fall back");
        }
    }

    @Test
    void savedScopesNestLikeTfSlimArgScopeFunctions() {
        // with arg_scope([conv2d, fc], activation_fn=relu, weights_regularizer=l2): with arg_scope([conv2d], padding='SAME') as sc
        Regularizer l2 = Regularizers.l2(0.0005);
        ArgScope sc = ArgScope.of(CONV2D, FULLY_CONNECTED).set(activationFn(Activation.RELU), weightsRegularizer(l2))
            .nest(ArgScope.of(CONV2D).set(padding(SAME)));
        assertEquals(SAME, sc.defaultsFor(CONV2D).get(PADDING, null));
        assertSame(l2, sc.defaultsFor(CONV2D).get(Arg.WEIGHTS_REGULARIZER, null));
        assertSame(l2, sc.defaultsFor(FULLY_CONNECTED).get(Arg.WEIGHTS_REGULARIZER, null));
        assertFalse(sc.defaultsFor(FULLY_CONNECTED).has(PADDING));
        assertFalse(ArgScope.resolve(CONV2D).has(PADDING), "building a scope must not activate it");
        try (var o = sc.open()) {
            assertEquals(SAME, ArgScope.resolve(CONV2D).get(PADDING, null));
            assertSame(Activation.RELU, ArgScope.resolve(FULLY_CONNECTED).get(Arg.ACTIVATION_FN, null));
        }
    }

    @Test
    void unknownArgumentsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ArgScope.of(CONV2D, DROPOUT).set(padding(SAME)));
        assertTrue(e.getMessage().contains("dropout") && e.getMessage().contains("padding"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ArgScope.resolve(CONV2D, keepProb(0.5)));
        assertEquals("conv2d() got an unexpected keyword argument 'keep_prob'", e.getMessage());
    }

    @Test
    void scopesMustCloseInOrder() {
        ArgScope.Opened a = ArgScope.of(AVG_POOL2D).set(padding(SAME)).open();
        ArgScope.Opened b = ArgScope.of(AVG_POOL2D).set(padding(VALID)).open();
        assertThrows(IllegalStateException.class, a::close);
        b.close();
        a.close();
        assertFalse(ArgScope.resolve(AVG_POOL2D).has(PADDING));
    }

    @Test
    void customKindsTakeTheirOwnArguments() {
        Arg<Double> scaleArg = Arg.key("scale", Double.class);
        LayerKind block = LayerKind.of("block35", scaleArg, Arg.OUTPUTS_COLLECTIONS);
        try (var s = ArgScope.of(block).set(scaleArg.is(0.17)).open()) {
            assertEquals(0.17, ArgScope.resolve(block).get(scaleArg, 1.0));
            assertEquals(0.2, ArgScope.resolve(block, scaleArg.is(0.2)).get(scaleArg, 1.0));
        }
        assertThrows(IllegalArgumentException.class, () -> ArgScope.of(block).set(padding(SAME)));
    }

    @Test
    void layersReadTheActiveScope() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = MetaDevice.placeholder(DType.FLOAT32, 2, 9, 9, 3);
            try (var s = ArgScope.of(CONV2D, MAX_POOL2D).set(padding(VALID)).open()) {
                assertArrayEquals(new int[] {2, 7, 7, 4}, Layers.conv2d(x, 4, 3, "a").value().dims());
                assertArrayEquals(new int[] {2, 9, 9, 4}, Layers.conv2d(x, 4, 3, "b", padding(SAME)).value().dims());
                assertArrayEquals(new int[] {2, 4, 4, 3}, Layers.maxPool2d(x, 3, "p").value().dims());
            }
            assertArrayEquals(new int[] {2, 9, 9, 4}, Layers.conv2d(x, 4, 3, "c").value().dims(), "conv2d default padding is SAME");
        }
    }
}
