"""PyTorch's cuDNN convolutions on the shapes GpuBench.cudnnConv times for slim4j's --kernels=vendor path
(ResNet-50's 3x3 64->64 and 1x1 256->64 at 56x56, batch 64, stride 1, SAME), as markdown rows in the
same format: forward, gradient w.r.t. the input, gradient w.r.t. the filter; exact float32 and TF32.

channels_last tensors (NHWC memory, as slim4j's) and cudnn.benchmark (an algorithm search per shape,
as slim4j's cudnnFind*AlgorithmEx). Run on the lent GPU machine, which has PyTorch.
"""
import torch

WARMUP, ITERS = 3, 20


def timed(fn):
    for _ in range(WARMUP):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(ITERS):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / ITERS


def main():
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    print(f"| op (PyTorch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}) "
          f"| shape | ms | throughput |")
    print("|---|---|---:|---:|")
    shapes = [((64, 56, 56, 64), (3, 3, 64, 64)), ((64, 56, 56, 256), (1, 1, 256, 64))]
    for tag, tf32 in (("fp32", False), ("tf32", True)):
        torch.backends.cudnn.allow_tf32 = tf32
        for (n, h, w, c), (kh, kw, _, k) in shapes:
            x = (torch.rand(n, c, h, w, device=dev) * 2 - 1).to(memory_format=torch.channels_last)
            wt = (torch.rand(k, c, kh, kw, device=dev) * 2 - 1).to(memory_format=torch.channels_last)
            dy = (torch.rand(n, k, h, w, device=dev) * 2 - 1).to(memory_format=torch.channels_last)
            pad = [kh // 2, kw // 2]
            flops = 2.0 * n * h * w * k * c * kh * kw
            shape = f"{kh}x{kw} {c}->{k} [{n},{h},{w},{c}]"

            def bwd(mask):
                return lambda: torch.ops.aten.convolution_backward(dy, x, wt, None, [1, 1], pad, [1, 1], False, [0, 0], 1, mask)

            for name, fn in (("fwd", lambda: torch.nn.functional.conv2d(x, wt, None, 1, pad)),
                             ("bwd data", bwd([True, False, False])),
                             ("bwd filter", bwd([False, True, False]))):
                ms = timed(fn)
                print(f"| conv2d {name} {tag} | {shape} | {ms:.3f} | {flops / ms / 1e9:.1f} TFLOP/s |")


if __name__ == "__main__":
    main()
