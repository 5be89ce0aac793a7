"""dli-seq: helpers for the lesson "Encoders and decoders for sequence generation".

Where things are (the notebooks import the submodules they need). Each module imports only
modules listed above it here, so the list reads from the ground up.

The lesson's generation core
* :mod:`dli_seq.messages`   an error as one readable line
* :mod:`dli_seq.inputs`     the model's limits and every argument check, once (context size, budget, ids)
* :mod:`dli_seq.decoding`   prefill + decode_step with a KV cache, the naive loop and the greedy loop (4.2, 4.4)
* :mod:`dli_seq.detok`      exact text from token ids, one token at a time; stop strings (4.4, 4.5)
* :mod:`dli_seq.fastpath`   the same tokens with a static cache and a CUDA graph (4.2 extension)
* :mod:`dli_seq.streaming`  Generation (one token per call), stream(), get_token_generator() (4.2-4.5)

Models and lesson data
* :mod:`dli_seq.errors`     ModelLoadError, the one error a learner sees when a model cannot load
* :mod:`dli_seq.devices`    pick_device / pick_dtype: where and in which precision models run
* :mod:`dli_seq.model_files` is a model folder usable? (config, safetensors headers and shapes, tokenizer)
* :mod:`dli_seq.models`     load a lesson model: local folder, hub cache, hub, or the offline stand-in;
                           records on the model where it came from (``models.source_of``)
* :mod:`dli_seq.lesson`     the evaluation set and prompt builders of section 4.5
* ``dli_seq/standins/``     the four stand-in models, their training script and training data
* ``dli_seq/real_configs/`` the four real models' published ``config.json`` (capacity, GPU tests, benchmarks)

In JupyterLab
* :mod:`dli_seq.token_view` a token as the learner sees it: labels and coloured HTML spans (4.2-4.4)
* :mod:`dli_seq.cells`      one live widget per notebook cell: re-running a cell frees the old one
* :mod:`dli_seq.figures`    mask explorer, KV-cache timing plot, tables; the CJK font in ``fonts/`` (4.2, 4.3, 4.5)
* :mod:`dli_seq.widgets`    GenerationStepper: step through generation token by token (4.2, 4.4)
* :mod:`dli_seq.exercises`  the exercise checks: a harness + one module per section (4.1-4.5);
                           each verdict is a line in the learner's progress file (``exercises/progress.py``)

For instructors
* :mod:`dli_seq.course`     run every notebook headless and write handout HTML (``make course``)
* ``python -m dli_seq doctor``  versions, device, and where each lesson model would load from
* :mod:`dli_seq.capacity`   how many learners a machine holds per notebook (``python -m dli_seq capacity``);
                           measured kernels in ``capacity_measured.json``, real models from ``real_configs/``
* :mod:`dli_seq.fetch`      ``python -m dli_seq fetch``: the real models, downloaded and verified once into
                           one shared read-only folder for a classroom (``DLI_SEQ_MODEL_DIR``)
* :mod:`dli_seq.workshop`   the classroom on JupyterHub (``make workshop``): sign-in, course copies, progress
  * :mod:`dli_seq.workshop.course_copy` each learner's copy of the course, updated without
    overwriting their edits (nbgitpuller's merge rules, no git)

To change the stepper: widgets.py. A stand-in: standins/ (``make standins``). How models load:
models.py. An exercise check: exercises/<section>.py (the harness that runs learner code is
exercises/harness.py). A limit or an error message about arguments: inputs.py.
"""

__version__ = "0.1.0"
