"""PyTorch timings of the ops GpuBench times for slim4j (same shapes, float32, TF32 off), as a markdown table.

Run by bench/gpu/run-on-device.sh on the lent GPU machine, which has PyTorch. NHWC tensors use
channels_last memory, as slim4j's layout.
"""
import torch
import torch.nn.functional as F

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


def row(op, shape, ms, rate, unit):
    print(f"| {op} | {shape} | {ms:.3f} | {rate:.1f} {unit} |")


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"| op (PyTorch {torch.__version__}, {torch.cuda.get_device_name(0)}) | shape | ms | throughput |")
    print("|---|---|---:|---:|")
    for n in (1024, 4096):
        a = torch.rand(n, n, device=dev) * 2 - 1
        b = torch.rand(n, n, device=dev) * 2 - 1
        ms = timed(lambda: a @ b)
        row("sgemm", f"{n}x{n}x{n}", ms, 2.0 * n ** 3 / ms / 1e9, "TFLOP/s")
    big = 1 << 26
    x = torch.rand(big, device=dev)
    y = torch.rand(big, device=dev)
    ms = timed(lambda: x + y)
    row("add", "2^26", ms, 12.0 * big / ms / 1e6, "GB/s")
    act = torch.rand(32, 56, 56, 256, device=dev)  # NHWC, contiguous
    bias = torch.rand(256, device=dev)
    ms = timed(lambda: act.sum(dim=(0, 1, 2)))
    row("bias_add_grad", "[32,56,56,256]", ms, 4.0 * act.numel() / ms / 1e6, "GB/s")
    ms = timed(lambda: act + bias)
    row("bias_add", "[32,56,56,256]", ms, 8.0 * act.numel() / ms / 1e6, "GB/s")
    nchw = act.permute(0, 3, 1, 2)  # a channels_last view of the same memory
    w = torch.rand(256, device=dev)
    ms = timed(lambda: F.batch_norm(nchw, None, None, w, bias, training=True, eps=1e-3))
    row("batch_norm train fwd", "[32,56,56,256]", ms, 12.0 * act.numel() / ms / 1e6, "GB/s")
    xg = nchw.detach().clone().requires_grad_(True)
    wg = w.clone().requires_grad_(True)
    bg = bias.clone().requires_grad_(True)
    gy = torch.rand_like(nchw)

    def fwd_bwd():
        out = F.batch_norm(xg, None, None, wg, bg, training=True, eps=1e-3)
        out.backward(gy)

    ms = timed(fwd_bwd)
    row("batch_norm train fwd+bwd", "[32,56,56,256]", ms, 32.0 * act.numel() / ms / 1e6, "GB/s")
    pin = torch.rand(32, 64, 112, 112, device=dev).to(memory_format=torch.channels_last)
    ms = timed(lambda: F.max_pool2d(pin, 3, 2, padding=1))
    row("max_pool 3x3/2", "[32,112,112,64]", ms, 5.0 * pin.numel() / ms / 1e6, "GB/s")
    logits = torch.rand(256, 1001, device=dev)
    ms = timed(lambda: torch.softmax(logits, dim=-1))
    row("softmax", "[256,1001]", ms, 8.0 * logits.numel() / ms / 1e6, "GB/s")
    # MobileNet v1's first depthwise layer: 3x3, 32 channels, 112x112, stride 1, SAME (groups=C, channels_last).
    dx = torch.rand(64, 32, 112, 112, device=dev).to(memory_format=torch.channels_last)
    dw = torch.rand(32, 1, 3, 3, device=dev)
    dgy = torch.rand_like(dx)
    shape = "[64,112,112,32]"
    ms = timed(lambda: F.conv2d(dx, dw, stride=1, padding=1, groups=32))
    row("depthwise 3x3 fwd", shape, ms, 8.0 * dx.numel() / ms / 1e6, "GB/s")
    ms = timed(lambda: torch.ops.aten.convolution_backward(dgy, dx, dw, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 32,
                                                           [True, False, False]))
    row("depthwise 3x3 bwd input", shape, ms, 8.0 * dx.numel() / ms / 1e6, "GB/s")
    ms = timed(lambda: torch.ops.aten.convolution_backward(dgy, dx, dw, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 32,
                                                           [False, True, False]))
    row("depthwise 3x3 bwd filter", shape, ms, 8.0 * dx.numel() / ms / 1e6, "GB/s")


if __name__ == "__main__":
    main()
