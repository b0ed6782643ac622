#!/usr/bin/env python3
"""Join our `bench --json` document with the PyTorch peer's bench.py JSON, row by row.

    python3 scripts/join_peer_results.py ours.json peer.json   # markdown table on stdout

Rows match on (task, cfg, B, K, T). For each, the peer's best mode is the one with the most
sequences/s; ratio = ours / peer best (> 1: we are faster). Standard library only.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def key(r):
    return (r["task"], r["cfg"], r["B"], r["K"], r["T"])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours, peer = load(sys.argv[1]), load(sys.argv[2])
    peer_rows = {}
    for r in peer["results"]:
        if "error" in r and r["error"]:
            continue
        peer_rows.setdefault(key(r), []).append(r)
    modes = sorted({r["mode"] for rs in peer_rows.values() for r in rs})

    m, pm = ours.get("machine", {}), peer.get("machine", {})
    print(f"ours: {ours.get('date', '?')}, {m.get('cpu', '?')}, threads {m.get('threads')}, "
          f"backend {m.get('backend')}, load {m.get('loadavg_before')} -> {m.get('loadavg_after')}")
    print(f"peer: torch {pm.get('torch', '?')}, threads {pm.get('threads')}, "
          f"load {pm.get('loadavg_before')} -> {pm.get('loadavg_after')}")
    print(f"peak (ours): {ours.get('peak', {}).get('formula', '?')} = "
          f"{ours.get('peak', {}).get('peakGFlops', float('nan')):.1f} GFLOP/s; "
          f"peer: {pm.get('peak_gflops_fp32', float('nan')):.1f} GFLOP/s")
    print()
    head = (["task", "cfg", "B", "K", "ours seq/s"] + [f"peer {md} seq/s" for md in modes]
            + ["peer best", "ours / peer best", "ours GFLOP/s", "ours % peak", "peer best % peak", "ours RSS MB"])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in ours["results"]:
        if r.get("error"):
            print(f"| {r['task']} | {r['cfg']} | {r['B']} | {r['K']} | FAILED: {r['error']} |")
            continue
        ps = peer_rows.get(key(r), [])
        by_mode = {p["mode"]: p for p in ps}
        best = max(ps, key=lambda p: p["seq_per_s"]) if ps else None
        cells = [r["task"], r["cfg"], str(r["B"]), str(r["K"]), f"{r['seq_per_s']:.2f}"]
        cells += [f"{by_mode[md]['seq_per_s']:.2f}" if md in by_mode else "-" for md in modes]
        if best:
            cells += [best["mode"], f"{r['seq_per_s'] / best['seq_per_s']:.2f}"]
        else:
            cells += ["-", "-"]
        cells += [f"{r['gflops']:.2f}", f"{100 * r['peak_frac']:.2f}",
                  f"{100 * best['peak_frac']:.2f}" if best else "-", f"{r['peak_rss_mb']:.1f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
