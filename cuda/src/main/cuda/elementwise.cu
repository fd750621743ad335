// Elementwise kernels (ElementwiseKernels): binary ops with NumPy/TensorFlow broadcasting, unary
// activations and their gradients, and the scalar/in-place updates (affine, pow, axpy, scale,
// fill). All operands are contiguous float32 arrays.
//
// Op codes are the ordinals of the Java enums org.slim4j.kernels.BinaryOp / UnaryOp; the Java
// launcher passes op.ordinal(), and the emulated tests run every op against the CPU backend.
#include "common.cuh"

// BinaryOp
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_MAXIMUM 4
#define B_MINIMUM 5
#define B_SQUARED_DIFFERENCE 6

// UnaryOp
#define U_NEG 0
#define U_ABS 1
#define U_SQUARE 2
#define U_SQRT 3
#define U_RSQRT 4
#define U_EXP 5
#define U_LOG 6
#define U_RECIPROCAL 7
#define U_RELU 8
#define U_RELU6 9
#define U_SIGMOID 10
#define U_TANH 11

__device__ __forceinline__ float binary_op(int op, float a, float b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_MAXIMUM: return fmaxf(a, b);
        case B_MINIMUM: return fminf(a, b);
        default: {
            float d = a - b;
            return d * d;
        }
    }
}

// Broadcast geometry after the launcher's simplification (size-1 axes dropped, neighbours that
// both operands step through alike merged): output dims and each operand's element strides, 0 on
// broadcast axes. Passed by value (25 ints).
struct BroadcastGeom {
    int rank;
    int dims[SLIM4J_MAX_RANK];
    int strideA[SLIM4J_MAX_RANK];
    int strideB[SLIM4J_MAX_RANK];
};

// out[i] = a[i * sa] op b[i * sb], sa/sb in {0, 1}: equal shapes, or one operand a scalar.
extern "C" __global__ void binary_flat_f32(int op, int n, float* __restrict__ out, const float* __restrict__ a, int sa,
                                           const float* __restrict__ b, int sb) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = binary_op(op, a[i * sa], b[i * sb]);
    }
}

// General broadcasting: each output element finds its operands through its multi-index.
extern "C" __global__ void binary_broadcast_f32(int op, int n, float* __restrict__ out, const float* __restrict__ a,
                                                const float* __restrict__ b, BroadcastGeom g) {
    GRID_STRIDE_LOOP(i, n) {
        unsigned int rem = i;
        int ia = 0, ib = 0;
        // Fully unrolled with constant indices, so the struct stays in parameter space (a loop over
        // g.rank would index it dynamically and copy it to local memory).
#pragma unroll
        for (int ax = SLIM4J_MAX_RANK - 1; ax >= 0; ax--) {
            if (ax < g.rank) {
                int idx = rem % (unsigned int)g.dims[ax];
                rem /= (unsigned int)g.dims[ax];
                ia += idx * g.strideA[ax];
                ib += idx * g.strideB[ax];
            }
        }
        out[i] = binary_op(op, a[ia], b[ib]);
    }
}

__device__ __forceinline__ float unary_op(int op, float x) {
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return fabsf(x);
        case U_SQUARE: return x * x;
        case U_SQRT: return sqrtf(x);
        case U_RSQRT: return 1.0f / sqrtf(x);  // both steps correctly rounded, like TensorFlow
        case U_EXP: return expf(x);
        case U_LOG: return logf(x);
        case U_RECIPROCAL: return 1.0f / x;
        case U_RELU: return fmaxf(x, 0.f);
        case U_RELU6: return fminf(fmaxf(x, 0.f), 6.f);
        case U_SIGMOID: return 1.0f / (1.0f + expf(-x));
        default: return tanhf(x);
    }
}

extern "C" __global__ void unary_f32(int op, int n, float* __restrict__ y, const float* __restrict__ x) {
    GRID_STRIDE_LOOP(i, n) {
        y[i] = unary_op(op, x[i]);
    }
}

// dx = d op / d input * dy. v is the op's input x or its output y, as TensorFlow's gradient uses:
// y for SIGMOID, TANH, EXP, SQRT, RSQRT, RECIPROCAL; x for the others; NEG reads neither.
__device__ __forceinline__ float unary_grad_op(int op, float t, float g) {
    switch (op) {
        case U_NEG: return -g;
        case U_RELU: return t > 0.f ? g : 0.f;
        case U_RELU6: return (t > 0.f && t < 6.f) ? g : 0.f;
        case U_SIGMOID: return g * t * (1.f - t);
        case U_TANH: return g * (1.f - t * t);
        case U_EXP: return g * t;
        case U_LOG: return g / t;
        case U_SQRT: return g * 0.5f / t;
        case U_RSQRT: return g * -0.5f * (t * t * t);
        case U_SQUARE: return 2.f * t * g;
        case U_ABS: return (t > 0.f ? 1.f : (t < 0.f ? -1.f : 0.f)) * g;
        default: return -g * (t * t);  // RECIPROCAL
    }
}

extern "C" __global__ void unary_grad_f32(int op, int n, float* __restrict__ dx, const float* __restrict__ v,
                                          const float* __restrict__ dy) {
    GRID_STRIDE_LOOP(i, n) {
        dx[i] = unary_grad_op(op, op == U_NEG ? 0.f : v[i], dy[i]);
    }
}

// y = act(a + b): ResNet's relu(shortcut + residual) in one pass (ElementwiseKernels.addActivation).
extern "C" __global__ void add_act_f32(int act, int n, float* __restrict__ y, const float* __restrict__ a, const float* __restrict__ b) {
    GRID_STRIDE_LOOP(i, n) {
        y[i] = unary_op(act, a[i] + b[i]);
    }
}

// y = x * scale + shift
extern "C" __global__ void affine_f32(int n, float* __restrict__ y, const float* __restrict__ x, float scale, float shift) {
    GRID_STRIDE_LOOP(i, n) {
        y[i] = x[i] * scale + shift;
    }
}

// y = x ^ e (x * x exactly when e == 2)
extern "C" __global__ void pow_f32(int n, float* __restrict__ y, const float* __restrict__ x, float e) {
    GRID_STRIDE_LOOP(i, n) {
        float v = x[i];
        y[i] = e == 2.f ? v * v : powf(v, e);
    }
}

// dst += alpha * src (in place)
extern "C" __global__ void axpy_f32(int n, float* __restrict__ dst, const float* __restrict__ src, float alpha) {
    GRID_STRIDE_LOOP(i, n) {
        dst[i] += alpha * src[i];
    }
}

// moving -= (1 - decay) * (moving - factor * batch), as affine, SUB and axpy_f32 compute it in a
// row (alpha = -(1 - decay)): batch norm's moving statistics in one launch instead of three.
extern "C" __global__ void moving_average_f32(int n, float* __restrict__ moving, const float* __restrict__ batch, float factor,
                                              float alpha) {
    GRID_STRIDE_LOOP(i, n) {
        float value = factor == 1.f ? batch[i] : batch[i] * factor + 0.f;  // affine_f32's product (no affine when 1)
        float delta = moving[i] - value;
        moving[i] += alpha * delta;
    }
}

// dst *= factor (in place)
extern "C" __global__ void scale_f32(int n, float* __restrict__ dst, float factor) {
    GRID_STRIDE_LOOP(i, n) {
        dst[i] *= factor;
    }
}

// dst = value (in place)
extern "C" __global__ void fill_f32(int n, float* __restrict__ dst, float value) {
    GRID_STRIDE_LOOP(i, n) {
        dst[i] = value;
    }
}

// ---- float4 variants ----------------------------------------------------------------------------
// The same per-element formulas, four elements a step (VEC4_LOOP, common.cuh), for full runs whose
// pointers are all 16-byte aligned: one 16-byte load or store per operand instead of four.

// binary_flat_f32 with both operands full runs (sa = sb = 1).
extern "C" __global__ void binary_vec4_f32(int op, int n, float* __restrict__ out, const float* __restrict__ a,
                                           const float* __restrict__ b) {
    VEC4_LOOP(q, n) {
        float4 x = LOAD4(a, q), y = LOAD4(b, q);
        STORE4(out, q, make_float4(binary_op(op, x.x, y.x), binary_op(op, x.y, y.y), binary_op(op, x.z, y.z), binary_op(op, x.w, y.w)));
    }
    VEC4_TAIL(i, n) out[i] = binary_op(op, a[i], b[i]);
}

extern "C" __global__ void unary_vec4_f32(int op, int n, float* __restrict__ y, const float* __restrict__ x) {
    VEC4_LOOP(q, n) {
        float4 v = LOAD4(x, q);
        STORE4(y, q, make_float4(unary_op(op, v.x), unary_op(op, v.y), unary_op(op, v.z), unary_op(op, v.w)));
    }
    VEC4_TAIL(i, n) y[i] = unary_op(op, x[i]);
}

// v must be a valid run for every op here (NEG: the launcher passes dy).
extern "C" __global__ void unary_grad_vec4_f32(int op, int n, float* __restrict__ dx, const float* __restrict__ v,
                                               const float* __restrict__ dy) {
    VEC4_LOOP(q, n) {
        float4 t = LOAD4(v, q), g = LOAD4(dy, q);
        STORE4(dx, q, make_float4(unary_grad_op(op, t.x, g.x), unary_grad_op(op, t.y, g.y), unary_grad_op(op, t.z, g.z),
                                  unary_grad_op(op, t.w, g.w)));
    }
    VEC4_TAIL(i, n) dx[i] = unary_grad_op(op, v[i], dy[i]);
}

extern "C" __global__ void add_act_vec4_f32(int act, int n, float* __restrict__ y, const float* __restrict__ a,
                                            const float* __restrict__ b) {
    VEC4_LOOP(q, n) {
        float4 x = LOAD4(a, q), z = LOAD4(b, q);
        STORE4(y, q, make_float4(unary_op(act, x.x + z.x), unary_op(act, x.y + z.y), unary_op(act, x.z + z.z), unary_op(act, x.w + z.w)));
    }
    VEC4_TAIL(i, n) y[i] = unary_op(act, a[i] + b[i]);
}

extern "C" __global__ void axpy_vec4_f32(int n, float* __restrict__ dst, const float* __restrict__ src, float alpha) {
    VEC4_LOOP(q, n) {
        float4 d = LOAD4(dst, q), v = LOAD4(src, q);
        STORE4(dst, q, make_float4(d.x + alpha * v.x, d.y + alpha * v.y, d.z + alpha * v.z, d.w + alpha * v.w));
    }
    VEC4_TAIL(i, n) dst[i] += alpha * src[i];
}
