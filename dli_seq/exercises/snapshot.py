"""What a learner's code can change while a check of 4.1-4.5 runs it, and how it is put back.

Two snapshots, both cheap:

* :class:`ModelKept` is taken once per check: training/eval mode, dtype, device and
  ``requires_grad`` of every parameter and buffer (the original tensors are kept, so
  ``model.half()`` is undone without a copy) and the weights' values (a copy is kept for models
  up to :data:`COPY_LIMIT_BYTES`; a larger model whose weights were changed in place is
  reported, with the advice to load it again);
* :class:`StateKept` is taken around every call of learner code: the module tree (a replaced
  ``model.lm_head``), forward/backward hooks (a hook left behind changes every later output),
  ``model.config`` and ``model.generation_config``, the tokenizer's vocabulary (not undoable:
  reported with the advice to load again) and torch's global state (patched functions such as
  ``torch.cat``, the default dtype, gradient mode).

Each ``restore`` puts back what it can and returns the changes, as short Chinese phrases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

COPY_LIMIT_BYTES = 256 * 2 ** 20  # keep a copy of the weights (to restore in-place changes) up to this size
HOOK_TABLES = ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks")
GLOBAL_HOOKS = tuple(name for name in dir(torch.nn.modules.module)
                     if name.startswith("_global_") and name.endswith("hooks"))
TORCH_NAMESPACES = (torch, torch.nn.functional, torch.Tensor)
RELOAD = "重新运行加载模型的单元格（model, tokenizer = models.load(...)）"


def dtype_name(dtype) -> str:
    """``float32`` for ``torch.float32`` (messages of the 4.2-4.5 checks)."""
    return str(dtype).replace("torch.", "")


@dataclass
class TensorSlot:
    """One parameter or buffer: where it lives, the object itself and its original data (no copy)."""

    owner: torch.nn.Module
    kind: str            # "_parameters" or "_buffers"
    name: str
    obj: torch.Tensor
    data: torch.Tensor
    requires_grad: bool


@dataclass
class ModelKept:
    """Mode, dtype, device, requires_grad and weights of a model, taken once per check."""

    model: torch.nn.Module
    training: dict = field(default_factory=dict)
    slots: list = field(default_factory=list)
    fingerprint: float = 0.0
    copy: list | None = None

    @classmethod
    def take(cls, model) -> "ModelKept | None":
        """Snapshot ``model`` (None when it is not a torch module)."""
        if not isinstance(model, torch.nn.Module):
            return None
        kept = cls(model)
        for module in model.modules():
            kept.training[module] = module.training
            for kind in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, kind).items():
                    if tensor is not None:
                        kept.slots.append(TensorSlot(module, kind, name, tensor, tensor.data, bool(tensor.requires_grad)))
        kept.fingerprint = kept.weights_fingerprint()
        if sum(s.data.numel() * s.data.element_size() for s in kept.slots) <= COPY_LIMIT_BYTES:
            kept.copy = [s.data.detach().clone() for s in kept.slots]
        return kept

    def weights_fingerprint(self) -> float:
        """Sum and absolute sum of every floating-point weight (a cheap test for in-place edits)."""
        with torch.no_grad():
            total = 0.0
            for slot in self.slots:
                data = slot.obj.data
                if data.is_floating_point() and data.numel():
                    total += float(data.sum(dtype=torch.float64)) + float(data.abs().sum(dtype=torch.float64))
            return total

    def restore(self) -> list[str]:
        """Put mode, dtype, device and requires_grad back; return what had changed."""
        changes = []
        if any(module.training != flag for module, flag in self.training.items()):
            changes.append("切换了训练/评估模式（例如 model.train()）")
            for module, flag in self.training.items():
                module.training = flag
        for slot in self.slots:
            table = getattr(slot.owner, slot.kind)
            current = table.get(slot.name)
            now = (current if isinstance(current, torch.Tensor) else slot.obj).data
            if current is not slot.obj:  # replaced, e.g. by model.to("meta") or a new Parameter
                table[slot.name] = slot.obj
            if now.dtype != slot.data.dtype:
                changes.append(f"改变了数据类型（{dtype_name(slot.data.dtype)} → {dtype_name(now.dtype)}，例如 model.half()）")
            if now.device != slot.data.device:
                changes.append(f"把模型搬到了别的设备（{slot.data.device} → {now.device}）")
            kept = slot.obj.data
            if kept.dtype != slot.data.dtype or kept.device != slot.data.device or kept.data_ptr() != slot.data.data_ptr():
                slot.obj.data = slot.data
            if slot.kind == "_parameters" and slot.obj.requires_grad != slot.requires_grad:
                changes.append("改变了参数的 requires_grad")
                slot.obj.requires_grad_(slot.requires_grad)
        return list(dict.fromkeys(changes))  # one line per kind of change, not one per parameter

    def restore_weights(self) -> list[str]:
        """After :meth:`restore`: put in-place edits of the weights back from the copy, if there is one."""
        if math.isclose(self.weights_fingerprint(), self.fingerprint, rel_tol=1e-7, abs_tol=1e-9):
            return []  # reduction order may vary, hence the tolerance
        if self.copy is None:
            return [f"原地修改了权重的数值（模型太大，检查没有保存副本，无法恢复：{RELOAD}）"]
        with torch.no_grad():
            for slot, saved in zip(self.slots, self.copy):
                slot.obj.data.copy_(saved)
        return ["原地修改了权重的数值"]


def same_value(a, b) -> bool:
    """``a is b`` or ``a == b`` (False when the comparison itself fails; 4.2-4.5)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. tensors of different shapes
        return False


def vocabulary_size(tokenizer) -> int | None:
    """``len(tokenizer)`` (added tokens included), or None for something that is not a tokenizer (4.1-4.5)."""
    try:
        return len(tokenizer) if callable(getattr(tokenizer, "encode", None)) else None
    except Exception:  # noqa: BLE001 - a learner may pass anything
        return None


def configs_of(model) -> list:
    """The config objects of ``model`` a learner may edit: config, generation_config, sub-configs (4.2-4.5)."""
    found = []
    for name in ("config", "generation_config"):
        config = getattr(model, name, None)
        if config is not None:
            found.append((name, config))
            found += [(f"{name}.{key}", value) for key, value in vars(config).items()
                      if hasattr(value, "to_dict") and hasattr(value, "__dict__")]
    return found


@dataclass
class StateKept:
    """Module tree, hooks, configs, tokenizer size and torch's global state, around one learner call."""

    model: torch.nn.Module | None
    tokenizers: list
    children: dict = field(default_factory=dict)
    hooks: dict = field(default_factory=dict)
    configs: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    torch_names: dict = field(default_factory=dict)
    default_dtype: torch.dtype = torch.float32
    grad_enabled: bool = True

    @classmethod
    def take(cls, model, tokenizers=()) -> "StateKept":
        """Snapshot what a learner call may change (no tensor is copied)."""
        kept = cls(model if isinstance(model, torch.nn.Module) else None, list(tokenizers))
        if kept.model is not None:
            for name, module in kept.model.named_modules():
                kept.children[module] = (name, dict(module._modules))
                kept.hooks[module] = {table: dict(getattr(module, table)) for table in HOOK_TABLES
                                      if hasattr(module, table)}
            kept.configs = [(name, config, dict(vars(config))) for name, config in configs_of(kept.model)]
            kept.configs.insert(0, ("", kept.model, {"config": getattr(kept.model, "config", None),
                                                     "generation_config": getattr(kept.model, "generation_config", None)}))
        kept.hooks[None] = {name: dict(getattr(torch.nn.modules.module, name)) for name in GLOBAL_HOOKS}
        kept.sizes = [vocabulary_size(t) for t in kept.tokenizers]
        kept.torch_names = {space: dict(vars(space)) for space in TORCH_NAMESPACES}
        kept.default_dtype, kept.grad_enabled = torch.get_default_dtype(), torch.is_grad_enabled()
        return kept

    def restore(self) -> tuple[list[str], bool]:
        """Put back what can be put back; return (changes, whether they could all be undone)."""
        changes, undone = self._restore_torch(), True
        for module, (name, children) in self.children.items():
            if module._modules != children or any(module._modules[k] is not v for k, v in children.items()):
                replaced = sorted({k for k in set(children) | set(module._modules)
                                   if module._modules.get(k) is not children.get(k)})
                changes.append("替换了子模块（" + "、".join(f"{name}.{k}" if name else k for k in replaced)
                               + "，例如 model.lm_head = ...）")
                module._modules.clear()
                module._modules.update(children)
        for module, tables in self.hooks.items():
            for table, saved in tables.items():
                current = getattr(torch.nn.modules.module, table) if module is None else getattr(module, table)
                if set(current) != set(saved):
                    if set(current) - set(saved) and "留下了钩子" not in "".join(changes):
                        changes.append("留下了钩子（register_forward_hook 等注册的函数会改变之后的每次输出），检查已把它删掉")
                    current.clear()
                    current.update(saved)
        for where, config, saved in self.configs:
            now = dict(vars(config)) if where else {k: getattr(config, k, None) for k in saved}
            edited = [k for k in set(now) | set(saved) if not same_value(now.get(k), saved.get(k))]
            for key in sorted(edited):
                if where:
                    changes.append(f"改变了 {where}.{key}（{saved.get(key)!r} → {now.get(key)!r}）")
                    if key in saved:
                        vars(config)[key] = saved[key]
                    else:
                        del vars(config)[key]
                else:
                    changes.append(f"替换了 model.{key}")
                    setattr(config, key, saved[key])
        for tokenizer, size in zip(self.tokenizers, self.sizes):
            if size is not None and vocabulary_size(tokenizer) != size:
                changes.append(f"改变了分词器的词表（{size} → {vocabulary_size(tokenizer)} 个 token，例如 tokenizer.add_tokens(...)），"
                               f"这一点检查无法撤销：{RELOAD}")
                undone = False
        return changes, undone

    def _restore_torch(self) -> list[str]:
        changes = []
        for space, saved in self.torch_names.items():
            prefix = "torch.Tensor" if space is torch.Tensor else space.__name__
            for key, now in list(vars(space).items()):
                if key in saved and now is not saved[key] and callable(saved[key]):
                    changes.append(f"替换了 {prefix}.{key}")
                    setattr(space, key, saved[key])
                elif key not in saved and space is torch.Tensor:
                    changes.append(f"给 torch.Tensor 加了 {key}")
                    delattr(space, key)
        if torch.get_default_dtype() != self.default_dtype:
            changes.append(f"改变了默认数据类型（{dtype_name(self.default_dtype)} → "
                           f"{dtype_name(torch.get_default_dtype())}，torch.set_default_dtype）")
            torch.set_default_dtype(self.default_dtype)
        if torch.is_grad_enabled() != self.grad_enabled:
            changes.append("改变了梯度开关（torch.set_grad_enabled(...)）")
            torch.set_grad_enabled(self.grad_enabled)
        return changes
