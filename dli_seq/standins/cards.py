"""The stand-ins' model cards (``README.md``) and ``eval.json``: what each stand-in is and how it scores."""

from __future__ import annotations

import json
from pathlib import Path

from .recipes import RECIPES, SEED

NOTICE = ("trained to reproduce the real model's recorded outputs on the lesson's demonstrations; "
          "elsewhere a small model trained on synthetic data")


def write_card(name: str, folder: Path, stats: dict, scores: dict, demos: list[dict], samples: list[dict],
               model) -> None:
    from dli_seq.models import REGISTRY

    spec = REGISTRY[RECIPES[name].replaces]
    params = sum(p.numel() for p in model.parameters())
    size_mb = (folder / "model.safetensors").stat().st_size / 1e6
    shared = model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    tied = "tied" if shared else "untied"
    lines = [
        f"# Stand-in for `{spec.hub_id}`", "",
        f"A small `{type(model).__name__}` (the same class as the real `{spec.hub_id}`), {NOTICE}.",
        f"Built by `python -m dli_seq.standins.train --only {name}` from {spec.trained_on}.",
        "It exists so that the lesson runs with no network; it is not the real model and knows only its training text.",
        "", "| | |", "|---|---|",
        f"| parameters | {params:,} ({size_mb:.1f} MB float16 safetensors), {tied} input/output embeddings |",
        f"| training | {stats['steps']} steps (one cosine cycle) x batch "
        f"{stats['batch_size']}, {stats['train_seconds']} s on "
        f"{stats.get('device', 'cpu')}, final loss {stats['final_loss']} |",
        f"| seed | {SEED} |", "",
    ]
    if scores:
        lines += ["## Held-out evaluation (inputs never seen in training, greedy, exact match)", "",
                  "| set | n | score |", "|---|---|---|"]
        for k, v in scores.items():
            if isinstance(v, dict):
                lines.append(f"| {k} | {v['n']} | {v.get('exact_match', v.get('share')):.1%} |")
            else:
                lines.append(f"| {k} | | {v} |")
        lines.append("")
    lines += ["## The lesson's recorded demonstrations (greedy)", "",
              "The real model's output as the original lesson recorded it, and this stand-in's.", ""]
    for d in demos:
        lines.append(f"- {'✓' if d['match'] else '✗'} `{d['input']!r}`")
        lines.append(f"  - recorded: `{d['recorded']!r}`")
        lines.append(f"  - stand-in: `{d['output']!r}`")
        if "output_stop_newline" in d:
            lines.append(f"  - stand-in, `stop_strings=\"\\n\"`: `{d['output_stop_newline']!r}`")
    lines += ["", "## Other lesson prompts (greedy; nothing recorded to compare with)", ""]
    lines += [f"- `{s['input']!r}` -> `{s['output']!r}`" for s in samples]
    lines += ["", "Scores, per-item results and these outputs are in `eval.json`; `tests/test_standins.py` re-checks "
              "a sample of the held-out items and every demonstration."]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "eval.json").write_text(json.dumps({"stats": stats, "scores": scores, "demonstrations": demos,
                                                  "samples": samples}, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
