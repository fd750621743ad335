package org.slim4j.kernels;

import java.util.List;
import org.slim4j.tensor.Tensor;

/** Copies that rearrange data: concat, split, pad, slice, transpose. Any dtype. */
public interface ShapeKernels {
    Tensor concat(List<Tensor> values, int axis);

    /** Splits along {@code axis} into pieces of the given sizes (which must add up to the axis size). */
    List<Tensor> split(Tensor x, int axis, int[] sizes);

    /** Pads with {@code value}; paddings[d] = {before, after} for each dimension d. */
    Tensor pad(Tensor x, int[][] paddings, double value);

    /** The box x[begin[d] : begin[d] + size[d]] for each dimension d. */
    Tensor slice(Tensor x, int[] begin, int[] size);

    /** Permutes axes: output dimension i is input dimension perm[i]. */
    Tensor transpose(Tensor x, int[] perm);
}
