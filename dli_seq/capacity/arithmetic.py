"""The capacity sums, as small pure functions (``python -m dli_seq capacity``, the classroom's sizing).

Everything here takes bytes and counts and returns bytes, counts or seconds, so the tests can check
the arithmetic with numbers worked out by hand (24 GiB, 2 GiB reserve, 500 MiB per learner -> 45).
"""

from __future__ import annotations

import math

MiB = 2 ** 20
GiB = 2 ** 30


def memory_for_learners(total_bytes: int, reserve_bytes: int) -> int:
    """Memory left for learners once the operating system and the hub have their reserve (workshop sizing).

    A reserve as large as the memory itself is a ``ValueError`` that says what to change.
    """
    if total_bytes <= 0:
        raise ValueError(f"memory must be more than 0 bytes, got {total_bytes}")
    if reserve_bytes < 0:
        raise ValueError(f"the reserve cannot be negative, got {reserve_bytes} bytes")
    if reserve_bytes >= total_bytes:
        raise ValueError(f"the reserve ({gib(reserve_bytes)}) leaves nothing of {gib(total_bytes)}: "
                         "give a smaller --reserve")
    return total_bytes - reserve_bytes


def learners_that_fit(available_bytes: int, per_learner_bytes: int) -> int:
    """How many learners fit in ``available_bytes`` when each needs ``per_learner_bytes`` (rounded down; workshop sizing)."""
    if per_learner_bytes <= 0:
        raise ValueError(f"a learner needs more than 0 bytes, got {per_learner_bytes}")
    return max(0, available_bytes // per_learner_bytes)


def run_all_seconds(learners: int, cpu_seconds: float, cores: int) -> float:
    """Wall time if ``learners`` press Run All at once and share ``cores`` (an estimate: perfect sharing).

    Each Run All costs ``cpu_seconds`` of CPU; with more learners than cores they queue for the cores,
    so the last one finishes after about ``learners * cpu_seconds / cores`` (never less than one run).
    """
    if cores <= 0:
        raise ValueError(f"cores must be at least 1, got {cores}")
    if learners <= 0:
        return 0.0
    return max(cpu_seconds, learners * cpu_seconds / cores)


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, positions: int, batch: int, dtype_bytes: int) -> int:
    """Bytes of one attention stack's KV cache: keys and values for every layer, head and position (4.2, 4.4).

    ``2 * layers * kv_heads * head_dim * positions * batch * dtype_bytes``; a T5 decoder has two such
    caches (its own positions and the encoder's, see :func:`dli_seq.capacity.real.run_kv_bytes`).
    """
    for name, value in (("layers", layers), ("kv_heads", kv_heads), ("head_dim", head_dim),
                        ("positions", positions), ("batch", batch), ("dtype_bytes", dtype_bytes)):
        if value < 0:
            raise ValueError(f"{name} cannot be negative, got {value}")
    return 2 * layers * kv_heads * head_dim * positions * batch * dtype_bytes


def tokens_bound(text: str, special_tokens: int = 2) -> int:
    """At most how many tokens ``text`` becomes with any of the lesson's tokenizers (4.1-4.5 prompts).

    GPT-2 and Phi-1.5 use byte-level BPE (a token covers at least one byte); T5's SentencePiece
    piece covers at least one character, plus the leading word marker. So: one per UTF-8 byte, plus
    ``special_tokens`` (start marker, end token). Real counts are about a quarter of this for English.
    """
    return len(text.encode("utf-8")) + special_tokens


def gib(n_bytes: float) -> str:
    """``n_bytes`` as GiB with one decimal, for the capacity report."""
    return f"{n_bytes / GiB:.1f} GiB"


def mib(n_bytes: float) -> str:
    """``n_bytes`` as whole MiB, for the capacity report (rounded up: a figure never looks smaller)."""
    return f"{math.ceil(n_bytes / MiB):,} MiB"
