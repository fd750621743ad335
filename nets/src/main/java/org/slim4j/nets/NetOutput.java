package org.slim4j.nets;

import org.slim4j.autograd.Var;
import org.slim4j.layers.EndPoints;

/**
 * What a network function returns: TF-Slim's {@code (net, end_points)}. {@code logits} is the
 * logits (squeezed to [N, num_classes] when spatial_squeeze applies), or the pre-logits features
 * when the network was built with num_classes 0.
 */
public record NetOutput(Var logits, EndPoints endPoints) {
}
