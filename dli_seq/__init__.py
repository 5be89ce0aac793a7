"""dli-seq: helpers for the lesson "Encoders and decoders for sequence generation".

Notebooks import what they need from the submodules:

* :mod:`dli_seq.models`    load a lesson model (hub, local folder, or offline stand-in)
* :mod:`dli_seq.decoding`  prefill + decode_step (KV cache) and the naive baseline
* :mod:`dli_seq.streaming` text streamers for encoder-decoder and decoder-only models
* :mod:`dli_seq.widgets`   step through generation in JupyterLab
* :mod:`dli_seq.figures`   mask explorer, KV-cache timing plot, evaluation tables
* :mod:`dli_seq.lesson`    the evaluation set and prompt builders of section 4.5
"""

__version__ = "0.1.0"
