#!/usr/bin/env python3
"""Medians of a JMH JSON result (-rf json): one markdown table, walks/s, records/s, bytes/s,
alloc B/op and B/record where present, and each reader result's ratio to the naive baseline
of the same stream and method from the same file; then, when PageExtractorBench ran, a second
table: extractions/s, guest data MB/s written, stream MB/s, and extract's ratio to extractNaive.

Usage: jmh-medians.py RESULT.json [GC-RESULT.json]"""
import json, statistics, sys

def rows(path):
    out = {}
    for r in json.load(open(path)):
        name = r["benchmark"].replace("io.qevm.", "")
        p = r.get("params", {})
        key = (name, p.get("sourceKind", p.get("sample", "")), p.get("streamKind", ""))
        raw = [x for fork in r["primaryMetric"]["rawData"] for x in fork]
        d = {"score": statistics.median(raw), "n": len(raw)}
        for sec, m in r.get("secondaryMetrics", {}).items():
            vals = [x for fork in m["rawData"] for x in fork]
            if vals:
                d[sec] = statistics.median(vals)
        out[key] = d
    return out

main = rows(sys.argv[1])
gc = rows(sys.argv[2]) if len(sys.argv) > 2 else {}
def si(v):
    for unit, f in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= f:
            return f"{v / f:.2f} {unit}"
    return f"{v:.1f}"
print("| benchmark | source | stream | walks/s | records/s | bytes/s | x naive | alloc B/walk | alloc B/record |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for (name, src, stream), d in main.items():
    if name.startswith("consume.PageExtractorBench"):
        continue
    ratio = "-"
    if name.startswith("MigrationReaderPagesBench"):
        base = main.get((name.replace("MigrationReaderPagesBench", "NaiveDataInputStreamBench"), "", stream))
        if base:
            ratio = f"{d['score'] / base['score']:.2f}"
    g = gc.get((name, src, stream), {})
    norm = g.get("gc.alloc.rate.norm")
    rec = d.get("records", 0)
    per_rec = f"{norm / (rec / d['score']):.3f}" if norm is not None and rec else "-"
    print(f"| {name} | {src or '-'} | {stream or '-'} | {d['score']:.1f} | {si(rec) if rec else '-'} "
          f"| {si(d.get('bytes', 0))}B | {ratio} | {f'{norm:,.0f}' if norm is not None else '-'} | {per_rec} |")

extract = [(k, d) for k, d in main.items() if k[0].startswith("consume.PageExtractorBench")]
if extract:
    print()
    print("| benchmark | stream | runs/s | guest data MB/s | stream MB/s | x naive | alloc B/run |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, src, stream), d in extract:
        ratio = "-"
        if name.endswith(".extract"):
            base = main.get((name + "Naive", src, stream))
            if base:
                ratio = f"{d['score'] / base['score']:.2f}"
        norm = gc.get((name, src, stream), {}).get("gc.alloc.rate.norm")
        print(f"| {name} | {stream or '-'} | {d['score']:.1f} | {d.get('dataBytes', 0) / 1e6:,.0f} "
              f"| {d.get('streamBytes', 0) / 1e6:,.0f} | {ratio} | {f'{norm:,.0f}' if norm is not None else '-'} |")
