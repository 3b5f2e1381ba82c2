"""The end of every recipe, written once: stopped early, or save, metrics.json, clean up, say where.

``metrics.json`` has one schema for every recipe: ``config`` (what ran), ``setup`` (how it was
spread and batched), ``results`` (the scores), ``history`` (loss and learning rate per logged step,
eval per epoch), ``run`` (command, commit, versions, machine), then what the recipe adds (speed,
per-seed runs) under its own keys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xdomain_nlp.outputs import recorded_paths
from xdomain_nlp.training.accelerator import training_setup
from xdomain_nlp.training.checkpoint import CheckpointDir
from xdomain_nlp.training.loop import FitResult
from xdomain_nlp.training.metrics import save_training_png, write_json
from xdomain_nlp.training.record import run_record
from xdomain_nlp.training.single_process import SingleProcess


def stopped_early(result: FitResult, accelerator: Any, where: str = "") -> bool:
    """True, saying so, when `fit` stopped at ``stop_after_steps`` (the same command resumes)."""
    if result.finished:
        return False
    accelerator.print(f"stopped{where} after {result.state.step} steps; run again to resume")
    return True


def fit_figures(result: FitResult) -> dict[str, Any]:
    """What a recipe records of its loop: history, loss curve, training time and speed."""
    return {
        "history": result.state.history,
        "curve": result.state.curve,
        "train_seconds": result.train_seconds,
        "train_items_per_s": result.items_per_s,
        "train_pieces_per_s": result.pieces_per_s,
    }


def finish_run(
    cfg: Any, results: dict[str, Any], *, accelerator: Any = None, fit_result: FitResult | None = None,
    save: Callable[[Path], Any] | None = None, command: str | None = None, setup: dict | None = None,
    **recorded: Any,
) -> dict[str, Any]:  # fmt: skip
    """Save the model (``save(output_dir)``), write ``metrics.json`` and draw ``training.png`` on the main
    process, then remove the checkpoints (unless ``keep_checkpoints``), end the trackers, and name
    the output folder and what is in it. ``setup``: for a recipe without a training loop (default:
    `training_setup`); ``recorded``: the recipe's own keys. Returns the metrics."""
    accelerator = accelerator or SingleProcess()
    out = Path(cfg.output_dir)
    metrics = {
        "config": recorded_paths(cfg.to_dict(), out),  # relative to the run: no absolute path of this machine
        "setup": setup if setup is not None else training_setup(cfg, accelerator),
        "results": results,
        "history": [],
        **(fit_figures(fit_result) if fit_result is not None else {}),
        "run": run_record(command),
        **recorded,
    }
    if accelerator.is_main_process:
        if save is not None:
            save(out)
        write_json(metrics, out / "metrics.json")
        if fit_result is not None:  # loss and learning rate by step, scores by epoch
            save_training_png(fit_result.state.curve, fit_result.state.history, out / "training.png", out.name)
    accelerator.wait_for_everyone()
    if not getattr(cfg, "keep_checkpoints", True):  # recipes without a training loop have neither
        remove_checkpoints(out, accelerator)
    accelerator.end_training()
    kept = sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in (out.iterdir() if out.is_dir() else [])
        if not p.name.startswith(".") and not (p.is_dir() and not any(p.iterdir()))  # no lock, no empty folder
    )
    accelerator.print(f"results in {out}: {', '.join(kept)}")
    return metrics


def remove_checkpoints(output_dir: str | Path, accelerator: Any = None) -> None:
    """Drop a finished run's checkpoints (they hold the optimizer state: several times the model)."""
    if accelerator is None or accelerator.is_main_process:
        CheckpointDir(Path(output_dir) / "checkpoints").clear()
