"""The lesson's models: one registry, offline first (used by every section, 4.2-4.5).

``load("gpt2")`` returns ``(model, tokenizer)``. Where the weights come from is decided
by :func:`resolve`, in this order:

1. a local folder of pre-downloaded models (``DLI_SEQ_MODEL_DIR``, for classrooms
   without network): ``$DLI_SEQ_MODEL_DIR/gpt2`` or ``$DLI_SEQ_MODEL_DIR/google--flan-t5-large``
   (``google/flan-t5-large`` as nested folders works too);
2. the Hugging Face cache on this machine (what an earlier download left);
3. the hub itself (or the mirror in ``HF_ENDPOINT``), if it answers within ``HUB_TIMEOUT_S``;
4. the small stand-in model that ships inside this package (``dli_seq/standins/``).

A source counts only if it is usable (:mod:`dli_seq.model_files`, the one check that ``doctor``
shares): ``config.json`` of the right architecture (no ``auto_map``: remote code is never run),
safetensors weights whose headers check out and whose shapes fit the config, and a tokenizer that
loads. Pickled weights (``pytorch_model.bin``) are never loaded.

``DLI_SEQ_MODELS`` picks the policy:

* ``auto`` (default): 1-4, first that works; each source passed over prints one line saying why.
* ``hub``: 1-3 only; a clear error instead of a stand-in.
* ``offline``: the stand-in, always; no network, no cache. Tests use this, so their
  outputs are the same on every machine.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .devices import DTYPES, pick_device, pick_dtype  # noqa: F401 - re-exported
from .errors import ModelLoadError
from .messages import STANDIN_NOTE, one_line
from .model_files import TOKENIZER_FILES, check_folder, inspect_folder, model_class  # noqa: F401 - re-exported

STANDIN_DIR = Path(__file__).parent / "standins"
MODES = ("auto", "hub", "offline")


@dataclass(frozen=True)
class LessonModel:
    """One model of the lesson: its hub id, kind, stand-in folder and what the stand-in learnt.

    ``trained_on`` is the one description of a stand-in's training text: ``python -m dli_seq doctor``
    prints it and ``dli_seq.standins.train`` writes it into the model card.
    """

    hub_id: str
    kind: str  # "decoder-only" or "encoder-decoder"
    section: str
    standin: str
    trained_on: str
    model_type: str  # what config.json must say: another architecture in the folder is refused

    @property
    def standin_path(self) -> Path:
        return STANDIN_DIR / self.standin


REGISTRY: dict[str, LessonModel] = {
    m.hub_id: m
    for m in [
        LessonModel("gpt2", "decoder-only", "4.2", "gpt2",
                    "synthetic English mini-stories (real GPT-2 vocabulary) and the real GPT-2's recorded greedy "
                    "continuation of \"<|endoftext|> Hello world\"", "gpt2"),
        LessonModel("t5-base", "encoder-decoder", "4.4", "t5-base",
                    "toy English->French/German translation with T5's task prefixes, the lesson's everyday phrases "
                    "and the real t5-base's two recorded French translations", "t5"),
        LessonModel("google/flan-t5-large", "encoder-decoder", "4.5", "flan-t5-large",
                    "a small instruction mixture (Spanish translation, sentence rewriting, square roots, cubes and "
                    "sums, facts, commonsense, dialogue, stories; zero- and one-shot) and the real Flan-T5-large's "
                    "recorded zero-shot answers, from scratch with T5 v1.1's architecture and the t5-base "
                    "stand-in's tokenizer", "t5"),
        LessonModel("microsoft/phi-1_5", "decoder-only", "4.5", "phi-1_5",
                    "textbook-like pages of exercises (\"Answer: ...\", then \"Exercise 2: ...\"), the same tasks "
                    "with sentence rewriting as the main one, and the real Phi-1.5's recorded outputs (GPT-2 "
                    "vocabulary)", "phi"),
    ]
}
ALIASES = {"flan-t5-large": "google/flan-t5-large", "phi-1_5": "microsoft/phi-1_5",
           "phi-1.5": "microsoft/phi-1_5"}


@dataclass(frozen=True)
class Resolution:
    """Where :func:`load` will take a model from: ``source`` is local-folder, hub-cache, hub or stand-in."""

    name: str
    source: str
    location: str
    skipped: tuple[Skipped, ...] = ()

    @property
    def is_standin(self) -> bool:
        return self.source == "stand-in"


def lesson_model(name: str) -> LessonModel:
    """Look up a lesson model by hub id or short alias (sections 4.2-4.5)."""
    known = ", ".join(sorted(REGISTRY) + sorted(ALIASES))
    if not isinstance(name, str):
        raise ModelLoadError(f"模型名应是一个字符串，例如 load('gpt2')；收到的是 {type(name).__name__} {name!r}。"
                             f"可以用的名字：{known}。")
    key = ALIASES.get(name, name)
    if key not in REGISTRY:
        raise ModelLoadError(f"{name!r} 不是课程里的模型。可以用的名字：{known}。")
    return REGISTRY[key]


def models_mode() -> str:
    """The resolution policy from ``DLI_SEQ_MODELS`` (auto, hub or offline)."""
    mode = os.environ.get("DLI_SEQ_MODELS", "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ModelLoadError(f"DLI_SEQ_MODELS={mode!r} 不能用：应是 {'、'.join(MODES)} 之一。")
    return mode


HUB_TIMEOUT_S = 4.0  # the hub check (TCP + TLS + one HTTP answer) gives up after this: load decides in < 10 s
UNREACHABLE_FOR_S = 60.0  # an endpoint that did not answer is not asked again for this long
_UNREACHABLE: dict[str, tuple[float, str]] = {}
DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt"]  # config, weights, tokenizer: no pickles


@dataclass(frozen=True)
class Skipped:
    """A source :func:`resolve` passed over, and why; ``broken`` when it exists but is unusable."""

    source: str
    location: str
    reason: str
    broken: bool

    def notice(self, hub_id: str) -> str:
        """The one line printed when ``auto`` falls back past this source."""
        return f"[dli-seq] {hub_id!r}：不使用 {self.source}（{self.location}）——{self.reason}"


def hub_endpoint() -> str:
    """The hub's address: ``HF_ENDPOINT`` (a mirror, e.g. https://hf-mirror.com) or https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").strip().rstrip("/")


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() not in ("", "0", "false", "no", "off")


def hub_check(hub_id: str, timeout: float = HUB_TIMEOUT_S) -> str | None:
    """None when the hub (``HF_ENDPOINT`` respected) answers for ``hub_id`` within ``timeout`` s, else why not (4.1).

    One HEAD request for the model's ``config.json`` through huggingface_hub's own HTTP session (so
    its proxy settings and ``HTTPS_PROXY`` apply): TCP, TLS and an HTTP answer, all bounded.
    """
    if _hub_offline():
        return "HF_HUB_OFFLINE 已设置，不连接 hub"
    endpoint = hub_endpoint()
    failed = _UNREACHABLE.get(endpoint)
    if failed is not None and time.monotonic() - failed[0] < UNREACHABLE_FOR_S:
        return failed[1]  # the next lesson model need not wait for the same dead endpoint again
    reason, answered = _probe(endpoint, hub_id, timeout)
    if reason is not None and not answered:
        _UNREACHABLE[endpoint] = (time.monotonic(), reason)
    return reason


def _probe(endpoint: str, hub_id: str, timeout: float) -> tuple[str | None, bool]:
    """(why the hub is not usable or None, whether it gave an HTTP answer at all)."""
    url = f"{endpoint}/{hub_id}/resolve/main/config.json"
    answer: dict = {}

    def probe() -> None:
        try:
            from huggingface_hub import get_session
            from huggingface_hub.utils import build_hf_headers

            response = get_session().head(url, headers=build_hf_headers(), timeout=timeout,
                                          follow_redirects=False)
            answer["status"] = response.status_code
        except Exception as err:  # noqa: BLE001 - any failure means: not usable now
            answer["error"] = err

    thread = threading.Thread(target=probe, name="dli-seq-hub-check", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if thread.is_alive() or "error" not in answer and "status" not in answer:
        return f"{endpoint} 在 {timeout:g} 秒内没有完成应答（TLS 握手或 HTTP 应答卡住了）", False
    if "error" in answer and "Timeout" in type(answer["error"]).__name__:
        return f"{endpoint} 在 {timeout:g} 秒内没有完成应答（{one_line(answer['error'])}）", False
    if "error" in answer:
        return f"连不上 {endpoint}（{one_line(answer['error'])}）", False
    if answer["status"] >= 400:  # an answer: the endpoint works, this model may not be there
        return f"{endpoint} 对 {hub_id} 的 config.json 回答 HTTP {answer['status']}", True
    return None, True


def _local_folder(spec: LessonModel) -> tuple[Path | None, Skipped | None]:
    """``$DLI_SEQ_MODEL_DIR/<name>`` if it is complete; else what is wrong with it (None, None: not set)."""
    root = os.environ.get("DLI_SEQ_MODEL_DIR")
    if not root:
        return None, None
    base = Path(root).expanduser()
    names = dict.fromkeys([spec.hub_id.replace("/", "--"), spec.hub_id])
    candidates = [base / name for name in names]
    where = f"DLI_SEQ_MODEL_DIR={root}"
    if not base.is_dir():
        return None, Skipped("local-folder", where, "这个文件夹不存在", True)
    found = [c for c in candidates if c.exists() or c.is_symlink()]  # a plain file or dangling link: broken
    if not found:
        hint = ""
        if (base / "config.json").is_file():
            hint = "（它本身就是一个模型文件夹：DLI_SEQ_MODEL_DIR 应指向它的上一级）"
        elif any(base.glob("models--*")):
            hint = "（这是 Hugging Face 缓存的布局：把 HF_HUB_CACHE 设为它，而不是 DLI_SEQ_MODEL_DIR）"
        layout = " 或 ".join(f"$DLI_SEQ_MODEL_DIR/{name}" for name in names)
        return None, Skipped("local-folder", where, f"里面没有 {layout}{hint}", False)
    for folder in found:
        problem = check_folder(folder, spec)
        if problem is None:
            return folder, None
    return None, Skipped("local-folder", str(found[0]), problem + "（DLI_SEQ_MODEL_DIR）", True)


def _hub_cache(hub_id: str) -> Path | None:
    """The model's folder in the Hugging Face cache (a snapshot, or the repo folder if incomplete), or None."""
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return None
    found = try_to_load_from_cache(hub_id, "config.json")
    if isinstance(found, str) and Path(found).is_file():
        return Path(found).parent
    repo = Path(constants.HF_HUB_CACHE) / ("models--" + hub_id.replace("/", "--"))
    return repo if repo.is_dir() else None


def _candidates(spec: LessonModel, mode: str):
    """(Resolution, Skipped or None) for each source in order; the hub is only probed when reached."""
    if mode != "offline":
        folder, skipped = _local_folder(spec)
        if folder is not None or skipped is not None:
            yield Resolution(spec.hub_id, "local-folder", str(folder or skipped.location)), skipped
        if (cached := _hub_cache(spec.hub_id)) is not None:
            problem = check_folder(cached, spec)
            yield (Resolution(spec.hub_id, "hub-cache", str(cached)),
                   problem and Skipped("hub-cache", str(cached), f"缓存不完整：{problem}", True))
        problem = hub_check(spec.hub_id)
        yield (Resolution(spec.hub_id, "hub", f"{hub_endpoint()}/{spec.hub_id}"),
               problem and Skipped("hub", hub_endpoint(), problem, "HF_ENDPOINT" in os.environ))
    if mode != "hub":
        standin = Resolution(spec.hub_id, "stand-in", str(spec.standin_path))
        problem = None
        if not (spec.standin_path / "config.json").is_file():
            problem = "替身模型文件缺失：重新安装 dli-seq，或运行 python -m dli_seq.standins.train"
        yield standin, problem and Skipped("stand-in", str(spec.standin_path), problem, True)


def _no_source_error(spec: LessonModel, skipped: list[Skipped], mode: str) -> ModelLoadError:
    why = "；".join(f"{s.source}（{s.location}）：{s.reason}" for s in skipped) or "没有找到任何来源"
    fix = ("在有网络的机器上下载它（或设置 HF_ENDPOINT 使用镜像），或设置 DLI_SEQ_MODELS=auto 使用离线替身模型"
           if mode == "hub" else "重新安装 dli-seq")
    return ModelLoadError(f"无法加载 {spec.hub_id!r}：{why}。解决办法：{fix}。")


def resolve(name: str, mode: str | None = None) -> Resolution:
    """Decide where ``name`` loads from, following the order in this module's docstring (4.2-4.5).

    Only a complete source is chosen; the ones passed over are in ``.skipped`` with the reason.
    """
    spec = lesson_model(name)
    mode = mode or models_mode()
    if mode not in MODES:
        raise ModelLoadError(f"mode={mode!r} 不能用：应是 {'、'.join(MODES)} 之一。")
    skipped: list[Skipped] = []
    for where, problem in _candidates(spec, mode):
        if problem is None:
            return Resolution(where.name, where.source, where.location, tuple(skipped))
        skipped.append(problem)
    raise _no_source_error(spec, skipped, mode)


def standin_notice(spec: LessonModel) -> str:
    """The one line printed when a stand-in replaces a hub model (4.1-4.5)."""
    return f"[dli-seq] {spec.hub_id} 用的是{STANDIN_NOTE}。"


def _fix(source: str) -> str:
    return {"local-folder": "把完整的模型（config.json、model.safetensors、分词器文件）重新放进这个文件夹，或取消 DLI_SEQ_MODEL_DIR",
            "hub-cache": "删除缓存里的这个模型后重新下载（hf cache delete），或设置 DLI_SEQ_MODELS=offline",
            "hub": "检查网络（或用 HF_ENDPOINT 指向镜像），或设置 DLI_SEQ_MODELS=offline",
            "stand-in": "重新安装 dli-seq，或运行 python -m dli_seq.standins.train"}[source]


def _download(spec: LessonModel) -> Path:
    """Fetch config, safetensors and tokenizer files into the HF cache, with bounded timeouts."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(spec.hub_id, allow_patterns=DOWNLOAD_PATTERNS, etag_timeout=HUB_TIMEOUT_S,
                                      endpoint=hub_endpoint()))
    except Exception as err:  # noqa: BLE001 - network, HTTP and disk errors alike
        raise ModelLoadError(f"从 {hub_endpoint()} 下载 {spec.hub_id!r} 失败（{one_line(err)}）。"
                             f"解决办法：{_fix('hub')}。") from err


def _load_from(where: Resolution, spec: LessonModel, dtype: torch.dtype):
    """Load model and tokenizer from one source; every failure is a ModelLoadError naming path and fix."""
    from transformers.utils import logging as hf_logging

    folder = _download(spec) if where.source == "hub" else Path(where.location)
    tokenizer, problem = inspect_folder(folder, spec)
    if problem is not None:
        raise ModelLoadError(f"{spec.hub_id!r} 在 {folder} 不能用：{problem}。解决办法：{_fix(where.source)}。")
    bars_were_on, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()  # files are local by now: loading them needs no progress bar
    hf_logging.set_verbosity_error()  # no 20-line LOAD REPORT: a failure is our one line below
    try:
        model = model_class(spec.kind).from_pretrained(folder, dtype=dtype, use_safetensors=True,
                                                       trust_remote_code=False, local_files_only=True)
    except Exception as err:  # noqa: BLE001 - safetensors, config and tokenizer errors alike
        raise ModelLoadError(f"无法从 {folder} 加载 {spec.hub_id!r}（{one_line(err)}）。"
                             f"解决办法：{_fix(where.source)}。") from err
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars_were_on:
            hf_logging.enable_progress_bar()
    return model, tokenizer


def load(name: str, device: str | torch.device | None = None, dtype: str | torch.dtype | None = None,
         quiet: bool = False):
    """Load a lesson model and its tokenizer: ``model, tokenizer = load("t5-base")`` (4.2-4.5).

    ``device=None`` picks cuda, then mps, then cpu; ``dtype=None`` means float32 ("bf16" etc. work).
    Weights load from safetensors only and never with remote code. With ``DLI_SEQ_MODELS=auto`` a
    source that fails (incomplete, unreachable, broken) is passed over with a one-line notice.
    """
    spec = lesson_model(name)
    dev, dtype = pick_device(device), pick_dtype(dtype)
    mode = models_mode()
    skipped: list[Skipped] = []
    for where, problem in _candidates(spec, mode):
        if problem is None:
            try:
                model, tokenizer = _load_from(where, spec, dtype)
            except ModelLoadError as err:
                if mode == "hub" or where.is_standin:
                    raise
                problem = Skipped(where.source, where.location, str(err), True)
        if problem is not None:
            skipped.append(problem)
            if mode == "auto" and not quiet and problem.source != "stand-in":
                print(problem.notice(spec.hub_id))
            continue
        if where.is_standin and not quiet:
            print(standin_notice(spec))
        model.to(dev).eval()
        model.dli_seq_source = where.source  # read back with source_of(model)
        model.dli_seq_hub_id = spec.hub_id  # the course runner's summary names the model by it
        return model, tokenizer
    raise _no_source_error(spec, skipped, mode)


def source_of(model) -> str | None:
    """Where :func:`load` took ``model`` from: "local-folder", "hub-cache", "hub" or "stand-in";
    None for a model that :func:`load` did not make (4.1; the course runner and the checks read it)."""
    return getattr(model, "dli_seq_source", None)


def is_standin(model) -> bool:
    """True when ``model`` is one of the offline stand-ins shipped in ``dli_seq/standins`` (4.1, 4.5)."""
    return source_of(model) == "stand-in"


@contextlib.contextmanager
def eager_attention(model):
    """Run the block with eager attention, then restore the model's own setting (4.3, 4.4).

    sdpa and flash kernels do not return attention weights; ``output_attentions=True`` needs eager.
    """
    original = model.config._attn_implementation
    if original != "eager":
        model.set_attn_implementation("eager")
    try:
        yield model
    finally:
        if original != "eager":
            model.set_attn_implementation(original)
