package org.slim4j.kernels.cpu;

/**
 * Names one prepared form of a convolution filter or GEMM weight for {@link
 * org.slim4j.kernels.FrozenWeights}: the layout ({@code kind}) and the shapes it was made for.
 * Two calls share a kept form only when all of these are equal.
 */
record FilterForm(String kind, int kh, int kw, int cin, int cout) {
}
