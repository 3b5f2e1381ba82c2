"""Regenerate the README's results table from benchmarks/results/*.json (never typed by hand).

python benchmarks/readme_table.py          # rewrites the block between the RESULTS markers
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The docs pages name a run's commits alike: one owner (benchmarks/ is a folder of scripts, not a package).
_spec = importlib.util.spec_from_file_location("docs_numbers", REPO / "benchmarks" / "docs_numbers.py")
docs_numbers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs_numbers)
short_commit = docs_numbers.short_commit
START, END = "<!-- RESULTS:START -->", "<!-- RESULTS:END -->"

# fmt: off
ROWS = {
    "pos_en_de.json": [
        (
            "Zero-shot UPOS, German GSD test (no German labels; German possessive convention declared)",
            "de_gsd_test_upos",
            "{:.2f}",
            ">= 90.0",
        ),
        ("Zero-shot UPOS, German GSD dev (same)", "de_gsd_dev_upos", "{:.2f}", ""),
        (
            "...the same tagger by English conventions (source head), GSD test",
            "de_gsd_test_upos_source_conventions",
            "{:.2f}",
            "",
        ),
        (
            "...the same tagger by English conventions (source head), GSD dev",
            "de_gsd_dev_upos_source_conventions",
            "{:.2f}",
            "",
        ),
        ("UPOS, English EWT test (in-domain)", "en_ewt_test_upos", "{:.2f}", ">= 96.0"),
        ("UPOS, English PUD test (news/wiki)", "en_pud_test_upos", "{:.2f}", ""),
        ("Training tokens/s vs plain transformers loop", "train_tokens_per_s_ratio_vs_plain", "{:.2f}x", ">= 1.5x"),
        ("Inference words/s vs plain transformers loop", "infer_words_per_s_ratio_vs_plain", "{:.2f}x", ">= 2x"),
        (
            "Training tokens/s vs the bare unpadded step (the ceiling), fp32",
            "train_tokens_per_s_ratio_vs_ceiling",
            "{:.2f}",
            ">= 0.8",
        ),
        (
            "Training step tokens/s, bf16 autocast vs fp32",
            "train_bf16_tokens_per_s_ratio_vs_fp32",
            "{:.2f}x",
            ">= 1.2x",
        ),
        ("Main job training words/s, bf16 run vs fp32 run", "train_words_per_s_ratio_vs_fp32_run", "{:.2f}x", ""),
    ],
    "spacy.json": [
        (
            "spaCy `nlp.pipe` words/s vs plain transformers loop (GSD test)",
            "spacy_words_per_s_ratio_vs_plain",
            "{:.2f}x",
            ">= 1.5x",
        ),
        (
            "spaCy path accuracy minus package evaluation (points)",
            "spacy_vs_native_accuracy_diff",
            "{:+.2f}",
            "0.0 +- 0.1",
        ),
        (
            "`xdomain_nlp.load(...).predict` words/s vs spaCy `nlp.pipe` (same model, GSD test)",
            "predict_words_per_s_ratio_vs_spacy",
            "{:.2f}x",
            ">= 1.0x",
        ),
        (
            "`predict` accuracy minus `xdomain-nlp evaluate` (points)",
            "predict_vs_cli_evaluate_accuracy_diff",
            "{:+.2f}",
            "0.00 +- 0.01",
        ),
    ],
    "spacy_sentiment.json": [
        ("Food → Movie via spaCy: SST-2 accuracy minus recipe's", "max_abs_spacy_vs_recipe", "{:.2f}", "0.00"),
    ],
    "parse_speed.json": [
        ("`load(parser).predict`, EWT test: words/s at `precision: auto` (bf16 on this CPU) over fp32",
         "auto_over_fp32.parser_words_per_s", "{:.2f}x", ""),
        ("...LAS at auto minus fp32 (points)", "auto_minus_fp32.parser_las", "{:+.2f}", ""),
        ("`load(Food → Movie model).predict`, SST-2 test: sentences/s at auto over fp32",
         "auto_over_fp32.sentiment_sentences_per_s", "{:.2f}x", ""),
        ("...accuracy at auto minus fp32 (points)", "auto_minus_fp32.sentiment_sst2_test", "{:+.2f}", ""),
    ],
    "shift.json": [
        (
            "UPOS GSD test after self-training on GSD dev text, into German UD conventions (3 seeds, no German labels)",
            "de_gsd_test_upos_selftrain",
            "{:.2f}",
            ">= 92.0",
        ),
        ("...the convention head that gave the pseudo-labels", "de_gsd_test_upos_convention_head", "{:.2f}", ""),
        (
            "...self-training by English conventions (source head)",
            "de_gsd_test_upos_selftrain_source_conventions",
            "{:.2f}",
            "",
        ),
        ("...the same source tagger before self-training", "de_gsd_test_upos_baseline", "{:.2f}", ""),
        ("Label shift 90/10: EM prior absolute error (3 seeds)", "label_shift_prior_abs_error", "{:.3f}", "<= 0.03"),
        ("Label shift 90/10: accuracy gain from EM adjustment (points)", "label_shift_acc_gain", "{:+.2f}", "> 0"),
    ],
    "relational.json": [
        ("Dependency parser, English EWT test UAS", "ewt_test_uas", "{:.2f}", ""),
        ("Dependency parser, English EWT test LAS", "ewt_test_las", "{:.2f}", ""),
        ("Aspect term extraction, SemEval-2014 restaurants test, span F1 (3 seeds)", "semeval14_ate_f1", "{:.2f}", ""),
    ],
    "attention.json": [
        ("Attention: SDPA (default) vs eager, predict", "sdpa_vs_eager.inference_words_per_s", "{:.2f}x", ""),
        ("Attention: SDPA vs eager, training step, bf16", "sdpa_vs_eager.train_bf16", "{:.2f}x", ""),
    ],
    "compile_and_int8.json": [
        ("`torch.compile` vs eager, predict (not used)", "compiled_vs_eager.inference_words_per_s", "{:.2f}x", ""),
        ("`torch.compile` vs eager, training step, fp32 / bf16 (not used)", "compiled_vs_eager.train", "", ""),
        ("int8 dynamic vs fp32, predict words/s (not used)", "int8_vs_fp32.inference_words_per_s", "{:.2f}x", ""),
        ("int8 dynamic minus fp32, GSD test UPOS (points)", "int8_vs_fp32.accuracy_diff", "{:+.2f}", "within 0.3"),
    ],
    "label_mapping.json": [],
    "gpu_check.json": [
        ("GPU check: recipes and model kinds that ran on CUDA (of all phases)", "summary.phases_ran", "{}", "all"),
        ("GPU: main job's training, pieces/s (after its first steps)", "summary.train_steady_pieces_per_s",
         "{:,.0f}", ">= 200,000"),
        ("GPU: the package's step against the bare step at the same token batch", "summary.step_ratio_to_bare",
         "{:.2f}x", ">= 0.8x"),
        ("GPU: main job on 3,000 EWT sentences, `batch_tokens: auto`, GSD test UPOS", "summary.de_gsd_test_upos",
         "{:.2f}", ">= 89.0"),
        ("GPU: ...its training time (s)", "summary.train_seconds", "{:.1f}", "<= 8"),
        ("GPU: `load(tagger).predict` words/s", "summary.predict_words_per_s", "{:,.0f}", ">= 150,000"),
    ],
    "gpu_check_cpu.json": [
        ("GPU check tried on this CPU before a bundle is sent: phases that ran", "summary.phases_ran", "{}", "all"),
    ],
    "predict_overhead.json": [
        ("`load(tagger).predict`: host work a word outside the model (µs), the most words/s a GPU can then give",
         "host_us_per_word", "{:.2f}", ""),
    ],
    "main_job_rerun.json": [
        ("Main job again after the GPU work: GSD test UPOS minus pos_en_de.json's",
         "accuracy_minus_pos_en_de_json.de_gsd_test_upos", "{:+.2f}", "within 0.2"),
        ("...EWT test UPOS minus pos_en_de.json's", "accuracy_minus_pos_en_de_json.en_ewt_test_upos", "{:+.2f}",
         "within 0.2"),
        ("...wall time of a short run, this commit over the one before the change", "speed.current_over_baseline_wall",
         "{:.2f}x", "<= 1.0x"),
    ],
    "loop_overhead.json": [
        ("CPU: the package's training step against the bare step (same model and batches)", "loop_overhead_ratio",
         "{:.2f}x", "<= 1.1x"),
    ],
    "cli_startup.json": [
        ("`xdomain-nlp --help` in a fresh process (s)", "help_seconds", "{:.2f}", "< 1"),
    ],
    "wheel_train.json": [
        ("From the wheel alone: `xdomain-nlp train pos_en_de train_limit=200 epochs=1 eval_limit=20` (s)",
         "train_seconds_wall", "{:.0f}", "< 180"),
    ],
    "shrink.json": [
        ("Main job's tagger after `xdomain-nlp shrink` (Latin-script pieces, bf16): folder MB",
         "default_megabytes", "{:.1f}", "<= 150"),
        ("...its GSD test UPOS minus the saved model's (465 MB)", "default_minus_saved.ud:de_gsd:test", "{:+.2f}",
         "within 0.05"),
        ("...its EWT test UPOS minus the saved model's", "default_minus_saved.ud:en_ewt:test", "{:+.2f}",
         "within 0.05"),
    ],
    "tag_streaming.json": [
        ("`xdomain-nlp tag` on GSD test x100: peak memory over that on GSD test", "peak_rss_ratio_big_over_small",
         "{:.2f}x", "<= 1.5x"),
        ("...its words/s over `predict`'s on the same model", "tag_words_per_s_over_predict", "{:.2f}x", ">= 0.9x"),
    ],
    "tests.json": [
        ("Test suite wall time, `python -m pytest -q -ra` (s)", "suite_wall_s", "{:.0f}", "<= 600"),
    ],
}
# fmt: on
# Entries a benchmark may carry over from an earlier run (``carried_over``): which keys each covers.
CARRIED_KEYS = {"food_movie": ("label_shift_prior_abs_error", "label_shift_acc_gain", "food_movie_reweighting")}
# relational.json reuses runs measured at other commits (``measured_at``): which run each key comes from.
MEASURED_IN = {"ewt_test_uas": "parser_ewt", "ewt_test_las": "parser_ewt", "semeval14_ate_f1": "aspect_terms_seed0"}
TARGETS = {"plain": "", "relational": ">= 86.0, >= plain + 2.0", "relational+lexicon": ">= 86.0"}


def nested(data: dict, key: str):
    """``data[key]``, where ``a.b`` reads ``data["a"]["b"]``; None when absent."""
    if key in data:
        return data[key]
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def run_where(data: dict, part: str, where: str) -> str:
    """The benchmark command and the commit of the reused run that measured ``part`` (``measured_at``), or
    the recipe command of a run measured again on its own (``remeasured``)."""
    again = data.get("remeasured", {}).get(part)
    if again:
        return f"`{again['command']}` @ {short_commit(again['git_commit'])}"
    runs = docs_numbers.run_commits(data.get("measured_at", {}), part)  # one run, or one per seed: each commit once
    return f"`{data['command']}` (run @ {', '.join(map(short_commit, runs))})" if runs else where


def sst2_imdb(entry: dict) -> str:
    """``mean ± std`` on SST-2 test / UCI imdb of one method."""
    sst, imdb = entry["sentiment:sst2:test"], entry["sentiment:imdb:all"]
    return f"{sst['mean']:.2f} ± {sst['std']:.2f} / {imdb['mean']:.2f} ± {imdb['std']:.2f}"


def few_shot_rows(few: dict | None) -> list[str]:
    """One row per k: GSD test after fine-tuning on k German sentences, per L2-SP alpha."""
    if not few:
        return []
    where = f"`{few['command']}` @ {short_commit(few['git_commit'])}"
    seeds = next(iter(few["methods"].values()))["n"]
    by_k: dict[str, list[str]] = {}
    for key, entry in few["methods"].items():
        k, alpha = key.split("_alpha")
        by_k.setdefault(k[1:], []).append(f"α={alpha}: {entry['mean']:.2f} ± {entry['std']:.2f}")
    label = "UPOS GSD test after fine-tuning on {k} labelled German sentences, L2-SP α ({seeds} seeds; before: {b:.2f})"
    return [
        f"| {label.format(k=k, seeds=seeds, b=few['source_model_before'])} | {'; '.join(v)} | | {where} |"
        for k, v in by_k.items()
    ]


def table() -> str:
    lines = ["| result | value | target | measured by |", "|---|---|---|---|"]
    for name, rows in ROWS.items():
        path = REPO / "benchmarks/results" / name
        if not path.is_file():
            continue
        data = json.loads(path.read_text())
        where = f"`{data.get('command', name)}` @ {short_commit(data.get('git_commit', '?'))}"
        measured_by = {}
        for part, run in data.get("carried_over", {}).items():
            if part in CARRIED_KEYS and isinstance(run, dict):
                run_at = f"`{run['command']}` @ {short_commit(run['git_commit'])}"
                measured_by.update(dict.fromkeys(CARRIED_KEYS[part], run_at))
        measured_by.update({key: run_where(data, part, where) for key, part in MEASURED_IN.items()})
        for label, key, fmt, target in rows:
            value = nested(data, key)
            if isinstance(value, dict) and not fmt:  # fp32 / bf16 pair
                lines.append(f"| {label} | {value['fp32']:.2f}x / {value['bf16']:.2f}x | {target} | {where} |")
            elif value is not None:
                value = value + 0.0 if isinstance(value, float) else value  # -0.0 reads as 0.00
                lines.append(f"| {label} | {fmt.format(value)} | {target} | {measured_by.get(key, where)} |")
        fm_where = measured_by.get("food_movie_reweighting", where)
        for method, entry in data.get("food_movie_reweighting", {}).items():
            value = sst2_imdb(entry)
            if "gain_vs_none" in entry:
                gain = entry["gain_vs_none"]["sentiment:sst2:test"]["mean"]
                value += f" ({gain:+.2f} vs none; guard flagged {entry['flagged_by_guard']}/3)"
            lines.append(f"| Food → Movie accuracy SST-2 test / IMDb, {method} | {value} | | {fm_where} |")
        genre = data.get("ewt_genre_shift", {})
        for method, entry in genre.get("methods", {}).items():
            t, b = entry["target"], entry["biased_words"]
            seeds = len(genre["runs"][method])
            value = f"{t['mean']:.2f} ± {t['std']:.2f} / {b['mean']:.2f} ± {b['std']:.2f}"
            if "gain_vs_none" in entry:
                gain = entry["gain_vs_none"]["target"]["mean"]
                value += f" ({gain:+.2f} vs none; guard flagged {entry['flagged_by_guard']}/{seeds})"
            label = f"EWT genre shift → reviews+answers test UPOS / context-biased words, {method} ({seeds} seeds)"
            gwhere = f"`{genre['command']}` @ {short_commit(genre['git_commit'])}"
            lines.append(f"| {label} | {value} | | {gwhere} |")
        lines += few_shot_rows(data.get("de_gsd_few_shot"))
        food_where = run_where(data, "sentiment_food_to_movie", where)
        adjusted = data.get("sentiment_label_shift_em", {})
        for method, entry in data.get("sentiment", {}).items():
            label = f"Food → Movie accuracy SST-2 test / IMDb, {method} (fine-tuned, 3 seeds)"
            lines.append(f"| {label} | {sst2_imdb(entry)} | {TARGETS.get(method, '')} | {food_where} |")
            if method in adjusted:
                label = f"...{method} with EM label-shift adjustment (the same models)"
                lines.append(f"| {label} | {sst2_imdb(adjusted[method])} | | {food_where} |")
        if "in_domain_upper_bound" in data:
            value = sst2_imdb(data["in_domain_upper_bound"])
            label = "...upper bound: plain trained on SST-2 train (Movie labels), SST-2 test / IMDb (3 seeds)"
            lines.append(f"| {label} | {value} | | {run_where(data, 'sentiment_sst2_in_domain', where)} |")
        for tag_set, corpus in (("stts", "German GSD test"), ("ptb", "English EWT test")):
            curve = data.get(tag_set)
            methods = (
                "mapping_head",
                "projected_head",
                "fresh_head",
                "mapping_head_tuned",
                "projected_head_tuned",
                "full_finetune",
                "pretuned_fresh_head",
                "pretuned_projected_head",
                "pretuned_projected_head_tuned",
            )
            for method in methods if curve else ():
                ks = [k for k, r in curve.items() if method in r]
                if not ks:
                    continue
                value = " / ".join(f"{curve[k][method]['mean']:.2f} ± {curve[k][method]['std']:.2f}" for k in ks)
                label = f"{tag_set.upper()} accuracy, {corpus}, {method.replace('_', ' ')}, k = {' / '.join(ks)}"
                heads = ("mapping_head", "projected_head", "pretuned_projected_head", "pretuned_projected_head_tuned")
                target = ">= 93.0 at k = 100" if tag_set == "stts" and method in heads else ""
                # A row kept from an earlier run (--carry-over) names that run.
                kept = [data.get("carried_over", {}).get(f"{tag_set} k={k} {method}") for k in ks]
                runs = {(r["command"], short_commit(r["git_commit"])) for r in kept if r}
                row_where = where
                if all(kept) and len(runs) == 1:
                    ((command, commit),) = runs
                    row_where = f"`{command}` @ {commit}"
                lines.append(f"| {label} | {value} | {target} | {row_where} |")
        if "blitzer" in data:
            b = data["blitzer"]
            for method, avg in b["average"].items():
                worst = min(b["pairs"][method].items(), key=lambda kv: kv[1])
                value = f"{avg:.2f} (lowest pair {worst[0]} {worst[1]:.2f})"
                target = ">= 85" if method == b["best_method"] else ""
                label = f"Amazon (Blitzer) 12-pair average accuracy, frozen encoder, {method.replace('_', ' ')}"
                lines.append(f"| {label} | {value} | {target} | {run_where(data, 'sentiment_blitzer', where)} |")
        if "lexicon" in data:
            lex = data["lexicon"]
            value = (
                f"{lex['precision_at_k']['mean']:.1f} ± {lex['precision_at_k']['std']:.1f}; "
                f"polarity {lex['polarity_accuracy']['mean']:.1f}"
            )
            label = "Movie opinion words bootstrapped from Food patterns: top-100 precision vs held-out VADER half"
            lines.append(f"| {label} | {value} | | {food_where} |")
        machine = data.get("machine", {})
        lines.append(
            f"| machine for `{name}` | {machine.get('cpu', '?')}, {machine.get('cpu_cores', '?')} cores, "
            f"{machine.get('device', '?')} | | |"
        )
    return "\n".join(lines)


def main() -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{START}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    main()
