"""Where and in which precision the lesson's models run: ``pick_device`` and ``pick_dtype`` (4.2, 4.5).

``models.load`` uses both; a device or dtype that cannot be used is a :class:`ModelLoadError`
that says what to write instead.
"""

from __future__ import annotations

import torch

from .errors import ModelLoadError


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """cuda if available, else mps, else cpu; an explicit device that is absent is an error (4.2)."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as err:
        raise ModelLoadError(f"device={device!r} 不是设备名：用 'cpu'、'cuda' 或 'mps'（或 device=None 自动选择）。") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelLoadError(f"device={str(dev)!r}：这台机器没有 CUDA GPU。"
                                 "用 device=None（自动选择）或 device='cpu'。")
        count = torch.cuda.device_count()
        if dev.index is not None and not 0 <= dev.index < count:
            raise ModelLoadError(f"device={str(dev)!r}：这台机器只有 {count} 块 GPU（cuda:0 到 cuda:{count - 1}）。"
                                 "用 device='cuda' 或 device=None。")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ModelLoadError(f"device={str(dev)!r}：这里没有 Apple 的 MPS 后端。用 device=None 或 device='cpu'。")
    elif dev.type != "cpu":
        raise ModelLoadError(f"device={str(dev)!r} 不能用来运行课程里的模型（{dev.type} 上没有真实的计算）："
                             "用 'cpu'、'cuda' 或 'mps'，或 device=None 自动选择。")
    return dev


DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
          "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
          "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def pick_dtype(dtype: str | torch.dtype | None = None) -> torch.dtype:
    """float32 by default; a torch dtype or a common name ("bf16", "float16", "fp32") (4.5)."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str) and dtype.strip().lower().removeprefix("torch.") in DTYPES:
        return DTYPES[dtype.strip().lower().removeprefix("torch.")]
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    raise ModelLoadError(f"dtype={dtype!r} 不能用：用 torch.float32、torch.float16、torch.bfloat16，"
                         "或名字 'float32'、'fp16'、'bf16'（dtype=None 即 float32）。")
