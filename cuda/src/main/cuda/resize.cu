// Bilinear resizing (ResizeKernels), NHWC, TensorFlow's ResizeBilinear, its gradient and
// CropAndResize. Images are float32 or uint8 (read as 0..255), outputs float32.
//
// ResizeBilinear: output (oy, ox) samples the source point src = oy * scale (LEGACY, ALIGN_CORNERS
// with the launcher's scale) or (oy + 0.5) * scale - 0.5 (HALF_PIXEL); lo = max(floor(src), 0),
// hi = min(ceil(src), in - 1), lerp = src - floor(src); a pixel is top + (bottom - top) * yLerp with
// top / bottom lerped along x. The source coordinate is computed without FMA contraction, as
// TF's CPU kernel and the CPU backend round it. One thread per output element.
//
// The gradient is a gather: the launcher builds, per image row (column), the list of output rows
// (columns) that read it with their weights (CSR: start[h + 1], index[], weight[]), and each
// thread sums dy over the product of its row and column lists. No atomics, fixed order.
#include "common.cuh"

// a * b rounded once, never fused with a following add (the emulator's host code does not fuse).
#ifdef SLIM4J_EMU
__device__ __forceinline__ float mul_rn(float a, float b) { return a * b; }
#else
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
#endif

struct ResizeGeom {
    int n, h, w, c;
    int oh, ow;
    int halfPixel;
};

// Source cells (lo, hi) and the weight of hi of output index i along one axis.
__device__ __forceinline__ void resize_axis(int i, float scale, int halfPixel, int in, int& lo, int& hi, float& lerp) {
    float src = halfPixel ? mul_rn((float)i + 0.5f, scale) - 0.5f : mul_rn((float)i, scale);
    float fl = floorf(src);
    lo = max((int)fl, 0);
    hi = min((int)ceilf(src), in - 1);
    lerp = src - fl;
}

template <typename T>
__device__ __forceinline__ float bilinear(const T* __restrict__ img, size_t tl, size_t tr, size_t bl, size_t br, float lx,
                                          float ly) {
    float a = (float)img[tl], b = (float)img[tr], c = (float)img[bl], d = (float)img[br];
    float top = a + (b - a) * lx;
    float bottom = c + (d - c) * lx;
    return top + (bottom - top) * ly;
}

template <typename T>
__device__ __forceinline__ void resize_body(int total, float* __restrict__ y, const T* __restrict__ x, const ResizeGeom& g,
                                            float scaleY, float scaleX) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int ox = t % g.ow;
        t /= g.ow;
        int oy = t % g.oh;
        int b = t / g.oh;
        int y0, y1, x0, x1;
        float ly, lx;
        resize_axis(oy, scaleY, g.halfPixel, g.h, y0, y1, ly);
        resize_axis(ox, scaleX, g.halfPixel, g.w, x0, x1, lx);
        size_t base = (size_t)b * g.h * g.w * g.c + ch;
        size_t r0 = base + (size_t)y0 * g.w * g.c, r1 = base + (size_t)y1 * g.w * g.c;
        y[i] = bilinear(x, r0 + (size_t)x0 * g.c, r0 + (size_t)x1 * g.c, r1 + (size_t)x0 * g.c, r1 + (size_t)x1 * g.c, lx, ly);
    }
}

// y [n, oh, ow, c] = bilinear resize of float32 x [n, h, w, c].
extern "C" __global__ void resize_bilinear_f32(int total, float* __restrict__ y, const float* __restrict__ x, ResizeGeom g,
                                               float scaleY, float scaleX) {
    resize_body(total, y, x, g, scaleY, scaleX);
}

// The same for uint8 x.
extern "C" __global__ void resize_bilinear_u8(int total, float* __restrict__ y, const unsigned char* __restrict__ x, ResizeGeom g,
                                              float scaleY, float scaleX) {
    resize_body(total, y, x, g, scaleY, scaleX);
}

// dx [n, h, w, c] = sum over (output row p in rows(iy), output column q in cols(ix)) of
// wy[p] * wx[q] * dy[b, p, q, ch]; rows / cols as CSR lists (startY[iy]..startY[iy + 1]).
extern "C" __global__ void resize_bilinear_grad_f32(int total, float* __restrict__ dx, const float* __restrict__ dy,
                                                    const int* __restrict__ startY, const int* __restrict__ idxY,
                                                    const float* __restrict__ wY, const int* __restrict__ startX,
                                                    const int* __restrict__ idxX, const float* __restrict__ wX, ResizeGeom g) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int ix = t % g.w;
        t /= g.w;
        int iy = t % g.h;
        int b = t / g.h;
        const float* dyb = dy + (size_t)b * g.oh * g.ow * g.c + ch;
        int q0 = startX[ix], q1 = startX[ix + 1];
        float acc = 0.f;
        for (int p = startY[iy]; p < startY[iy + 1]; p++) {
            const float* row = dyb + (size_t)idxY[p] * g.ow * g.c;
            float rs = 0.f;
            for (int q = q0; q < q1; q++) rs = fmaf(row[(size_t)idxX[q] * g.c], wX[q], rs);
            acc = fmaf(rs, wY[p], acc);
        }
        dx[i] = acc;
    }
}

struct CropGeom {
    int n, h, w, c;
    int boxes, cropH, cropW;
};

// CropAndResize: box b = (y1, x1, y2, x2) normalised; crop row cy samples image row
// y1 * (h - 1) + cy * (y2 - y1) * (h - 1) / (cropH - 1) (the box centre when cropH == 1), same along
// x; a sample outside [0, h - 1] x [0, w - 1] is extrapolationValue.
template <typename T>
__device__ __forceinline__ void crop_body(int total, float* __restrict__ y, const T* __restrict__ img,
                                          const float* __restrict__ boxes, const int* __restrict__ boxIndex, const CropGeom& g,
                                          float extrapolationValue) {
    const float hm1 = (float)(g.h - 1), wm1 = (float)(g.w - 1);
    GRID_STRIDE_LOOP(i, total) {
        int ch = i % g.c;
        unsigned int t = i / g.c;
        int cx = t % g.cropW;
        t /= g.cropW;
        int cy = t % g.cropH;
        int bx = t / g.cropH;
        float y1 = boxes[4 * bx], x1 = boxes[4 * bx + 1], y2 = boxes[4 * bx + 2], x2 = boxes[4 * bx + 3];
        float iy = g.cropH > 1 ? mul_rn(y1, hm1) + mul_rn((float)cy, mul_rn(y2 - y1, hm1) / (float)(g.cropH - 1))
                               : mul_rn(0.5f * (y1 + y2), hm1);
        float ix = g.cropW > 1 ? mul_rn(x1, wm1) + mul_rn((float)cx, mul_rn(x2 - x1, wm1) / (float)(g.cropW - 1))
                               : mul_rn(0.5f * (x1 + x2), wm1);
        if (iy < 0.f || iy > hm1 || ix < 0.f || ix > wm1) {
            y[i] = extrapolationValue;
            continue;
        }
        int top = (int)floorf(iy), bot = (int)ceilf(iy), l = (int)floorf(ix), r = (int)ceilf(ix);
        size_t base = (size_t)boxIndex[bx] * g.h * g.w * g.c + ch;
        size_t r0 = base + (size_t)top * g.w * g.c, r1 = base + (size_t)bot * g.w * g.c;
        y[i] = bilinear(img, r0 + (size_t)l * g.c, r0 + (size_t)r * g.c, r1 + (size_t)l * g.c, r1 + (size_t)r * g.c,
                        ix - (float)l, iy - (float)top);
    }
}

// y [boxes, cropH, cropW, c] from float32 images; boxIndex int32, validated by the launcher.
extern "C" __global__ void crop_and_resize_f32(int total, float* __restrict__ y, const float* __restrict__ img,
                                               const float* __restrict__ boxes, const int* __restrict__ boxIndex, CropGeom g,
                                               float extrapolationValue) {
    crop_body(total, y, img, boxes, boxIndex, g, extrapolationValue);
}

// The same for uint8 images.
extern "C" __global__ void crop_and_resize_u8(int total, float* __restrict__ y, const unsigned char* __restrict__ img,
                                              const float* __restrict__ boxes, const int* __restrict__ boxIndex, CropGeom g,
                                              float extrapolationValue) {
    crop_body(total, y, img, boxes, boxIndex, g, extrapolationValue);
}
