"""The training-speed benchmark: genlat's step against the plain PyTorch DCGAN loop, in one process.

    python -m benchmarks                      # CPU or the first GPU, the README's default config
    python -m benchmarks --mixed_precision no --channels_last false   # the fp32, NCHW genlat side
    python -m benchmarks --device cuda --mixed_precision bf16 --channels_last --compile

The genlat side runs what a run does by default (`--mixed_precision auto`, `--channels_last auto`,
resolved for the device and printed); the reference is always fp32, as the example is.

Both loops run on the same device with the same threads, architecture, batch and zn, in
interleaved blocks (a warm-up block each, then A B, B A, ...), so drift on a shared machine hits
both; rates are medians over the blocks and the ratio is the median of the per-pair ratios.
Then, with genlat's own code: the cost of an epoch's tracking (W&B offline), checkpoint and
evaluation as shares of a default epoch, the renderer's speed against what training consumes,
peak memory, and the step's FLOPs (achieved FLOP/s, and the share of the bf16 peak on a known GPU).
It prints a table, writes the results as JSON (--out), and ends with the line
`genlat/reference images/s ratio: X.XX` (with tracking on). It also times one whole 1-epoch run in
a fresh process (benchmarks/run_cost.py): the fixed cost every run pays beyond training and evaluation.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.device import bf16_peak, peak_bytes, reset_peak, step_flops
from benchmarks.report import numerics_label, print_table
from benchmarks.timing import interleave, paired_ratios, summarize
from genlat.cli_args import DefaultsHelpFormatter, UserArgumentParser
from genlat.config import TrainConfig
from genlat.errors import ConfigError, entry_point

RESULTS = Path(__file__).resolve().parent / "results"  # ignored by git


def build_parser() -> UserArgumentParser:
    p = UserArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0], formatter_class=DefaultsHelpFormatter
    )
    p.add_argument(
        "--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto: the first GPU, else the CPU"
    )
    p.add_argument("--image_size", type=int, default=32, help="32 or 64")
    p.add_argument("--batch_size", type=int, default=64, help="images per step (the example's default)")
    p.add_argument("--zn", type=int, default=100, help="latent size (the example's nz)")
    p.add_argument("--ngf", type=int, default=64, help="generator width")
    p.add_argument("--ndf", type=int, default=64, help="discriminator width")
    p.add_argument("--steps", type=int, default=0, help="steps per timed block (0: 10 on the CPU, 200 on a GPU)")
    p.add_argument(
        "--repeats", type=int, default=7, help="timed blocks per side (short blocks, many pairs: drift cancels)"
    )
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads, for both sides")
    p.add_argument(
        "--mixed_precision",
        default="auto",
        choices=("auto", "no", "bf16", "fp16"),
        help="genlat's side; auto: what a run does by default (the reference stays fp32)",
    )
    p.add_argument(
        "--channels_last",
        nargs="?",
        const="true",
        default="auto",
        choices=("auto", "true", "false"),
        help="genlat's side: channels-last networks and batches; auto: what a run does by default",
    )
    p.add_argument("--compile", action="store_true", help="genlat's side: torch.compile the step's networks")
    p.add_argument(
        "--run_cost",
        default="true",
        choices=("true", "false"),
        help="also time a whole 1-epoch run in a fresh process (the fixed cost every run pays)",
    )
    p.add_argument("--eval_samples", type=int, default=1000, help="images per evaluation (a run's default)")
    p.add_argument("--epoch_images", type=int, default=12800, help="the epoch the shares are of (a run's default)")
    p.add_argument(
        "--out", default="", help=f"results JSON (default: {RESULTS.name}/train_speed-DEVICE-TIME.json here)"
    )
    p.add_argument("--debug", action="store_true", help="print tracebacks for user errors too")
    return p


def make_config(args, root: Path) -> TrainConfig:
    values = dict(
        zn=args.zn,
        batch_size=args.batch_size,
        image_size=args.image_size,
        ngf=args.ngf,
        ndf=args.ndf,
        mixed_precision=args.mixed_precision,
        cpu=args.device == "cpu",
        eval_samples=args.eval_samples,
        epoch_size=max(args.epoch_images, (max(args.steps, 10) + 1) * args.batch_size),
        out=str(root / "runs"),
        name="benchmark",
    )
    values.update(channels_last=args.channels_last, compile=args.compile)
    return TrainConfig.from_dict(values)


def check_args(args) -> None:
    for name in ("batch_size", "zn", "ngf", "ndf", "repeats", "threads", "epoch_images"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name}={getattr(args, name)}: must be a positive integer")
    if args.steps < 0:
        raise ConfigError(f"--steps={args.steps}: must be 0 (the default) or positive")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device=cuda: no CUDA device is visible; use --device cpu")
    on_gpu = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    args.steps = args.steps or (200 if on_gpu else 10)


def run_benchmark(args, root: Path, progress: Progress) -> dict:
    from benchmarks.costs import epoch_costs, eval_cost, renderer_rate
    from benchmarks.genlat_side import GenlatLoop
    from benchmarks.reference import ReferenceLoop
    from benchmarks.run_cost import run_cost

    task = progress.add_task("set-up", total=2 * args.repeats + 7)
    cfg = make_config(args, root)
    genlat = GenlatLoop(cfg)
    device = genlat.device
    reference = ReferenceLoop(cfg, device)
    steps = args.steps

    progress.update(task, description="FLOPs per step")
    flops = {"genlat": step_flops(genlat.eager_step()), "reference": step_flops(lambda: reference.step(0))}
    progress.advance(task)

    peaks = {"genlat": 0, "reference": 0}

    def measured(name, loop):
        def run_block(n):
            reset_peak(device)
            out = loop.run(n)
            peaks[name] = max(peaks[name], peak_bytes(device))
            return out

        return run_block

    def on_block(name, rep, rate):
        progress.update(task, description=f"block {rep + 1}/{args.repeats}: {name} {rate:,.0f} img/s")
        progress.advance(task)
        if not progress.console.is_terminal:  # a log file gets plain lines instead of the bar
            progress.console.print(f"block {rep + 1}/{args.repeats}: {name} {rate:,.1f} img/s", highlight=False)

    progress.update(task, description="warm-up")
    rates, cpu_rates = interleave(
        {"genlat": measured("genlat", genlat), "reference": measured("reference", reference)},
        steps,
        args.repeats,
        warmup_steps=max(2, steps // 2),
        on_block=on_block,
    )
    progress.advance(task)
    progress.update(task, description="renderer")
    render = renderer_rate(genlat, batches=max(steps, 10), repeats=3)  # epoch_images bounds it
    progress.advance(task)
    progress.update(task, description="evaluation")
    evaluation = eval_cost(genlat, repeats=min(args.repeats, 3))
    progress.advance(task)
    progress.update(task, description="tracking and checkpoints")
    epoch = epoch_costs(genlat, repeats=min(args.repeats, 3))
    progress.advance(task)
    progress.update(task, description="a whole 1-epoch run")
    whole = run_cost(cfg, root, images=args.batch_size * max(steps, 2)) if args.run_cost == "true" else None
    progress.advance(task)
    reference.close()
    genlat.close()

    ratios = paired_ratios(rates["genlat"], rates["reference"])
    cpu_ratios = paired_ratios(cpu_rates["genlat"], cpu_rates["reference"])
    summary = {name: summarize(values) for name, values in rates.items()}
    g_rate = summary["genlat"]["median"]
    train_s = args.epoch_images / g_rate  # a default epoch's training at genlat's median rate
    step_ratio = summarize(ratios)["median"]

    def ratio_with(*costs: float) -> float:
        """The step ratio with per-epoch costs added to genlat's epoch (the reference has none)."""
        return step_ratio * train_s / (train_s + sum(costs))

    name, peak = bf16_peak(device)
    achieved = flops["genlat"] * g_rate / cfg.batch_size
    return {
        "settings": {
            **vars(args),
            "steps": steps,
            "warmup_steps": max(2, steps // 2),
            "config": cfg.to_dict(),
            "resolved": {
                "mixed_precision": genlat.numerics.mixed_precision,
                "channels_last": genlat.numerics.channels_last,
                "source": genlat.numerics.source,
            },
        },
        "run": whole,
        "environment": {
            "device": device.type,
            "device_name": name,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "images_per_s": summary,
        "ratio": summarize(ratios),
        "images_per_cpu_s": {name: summarize(values) for name, values in cpu_rates.items()},
        "ratio_cpu_time": summarize(cpu_ratios),
        "ratio_with_tracking": ratio_with(epoch["tracking_s"]),
        "ratio_with_tracking_checkpoint_eval": ratio_with(
            epoch["tracking_s"], epoch["checkpoint_s"], evaluation["eval_s"]
        ),
        "epoch": {
            "images": args.epoch_images,
            "train_s": train_s,
            **epoch,
            **evaluation,
            "tracking_share": epoch["tracking_s"] / train_s,
            "checkpoint_share": epoch["checkpoint_s"] / train_s,
            "eval_share": evaluation["eval_s"] / train_s,
            "claims_share": evaluation["claims_s"] / train_s,
        },
        "renderer": {**render, "times_training": render["images_per_s"] / g_rate},
        "memory": {
            "peak_bytes": peaks,
            "kind": "cuda max_memory_allocated"
            if device.type == "cuda"
            else "process peak RSS (both sides share one process)",
        },
        "flops": {
            "per_step": flops,
            "achieved_per_s": achieved,
            "bf16_peak_per_s": peak,
            "share_of_bf16_peak": achieved / peak if peak else None,
        },
    }


@entry_point
def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    check_args(args)
    torch.set_num_threads(args.threads)  # one process: both sides share the setting
    with tempfile.TemporaryDirectory(prefix="genlat-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(root))
        with Progress(
            TextColumn("[bold]benchmark"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            results = run_benchmark(args, root, progress)
    stamp = f"{results['environment']['device']}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = Path(args.out) if args.out else RESULTS / f"train_speed-{stamp}.json"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    except OSError as e:
        raise ConfigError(f"--out={out}: cannot write the results ({e.strerror}); pick another path") from None
    print_table(results, out)
    print(f"genlat ran in {numerics_label(results['settings'])}")
    print(f"genlat/reference images/s ratio: {results['ratio_with_tracking']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
