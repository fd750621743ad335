// Optimizer updates (OptimizerKernels): TensorFlow's Apply* rules, one fused in-place pass per
// variable; var, slots and grad are float32 arrays of n elements. Each element reads and writes only
// itself, so the kernels are plain grid-stride loops. Hyper-parameters arrive as float (Adam's
// bias-corrected step size is computed by the launcher in double).
#include "multi_tensor.cuh"

// var -= lr * grad
extern "C" __global__ void apply_sgd_f32(int n, float* __restrict__ var, const float* __restrict__ grad, float lr) {
    GRID_STRIDE_LOOP(i, n) {
        var[i] -= lr * grad[i];
    }
}

// g = grad + weight_decay * var (an L2 regulariser's gradient folded in); accum = momentum * accum + g;
// var -= lr * accum (Nesterov: lr * (g + momentum * accum))
__device__ __forceinline__ void momentum_step(float* __restrict__ var, float* __restrict__ accum, const float* __restrict__ grad,
                                              unsigned int i, float lr, float momentum, int nesterov, float weight_decay) {
    float w = var[i];
    float g = weight_decay != 0.f ? grad[i] + weight_decay * w : grad[i];  // 0 * inf would be NaN
    float a = momentum * accum[i] + g;
    accum[i] = a;
    var[i] = w - (nesterov ? lr * (g + momentum * a) : lr * a);
}

extern "C" __global__ void apply_momentum_f32(int n, float* __restrict__ var, float* __restrict__ accum,
                                              const float* __restrict__ grad, float lr, float momentum, int nesterov,
                                              float weight_decay) {
    GRID_STRIDE_LOOP(i, n) {
        momentum_step(var, accum, grad, i, lr, momentum, nesterov, weight_decay);
    }
}

// apply_momentum_f32 on every tensor of a table (multi_tensor.cuh): entry pointers var, accum, grad,
// param the weight decay. The same arithmetic, one launch for all of a model's variables.
extern "C" __global__ void apply_momentum_multi_f32(int count, const TensorEntry* __restrict__ table, float lr, float momentum,
                                                    int nesterov) {
    const TensorEntry& e = table[multi_entry(table, count, blockIdx.x)];
    float* var = reinterpret_cast<float*>(e.ptr[0]);
    float* accum = reinterpret_cast<float*>(e.ptr[1]);
    const float* grad = reinterpret_cast<const float*>(e.ptr[2]);
    unsigned int start = (unsigned int)(blockIdx.x - e.first_block) * MULTI_CHUNK;
    unsigned int end = min((unsigned int)e.n, start + MULTI_CHUNK);
    for (unsigned int i = start + threadIdx.x; i < end; i += blockDim.x) {
        momentum_step(var, accum, grad, i, lr, momentum, nesterov, e.param);
    }
}

// Dynamic loss scaling's unscale-and-check over a table of gradients (multi_tensor.cuh, ptr[0] the
// gradient): g *= inv_scale in place, and *found = 1 when an element is NaN or infinite before or
// after (every writer stores the same 1, so the race is harmless; the launcher zeroes *found).
extern "C" __global__ void unscale_multi_f32(int count, const TensorEntry* __restrict__ table, float inv_scale,
                                             float* __restrict__ found) {
    const TensorEntry& e = table[multi_entry(table, count, blockIdx.x)];
    float* g = reinterpret_cast<float*>(e.ptr[0]);
    unsigned int start = (unsigned int)(blockIdx.x - e.first_block) * MULTI_CHUNK;
    unsigned int end = min((unsigned int)e.n, start + MULTI_CHUNK);
    bool bad = false;
    for (unsigned int i = start + threadIdx.x; i < end; i += blockDim.x) {
        float v = g[i], u = v * inv_scale;
        bad |= !(fabsf(v) <= 3.402823466e38f) || !(fabsf(u) <= 3.402823466e38f);  // false for NaN too
        g[i] = u;
    }
    if (bad) *found = 1.f;
}

// m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); var -= alpha * m / (sqrt(v) + eps),
// alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
extern "C" __global__ void apply_adam_f32(int n, float* __restrict__ var, float* __restrict__ m, float* __restrict__ v,
                                          const float* __restrict__ grad, float alpha, float beta1, float beta2,
                                          float epsilon) {
    GRID_STRIDE_LOOP(i, n) {
        float g = grad[i];
        float mi = m[i] + (g - m[i]) * (1.f - beta1);
        float vi = v[i] + (g * g - v[i]) * (1.f - beta2);
        m[i] = mi;
        v[i] = vi;
        var[i] -= alpha * mi / (sqrtf(vi) + epsilon);
    }
}

// accum += g^2; var -= lr * g / sqrt(accum)
extern "C" __global__ void apply_adagrad_f32(int n, float* __restrict__ var, float* __restrict__ accum,
                                             const float* __restrict__ grad, float lr) {
    GRID_STRIDE_LOOP(i, n) {
        float g = grad[i];
        float a = accum[i] + g * g;
        accum[i] = a;
        var[i] -= lr * g / sqrtf(a);
    }
}

// accum = rho accum + (1 - rho) g^2; update = sqrt(accumUpdate + eps) / sqrt(accum + eps) * g;
// accumUpdate = rho accumUpdate + (1 - rho) update^2; var -= lr * update
extern "C" __global__ void apply_adadelta_f32(int n, float* __restrict__ var, float* __restrict__ accum,
                                              float* __restrict__ accumUpdate, const float* __restrict__ grad, float lr,
                                              float rho, float epsilon) {
    GRID_STRIDE_LOOP(i, n) {
        float g = grad[i];
        float a = rho * accum[i] + (1.f - rho) * g * g;
        float au = accumUpdate[i];
        float update = sqrtf(au + epsilon) / sqrtf(a + epsilon) * g;
        accum[i] = a;
        accumUpdate[i] = rho * au + (1.f - rho) * update * update;
        var[i] -= lr * update;
    }
}

// ms += (g^2 - ms)(1 - decay); mom = momentum mom + lr g / sqrt(ms + eps); var -= mom
extern "C" __global__ void apply_rmsprop_f32(int n, float* __restrict__ var, float* __restrict__ ms, float* __restrict__ mom,
                                             const float* __restrict__ grad, float lr, float decay, float momentum,
                                             float epsilon) {
    GRID_STRIDE_LOOP(i, n) {
        float g = grad[i];
        float s = ms[i] + (g * g - ms[i]) * (1.f - decay);
        float mo = momentum * mom[i] + lr * g / sqrtf(s + epsilon);
        ms[i] = s;
        mom[i] = mo;
        var[i] -= mo;
    }
}

// FTRL-proximal (TF ApplyFtrl): accumNew = accum + g^2;
// linear += g - (accumNew^-p - accum^-p) / lr * var; quadratic = accumNew^-p / lr + 2 l2;
// var = |linear| > l1 ? (sign(linear) l1 - linear) / quadratic : 0; accum = accumNew.
extern "C" __global__ void apply_ftrl_f32(int n, float* __restrict__ var, float* __restrict__ accum,
                                          float* __restrict__ linear, const float* __restrict__ grad, float lr, float l1,
                                          float l2, float lrPower) {
    GRID_STRIDE_LOOP(i, n) {
        float g = grad[i];
        float a = accum[i];
        float aNew = a + g * g;
        float powNew = powf(aNew, -lrPower);
        float powOld = powf(a, -lrPower);
        float lin = linear[i] + g - (powNew - powOld) / lr * var[i];
        float quadratic = powNew / lr + 2.f * l2;
        float sign = lin > 0.f ? 1.f : (lin < 0.f ? -1.f : 0.f);
        var[i] = fabsf(lin) > l1 ? (sign * l1 - lin) / quadratic : 0.f;
        accum[i] = aNew;
        linear[i] = lin;
    }
}

// shadow -= (1 - decay) * (shadow - var)
extern "C" __global__ void apply_moving_average_f32(int n, float* __restrict__ shadow, const float* __restrict__ var,
                                                    float decay) {
    GRID_STRIDE_LOOP(i, n) {
        shadow[i] -= (1.f - decay) * (shadow[i] - var[i]);
    }
}
