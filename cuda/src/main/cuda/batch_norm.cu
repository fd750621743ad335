// Fused batch normalisation (BatchNormKernels), TensorFlow's FusedBatchNormV3 semantics over the
// last axis: x is [rows, c] (NHWC flattened), per-channel vectors are [c]; a null scale means 1 and
// a null offset means 0.
//
// Per-channel sums take two deterministic steps: bn_partial_f32 has one thread per (channel,
// slice of rows) — neighbouring threads read neighbouring channels, so loads coalesce — and writes
// float partials; a *_finish kernel (one thread per channel) adds a channel's partials in slice
// order in double and derives the per-channel coefficients. An elementwise pass then applies them.
//   training forward:  stats partials -> bn_stats_finish_f32 -> bn_apply_f32
//   inference forward: bn_coeffs_f32 -> bn_apply_f32
//   backward (both):   grad partials -> bn_grad_finish_f32 -> bn_backward_apply_f32
// The statistics are one-pass around a per-channel shift (the first row), which avoids the
// cancellation of sum(x^2) - rows * mean^2 when |mean| >> std; the variance is the biased one.
// With an activation (FusedBatchNormKernels; act 0 none, 1 relu, 2 relu6): bn_apply_f32 applies it,
// and the backward's partial and apply passes mask dy where it is flat, recomputing
// z = (x - mean) * a + b with the forward's own a, b (the "affine" [2][c]), so the mask matches the
// forward bit for bit: the same arithmetic as relu's gradient followed by the plain backward. With
// act 0, a and b are not read (may be null).
#include "common.cuh"

__device__ __forceinline__ float bn_activate(float z, int act) {
    if (act >= 1) z = fmaxf(z, 0.f);
    if (act == 2) z = fminf(z, 6.f);
    return z;
}

// dy where the activation passes z (relu: z > 0; relu6: 0 < z < 6), else 0: TF's ReluGrad / Relu6Grad.
__device__ __forceinline__ float bn_masked(float dy, float z, int act) {
    return z > 0.f && (act == 1 || z < 6.f) ? dy : 0.f;
}

// partial is [2][splits][c]. mode 0 (statistics): d = x - x[0, ch], sums d and d^2.
// mode 1 (gradients): sums g and g * (x - mean), g = dy masked by act. Grid: x covers channels, y the row slices.
extern "C" __global__ void bn_partial_f32(int rows, int c, int chunk, float* __restrict__ partial,
                                          const float* __restrict__ x, const float* __restrict__ dy,
                                          const float* __restrict__ mean, const float* __restrict__ a,
                                          const float* __restrict__ b, int act, int mode) {
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;  // no barriers below
    int splits = gridDim.y;
    int s = blockIdx.y;
    int r0 = s * chunk;
    int r1 = min(rows, r0 + chunk);
    float s1 = 0.f, s2 = 0.f;
    if (mode == 0) {
        float shift = rows > 0 ? x[ch] : 0.f;
        for (int r = r0; r < r1; r++) {
            float d = x[(size_t)r * c + ch] - shift;
            s1 += d;
            s2 += d * d;
        }
    } else {
        float m = mean[ch], ka = act ? a[ch] : 0.f, kb = act ? b[ch] : 0.f;
        for (int r = r0; r < r1; r++) {
            size_t p = (size_t)r * c + ch;
            float xm = x[p] - m;
            float g = dy[p];
            if (act) g = bn_masked(g, fmaf(xm, ka, kb), act);
            s1 += g;
            s2 += g * xm;
        }
    }
    partial[(size_t)s * c + ch] = s1;
    partial[((size_t)splits + s) * c + ch] = s2;
}

// Training statistics: mean, biased variance, and y = (x - mean) * a + b with a = scale / sqrt(var + eps), b = offset.
extern "C" __global__ void bn_stats_finish_f32(int rows, int c, int splits, const float* __restrict__ partial,
                                               const float* __restrict__ x, const float* __restrict__ scale,
                                               const float* __restrict__ offset, float epsilon, float* __restrict__ mean,
                                               float* __restrict__ variance, float* __restrict__ a, float* __restrict__ b) {
    GRID_STRIDE_LOOP(ch, c) {
        double s1 = 0.0, s2 = 0.0;
        for (int s = 0; s < splits; s++) {
            s1 += partial[(size_t)s * c + ch];
            s2 += partial[((size_t)splits + s) * c + ch];
        }
        double shift = rows > 0 ? x[ch] : 0.0;
        double m1 = s1 / rows;
        double var = s2 / rows - m1 * m1;
        var = var > 0.0 ? var : (var == var ? 0.0 : var);  // clamp rounding below zero, keep NaN
        mean[ch] = (float)(shift + m1);
        variance[ch] = (float)var;
        double sc = scale ? (double)scale[ch] : 1.0;
        a[ch] = (float)(sc / sqrt(var + (double)epsilon));
        b[ch] = offset ? offset[ch] : 0.f;
    }
}

// Inference coefficients from given statistics: a = scale / sqrt(var + eps), b = offset.
extern "C" __global__ void bn_coeffs_f32(int c, const float* __restrict__ scale, const float* __restrict__ offset,
                                         const float* __restrict__ variance, float epsilon, float* __restrict__ a,
                                         float* __restrict__ b) {
    GRID_STRIDE_LOOP(ch, c) {
        double sc = scale ? (double)scale[ch] : 1.0;
        a[ch] = (float)(sc / sqrt((double)variance[ch] + (double)epsilon));
        b[ch] = offset ? offset[ch] : 0.f;
    }
}

// y = act((x - mean[ch]) * a[ch] + b[ch])
extern "C" __global__ void bn_apply_f32(int n, int c, float* __restrict__ y, const float* __restrict__ x,
                                        const float* __restrict__ mean, const float* __restrict__ a,
                                        const float* __restrict__ b, int act) {
    GRID_STRIDE_LOOP(i, n) {
        int ch = i % (unsigned int)c;
        y[i] = bn_activate(fmaf(x[i] - mean[ch], a[ch], b[ch]), act);
    }
}

// bn_apply_f32 four channels a step: c % 4 == 0 and every pointer 16-byte aligned (the launcher
// checks), so a group of four elements shares one float4 of each coefficient; the same arithmetic.
extern "C" __global__ void bn_apply_vec4_f32(int n, int c, float* __restrict__ y, const float* __restrict__ x,
                                             const float* __restrict__ mean, const float* __restrict__ a,
                                             const float* __restrict__ b, int act) {
    unsigned int c4 = (unsigned int)c >> 2;
    VEC4_LOOP(q, n) {
        unsigned int k = q % c4;
        float4 v = LOAD4(x, q), m = LOAD4(mean, k), ka = LOAD4(a, k), kb = LOAD4(b, k);
        STORE4(y, q, make_float4(bn_activate(fmaf(v.x - m.x, ka.x, kb.x), act), bn_activate(fmaf(v.y - m.y, ka.y, kb.y), act),
                                 bn_activate(fmaf(v.z - m.z, ka.z, kb.z), act), bn_activate(fmaf(v.w - m.w, ka.w, kb.w), act)));
    }
}

// Gradient coefficients. doffset = sum(dy), dscale = sum(dy (x - mean)) * rstd, rstd = 1 / sqrt(var + eps).
// Training: dx = scale rstd (dy - sum(dy)/rows - (x - mean) rstd^2 sum(dy (x - mean))/rows), written as
// dx = ((x - mean) * negK2 + (dy - c0)) * k1; inference (statistics are constants): c0 = negK2 = 0.
extern "C" __global__ void bn_grad_finish_f32(int rows, int c, int splits, const float* __restrict__ partial,
                                              const float* __restrict__ scale, const float* __restrict__ variance,
                                              float epsilon, int training, float* __restrict__ dscale,
                                              float* __restrict__ doffset, float* __restrict__ k1, float* __restrict__ c0,
                                              float* __restrict__ negK2) {
    GRID_STRIDE_LOOP(ch, c) {
        double s1 = 0.0, s2 = 0.0;
        for (int s = 0; s < splits; s++) {
            s1 += partial[(size_t)s * c + ch];
            s2 += partial[((size_t)splits + s) * c + ch];
        }
        double rstd = 1.0 / sqrt((double)variance[ch] + (double)epsilon);
        double sc = scale ? (double)scale[ch] : 1.0;
        doffset[ch] = (float)s1;
        dscale[ch] = (float)(s2 * rstd);
        k1[ch] = (float)(sc * rstd);
        c0[ch] = training ? (float)(s1 / rows) : 0.f;
        negK2[ch] = training ? (float)(-rstd * rstd * s2 / rows) : 0.f;
    }
}

// One element of bn_backward_apply_f32.
__device__ __forceinline__ float bn_dx(float x, float dy, float m, float k1, float c0, float negK2, float a, float b, int act) {
    float xm = x - m;
    float g = act ? bn_masked(dy, fmaf(xm, a, b), act) : dy;
    return fmaf(xm, negK2, g - c0) * k1;
}

// dx = ((x - mean) * negK2 + (g - c0)) * k1, g = dy masked by act (as bn_partial_f32's).
extern "C" __global__ void bn_backward_apply_f32(int n, int c, float* __restrict__ dx, const float* __restrict__ dy,
                                                 const float* __restrict__ x, const float* __restrict__ mean,
                                                 const float* __restrict__ k1, const float* __restrict__ c0,
                                                 const float* __restrict__ negK2, const float* __restrict__ a,
                                                 const float* __restrict__ b, int act) {
    GRID_STRIDE_LOOP(i, n) {
        int ch = i % (unsigned int)c;
        dx[i] = bn_dx(x[i], dy[i], mean[ch], k1[ch], c0[ch], negK2[ch], act ? a[ch] : 0.f, act ? b[ch] : 0.f, act);
    }
}

// bn_backward_apply_f32 four channels a step (conditions as bn_apply_vec4_f32's; a, b read only with an activation).
extern "C" __global__ void bn_backward_apply_vec4_f32(int n, int c, float* __restrict__ dx, const float* __restrict__ dy,
                                                      const float* __restrict__ x, const float* __restrict__ mean,
                                                      const float* __restrict__ k1, const float* __restrict__ c0,
                                                      const float* __restrict__ negK2, const float* __restrict__ a,
                                                      const float* __restrict__ b, int act) {
    unsigned int c4 = (unsigned int)c >> 2;
    const float4 zero = make_float4(0.f, 0.f, 0.f, 0.f);
    VEC4_LOOP(q, n) {
        unsigned int k = q % c4;
        float4 v = LOAD4(x, q), g = LOAD4(dy, q), m = LOAD4(mean, k), p = LOAD4(k1, k), z = LOAD4(c0, k), r = LOAD4(negK2, k);
        float4 ka = act ? LOAD4(a, k) : zero, kb = act ? LOAD4(b, k) : zero;
        STORE4(dx, q, make_float4(bn_dx(v.x, g.x, m.x, p.x, z.x, r.x, ka.x, kb.x, act), bn_dx(v.y, g.y, m.y, p.y, z.y, r.y, ka.y, kb.y, act),
                                  bn_dx(v.z, g.z, m.z, p.z, z.z, r.z, ka.z, kb.z, act), bn_dx(v.w, g.w, m.w, p.w, z.w, r.w, ka.w, kb.w, act)));
    }
}
