"""PyTorch timings of the ops GpuBench times for slim4j (same shapes, float32, TF32 off; the convolutions
also with TF32 on), as a markdown table.

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
    convolutions(dev)


def convolutions(dev):
    """ResNet-50 convolutions at batch 64, channels_last (NHWC): forward, input gradient, filter gradient
    (cuDNN through aten.convolution_backward), fp32 then tf32, as GpuBench's conv rows."""
    shapes = [(64, 56, 56, 64, 64, 3, 1), (64, 56, 56, 256, 64, 1, 1), (64, 56, 56, 64, 256, 1, 1), (64, 56, 56, 128, 128, 3, 2),
              (64, 14, 14, 256, 256, 3, 1), (64, 14, 14, 1024, 256, 1, 1), (64, 7, 7, 512, 512, 3, 1), (64, 224, 224, 3, 64, 7, 2)]
    torch.backends.cudnn.benchmark = True
    for precision in ("fp32", "tf32"):
        torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
        for n, h, w, cin, cout, k, stride in shapes:
            pad = k // 2
            x = (torch.rand(n, cin, h, w, device=dev) * 2 - 1).to(memory_format=torch.channels_last)
            f = (torch.rand(cout, cin, k, k, device=dev) * 2 - 1).to(memory_format=torch.channels_last)
            y = F.conv2d(x, f, stride=stride, padding=pad)
            dy = (torch.rand_like(y) * 2 - 1).contiguous(memory_format=torch.channels_last)
            oh, ow = y.shape[2], y.shape[3]
            flop = 2.0 * n * oh * ow * k * k * cin * cout
            shape = f"[{n},{h},{w},{cin}] {k}x{k}{'/' + str(stride) if stride > 1 else ''} ->{cout}"

            def grad(mask):
                return torch.ops.aten.convolution_backward(dy, x, f, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, mask)

            ms = timed(lambda: F.conv2d(x, f, stride=stride, padding=pad))
            row(f"conv fwd {precision}", shape, ms, flop / ms / 1e9, "TFLOP/s")
            ms = timed(lambda: grad([True, False, False]))
            row(f"conv bwd-input {precision}", shape, ms, flop / ms / 1e9, "TFLOP/s")
            ms = timed(lambda: grad([False, True, False]))
            row(f"conv bwd-filter {precision}", shape, ms, flop / ms / 1e9, "TFLOP/s")
            del x, f, y, dy
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


if __name__ == "__main__":
    main()
