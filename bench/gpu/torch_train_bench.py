"""PyTorch training throughput on the lent GPU: the peer slim4j's CUDA training is compared with.

Synthetic input, SGD with momentum, channels_last (NHWC, slim4j's layout), cuDNN autotuning on.
Prints one markdown row per (model, batch, precision): images/s as the median over timed steps.
Usage: torch_train_bench.py [model:batch:size ...] [--precisions fp32,tf32,bf16,fp16] [--steps N] [--profile]
--profile adds, per case, the GPU time of the kernels of one step (torch.profiler), largest first.
"""
import argparse
import statistics
import time

import torch
import torchvision.models as tvm

BUILDERS = {
    "resnet_v1_50": lambda: tvm.resnet50(num_classes=1000),
    "vgg_16": lambda: tvm.vgg16(num_classes=1000),
    "inception_v3": lambda: tvm.inception_v3(num_classes=1000, aux_logits=False, init_weights=False),
    "mobilenet_v1": lambda: tvm.mobilenet_v2(num_classes=1000),  # closest torchvision net; noted in the table
}


def kernel_profile(step, top=25):
    """GPU time per kernel of one step (torch.profiler's CUDA activity), as markdown."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    rows = [(e.key, e.count, e.device_time_total) for e in prof.key_averages() if e.device_time_total > 0]
    rows.sort(key=lambda r: -r[2])
    total = sum(r[2] for r in rows)
    lines = [f"GPU time of one step: {total / 1e3:.2f} ms in {sum(r[1] for r in rows)} kernel calls",
             "| kernel | calls | ms | % |", "|---|---:|---:|---:|"]
    for key, count, us in rows[:top]:
        lines.append(f"| {key[:110]} | {count} | {us / 1e3:.3f} | {100 * us / total:.1f} |")
    return "\n".join(lines)


def bench(name, batch, size, precision, steps, warmup, profile_kernels=False):
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    model = BUILDERS[name]().to(dev).to(memory_format=torch.channels_last).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, size, size, device=dev).to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=dev)
    loss_fn = torch.nn.CrossEntropyLoss()

    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    # fp16 as PyTorch users train it: autocast plus GradScaler's dynamic loss scaling (slim4j's LossScaler).
    scaler = torch.cuda.amp.GradScaler(enabled=precision == "fp16")

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=half or torch.float32, enabled=half is not None):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"| {name} | {batch} | {size} | {precision} | {batch / med:.1f} | {med * 1e3:.2f} |", flush=True)
    if profile_kernels:
        print(f"\n{name} b{batch} {precision}: " + kernel_profile(step) + "\n", flush=True)
    del model, opt, x, y
    torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cases", nargs="*", default=["resnet_v1_50:64:224"])
    p.add_argument("--precisions", default="fp32,tf32,bf16")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="also print each case's per-kernel GPU time of one step")
    a = p.parse_args()
    print(f"PyTorch {torch.__version__}, {torch.cuda.get_device_name(0)}, cuDNN {torch.backends.cudnn.version()}")
    print("| model | batch | image size | precision | PyTorch img/s | ms/step |")
    print("|---|---:|---:|---|---:|---:|")
    for case in a.cases:
        name, batch, size = case.split(":")
        for prec in a.precisions.split(","):
            bench(name, int(batch), int(size), prec, a.steps, a.warmup, a.profile)


if __name__ == "__main__":
    main()
