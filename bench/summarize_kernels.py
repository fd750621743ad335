#!/usr/bin/env python3
"""Turns a bench/run-kernels.sh results folder into the markdown tables of bench/README.md.

Inputs in the folder: jmh-<tag>-<Class>.json (JMH, ms/op), torch-r<N>.jsonl (../shared/peers
harness), peak.jsonl (fma_peak.c), machine.txt. Each side's figure is its best round (noise on
this VM only ever slows a run down); within a round, JMH's figure is the median of its measurement
iterations and the harness's the median of its samples.
"""
import glob
import json
import os
import re
import sys


def jmh_results(folder):
    """{(class, method, param): [ms per round...]} from every JMH json file."""
    res = {}
    for path in sorted(glob.glob(os.path.join(folder, "jmh-*.json"))):
        try:
            data = json.load(open(path))
        except ValueError:
            continue
        for rec in data:
            cls, method = rec["benchmark"].split(".")[-2:]
            params = rec.get("params", {})
            param = next(iter(params.values())) if params else ""
            raw = [v for it in rec["primaryMetric"]["rawData"] for v in it]
            raw.sort()
            med = raw[len(raw) // 2] if raw else rec["primaryMetric"]["score"]
            res.setdefault((cls, method, param), []).append(med)
    return res


def torch_results(folder):
    sgemm, conv = {}, {}
    for path in sorted(glob.glob(os.path.join(folder, "torch-*.jsonl"))):
        for line in open(path):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("section") == "sgemm" and r.get("threads") == 2:
                sgemm.setdefault(r["name"], []).append(r["gflops_median"])
            elif r.get("section") == "conv":
                conv.setdefault((r["name"], "fwd"), []).append((r["fwd_ms_median"], r["format"]))
                conv.setdefault((r["name"], "fwdbwd"), []).append((r["fwdbwd_ms_median"], r["format"]))
    return sgemm, conv


def peak(folder):
    best = None
    path = os.path.join(folder, "peak.jsonl")
    clock = None
    if os.path.exists(path):
        for line in open(path):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("name") == "clock_dep_add_chain":
                clock = r.get("ghz_median")
            if r.get("name", "").startswith("fma_") and r.get("threads") == 2:
                best = max(best or 0, r["gflops_median"])
    return best, clock


def conv_flop(name):
    m = re.match(r"(dw)?conv(\d+)x(\d+)(?:s(\d+))?_(?:(\d+)to(\d+)|(\d+)ch)_(\d+)x(\d+)_b(\d+)", name)
    dw, kh, kw, s, cin, cout, ch, h, w, b = m.groups()
    s = int(s or 1)
    kh, kw, h, w, b = int(kh), int(kw), int(h), int(w), int(b)
    if dw:
        cin = cout = int(ch)
        per = 1
    else:
        cin, cout = int(cin), int(cout)
        per = cin
    ho, wo = (h + s - 1) // s, (w + s - 1) // s
    return 2.0 * b * ho * wo * cout * per * kh * kw, cin > 3


def main():
    folder = sys.argv[1]
    jmh = jmh_results(folder)
    tsg, tconv = torch_results(folder)
    pk, clock = peak(folder)
    rows = []   # (case, slim, torch, unit, ratio)
    pct = []    # (case, slim GFLOP/s, % of peak)
    for n in (1024, 2048):
        key = ("SgemmBenchmark", "sgemm", f"{n}x{n}x{n}")
        flop = 2.0 * n ** 3
        slim = flop / (min(jmh[key]) * 1e-3) / 1e9 if key in jmh else None
        torch = max(tsg[f"square_{n}"]) if f"square_{n}" in tsg else None
        rows.append((f"sgemm_{n}", slim, torch, "GFLOP/s", slim / torch if slim and torch else None))
        if slim and pk:
            pct.append((f"sgemm_{n}", slim, 100 * slim / pk))
    for layer, cls in (("conv3x3_64to64_56x56_b8", "ConvBenchmark"), ("conv1x1_256to64_56x56_b8", "ConvBenchmark"),
                       ("dwconv3x3_32ch_112x112_b8", "DepthwiseConvBenchmark")):
        fwd_flop, dx = conv_flop(layer)
        for method in ("fwdbwd", "fwd"):
            key = (cls, method, layer)
            slim = min(jmh[key]) if key in jmh else None
            t = tconv.get((layer, method))
            torch = min(t)[0] if t else None
            fmt = min(t)[1] if t else ""
            rows.append((f"{layer}_{method}", slim, torch, "ms" + (f" (torch {fmt})" if fmt else ""),
                         torch / slim if slim and torch else None))
            if slim and pk:
                flop = fwd_flop * ((3 if dx else 2) if method == "fwdbwd" else 1)
                gf = flop / (slim * 1e-3) / 1e9
                pct.append((f"{layer}_{method}", gf, 100 * gf / pk))

    def f(v, nd=2):
        return "–" if v is None else f"{v:.{nd}f}"

    print("| case | slim4j | PyTorch | unit | ratio |")
    print("|---|---|---|---|---|")
    for case, slim, torch, unit, ratio in rows:
        nd = 1 if unit == "GFLOP/s" else 2
        print(f"| {case} | {f(slim, nd)} | {f(torch, nd)} | {unit} | {f(ratio)} |")
    # The machine's peak, the same for both columns: fma_peak.c on 2 threads, and 2 cores x 32 flop/cycle
    # (2 FMA pipes x 8 fp32 lanes x 2) at the measured clock.
    theo = 2 * 32 * clock if clock else None
    print(f"| fp32_peak_measured (fma_peak.c, 2 threads) | {f(pk, 1)} | {f(pk, 1)} | GFLOP/s | – |")
    print(f"| fp32_peak_2x32xclock (clock {f(clock)} GHz) | {f(theo, 1)} | {f(theo, 1)} | GFLOP/s | – |")
    print()
    print("| case | slim4j GFLOP/s | % of measured peak | % of 2 x 32 x clock |")
    print("|---|---|---|---|")
    for case, gf, p in pct:
        print(f"| {case} | {gf:.1f} | {p:.0f}% | {100 * gf / theo:.0f}% |" if theo else f"| {case} | {gf:.1f} | {p:.0f}% | – |")
    others = sorted(k for k in jmh if not any(k == (c, m, p) for c, m, p in
                                              [("SgemmBenchmark", "sgemm", "1024x1024x1024"),
                                               ("SgemmBenchmark", "sgemm", "2048x2048x2048")]))
    extra = [k for k in others if k[2] not in ("conv3x3_64to64_56x56_b8", "conv1x1_256to64_56x56_b8",
                                                "dwconv3x3_32ch_112x112_b8")]
    if extra:
        print()
        print("| benchmark | param | slim4j ms | GFLOP/s |")
        print("|---|---|---|---|")
        for cls, method, param in extra:
            ms = min(jmh[(cls, method, param)])
            gf = "–"
            if cls == "SgemmBenchmark":
                m, k, n = map(int, param.split("x"))
                gf = f"{2.0 * m * k * n / (ms * 1e-3) / 1e9:.1f}"
            elif cls in ("ConvBenchmark", "DepthwiseConvBenchmark"):
                fl, dx = conv_flop(param)
                fl *= (3 if dx else 2) if method == "fwdbwd" else 1
                gf = f"{fl / (ms * 1e-3) / 1e9:.1f}"
            print(f"| {cls}.{method} | {param} | {ms:.3f} | {gf} |")
    mt = os.path.join(folder, "machine.txt")
    if os.path.exists(mt):
        print()
        print("```")
        print(open(mt).read().rstrip())
        print("```")


if __name__ == "__main__":
    main()
