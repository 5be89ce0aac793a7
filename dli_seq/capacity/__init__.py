"""How many learners one machine holds, per lesson notebook (4.1-4.5): ``python -m dli_seq capacity``.

:mod:`~dli_seq.capacity.arithmetic` the sums (memory left after the reserve, learners that fit,
Run All time, KV-cache bytes), :mod:`~dli_seq.capacity.real` the real models' weights and KV cache
computed from their published configs, :mod:`~dli_seq.capacity.measure` measures a kernel per notebook
and an idle Jupyter server (``python -m dli_seq.capacity --measure`` writes
``dli_seq/capacity_measured.json``), :mod:`~dli_seq.capacity.report` prints the report.
"""

from .arithmetic import kv_cache_bytes, learners_that_fit, memory_for_learners, run_all_seconds, tokens_bound
from .report import main

__all__ = ["kv_cache_bytes", "learners_that_fit", "main", "memory_for_learners", "run_all_seconds", "tokens_bound"]
