"""Run under torchrun with two CPU processes: train a few steps, report what each rank saw.

100 sentences in batches of 8 make 13 batches, the last one short and shuffled into the middle of
the epoch: every window must still be trained on exactly once, by one of the two ranks.

ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 tests/ddp_worker.py OUT_DIR [key=value ...]

Extra settings go to the recipe's config (``global_batch_tokens=1200``: batches of pieces).
"""

import json
import runpy
import sys
from pathlib import Path

import torch
from accelerate.utils import gather_object

from xdomain_nlp.configs import POSTransferConfig
from xdomain_nlp.training import load_config, training_setup

RECIPE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "recipes/pos_en_de.py"), run_name="recipe")


def flat_params(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters() if p.requires_grad])


def main(out: str, extra: list[str]) -> None:
    cfg = load_config(
        POSTransferConfig,
        None,
        [
            f"output_dir={out}",
            "train_limit=100",
            "global_batch_size=16",
            "epochs=1",
            "max_length=64",
            "window_overlap=63",
            "eval=[]",
            "lr=1.0e-3",
            "mixed_precision=no",  # fp32 on every CPU: the comparison across ranks is exact
            *extra,
        ],
    )
    recipe = RECIPE["POSTransferRecipe"](cfg)
    recipe.setup()
    acc = recipe.accelerator
    tokens = sum(int(b["attention_mask"].sum()) for b in recipe.loader)  # this rank's shard of an epoch
    index = {id(w): i for i, w in enumerate(recipe.train_windows)}
    seen: list[int] = []  # the windows this rank trains on, as the loader hands them out
    loader = getattr(recipe.loader, "base_dataloader", recipe.loader)  # accelerate's adapter iterates this one
    collate = loader.collate_fn
    loader.collate_fn = lambda items: seen.extend(index[id(w)] for w in items) or collate(items)
    before = flat_params(acc.unwrap_model(recipe.model)).clone()
    recipe.train()
    seen_by_rank = gather_object([seen])
    after = flat_params(acc.unwrap_model(recipe.model))
    stats = torch.tensor(
        [float(after.sum()), float(after.square().sum()), float((after - before).abs().sum()), tokens],
        dtype=torch.float64,
    )
    gathered = acc.gather(stats.unsqueeze(0))
    if acc.is_main_process:
        total = sum(len(w.input_ids) for w in recipe.train_windows)
        Path(out, "ddp.json").write_text(
            json.dumps(
                {
                    "world_size": acc.num_processes,
                    "distributed_type": str(acc.distributed_type),
                    "per_rank": gathered.tolist(),
                    "dataset_tokens": total,
                    "windows": len(recipe.train_windows),
                    "seen_by_rank": seen_by_rank,
                    "steps": recipe.result.state.step,
                    "loader_batches": len(recipe.loader),
                    "sampler_batches": len(recipe.sampler),
                    "setup": training_setup(cfg, acc),
                }
            )
        )
    acc.wait_for_everyone()
    acc.end_training()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
