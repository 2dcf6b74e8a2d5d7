"""The benchmark's table (rich) from its results dict."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table


def _rate(s: dict) -> tuple[str, str]:
    return f"{s['median']:,.1f}", f"{s['min']:,.1f} – {s['max']:,.1f} ({s['spread']:.0%})"


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _flops(x: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if x >= scale:
            return f"{x / scale:.2f} {unit}FLOP"
    return f"{x:.0f} FLOP"


def numerics_label(s: dict) -> str:
    """What the genlat side ran in, e.g. `bf16 (auto: this CPU runs bf16 natively), channels-last`."""
    n = s["resolved"]
    name = {"no": "fp32"}.get(n["mixed_precision"], n["mixed_precision"])
    return f"{name} ({n['source']})" + (", channels-last" if n["channels_last"] else "")


def print_table(r: dict, out: Path, console: Console | None = None) -> None:
    console = console or Console(width=None if Console().is_terminal else 150)  # files and pipes get the full row
    env, s, e = r["environment"], r["settings"], r["epoch"]
    title = (
        f"genlat vs the PyTorch DCGAN loop — {env['device_name']}, {env['threads']} thread(s), "
        f"{s['image_size']} px, batch {s['batch_size']}, zn {s['zn']}, ngf/ndf {s['ngf']}/{s['ndf']}, "
        f"genlat {numerics_label(s)} vs reference fp32"
    )
    t = Table(title=title, title_justify="left")
    for col in ("measure", "median", "min – max (spread)", "what it is"):
        t.add_column(col, overflow="fold")
    n = f"{r['ratio']['n']} blocks of {s['steps']} steps"
    t.add_row("reference images/s", *_rate(r["images_per_s"]["reference"]), f"dcgan/main.py's loop, fp32; {n}")
    t.add_row(
        "genlat images/s", *_rate(r["images_per_s"]["genlat"]), "GANTrainer + renderer, W&B train/* every log_every"
    )
    t.add_row(
        "step ratio genlat/reference",
        f"{r['ratio']['median']:.2f}",
        f"{r['ratio']['min']:.2f} – {r['ratio']['max']:.2f}",
        "per pair of neighbouring blocks",
    )
    t.add_row(
        "step ratio per CPU second",
        f"{r['ratio_cpu_time']['median']:.2f}",
        f"{r['ratio_cpu_time']['min']:.2f} – {r['ratio_cpu_time']['max']:.2f}",
        "the same blocks by this process's CPU time: steady on a shared CPU",
    )
    t.add_row(
        "tracking per epoch",
        f"{e['tracking_s']:.3f} s",
        f"{e['tracking_share']:.2%} of the epoch",
        f"grid PNG, metrics line, W&B image + table; epoch = {e['images']:,} images ({e['train_s']:.1f} s)",
    )
    t.add_row(
        "checkpoint per epoch",
        f"{e['checkpoint_s']:.3f} s",
        f"{e['checkpoint_share']:.2%} of the epoch",
        "models, optimizers, RNG; atomic write",
    )
    t.add_row(
        "evaluation per epoch",
        f"{e['eval_s']:.3f} s",
        f"{e['eval_share']:.2%} of the epoch",
        f"{e['eval_samples']} samples: FD, KID, P/R, coverage, PPL, evenness, claims",
    )
    t.add_row(
        "  of which claims' measures",
        f"{e['claims_s']:.3f} s",
        f"{e['claims_share']:.2%} of the epoch",
        "detail, fragments, Jacobian spectrum",
    )
    t.add_row(
        "once per run",
        f"{e['last_epoch_panels_s'] + e['final_tables_s']:.3f} s",
        "",
        "last epoch's panels + final W&B tables + finish",
    )
    w = r.get("run")
    if w:
        t.add_row(
            "whole 1-epoch run",
            f"{w['run_wall_s']:.2f} s",
            f"{w['run_cpu_s']:.2f} CPU-s",
            f"python train.py in a fresh process; training {w['train_s']:.2f} s, evaluation {w['eval_s']:.2f} s",
        )
        t.add_row(
            "  fixed cost per run",
            f"{w['fixed_wall_s']:.2f} s",
            "",
            "the run's wall time less its training and evaluation: start-up, W&B, writes, exit",
        )
        t.add_row(
            "  of which imports",
            f"{w['imports_wall_s']:.2f} s",
            f"{w['imports_cpu_s']:.2f} CPU-s",
            "python -c 'import genlat.run' in a fresh process",
        )
    t.add_row("ratio with tracking", f"{r['ratio_with_tracking']:.2f}", "", "step ratio × training share of the epoch")
    t.add_row(
        "ratio with tracking, checkpoint, eval",
        f"{r['ratio_with_tracking_checkpoint_eval']:.2f}",
        "",
        "everything a run does per epoch",
    )
    rd = r["renderer"]
    t.add_row(
        "renderer images/s",
        f"{rd['images_per_s']:,.0f}",
        f"{rd['times_training']:.0f}× training",
        "shapes batches on the device, alone",
    )
    m = r["memory"]
    t.add_row(
        "peak memory genlat / reference",
        f"{_gib(m['peak_bytes']['genlat'])} / {_gib(m['peak_bytes']['reference'])}",
        "",
        m["kind"],
    )
    f = r["flops"]
    share = f" = {f['share_of_bf16_peak']:.1%} of the bf16 peak" if f["share_of_bf16_peak"] else ""
    t.add_row(
        "FLOPs per step genlat / reference",
        f"{_flops(f['per_step']['genlat'])} / {_flops(f['per_step']['reference'])}",
        "",
        "FlopCounterMode over one step",
    )
    t.add_row(
        "achieved FLOP/s (genlat)",
        f"{_flops(f['achieved_per_s'])}/s",
        share.lstrip(" ="),
        "FLOPs per step × steps/s" + ("" if f["bf16_peak_per_s"] else "; no known peak for this device"),
    )
    console.print(t)
    console.print(f"results: {out}", highlight=False)
