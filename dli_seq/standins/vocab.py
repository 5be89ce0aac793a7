"""The stand-ins' tokenizers and the compact vocabulary the GPT-2-vocabulary stand-ins train with.

GPT-2 and Phi-1.5 stand-ins (4.2, 4.5) keep GPT-2's real 50,257-token tokenizer; the two T5
stand-ins (4.4, 4.5) share a small sentencepiece vocabulary trained on their corpus.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import torch

HERE = Path(__file__).parent
GPT2_VOCAB = HERE / "gpt2_vocab"


def gpt2_tokenizer():
    """GPT-2's real tokenizer from the vocabulary that ships with the kit (GPT-2 and Phi stand-ins)."""
    from transformers import GPT2Tokenizer

    return GPT2Tokenizer(str(GPT2_VOCAB / "vocab.json"), str(GPT2_VOCAB / "merges.txt"))


def train_sentencepiece(texts: list[str], vocab_size: int, workdir: Path):
    """A T5-style sentencepiece model (pad 0, eos 1, unk 2) wrapped as a T5Tokenizer.

    BPE rather than T5's unigram: the synthetic corpus has too few distinct words for a unigram
    model of several thousand pieces, and BPE keeps whole words as pieces ("▁translate").
    """
    import sentencepiece as spm
    from transformers import T5Tokenizer

    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(workdir / "spiece"), vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>",
        unk_piece="<unk>", input_sentence_size=200_000, shuffle_input_sentence=True, num_threads=1,
        split_digits=True,
        minloglevel=2)
    # T5's tokenizer segments with unigram scores. Score every learnt piece alike (ties broken by
    # BPE rank), so a text is cut into the fewest pieces: whole words wherever the vocabulary has them.
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString((workdir / "spiece.model").read_bytes())
    proto.trainer_spec.model_type = sentencepiece_model_pb2.TrainerSpec.UNIGRAM
    for rank, piece in enumerate(proto.pieces):
        if piece.type == sentencepiece_model_pb2.ModelProto.SentencePiece.NORMAL:
            piece.score = -10.0 - rank * 1e-4
    (workdir / "spiece.model").write_bytes(proto.SerializeToString())
    tokenizer = T5Tokenizer.from_pretrained(workdir, extra_ids=100)  # converts spiece.model (needs protobuf)
    for text in texts[:200]:
        ids = tokenizer(text).input_ids
        assert tokenizer.unk_token_id not in ids, f"sentencepiece left {text!r} with <unk> pieces"
    return tokenizer


class CompactVocab:
    """Maps the GPT-2 ids the corpus uses to 0..K-1; every other id maps to K (OTHER)."""

    def __init__(self, used_ids: set[int], full_size: int):
        self.ids = sorted(used_ids)
        self.full_size = full_size
        self.other = len(self.ids)
        self.lookup = torch.full((full_size,), self.other, dtype=torch.long)
        self.lookup[torch.tensor(self.ids)] = torch.arange(len(self.ids))
        self.log_n_other = math.log(full_size - len(self.ids))

    def __len__(self) -> int:
        return len(self.ids) + 1

    def compact(self, full_ids: torch.Tensor) -> torch.Tensor:
        return self.lookup[full_ids]

    def expand(self, compact_rows: torch.Tensor) -> torch.Tensor:
        """Full-vocabulary rows: the trained row for each used id, OTHER's row for all the rest."""
        full = compact_rows[self.other].expand(self.full_size, *compact_rows.shape[1:]).clone()
        full[torch.tensor(self.ids)] = compact_rows[: self.other]
        return full


def collect_ids(tokenize, make_example, rng: random.Random, n: int, extra: list[int]) -> set[int]:
    """The token ids that ``n`` drawn examples use, plus ``extra``: the compact vocabulary."""
    used = set(extra)
    for _ in range(n):
        for text in make_example(rng):
            used.update(tokenize(text))
    return used


def save_gpt2_tokenizer(folder: Path, model_max_length: int) -> None:
    """Write GPT-2's tokenizer files beside a GPT-2-vocabulary stand-in."""
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(GPT2_VOCAB / name, folder / name)
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "GPT2Tokenizer", "model_max_length": model_max_length,
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "add_prefix_space": False}, indent=2) + "\n")
