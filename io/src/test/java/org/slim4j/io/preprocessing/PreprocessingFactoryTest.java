package org.slim4j.io.preprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PreprocessingFactoryTest {
    /** TF-Slim's preprocessing_fn_map (slim-spec §7.1). */
    private static final Map<String, List<String>> TABLE = Map.of(
            "cifarnet", List.of("cifarnet"),
            "inception", List.of("inception", "inception_v1", "inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2",
                    "mobilenet_v1", "mobilenet_v2", "mobilenet_v2_035", "mobilenet_v2_140", "nasnet_mobile", "nasnet_large",
                    "pnasnet_mobile", "pnasnet_large"),
            "lenet", List.of("lenet"),
            "vgg", List.of("resnet_v1_50", "resnet_v1_101", "resnet_v1_152", "resnet_v1_200", "resnet_v2_50", "resnet_v2_101",
                    "resnet_v2_152", "resnet_v2_200", "vgg", "vgg_a", "vgg_16", "vgg_19"));

    private static final Map<String, Class<?>> CLASSES = Map.of(
            "cifarnet", CifarNetPreprocessing.class,
            "inception", InceptionPreprocessing.class,
            "lenet", LeNetPreprocessing.class,
            "vgg", VggPreprocessing.class);

    @Test
    void mapsEveryTfSlimName() {
        int count = 0;
        for (Map.Entry<String, List<String>> e : TABLE.entrySet()) {
            for (String name : e.getValue()) {
                for (boolean training : new boolean[] {true, false}) {
                    ImagePreprocessor p = PreprocessingFactory.get(name, training);
                    assertInstanceOf(CLASSES.get(e.getKey()), p, name);
                    assertEquals(e.getKey(), p.name(), name);
                    assertEquals(training, p.isTraining(), name);
                }
                assertEquals(e.getKey(), PreprocessingFactory.moduleOf(name));
                count++;
            }
        }
        // Exactly these names, no more.
        assertEquals(count, PreprocessingFactory.names().size());
        assertEquals(Set.copyOf(TABLE.get("vgg")), PreprocessingFactory.modules().get("vgg"));
    }

    @Test
    void inceptionDefaultsToFastMode() {
        assertTrue(((InceptionPreprocessing) PreprocessingFactory.get("inception_v3", true)).fastMode());
    }

    @Test
    void unknownNamesAreRejectedWithTheKnownOnes() {
        for (String name : new String[] {"alexnet_v2", "overfeat", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025",
            "nasnet_cifar", "Inception_v3", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreprocessingFactory.get(name, false));
            assertTrue(e.getMessage().contains("Preprocessing name [" + name + "] was not recognized"), e.getMessage());
            assertTrue(e.getMessage().contains("inception_v3") && e.getMessage().contains("vgg_16") && e.getMessage().contains("lenet"),
                    e.getMessage());
            assertFalse(PreprocessingFactory.names().contains(name));
        }
        assertThrows(IllegalArgumentException.class, () -> PreprocessingFactory.get(null, true));
    }
}
