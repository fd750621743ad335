#!/usr/bin/python3
"""End-to-end PyTorch CPU peer for bench/run-e2e.sh: training and inference steps of the TF-Slim
networks slim4j benchmarks, with the same batch sizes, image sizes and thread count.

Run with Debian's interpreter (/usr/bin/python3: the pyenv python3 on PATH does not see Debian's
python3-torch):

    /usr/bin/python3 bench/peers/torch_e2e.py [--cases lenet_train_b64,...] [--threads 2] [--quick]

Prints one JSON object per line on stdout (progress on stderr), one per case and memory layout:
  case, model, mode, batch, image_size, layout, images_per_sec (batch / median step time),
  ms_per_step_median / _p10 / _p90, steps, warmup, gflops_per_step, params, loss_finite.

Architectures follow TF-Slim (../shared/reference/slim-spec.md), not torchvision where the two differ:
  lenet         the peer harness's LeNetSlim (same as TF-Slim).
  cifarnet      defined here: TF-Slim pools 2x2/2 VALID (the harness's CifarNetSlim pools 3x3/2).
  mobilenet_v1  the peer harness's MobileNetV1 (TF-Slim's layer list, BN + ReLU6).
  resnet_v1_50  defined here: TF-Slim downsamples in the LAST unit of blocks 1-3 (stride on the 3x3
                conv), keeps a 1x1-max-pool "subsample" shortcut there, and has 1x1-conv logits;
                torchvision's resnet50 downsamples in the first unit (a different cost per block).
  inception_v3  torchvision's Inception3 (a port of TF's: same stem, Mixed_5b..7c, aux head).
  vgg_16        torchvision's vgg16 (fc6/fc7/fc8 as Linear layers = TF-Slim's 7x7/1x1 convs at 224).
A training step is zero_grad, forward, softmax cross-entropy (+ 0.4 x the aux loss for
inception_v3, as train_image_classifier adds it), backward and SGD (lr 0.01, momentum 0.9, weight
decay 4e-5: `slim4j benchmark`'s defaults), the model in train mode (batch-norm batch statistics,
dropout on). Inference is eval mode under no_grad. Synthetic fixed inputs, float32. The conv + fc
multiply-adds per image equal `slim4j model_summary`'s for all six networks.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.environ.get("PEERS", os.path.join(HERE, "..", "..", "..", "shared", "peers"))
sys.path.insert(0, os.path.abspath(PEERS))
sys.dont_write_bytecode = True  # ../shared/peers is read-only to this project: no __pycache__ there
import torch_cpu_bench as harness  # noqa: E402  (LeNetSlim, MobileNetV1, count_fwd_macs, canary)


def log(msg):
    print(f"[torch_e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------- models
class CifarNet(nn.Module):
    """TF-Slim nets/cifarnet.py: conv1 64 5x5 SAME + relu, pool1 2x2/2, LRN, conv2 64 5x5 + relu, LRN,
    pool2 2x2/2, flatten (8*8*64), fc3 384 + relu, dropout 0.5, fc4 192 + relu, logits.
    tf.nn.lrn(4, bias 1, alpha 0.001/9, beta 0.75) == LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 5, padding=2)
        self.conv2 = nn.Conv2d(64, 64, 5, padding=2)
        self.lrn = nn.LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1.0)
        self.fc3 = nn.Linear(8 * 8 * 64, 384)
        self.drop = nn.Dropout(0.5)
        self.fc4 = nn.Linear(384, 192)
        self.logits = nn.Linear(192, num_classes)

    def forward(self, x):
        x = self.lrn(F.max_pool2d(F.relu(self.conv1(x)), 2, 2))
        x = F.max_pool2d(self.lrn(F.relu(self.conv2(x))), 2, 2)
        x = self.drop(F.relu(self.fc3(torch.flatten(x, 1))))
        return self.logits(F.relu(self.fc4(x)))


class BottleneckV1(nn.Module):
    """TF-Slim bottleneck_v1: shortcut = subsample(x, stride) (1x1 max pool) when depth == depth_in,
    else 1x1 conv (stride) + BN; residual 1x1 d + BN + relu, 3x3 d stride s (conv2d_same: pad 1 for a
    3x3 kernel) + BN + relu, 1x1 4d + BN; out = relu(shortcut + residual). BN eps 1e-5, with scale."""

    def __init__(self, depth_in, depth, bottleneck, stride):
        super().__init__()
        self.stride = stride
        if depth != depth_in:
            self.shortcut = nn.Sequential(nn.Conv2d(depth_in, depth, 1, stride, bias=False), nn.BatchNorm2d(depth))
        else:
            self.shortcut = None
        self.conv1 = nn.Conv2d(depth_in, bottleneck, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(bottleneck)
        self.conv2 = nn.Conv2d(bottleneck, bottleneck, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(bottleneck)
        self.conv3 = nn.Conv2d(bottleneck, depth, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(depth)

    def forward(self, x):
        if self.shortcut is not None:
            sc = self.shortcut(x)
        elif self.stride > 1:
            sc = F.max_pool2d(x, 1, self.stride)
        else:
            sc = x
        r = F.relu(self.bn1(self.conv1(x)))
        r = F.relu(self.bn2(self.conv2(r)))
        r = self.bn3(self.conv3(r))
        return F.relu(sc + r)


class ResnetV1_50(nn.Module):
    """TF-Slim resnet_v1_50: conv1 7x7/2 64 (conv2d_same: pad 3) + BN + relu, max pool 3x3/2 SAME,
    blocks (base depth, units, stride of the LAST unit) (64,3,2) (128,4,2) (256,6,2) (512,3,1),
    global average pool, 1x1-conv logits with biases. 224 -> 56 -> 28 -> 14 -> 7 -> 7."""
    BLOCKS = [(64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 1)]

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        units = []
        depth_in = 64
        for base, n, stride in self.BLOCKS:
            for u in range(n):
                units.append(BottleneckV1(depth_in, 4 * base, base, stride if u == n - 1 else 1))
                depth_in = 4 * base
        self.units = nn.Sequential(*units)
        self.logits = nn.Conv2d(depth_in, num_classes, 1)

    def forward(self, x):
        # TF SAME pads the 112 -> 56 pool 0 before / 1 after; torch pads 1 on both sides (same shape
        # and cost, the extra row never wins the max after a relu).
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, padding=1)
        x = self.units(x)
        x = x.mean((2, 3), keepdim=True)
        return self.logits(x).flatten(1)


# (model, image size, channels, classes, builder)
MODELS = {
    "lenet": (28, 1, 10, lambda: harness.LeNetSlim(10)),
    "cifarnet": (32, 3, 10, lambda: CifarNet(10)),
    "mobilenet_v1": (224, 3, 1000, lambda: harness.MobileNetV1(1000)),
    "resnet_v1_50": (224, 3, 1000, lambda: ResnetV1_50(1000)),
    "inception_v3": (299, 3, 1000,
                     lambda: torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)),
    "vgg_16": (224, 3, 1000, lambda: torchvision.models.vgg16(weights=None)),
}
# The cases: model, batch.
CASES = [("lenet", 64), ("cifarnet", 128), ("mobilenet_v1", 16), ("resnet_v1_50", 8), ("inception_v3", 4),
         ("vgg_16", 4)]


def case_names():
    return [f"{m}_{mode}_b{b}" for m, b in CASES for mode in ("train", "inference")]


def parse_case(name):
    for model in MODELS:
        if name.startswith(model + "_"):
            rest = name[len(model) + 1:]
            mode, _, b = rest.rpartition("_b")
            if mode in ("train", "inference") and b.isdigit():
                return model, mode, int(b)
    raise SystemExit(f"torch_e2e: unknown case '{name}' (expected <model>_<train|inference>_b<batch>, "
                     f"model one of {', '.join(MODELS)})")


# ----------------------------------------------------------------------------------- timing
def percentile(sorted_vals, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(sorted_vals) == 1:
        return sorted_vals[0]
    pos = q * (len(sorted_vals) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def run_case(args, model_name, mode, batch, image_size, layout):
    size, chans, classes, builder = MODELS[model_name]
    size = image_size or size
    torch.manual_seed(0)
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    model = builder().to(memory_format=fmt)
    x = torch.randn(batch, chans, size, size).contiguous(memory_format=fmt)
    y = torch.randint(0, classes, (batch,))
    params = sum(p.numel() for p in model.parameters())
    model.eval()
    macs = harness.count_fwd_macs(model, x[:1].clone())  # conv + linear multiply-adds per image
    aux = model_name == "inception_v3"
    if mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=4e-5)

        def step():
            opt.zero_grad(set_to_none=True)
            out = model(x)
            if aux:
                loss = F.cross_entropy(out.logits, y) + 0.4 * F.cross_entropy(out.aux_logits, y)
            else:
                loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss
        flop_per_img = 3 * 2 * macs  # forward + input and weight gradients, each ~ one forward
    else:
        model.eval()

        def step():
            with torch.no_grad():
                return F.softmax(model(x), dim=1).sum()
        flop_per_img = 2 * macs

    # At least --warmup steps and --warmup-s seconds, as the slim4j side does (its JIT compiles
    # in the first seconds; PyTorch's oneDNN primitive caches warm within a step or two).
    w0 = time.perf_counter()
    warmed = 0
    while warmed < args.warmup or time.perf_counter() - w0 < args.warmup_s:
        step()
        warmed += 1
    times = []
    t0 = time.perf_counter()
    while len(times) < args.steps:
        t = time.perf_counter()
        out = step()
        times.append(time.perf_counter() - t)
        if len(times) >= args.min_steps and time.perf_counter() - t0 > args.budget_s:
            break
    s = sorted(times)
    med = statistics.median(s)
    rec = {
        "peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "case": f"{model_name}_{mode}_b{batch}", "model": model_name, "mode": mode, "batch": batch,
        "image_size": size, "layout": layout,
        "images_per_sec": round(batch / med, 3),
        "ms_per_step_median": round(med * 1e3, 3),
        "ms_per_step_p10": round(percentile(s, 0.1) * 1e3, 3),
        "ms_per_step_p90": round(percentile(s, 0.9) * 1e3, 3),
        "steps": len(s), "warmup": warmed,
        "gflops_per_step": round(flop_per_img * batch / 1e9, 4),
        "params": params,
        "loss_finite": math.isfinite(float(out.detach())),
    }
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(case_names()),
                    help="comma list of <model>_<train|inference>_b<batch> (default: the 12 cases of bench/run-e2e.sh)")
    ap.add_argument("--image-size", type=int, default=0, help="override every model's default image size")
    ap.add_argument("--layouts", default="nchw,channels_last",
                    help="memory layouts to time, comma list of nchw, channels_last (run-e2e.sh takes the faster)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first (slim4j benchmark: 5)")
    ap.add_argument("--warmup-s", type=float, default=10.0,
                    help="warm-up goes on until this many seconds have passed too (slim4j benchmark: --warmup_seconds=10)")
    ap.add_argument("--steps", type=int, default=20, help="at most this many timed steps (slim4j benchmark: 20)")
    ap.add_argument("--min-steps", type=int, default=5, help="at least this many timed steps")
    ap.add_argument("--budget-s", type=float, default=30.0, help="stop after this many seconds once min-steps are done")
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 warm-up, 3 timed steps, nchw only")
    args = ap.parse_args()
    if args.quick:
        args.warmup, args.warmup_s, args.steps, args.min_steps, args.budget_s = 1, 0.0, 3, 3, 0.0
        args.layouts = "nchw"
    for layout in args.layouts.split(","):
        if layout not in ("nchw", "channels_last"):
            raise SystemExit(f"torch_e2e: unknown layout '{layout}' (nchw, channels_last)")
    torch.set_num_threads(args.threads)
    harness.canary(1.0)  # pre-heat: the first second or two of load after idle run slow on this VM
    for name in args.cases.split(","):
        model_name, mode, batch = parse_case(name.strip())
        for layout in args.layouts.split(","):
            t = time.perf_counter()
            rec = run_case(args, model_name, mode, batch, args.image_size, layout)
            print(json.dumps(rec), flush=True)
            log(f"{rec['case']} {layout}: {rec['ms_per_step_median']:.1f} ms/step, {rec['images_per_sec']:.1f} img/s "
                f"({rec['steps']} steps, {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
