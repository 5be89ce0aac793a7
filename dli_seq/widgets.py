"""Interactive views for the notebooks: step through generation, see masks and KV-cache timing.

* :class:`GenerationStepper` (4.2 GPT-2 / Phi, 4.4 T5): one token per click, the next token's
  candidates as buttons (click one to branch), KV-cache length and time per step, and for an
  encoder-decoder the cross-attention of the current decoder step over the encoder tokens.
* :func:`mask_explorer` (4.3): bidirectional, causal and cross-attention masks for one sentence.
* :func:`kv_cache_timing` (4.2): milliseconds per new token, recompute-everything vs KV cache.

Plain ipywidgets and HTML only: no custom JavaScript, nothing fetched from the network.
Widget callbacks run synchronously in the kernel; every error ends up in the status line.
"""

from __future__ import annotations

import functools
import html
import time
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from .decoding import context_size, decode_step, decoder_limit, decoder_start_id, prefill
from .inputs import check_pair, encode_inputs
from .streaming import Generation

# Status lines (learner-facing, Simplified Chinese); the buttons are named as they are labelled.
READY = "就绪：按“单步”或“运行到底”，或点一个候选 token"
FINISHED = "生成已结束：按“重置”重新开始"
PROMPT_CHANGED = "输入已改动：按“重置”从头开始"
SETTINGS_CHANGED = "设置已改动：按“重置”让新设置生效"
SETTINGS_RESTORED = "设置已恢复原样：可以继续"
ALREADY_RUNNING = "正在运行：这次点击不起作用"
INTERRUPTED = "已中断：按“单步”继续"
NOTHING_TO_CONTINUE = "没有可以继续的生成：改好上面的输入，再按“重置”"

_GENERATED_BG = ("#dbe9ff", "#fff0c2")  # alternating backgrounds show where tokens start and end
_PROMPT_BG = ("#e6e6e6", "#d0d0d0")


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-level BPE writes byte b as one printable character; this maps it back."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)], extra = b, extra + 1
    return chars


_BYTE_OF = _byte_level_alphabet()


def token_label(tokenizer, token_id: int) -> str:
    """One token as readable text, keeping its leading space (T5 ``▁le`` -> `` le``) (4.2, 4.4).

    A byte-level token holding part of a character (GPT-2 splits ``ç`` in two) shows its
    bytes, e.g. ``\\xc3``, instead of the replacement character.
    """
    text = tokenizer.decode([int(token_id)])
    raw = tokenizer.convert_ids_to_tokens(int(token_id)) or ""
    if "\ufffd" in text and all(c in _BYTE_OF for c in raw):
        text = bytes(_BYTE_OF[c] for c in raw).decode("utf-8", errors="backslashreplace")
    if raw[:1] in ("▁", "Ġ") and not text.startswith(" "):
        text = " " + text
    return (text or raw).replace("\n", "↵")


def visible(label: str) -> str:
    """A token label that never reads as blank: a lone space (T5's ``▁``) becomes ``␣`` (4.2-4.4)."""
    return label.replace(" ", "␣") if not label or label.isspace() else label


def _span(text: str, background: str, title: str, token_id: int | None = None) -> str:
    text = visible(text)
    sub = "" if token_id is None else f"<sub style='color:#666;font-size:65%'>{token_id}</sub>"
    return (f"<span class='dli-tok' title='{html.escape(title, quote=True)}' style='background:{background};"
            f"white-space:pre;border-radius:3px;padding:1px 1px;margin:0 1px;line-height:2'>"
            f"{html.escape(text)}{sub}</span>")


def _token_line(spans: list[str]) -> str:
    """Spans in one wrapping line (<wbr>: a long text may break between tokens)."""
    return "<div style='font-family:monospace;font-size:14px'>" + "<wbr>".join(spans) + "</div>"


def tokens_html(tokenizer, ids, n_prompt: int = 0, probs=None) -> str:
    """The text as token spans: id as subscript and tooltip, prompt tokens grey (4.2, 4.4)."""
    spans = []
    for i, token_id in enumerate(ids):
        if i < n_prompt:
            spans.append(_span(token_label(tokenizer, token_id), _PROMPT_BG[i % 2], f"提示词 token，id {token_id}",
                               token_id))
        else:
            p = probs[i - n_prompt] if probs is not None else None
            title = f"第 {i - n_prompt + 1} 个生成的 token，id {token_id}" + (f"，p = {p:.3f}" if p is not None else "")
            spans.append(_span(token_label(tokenizer, token_id), _GENERATED_BG[(i - n_prompt) % 2], title, token_id))
    return _token_line(spans)


def attention_html(tokenizer, ids, weights) -> str:
    """Encoder tokens shaded by the attention weight they receive (4.4 cross-attention)."""
    top = max(float(max(weights)), 1e-9)
    spans = [_span(token_label(tokenizer, t), f"rgba(230,120,0,{0.08 + 0.9 * float(w) / top:.3f})",
                   f"id {t}，注意力 {float(w):.3f}", t) for t, w in zip(ids, weights)]
    return _token_line(spans)


@torch.inference_mode()
def cross_attention(model, state) -> list[torch.Tensor]:
    """Per decoder layer: how the LAST decoder position attends to each encoder token, head-averaged (4.4).

    sdpa/flash kernels do not return weights, so this pass runs with eager attention and then
    restores the model's own setting. Each returned vector (length m) sums to 1.
    """
    original = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        out = model(encoder_outputs=(state.encoder_hidden_states,), decoder_input_ids=state.ids[None].to(model.device),
                    output_attentions=True, use_cache=False)
    finally:
        model.set_attn_implementation(original)
    return [layer[0, :, -1].float().mean(0).cpu() for layer in out.cross_attentions]


def _guarded(method):
    """Widget callbacks never raise: the message goes to the status line instead of the log."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ValueError as err:  # the core's messages are written for learners
            self._say(str(err), error=True)
        except Exception as err:  # noqa: BLE001 - a traceback in a widget helps nobody
            self._say(f"{type(err).__name__}: {err}", error=True)
    return wrapper


class GenerationStepper:
    """Step through generation one token at a time, and branch by clicking a candidate (4.2, 4.4).

    Display it as the last expression of a cell (or ``display(stepper.widget)``). Works for
    decoder-only models (the prompt is the text to continue) and encoder-decoders (the encoder
    input is the source text; the prompt, if any, is a decoder prefix).
    """

    def __init__(self, model, tokenizer, prompt: str = "", encoder_input: str | None = None, top_n: int = 8,
                 max_new_tokens: int = 20):
        self.model, self.tokenizer, self.top_n = model, tokenizer, top_n
        self.generation: Generation | None = None
        self.steps, self.step_ms, self.candidates = [], [], []
        self.attention: list[torch.Tensor] | None = None
        self._running, self._snapshot = False, {}
        label = dict(style={"description_width": "initial"})
        self.prompt_box = W.Textarea(value=prompt, layout=W.Layout(width="48%", height="60px"), **label)
        self.encoder_box = W.Textarea(value=encoder_input or "", description="编码器输入",
                                      layout=W.Layout(width="48%", height="60px"), **label)
        self.greedy = W.Checkbox(value=True, description="贪心搜索", indent=False, layout=W.Layout(width="110px"))
        self.temperature = W.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.05, description="温度 temperature", **label)
        self.top_k = W.BoundedIntText(value=0, min=0, max=len(tokenizer), description="top-k（0 = 不用）",
                                      layout=W.Layout(width="170px"), **label)
        self.top_p = W.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top-p", **label)
        self.seed = W.IntText(value=0, description="随机种子", layout=W.Layout(width="130px"), **label)
        self.max_new = W.BoundedIntText(value=max_new_tokens, min=1, max=4096, description="最多新 token 数",
                                        layout=W.Layout(width="200px"), **label)
        wide = W.Layout(width="auto")
        self.step_button = W.Button(description="单步", button_style="primary", icon="step-forward", layout=wide)
        self.run_button = W.Button(description="运行到底", icon="forward", layout=wide)
        self.reset_button = W.Button(description="重置", icon="refresh", layout=wide)
        self.layer = W.Dropdown(description="交叉注意力层", **label)
        self.status = W.HTML()
        self.text_view, self.encoder_view, self.info = W.HTML(), W.HTML(), W.HTML()
        self.buttons = [W.Button(layout=W.Layout(width="180px")) for _ in range(top_n)]
        self.bars = [W.HTML() for _ in range(top_n)]
        for name, w in [("status", self.status), ("text", self.text_view), ("encoder", self.encoder_view),
                        ("info", self.info), ("step", self.step_button), ("run", self.run_button),
                        ("reset", self.reset_button)]:
            w.add_class(f"dli-stepper-{name}")
        for i, button in enumerate(self.buttons):
            button.add_class("dli-stepper-candidate")
            button.on_click(functools.partial(lambda k, _: self.choose(k), i))
        self.step_button.on_click(lambda _: self.step())
        self.run_button.on_click(lambda _: self.run())
        self.reset_button.on_click(lambda _: self.reset())
        for control in self._controls().values():
            control.observe(self._on_edit, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.greedy.observe(lambda _: self._sync_sampling_controls(), names="value")
        self.candidate_box = W.VBox([W.HBox([b, bar]) for b, bar in zip(self.buttons, self.bars)])
        self.widget = W.VBox([
            W.HBox([self.prompt_box, self.encoder_box]),
            W.HBox([self.greedy, self.temperature, self.top_k, self.top_p]),
            W.HBox([self.seed, self.max_new]),
            W.HBox([self.step_button, self.run_button, self.reset_button, self.layer]),
            self.status, self.text_view, self.encoder_view, self.info,
            W.HTML("<b>下一个 token 的候选</b>（点一个就选它）："), self.candidate_box])
        self.widget.add_class("dli-stepper")
        self.set_model(model, tokenizer)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ----- public actions (each is also a button) -----
    @_guarded
    def set_model(self, model, tokenizer=None) -> None:
        """Swap in another model (and tokenizer): the running generation is dropped and restarts (4.2, 4.4).

        Without ``tokenizer`` the current one is kept only if it belongs to the new model too.
        """
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        try:
            check_pair(model, tokenizer or self.tokenizer)
        except ValueError as err:
            if tokenizer is not None:
                raise
            raise ValueError("新模型和当前的分词器不是一对：把新模型的分词器一起传进来，"
                             "stepper.set_model(model, tokenizer)。") from err
        self.generation, self.attention = None, None
        self.model, self.tokenizer = model, tokenizer or self.tokenizer
        enc_dec = model.config.is_encoder_decoder
        self.prompt_box.description = "解码器前缀" if enc_dec else "提示词"
        self.encoder_box.layout.display = None if enc_dec else "none"
        self.encoder_view.layout.display = None if enc_dec else "none"
        self.layer.layout.display = None if enc_dec else "none"
        layers = getattr(model.config, "num_decoder_layers", None) or getattr(model.config, "num_layers", 0)
        self.layer.options = [(f"第 {i} 层", i) for i in range(layers)] if enc_dec else []
        self.layer.value = layers - 1 if enc_dec and layers else None
        self._bound_max_new()
        self.top_k.max = len(self.tokenizer)
        self.reset()

    @_guarded
    def reset(self) -> None:
        """Start over from the prompt with the current settings (prefill once) (4.2, 4.4)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        self.generation, self.attention = None, None
        self.steps, self.step_ms, self.candidates = [], [], []
        self._snapshot = self._settings()
        self._sync_sampling_controls()
        try:
            s = self._snapshot
            started = time.perf_counter()
            self.generation = Generation(
                self.model, self.tokenizer, s["prompt"], encoder_input=s.get("encoder_input") or None,
                max_new_tokens=s["max_new_tokens"], do_sample=not s["greedy"], top_n=self.top_n,
                temperature=s["temperature"] if not s["greedy"] else 1.0,
                top_k=(s["top_k"] or None) if not s["greedy"] else None,
                top_p=s["top_p"] if not s["greedy"] and s["top_p"] < 1.0 else None, seed=s["seed"])
            self.prefill_ms = 1000 * (time.perf_counter() - started)
            self.prompt_ids = self.generation.state.ids.tolist()
            self._update_candidates()
            self._say(READY)
        finally:
            self._render()

    @_guarded
    def step(self, forced_id: int | None = None):
        """Add one token: the model's choice, or ``forced_id``; returns the streaming ``Step`` (4.2)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        if not self._may_continue():
            return None
        return self._advance(forced_id)

    @_guarded
    def choose(self, k: int):
        """Take candidate number ``k`` (0 = likeliest) as the next token: branching (4.2)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        if not self._may_continue():
            return None
        if not 0 <= k < len(self.candidates):
            return self._say(f"没有第 {k} 号候选", error=True)
        return self._advance(self.candidates[k][0])

    @_guarded
    def run(self) -> None:
        """Step until EOS or max new tokens, redrawing after every token (4.2, 4.4)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        if not self._may_continue():
            return None
        self._running = True
        self._set_busy(True)
        try:
            while not self.generation.done:
                self._advance(None)
        except KeyboardInterrupt:
            self._say(INTERRUPTED, error=True)
        finally:
            self._running = False
            self._set_busy(False)

    # ----- internals -----
    def _controls(self) -> dict:
        return {"prompt": self.prompt_box, "encoder_input": self.encoder_box, "greedy": self.greedy,
                "temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p, "seed": self.seed,
                "max_new_tokens": self.max_new}

    def _settings(self) -> dict:
        """The current inputs; the (hidden) encoder box counts only for an encoder-decoder."""
        enc_dec = self.model.config.is_encoder_decoder
        return {name: control.value for name, control in self._controls().items()
                if enc_dec or name != "encoder_input"}

    def _changed(self) -> str | None:
        """What differs from the settings of the current generation, as a message (or None)."""
        changed = [k for k, v in self._settings().items() if self._snapshot.get(k) != v]
        if not changed:
            return None
        return PROMPT_CHANGED if {"prompt", "encoder_input"} & set(changed) else SETTINGS_CHANGED

    @_guarded
    def _on_layer(self, _change) -> None:
        self._render()

    def _bound_max_new(self) -> None:
        """Max new tokens <= the context minus the prompt's tokens, so the box's maximum never makes Reset fail."""
        prompt = self.prompt_box.value
        n_prompt = len(self.tokenizer.encode(prompt)) if prompt else 0
        self.max_new.max = max(1, decoder_limit(self.model) - n_prompt)  # the limit Generation checks

    @_guarded
    def _on_edit(self, change) -> None:
        if change is not None and change.get("owner") is self.prompt_box:
            self._bound_max_new()
        message = self._changed()
        if message:
            self._say(message, error=True)
        elif self.generation is not None:
            self._say(SETTINGS_RESTORED)

    def _sync_sampling_controls(self) -> None:
        for control in (self.temperature, self.top_k, self.top_p, self.seed):
            control.disabled = self.greedy.value

    def _may_continue(self) -> bool:
        message = self._changed()
        if message is None and self.generation is None:
            message = NOTHING_TO_CONTINUE
        elif message is None and self.generation.done:
            message = FINISHED
        if message:
            self._say(message, error=True)
        return message is None

    def _advance(self, forced_id: int | None):
        started = time.perf_counter()
        step = self.generation.next(forced_id)
        if not self.generation.done:
            self.generation.feed()  # the stepper shows the NEXT token's candidates before a pick
        self.step_ms.append(1000 * (time.perf_counter() - started))
        self.steps.append(step)
        self._update_candidates()
        self._render()
        # The status line goes last: when it names the new token, text and candidates already show it.
        if self.generation.done:
            self._say(f"生成已结束（{step.finish_reason}）：按“重置”重新开始")
        else:
            self._say(f"第 {len(self.steps)} 个 token：{token_label(self.tokenizer, step.token_id)!r}（id {step.token_id}）")
        return step

    def _update_candidates(self) -> None:
        """The next token's likeliest ids (after temperature / top-k / top-p), and cross-attention."""
        gen = self.generation
        self.candidates = []
        if gen is None or gen.done:
            return
        probs = torch.softmax(gen.scores(), dim=-1)
        top = torch.topk(probs, min(self.top_n, probs.numel()))
        self.candidates = [(int(i), token_label(self.tokenizer, int(i)), float(p))
                           for p, i in zip(*top) if float(p) > 0]
        if gen.state.is_encoder_decoder:
            self.attention = cross_attention(self.model, gen.state)

    @property
    def cross_attention_row(self) -> torch.Tensor | None:
        """Attention of the current decoder step over the encoder tokens, for the chosen layer (4.4)."""
        if self.attention is None or self.layer.value is None:
            return None
        return self.attention[self.layer.value]

    def _say(self, message: str, error: bool = False) -> None:
        color = "#b00020" if error else "#1b5e20"
        self.status.value = f"<span style='color:{color}'>{html.escape(message)}</span>"

    def _set_busy(self, busy: bool) -> None:
        for button in [self.step_button, self.run_button, self.reset_button, *self.buttons]:
            button.disabled = busy

    def _render(self) -> None:
        gen = self.generation
        if gen is None:
            self.text_view.value = self.encoder_view.value = self.info.value = ""
        else:
            ids = self.prompt_ids + [s.token_id for s in self.steps]
            self.text_view.value = tokens_html(self.tokenizer, ids, len(self.prompt_ids), [s.prob for s in self.steps])
            row = self.cross_attention_row
            if row is not None:
                self.encoder_view.value = ("<b>编码器 token</b>，颜色越深，当前解码步对它的交叉注意力越大：" +
                                           attention_html(self.tokenizer, gen.state.encoder_ids.tolist(), row.tolist()))
            last = f"{self.step_ms[-1]:.1f} ms" if self.step_ms else "–"
            self.info.value = (f"KV 缓存：<b>{gen.state.cache_length}</b> 个位置 · 上一步：<b>{last}</b>"
                               f" · 预填充：{self.prefill_ms:.1f} ms · 新 token：{len(self.steps)}"
                               f"/{gen.max_new_tokens} · 设备：{self.model.device}")
        for i, (button, bar) in enumerate(zip(self.buttons, self.bars)):
            if i < len(self.candidates):
                token_id, label, p = self.candidates[i]
                button.description, button.tooltip = f"{label.replace(' ', '␣') or '␣'}  ({p:.1%})", f"id {token_id}"
                button.layout.display = bar.layout.display = None
                bar.value = (f"<div style='width:300px;height:14px;margin-top:8px;background:#eef2f8' "
                             f"title='p = {p:.4f}'><div style='width:{max(1.0, 300 * p):.0f}px;height:14px;"
                             f"background:#4c8bf5'></div></div>")
            else:
                button.layout.display = bar.layout.display = "none"


def _tokens(tokenizer, text) -> list[str]:
    if not isinstance(text, str):
        return [str(t) for t in text]
    if tokenizer is None:
        return text.split()
    return [visible(token_label(tokenizer, i)) for i in tokenizer.encode(text, add_special_tokens=False)]


# CJK fonts to try, in order: the kit installs WenQuanYi Micro Hei (make browser-deps); the others
# are what macOS and Windows learners have. DejaVu Sans stays first for Latin text and ␣ ✓ ✗.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
             "Microsoft YaHei", "SimHei", "Heiti SC")


@functools.lru_cache(maxsize=1)
def chinese_font_family() -> list[str]:
    """The matplotlib font list for figures with Chinese labels (4.2, 4.3): DejaVu Sans + a CJK font."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in CJK_FONTS if name in installed][:1]]


MASK_EXPLORER_MAX_TOKENS = 64  # per sentence: larger matrices are unreadable (and huge)


def mask_explorer(tokenizer=None, source: str = "Hello World! How's it going?",
                  target: str = "Bonjour le monde ! Comment ça va ?", interactive: bool = False):
    """Encoder (m×m, bidirectional), decoder (n×n, causal) and cross-attention (n×m) masks (4.3).

    ``tokenizer`` may be None (split on spaces); ``source``/``target`` may be lists of tokens.
    Returns a matplotlib Figure, or with ``interactive=True`` a widget with text boxes.
    """
    if interactive:
        boxes = [W.Text(value=v if isinstance(v, str) else " ".join(v), description=d,
                        layout=W.Layout(width="600px")) for v, d in ((source, "源句"), (target, "目标句"))]
        out, message = W.Output(), W.HTML()
        box = W.VBox([*boxes, message, out])
        for widget, name in ((box, "dli-mask-explorer"), (message, "dli-mask-message"), (out, "dli-mask-figure")):
            widget.add_class(name)

        def redraw(_=None):
            try:
                box.figure = mask_explorer(tokenizer, boxes[0].value, boxes[1].value)
            except ValueError as err:  # no stale figure next to the error
                box.figure = None
                out.outputs = ()
                message.value = f"<span style='color:#b00020'>{html.escape(str(err))}</span>"
                return
            message.value = ""
            with out:
                from IPython.display import display
                out.clear_output(wait=True)
                display(box.figure)
        for text_box in boxes:
            text_box.observe(redraw, names="value")
        redraw()
        return box
    src, tgt = _tokens(tokenizer, source), _tokens(tokenizer, target)
    if not src or not tgt:
        raise ValueError("源句和目标句都不能为空：各写一句话。")
    m, n = len(src), len(tgt)
    if max(m, n) > MASK_EXPLORER_MAX_TOKENS:  # a figure of thousands of rows would exhaust the kernel's memory
        raise ValueError(f"源句有 {m} 个 token、目标句有 {n} 个：每句最多 {MASK_EXPLORER_MAX_TOKENS} 个，"
                         "矩阵才看得清。换一句短一点的话。")
    masks = [("编码器自注意力：双向", torch.ones(m, m), src, src),
             ("解码器自注意力：因果", torch.tril(torch.ones(n, n)), tgt, tgt),
             ("交叉注意力：解码器的查询 × 编码器的键", torch.ones(n, m), tgt, src)]
    size = 0.32
    with plt.rc_context({"font.family": chinese_font_family()}):
        return _draw_masks(masks, m, n, size)


def _draw_masks(masks, m: int, n: int, size: float):
    fig, axes = plt.subplots(1, 3, figsize=(max(9.0, size * (2 * m + n) + 4.5), max(3.5, size * max(m, n) + 2.5)),
                             gridspec_kw={"width_ratios": [m, n, m]}, layout="constrained")
    for ax, (title, mask, rows, cols) in zip(axes, masks):
        ax.imshow(mask.numpy(), cmap="Blues", vmin=0, vmax=1.4)
        ax.set_title(f"{title}\n{mask.shape[0]} × {mask.shape[1]}", fontsize=9)
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_xticks([k - 0.5 for k in range(len(cols) + 1)], minor=True)
        ax.set_yticks([k - 0.5 for k in range(len(rows) + 1)], minor=True)
        ax.grid(which="minor", color="white", linewidth=0.8)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("键 / 值（被关注的位置）", fontsize=8)
        ax.set_ylabel("查询（发出关注的位置）", fontsize=8)
    fig.suptitle(f"谁可以关注谁：源句 m = {m} 个 token，目标句 n = {n} 个 token（深色 = 允许）", fontsize=10)
    plt.close(fig)  # returned for display; keeps pyplot from showing it a second time
    return fig


@dataclass
class TimingResult:
    """Milliseconds per new token at each decoder length, without and with the KV cache (4.2)."""

    positions: list[int]
    naive_ms: list[float]
    cached_ms: list[float]
    device: str
    figure: object


def _device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)


TIMING_MAX_POSITIONS = 20_000  # positions the naive loop may recompute in all (it grows with the square)
TIMING_PROGRESS_FROM = 5_000  # show a progress bar from this much work on


@torch.inference_mode()
def kv_cache_timing(model, tokenizer, prompt: str = "The weather today is", *, encoder_input: str | None = None,
                    max_new_tokens: int = 64, repeats: int = 1, plot: bool = True,
                    max_positions: int | None = TIMING_MAX_POSITIONS, progress: bool | None = None) -> TimingResult:
    """Time each new token: re-reading the whole text (no cache) vs prefill + decode_step (4.2).

    Both loops pick greedily and ignore end-of-sequence, so both series have ``max_new_tokens``
    points; with ``repeats`` > 1 the fastest of the repeats is kept per position. The naive loop
    recomputes every position at every step (work grows with the square of ``max_new_tokens``):
    more than ``max_positions`` positions in all is refused up front (``max_positions=None`` lifts
    the bound), and a progress bar shows from a few thousand on (``progress=True/False`` forces it).
    """
    for name, value in (("max_new_tokens", max_new_tokens), ("repeats", repeats)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} 应是正整数，得到的是 {value!r}。")
    prompt_ids, encoder_ids = encode_inputs(model, tokenizer, prompt, encoder_input)
    enc_dec, device = model.config.is_encoder_decoder, model.device
    start = [decoder_start_id(model)] if enc_dec else []
    limit = context_size(model)
    if limit is not None and len(prompt_ids) + max_new_tokens > limit:
        raise ValueError(f"提示词的 {len(prompt_ids)} 个 token 加上 {max_new_tokens} 个新 token，超过了上下文长度 "
                         f"{limit}：缩短提示词，或减小 max_new_tokens。")
    first = len(start) + len(prompt_ids)
    work = repeats * (max_new_tokens * first + max_new_tokens * (max_new_tokens - 1) // 2)
    if max_positions is not None and work > max_positions:
        raise ValueError(f"不用缓存的循环要重新计算约 {work} 个位置（随 max_new_tokens 平方增长），超过了上限 "
                         f"{max_positions}：请减小 max_new_tokens（或 repeats），或传 max_positions=None 取消上限。")
    from tqdm.auto import tqdm

    show = work >= TIMING_PROGRESS_FROM if progress is None else bool(progress)
    bar = tqdm(total=2 * repeats * max_new_tokens, desc="kv_cache_timing", unit="token", leave=False,
               disable=not show)

    def now() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elif device.type == "mps":
            torch.mps.synchronize()
        return time.perf_counter()

    def naive() -> list[float]:  # the original lesson's loop: everything again, every step
        ids, times = start + list(prompt_ids), []
        for _ in range(max_new_tokens):
            t0 = now()
            if enc_dec:
                logits = model(input_ids=torch.tensor([encoder_ids], device=device),
                               decoder_input_ids=torch.tensor([ids], device=device), use_cache=False).logits
            else:
                logits = model(input_ids=torch.tensor([ids], device=device), use_cache=False).logits
            ids.append(int(logits[0, -1].argmax()))
            times.append(now() - t0)
            bar.update()
        return times

    def cached() -> list[float]:  # prefill once, then one position per step
        t0 = now()
        state = prefill(model, prompt_ids or None, encoder_input_ids=encoder_ids)
        token = int(state.logits.argmax())
        times = [now() - t0]
        for _ in range(max_new_tokens - 1):
            t0 = now()
            decode_step(state, token)
            token = int(state.logits.argmax())
            times.append(now() - t0)
        bar.update(max_new_tokens)
        return times

    cached()  # warm-up: first calls pay for lazy initialisation
    bar.reset()
    with bar:
        runs_naive = [naive() for _ in range(repeats)]
        runs_cached = [cached() for _ in range(repeats)]
    naive_ms = [1000 * min(r[i] for r in runs_naive) for i in range(max_new_tokens)]
    cached_ms = [1000 * min(r[i] for r in runs_cached) for i in range(max_new_tokens)]
    positions = [len(start) + len(prompt_ids) + i for i in range(max_new_tokens)]
    result = TimingResult(positions, naive_ms, cached_ms, _device_name(device), None)
    if plot:
        with plt.rc_context({"font.family": chinese_font_family()}):
            fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
            ax.plot(positions, naive_ms, "o-", ms=3,
                    label=f"不用缓存：每步重算所有位置，共 {sum(naive_ms):.0f} ms")
            ax.plot(positions, cached_ms, "s-", ms=3,
                    label=f"KV 缓存：预填充一次，之后每步只算一个位置，共 {sum(cached_ms):.0f} ms")
            ax.set_xlabel("模型已读的 token 数（解码器长度）")
            ax.set_ylabel("每个新 token 的毫秒数")
            ax.set_ylim(bottom=0)
            ax.set_title(f"每个新 token 的耗时：{type(model).__name__}，设备 {result.device}")
            ax.legend()
            fig.canvas.draw()  # lay the text out while the font settings hold
            plt.close(fig)
        result.figure = fig
    return result
