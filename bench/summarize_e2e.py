#!/usr/bin/env python3
"""Turns a bench/run-e2e.sh results folder into the markdown tables of bench/README.md.

Inputs in the folder:
  slim4j-<case>-r<N>.json   one JSON object each, written by `slim4j benchmark --output_json`
                            (model, mode, batch, image_size, images_per_sec, ms_per_step_median,
                            ms_per_step_p10, ms_per_step_p90, gc_percent, gflops_per_step optional)
  torch-r<N>.jsonl          bench/peers/torch_e2e.py, one object per case and memory layout
  peak.jsonl                ../shared/peers/fma_peak.c (optional)
  machine.txt               the machine description (optional)
  cases.txt                 the cases in table order (optional; else the order found)
Each side's figure for a case is its best round (noise on this shared VM only ever slows a run
down); within a round it is batch / median step time. PyTorch's figure is its faster memory layout.
ratio = slim4j img/s / PyTorch img/s.
"""
import glob
import json
import os
import re
import sys

CASE_RE = re.compile(r"^(?P<model>.+)_(?P<mode>train|inference)_b(?P<batch>\d+)$")
SLIM4J_FILE_RE = re.compile(r"^slim4j-(?P<case>.+)-r(?P<round>\d+)\.json$")
SLIM4J_REQUIRED = ("model", "mode", "batch", "images_per_sec", "ms_per_step_median")


def case_of(rec):
    return f"{rec['model']}_{rec['mode']}_b{rec['batch']}"


def slim4j_results(folder):
    """{case: best record}, plus a list of problems (unreadable files, missing fields, wrong case)."""
    best, problems = {}, []
    for path in sorted(glob.glob(os.path.join(folder, "slim4j-*.json"))):
        m = SLIM4J_FILE_RE.match(os.path.basename(path))
        if not m:
            continue
        try:
            with open(path) as f:
                rec = json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f"{os.path.basename(path)}: not one JSON object ({e})")
            continue
        if not isinstance(rec, dict):
            problems.append(f"{os.path.basename(path)}: not a JSON object")
            continue
        missing = [k for k in SLIM4J_REQUIRED if k not in rec]
        if missing:
            problems.append(f"{os.path.basename(path)}: missing {', '.join(missing)}")
            continue
        case = case_of(rec)
        if case != m.group("case"):
            problems.append(f"{os.path.basename(path)}: reports case {case}, expected {m.group('case')}")
            continue
        if case not in best or rec["images_per_sec"] > best[case]["images_per_sec"]:
            best[case] = rec
    return best, problems


def torch_results(folder):
    best = {}
    for path in sorted(glob.glob(os.path.join(folder, "torch-*.jsonl"))):
        with open(path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(rec, dict) or "case" not in rec or "images_per_sec" not in rec:
                    continue
                case = rec["case"]
                if case not in best or rec["images_per_sec"] > best[case]["images_per_sec"]:
                    best[case] = rec
    return best


def peak(folder):
    """(best fma_peak.c GFLOP/s on 2 threads, measured clock GHz); None where absent."""
    best, clock = None, None
    path = os.path.join(folder, "peak.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("name") == "clock_dep_add_chain":
                    clock = r.get("ghz_median")
                if r.get("name", "").startswith("fma_") and r.get("threads") == 2:
                    best = max(best or 0, r["gflops_median"])
    return best, clock


def machine(folder):
    """machine.txt as {key: value}."""
    d = {}
    path = os.path.join(folder, "machine.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, sep, v = line.partition(":")
                if sep:
                    d[k.strip()] = v.strip()
    return d


def machine_line(m, pk, clock):
    parts = []
    if m.get("cpu_model"):
        parts.append(m["cpu_model"] + (f", {m['cpus']} CPUs" if m.get("cpus") else "")
                     + (f" ({m['threads_per_core']} thread(s) per core)" if m.get("threads_per_core") else "")
                     + (", AVX-512" if m.get("avx512") == "yes" else ""))
    if pk:
        parts.append(f"measured fp32 FMA peak {pk:.1f} GFLOP/s on 2 threads"
                     + (f" (clock {clock:.2f} GHz)" if clock else ""))
    if m.get("java"):
        parts.append(m["java"])
    if m.get("torch"):
        parts.append("PyTorch " + m["torch"])
    if m.get("threads"):
        parts.append(f"{m['threads']} compute threads per side")
    if m.get("load_before"):
        parts.append(f"load average before {m['load_before']}" + (f", after {m['load_after']}"
                                                                   if m.get("load_after") else ""))
    return "machine: " + ("; ".join(parts) if parts else "(no machine.txt)")


def fmt(v, nd=1):
    return "–" if v is None else f"{v:,.{nd}f}"


def table(folder):
    slim, problems = slim4j_results(folder)
    torch = torch_results(folder)
    pk, clock = peak(folder)
    order_file = os.path.join(folder, "cases.txt")
    if os.path.exists(order_file):
        with open(order_file) as f:
            cases = [l.strip() for l in f if l.strip()]
    else:
        cases = list(dict.fromkeys(list(slim) + list(torch)))
    out = [machine_line(machine(folder), pk, clock), ""]
    out.append("| case | slim4j img/s | PyTorch img/s | slim4j GFLOP/s | % of peak | ratio |")
    out.append("|---|---|---|---|---|---|")
    detail = []
    flop_from_torch = False
    for case in cases:
        s, t = slim.get(case), torch.get(case)
        si = s["images_per_sec"] if s else None
        ti = t["images_per_sec"] if t else None
        gflop = s.get("gflops_per_step") if s else None
        mark = ""
        if s and gflop is None and t and t.get("gflops_per_step"):
            # Same architecture, same flop count: PyTorch's conv + fc count (train = 3 x forward).
            gflop, mark = t["gflops_per_step"], "*"
            flop_from_torch = True
        gfs = gflop * si / s["batch"] if s and gflop else None
        pct = 100 * gfs / pk if gfs and pk else None
        ratio = si / ti if si and ti else None
        out.append(f"| {case} | {fmt(si)} | {fmt(ti)} | {fmt(gfs)}{mark} | {fmt(pct, 0)}{'%' if pct else ''} "
                   f"| {fmt(ratio, 2)} |")

        def spread(r):
            if not r:
                return "–"
            p10, p90 = r.get("ms_per_step_p10"), r.get("ms_per_step_p90")
            rng = f" [{fmt(p10)}–{fmt(p90)}]" if p10 is not None and p90 is not None else ""
            return f"{fmt(r['ms_per_step_median'])}{rng}"
        gc = s.get("gc_percent") if s else None
        detail.append(f"| {case} | {spread(s)} | {fmt(gc)} | {spread(t)} | {t['layout'] if t else '–'} |")
    out.append("")
    out.append("| case | slim4j ms/step median [p10–p90] | slim4j GC % | PyTorch ms/step median [p10–p90] "
               "| PyTorch layout |")
    out.append("|---|---|---|---|---|")
    out.extend(detail)
    out.append("")
    notes = ["ratio = slim4j img/s / PyTorch img/s; each side's best round, batch / median step time."]
    if pk:
        notes.append(f"% of peak: of {pk:.1f} GFLOP/s, the fp32 FMA peak fma_peak.c measured on 2 threads"
                     + (f" (clock {clock:.2f} GHz)" if clock else "") + ".")
    if flop_from_torch:
        notes.append("*: slim4j's JSON has no gflops_per_step; the flop count is PyTorch's for the same network "
                     "(conv + fc multiply-adds x 2, training = 3 x forward).")
    missing_s = [c for c in cases if c not in slim]
    missing_t = [c for c in cases if c not in torch]
    if missing_s:
        notes.append("no slim4j result: " + ", ".join(missing_s))
    if missing_t:
        notes.append("no PyTorch result: " + ", ".join(missing_t))
    for p in problems:
        notes.append("ignored " + p)
    out.extend(f"- {n}" for n in notes)
    mt = os.path.join(folder, "machine.txt")
    if os.path.exists(mt):
        out.append("")
        out.append("```")
        with open(mt) as f:
            out.append(f.read().rstrip())
        out.append("```")
    return "\n".join(out), problems


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: summarize_e2e.py RESULTS_DIR (a bench/run-e2e.sh --out folder)", file=sys.stderr)
        return 2
    text, problems = table(sys.argv[1])
    print(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
