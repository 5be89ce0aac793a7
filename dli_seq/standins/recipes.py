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
    """How one stand-in trains: its folder, the hub model it replaces, steps, batch, peak learning rate
    and optimizer."""

    name: str          # folder under dli_seq/standins/
    replaces: str      # hub id
    steps: int
    batch_size: int
    lr: float          # peak learning rate (Adafactor: relative to each weight's size)
    optimizer: str = "adamw"  # or "adafactor" (T5 stand-ins), see loop.optimizer

    def scaled(self, steps_scale: float) -> Recipe:
        """The same recipe with its steps scaled (``--steps-scale``, for quick trials); at least 1."""
        return replace(self, steps=max(1, int(self.steps * steps_scale)))


RECIPES = {
    "gpt2": Recipe("gpt2", "gpt2", steps=700, batch_size=48, lr=3e-3),
    "t5-base": Recipe("t5-base", "t5-base", steps=4000, batch_size=32, lr=1e-2, optimizer="adafactor"),
    "flan-t5-large": Recipe("flan-t5-large", "google/flan-t5-large", steps=3000, batch_size=48, lr=1e-2,
                            optimizer="adafactor"),
    "phi-1_5": Recipe("phi-1_5", "microsoft/phi-1_5", steps=1000, batch_size=16, lr=3e-3),
}
CHAINS = [("t5-base", "phi-1_5"), ("gpt2", "flan-t5-large")]  # each chain runs in one process, in order


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
    """The T5 stand-in (4.4), original T5's choices as in ``t5-base``: a ReLU feed-forward, input and
    output embeddings tied (so the decoder's output is scaled by d_model^-1/2 before ``lm_head``)."""
    from transformers import T5Config

    return T5Config(vocab_size=vocab_size, d_model=128, d_kv=32, d_ff=512, num_heads=4,
                    num_layers=3, num_decoder_layers=3, dropout_rate=0.0,
                    feed_forward_proj="relu", tie_word_embeddings=True,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


def flan_config(vocab_size: int):
    """The Flan-T5 stand-in (4.5), T5 v1.1's choices as in ``google/flan-t5-large``: a gated-GELU
    feed-forward (d_ff = 2.75 x d_model, the real model's ratio), untied input and output embeddings,
    no output scaling. Same size otherwise as the T5 stand-in, and the same tokenizer."""
    from transformers import T5Config

    return T5Config(vocab_size=vocab_size, d_model=128, d_kv=32, d_ff=352, num_heads=4,
                    num_layers=3, num_decoder_layers=3, dropout_rate=0.0,
                    feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
