"""Is a model folder usable? The one validation that ``models.load`` and ``doctor`` share (4.1-4.5).

A folder counts only if every part checks out, read without loading any weights:

* ``config.json``: a JSON object of the right architecture, without ``auto_map`` (remote code);
* the safetensors weights (``model.safetensors``, or the shards an index names): each header is
  a well-formed table of tensors whose offsets fit the file, and every tensor the model has is
  the shape that ``config.json`` implies (compared with the model built on the ``meta`` device,
  which holds no memory);
* a tokenizer that loads, is not empty, and has no more tokens than the model's embedding rows.

Any malformed file gives a reason in Chinese, never an exception from inside the check.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .messages import one_line

TOKENIZER_FILES = "tokenizer.json, spiece.model or vocab.json + merges.txt"
HEADER_LIMIT = 100_000_000  # bytes: a safetensors header longer than this is not a real one
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
               "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8}


def model_class(kind: str):
    """The transformers Auto class for a lesson model's kind ("decoder-only" or "encoder-decoder") (4.2-4.5)."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if kind == "encoder-decoder" else AutoModelForCausalLM


def _tensor_problem(name: str, entry, data_size: int) -> str | None:
    """Why one header entry is not a tensor stored inside the file's data, or None."""
    if not isinstance(entry, dict):
        return f"{name!r} 不是张量描述"
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str):
        return f"{name!r} 没有 dtype"
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        return f"{name!r} 的 shape 不是一列非负整数"
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(n) is int for n in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        return f"{name!r} 的 data_offsets 不是 [起点, 终点]"
    if offsets[1] > data_size:
        return f"被截断了（{name!r} 的数据应到第 {offsets[1]} 字节，数据区只有 {data_size} 字节）"
    width = DTYPE_BYTES.get(dtype)
    if width is not None and offsets[1] - offsets[0] != math.prod(shape) * width:
        return f"{name!r} 的数据长度与 shape {shape}、dtype {dtype} 对不上"
    return None


def safetensors_shapes(path: Path) -> tuple[dict[str, tuple[int, ...]], str | None]:
    """The tensor shapes in a .safetensors file's header, and why the file is unusable (None if it is fine) (4.1).

    Reads only the header; a missing, truncated or malformed file (any JSON that is not a table
    of tensors with sane offsets) is a reason, never an exception.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                return {}, f"{path.name} 被截断了（只有 {size} 字节）"
            length = int.from_bytes(head, "little")
            if length > size - 8 or length > HEADER_LIMIT:
                return {}, f"{path.name} 被截断了（头部声称 {length} 字节，文件只有 {size} 字节）"
            header = json.loads(handle.read(length))
    except OSError as err:
        return {}, f"{path.name} 无法读取（{one_line(err)}）"
    except (ValueError, RecursionError):
        return {}, f"{path.name} 的头部不是合法的 safetensors 格式"
    if not isinstance(header, dict):
        return {}, f"{path.name} 的头部不是合法的 safetensors 格式（应是一个 JSON 对象）"
    shapes: dict[str, tuple[int, ...]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if (problem := _tensor_problem(name, entry, size - 8 - length)) is not None:
            return {}, f"{path.name}：{problem}"
        shapes[name] = tuple(entry["shape"])
    return shapes, None


def weight_files(folder: Path) -> tuple[list[Path], str | None]:
    """The safetensors files of a model folder (one, or the shards its index names), or why there are none (4.1)."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map")
        except (OSError, ValueError, AttributeError, RecursionError):
            weight_map = None
        if (not isinstance(weight_map, dict) or not weight_map
                or not all(isinstance(s, str) and s and Path(s).name == s for s in weight_map.values())):
            return [], "model.safetensors.index.json 无法读取（应有 weight_map：张量名 -> 本文件夹里的分片文件名）"
        return [folder / shard for shard in sorted(set(weight_map.values()))], None
    if (folder / "model.safetensors").is_file():
        return [folder / "model.safetensors"], None
    pickles = sorted(p.name for p in folder.glob("*.bin")) + sorted(p.name for p in folder.glob("*.pt"))
    extra = f"；只有 {', '.join(pickles)}（pickle 格式，出于安全 dli-seq 不加载）" if pickles else ""
    return [], "没有 safetensors 权重（model.safetensors）" + extra


def _read_config(folder: Path, spec) -> tuple[dict | None, str | None]:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "没有 config.json"
    except (OSError, ValueError, RecursionError) as err:
        return None, f"config.json 无法读取（{one_line(err)}）"
    if not isinstance(config, dict):
        return None, "config.json 不是一个 JSON 对象"
    if "auto_map" in config:
        return None, ("config.json 里有 auto_map：这个模型要运行仓库自带的代码，dli-seq 从不启用 "
                      "trust_remote_code，不加载它")
    if config.get("model_type") != spec.model_type:
        return None, (f"config.json 的 model_type 是 {config.get('model_type')!r}，而 {spec.hub_id} "
                      f"应是 {spec.model_type!r}（文件夹里放的是别的模型）")
    return config, None


def _meta_model(folder: Path, spec):
    """The model ``config.json`` describes, built on the meta device (no memory), or why it cannot be built."""
    import torch
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
        with torch.device("meta"):
            return model_class(spec.kind).from_config(config), None
    except Exception as err:  # noqa: BLE001 - any config transformers cannot build a model from
        return None, f"config.json 描述的模型建不起来（{one_line(err)}）"
    finally:
        hf_logging.set_verbosity(verbosity)


def _shape_problem(model, shapes: dict[str, tuple[int, ...]]) -> str | None:
    """Why the stored tensors do not fit ``model`` (names with or without the base-model prefix), or None."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    prefix = getattr(model, "base_model_prefix", "")
    matched = 0
    for name, shape in shapes.items():
        key = name if name in expected else f"{prefix}.{name}" if f"{prefix}.{name}" in expected else None
        if key is None:
            continue
        matched += 1
        if expected[key] != shape:
            return (f"权重 {name} 的形状是 {list(shape)}，config.json 描述的模型要 {list(expected[key])}"
                    "（权重和 config.json 不是同一个模型的）")
    if shapes and not matched:
        return "权重里的张量名和 config.json 描述的模型对不上（不是这个架构的权重）"
    tied: dict[int, list[str]] = {}  # tied weights (one tensor, several names) are stored once
    for name, tensor in model.state_dict(keep_vars=True).items():
        tied.setdefault(id(tensor), []).append(name)
    for names in tied.values():
        if not any(n in shapes or n.removeprefix(f"{prefix}.") in shapes for n in names):
            return f"权重里缺少 {names[0]}（文件不完整，或不是这个模型的权重）"
    return None


def _tokenizer(folder: Path, rows: int):
    """(tokenizer, None) when the folder's tokenizer loads and fits ``rows`` embedding rows, else (None, why)."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
        empty = len(tokenizer) == 0 or not tokenizer.encode("Hi", add_special_tokens=False)
    except Exception as err:  # noqa: BLE001 - broken JSON, a bad vocabulary, a missing class alike
        return None, f"分词器加载不了（{one_line(err)}）"
    finally:
        hf_logging.set_verbosity(verbosity)
    if empty:
        return None, "分词器是空的（encode('Hi') 没有 token）"
    if len(tokenizer) > rows:
        return None, (f"分词器有 {len(tokenizer)} 个 token，模型的词表只有 {rows} 行：两者不是同一个模型的")
    return tokenizer, None


def inspect_folder(folder: str | Path, spec):
    """(tokenizer, None) when ``folder`` holds a usable ``spec`` model, else (None, why not) (4.1-4.5).

    ``spec`` is a ``models.LessonModel``. The tokenizer comes back so that ``load`` need not read it twice.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None, "不是一个文件夹" if folder.exists() else "不存在（或是一个断开的符号链接）"
    config, problem = _read_config(folder, spec)
    if problem is not None:
        return None, problem
    files, problem = weight_files(folder)
    if problem is not None:
        return None, problem
    shapes: dict[str, tuple[int, ...]] = {}
    for path in files:
        found, problem = safetensors_shapes(path)
        if problem is not None:
            return None, problem
        shapes.update(found)
    has_bpe = (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
    if not ((folder / "tokenizer.json").is_file() or (folder / "spiece.model").is_file() or has_bpe):
        return None, f"缺少分词器文件（{TOKENIZER_FILES}）"
    model, problem = _meta_model(folder, spec)
    if problem is not None:
        return None, problem
    if (problem := _shape_problem(model, shapes)) is not None:
        return None, problem
    return _tokenizer(folder, model.get_input_embeddings().num_embeddings)


def check_folder(folder: str | Path, spec) -> str | None:
    """None when ``folder`` holds a usable ``spec`` model, else why not, in one Chinese line (4.1; doctor)."""
    return inspect_folder(folder, spec)[1]
