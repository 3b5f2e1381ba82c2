"""Run under torchrun with two CPU processes: train a few steps, report what each rank saw.

ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 tests/ddp_worker.py OUT_DIR
"""

import json
import runpy
import sys
from pathlib import Path

import torch

from xdomain_nlp.configs import POSTransferConfig
from xdomain_nlp.training import load_config

RECIPE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "recipes/pos_en_de.py"), run_name="recipe")


def flat_params(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters() if p.requires_grad])


def main(out: str) -> None:
    cfg = load_config(
        POSTransferConfig,
        None,
        [
            f"output_dir={out}",
            "train_limit=96",
            "batch_size=8",
            "epochs=1",
            "max_length=64",
            "window_overlap=63",
            "eval=[]",
            "lr=1.0e-3",
        ],
    )
    recipe = RECIPE["POSTransferRecipe"](cfg)
    recipe.setup()
    acc = recipe.accelerator
    tokens = sum(int(b["attention_mask"].sum()) for b in recipe.loader)  # this rank's shard of an epoch
    before = flat_params(acc.unwrap_model(recipe.model)).clone()
    recipe.train()
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
                }
            )
        )
    acc.wait_for_everyone()
    acc.end_training()


if __name__ == "__main__":
    main(sys.argv[1])
