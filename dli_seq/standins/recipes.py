"""What each stand-in is, how big it is and how long it trains (``python -m dli_seq.standins.train``).

The stand-ins replace the lesson's models offline (4.2 GPT-2, 4.4 T5, 4.5 Flan-T5 and Phi-1.5).
Their model configurations are built here; importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SEED = 1234
FULL_VOCAB = {"gpt2": 50257, "phi-1_5": 51200}  # the real models' embedding sizes
T5_VOCAB = 4000  # sentencepiece pieces shared by the two T5 stand-ins (the real ones share 32k)


@dataclass(frozen=True)
class Recipe:
    """How one stand-in trains: its folder, the hub model it replaces, steps, batch and peak learning rate."""

    name: str          # folder under dli_seq/standins/
    replaces: str      # hub id
    steps: int
    batch_size: int
    lr: float
    restarts: tuple[int, ...] = ()  # more cosine cycles after the first (T5 stand-ins), see t5_cycles

    def scaled(self, steps_scale: float) -> Recipe:
        """The same recipe with every cycle's steps scaled (``--steps-scale``, for quick trials); at least 1."""
        return replace(self, steps=max(1, int(self.steps * steps_scale)),
                       restarts=tuple(max(1, int(n * steps_scale)) for n in self.restarts))


RECIPES = {
    "gpt2": Recipe("gpt2", "gpt2", steps=700, batch_size=48, lr=3e-3),
    "t5-base": Recipe("t5-base", "t5-base", steps=1200, batch_size=64, lr=3e-3, restarts=(1800,)),
    "flan-t5-large": Recipe("flan-t5-large", "google/flan-t5-large", steps=1000, batch_size=48, lr=2e-3,
                            restarts=(2000, 2000, 2000)),
    "phi-1_5": Recipe("phi-1_5", "microsoft/phi-1_5", steps=1000, batch_size=16, lr=3e-3),
}
CHAINS = [("t5-base", "flan-t5-large"), ("gpt2", "phi-1_5")]  # each chain runs in one process, in order


def gpt2_config(vocab_size: int):
    """The GPT-2 stand-in (4.2): GPT-2's class, 3 layers, 128 wide, 256 positions."""
    from transformers import GPT2Config

    return GPT2Config(vocab_size=vocab_size, n_positions=256, n_embd=128, n_layer=3, n_head=4,
                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                      bos_token_id=50256, eos_token_id=50256)


def phi_config(vocab_size: int):
    """The Phi-1.5 stand-in (4.5): Phi's class, partial rotary 0.5, 2 layers, 128 wide."""
    from transformers import PhiConfig

    return PhiConfig(vocab_size=vocab_size, hidden_size=128, intermediate_size=512, num_hidden_layers=2,
                     num_attention_heads=4, max_position_embeddings=512, tie_word_embeddings=True,
                     rope_parameters={"rope_theta": 10000.0, "partial_rotary_factor": 0.5, "rope_type": "default"},
                     bos_token_id=50256, eos_token_id=50256)


def t5_config(vocab_size: int):
    """Both T5 stand-ins: Flan-T5 starts from the trained T5 stand-in, so they share this shape."""
    from transformers import T5Config

    return T5Config(vocab_size=vocab_size, d_model=128, d_kv=32, d_ff=512, num_heads=4,
                    num_layers=3, num_decoder_layers=3, dropout_rate=0.0,
                    feed_forward_proj="relu", tie_word_embeddings=True,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
