"""Masked-LM adaptation: windows never cut a text, masking follows BERT's rule, the head learns,
and the recipe writes an encoder every other recipe can load."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import REPO, recipe_main


def test_long_text_becomes_overlapping_windows_with_every_piece(tokenizer):
    from xdomain_nlp.encoders.mlm import text_windows

    text = " ".join(f"word{i}" for i in range(200))
    pieces = tokenizer(text, add_special_tokens=False)["input_ids"]
    windows = text_windows([text, "short one"], tokenizer, max_length=32, overlap=8, source="sample")
    assert all(len(w) <= 32 and w[0] == tokenizer.cls_token_id and w[-1] == tokenizer.sep_token_id for w in windows)
    long_windows = [w[1:-1] for w in windows[:-1]]
    assert len(long_windows) > 1
    rebuilt = list(long_windows[0])
    for window in long_windows[1:]:
        assert window[:8] == rebuilt[-8:]  # the overlap repeats the previous window's tail
        rebuilt += window[8:]
    assert rebuilt == pieces
    assert windows[-1][1:-1] == tokenizer("short one", add_special_tokens=False)["input_ids"]


def test_empty_text_and_bad_window_are_named(tokenizer):
    from xdomain_nlp.encoders.mlm import text_windows

    with pytest.raises(ValueError, match="sample: the text at index 1 is empty"):
        text_windows(["fine", ""], tokenizer, max_length=32, overlap=8, source="sample")
    with pytest.raises(ValueError, match="must exceed window overlap"):
        text_windows(["fine"], tokenizer, max_length=10, overlap=8, source="sample")


def test_masking_never_touches_special_pieces_and_labels_only_chosen_ones():
    from xdomain_nlp.encoders.mlm import IGNORE, mask_pieces

    ids = torch.randint(10, 1000, (64, 50))
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True
    vocab = torch.arange(10, 1000)
    inputs, labels = mask_pieces(ids, special, mask_id=3, vocab_ids=vocab, prob=0.15,
                                 generator=torch.Generator().manual_seed(0))  # fmt: skip
    chosen = labels != IGNORE
    assert not chosen[special].any()
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])  # nothing outside the chosen pieces changes
    assert 0.12 < chosen.float().mean().item() < 0.18
    masked = (inputs[chosen] == 3).float().mean().item()
    assert 0.7 < masked < 0.9
    with pytest.raises(ValueError, match="mask probability"):
        mask_pieces(ids, special, 3, vocab, prob=0.0)


def test_head_learns_a_batch_and_masked_piece_outside_vocabulary_is_an_error(e5_dir, tokenizer):
    from xdomain_nlp.encoders import load_encoder
    from xdomain_nlp.encoders.mlm import MaskedLMAdapter, collate_masked, text_windows

    windows = text_windows(["The pasta was tasty but the service was slow.", "A gripping, funny film."],
                           tokenizer, max_length=64, overlap=8, source="sample")  # fmt: skip
    vocab = torch.tensor(sorted({i for w in windows for i in w} - set(tokenizer.all_special_ids)))
    torch.manual_seed(0)
    model = MaskedLMAdapter(load_encoder(str(e5_dir)), vocab.tolist())
    batch = collate_masked(windows, tokenizer, vocab, prob=0.5, generator=torch.Generator().manual_seed(1))
    optimizer = torch.optim.AdamW([p for n, p in model.named_parameters() if "word_embeddings" not in n], lr=1e-3)
    first = model(**batch)["loss"].item()
    for _ in range(15):
        loss = model(**batch)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert model(**batch)["loss"].item() < 0.5 * first
    assert model.head.embeddings is model.encoder.get_input_embeddings()  # tied, not copied

    outside = batch["labels"].clone()
    outside[0, 1] = tokenizer.convert_tokens_to_ids("▁monitor")  # not a piece of the two texts
    with pytest.raises(ValueError, match="outside the head's vocabulary"):
        model(batch["input_ids"], batch["attention_mask"], outside)


def test_a_pretrained_head_is_kept_and_predicts_as_the_full_model_does(tmp_path, e5_dir):
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from xdomain_nlp.encoders.mlm import load_masked_lm

    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=64, layer_norm_eps=1e-5)  # fmt: skip
    full = XLMRobertaForMaskedLM(config).eval()
    with torch.no_grad():
        full.lm_head.bias.normal_()  # not the zeros a new head starts from
    full.save_pretrained(tmp_path / "tiny")
    vocab = [5, 17, 42, 299]
    adapter, pretrained = load_masked_lm(str(tmp_path / "tiny"), vocab)
    assert pretrained and adapter.head.norm.eps == 1e-5
    ids = torch.tensor([[0, 5, 17, 42, 2]])
    with torch.no_grad():
        expected = full(input_ids=ids).logits[..., vocab]
        states = adapter.eval().encoder(input_ids=ids).last_hidden_state
        assert torch.allclose(adapter.head(states), expected, atol=1e-5)

    _, pretrained = load_masked_lm(str(e5_dir), vocab)
    assert not pretrained  # e5 ships no head: a new one is trained


def test_recipe_writes_an_encoder_the_other_recipes_load(tmp_path, e5_dir):
    main = recipe_main("adapt_encoder_mlm")

    from xdomain_nlp.encoders import load_encoder, load_tokenizer

    out, config = tmp_path / "mlm", str(REPO / "recipes/configs/adapt_encoder_mlm_food_movie.yaml")
    result = main(["--config", config, "unlabelled=[sentiment:yelp:all]", "head_only_steps=2", "steps=3",
                   "batch_size=8", "eval_every=3", f"output_dir={out}"])  # fmt: skip
    assert result["unlabelled"] == {"sentiment:yelp:all": 1000} and result["pretrained_head"] is False
    assert result["windows"]["train"] + result["windows"]["heldout"] == 1000
    assert [(c["phase"], c["step"]) for c in result["heldout"]] == [("head", 2), ("adapt", 3)]
    assert result["heldout"][0]["pieces"] == result["heldout"][1]["pieces"] > 0  # the same masked held-out set
    assert json.loads((out / "metrics.json").read_text())["results"]["heldout"] == result["heldout"]

    adapted, original = load_encoder(str(out / "encoder")), load_encoder(str(e5_dir))
    assert (
        load_tokenizer(str(out / "encoder"))("tasty")["input_ids"] == load_tokenizer(str(e5_dir))("tasty")["input_ids"]
    )
    top = "encoder.layer.11.output.dense.weight"
    assert not torch.equal(adapted.state_dict()[top], original.state_dict()[top])  # trained
    emb = "embeddings.word_embeddings.weight"
    assert torch.equal(adapted.state_dict()[emb], original.state_dict()[emb])  # frozen by default
    # The head-only phase leaves the whole encoder as it was, embeddings included even when they may train.
    main(["--config", config, "unlabelled=[sentiment:yelp:all]", "head_only_steps=2", "steps=0", "batch_size=8",
          "freeze_embeddings=false", f"output_dir={tmp_path / 'head_only'}"])  # fmt: skip
    unchanged = load_encoder(str(tmp_path / "head_only" / "encoder")).state_dict()
    assert all(torch.equal(v, unchanged[k]) for k, v in original.state_dict().items())
    with pytest.raises(ValueError, match="heldout_share"):
        main(["--config", config, "heldout_share=1.0"])
