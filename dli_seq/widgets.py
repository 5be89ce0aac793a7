"""The generation stepper: step through generation one token at a time (4.2, 4.4).

:class:`GenerationStepper` (4.2 GPT-2 / Phi, 4.4 T5): one token per click, the next token's
candidates as buttons (click one to branch), KV-cache length and time per step, and for an
encoder-decoder the cross-attention of the current decoder step over the encoder tokens.
The masks and the KV-cache timing plot are figures: see :mod:`dli_seq.figures`.

Plain ipywidgets and HTML only: no custom JavaScript, nothing fetched from the network.
Widget callbacks run synchronously in the kernel; every error ends up in the status line.
Re-running the cell that made a stepper closes the earlier one (:mod:`dli_seq.cells`).
"""

from __future__ import annotations

import functools
import html
import time

import ipywidgets as W
import torch

from .cells import LatestPerCell, close_all
from . import inputs
from .messages import one_line
from .models import eager_attention
from .streaming import Generation
from .token_view import attention_html, token_label, tokens_html

# Status lines (learner-facing, Simplified Chinese); the buttons are named as they are labelled.
MAX_CANDIDATES = 50  # top_n: one button per candidate
READY = "就绪：按“单步”或“运行到底”，或点一个候选 token"
FINISHED = "生成已结束：按“重置”重新开始"
PROMPT_CHANGED = "输入已改动：按“重置”从头开始"
SETTINGS_CHANGED = "设置已改动：按“重置”让新设置生效"
SETTINGS_RESTORED = "设置已恢复原样：可以继续"
ALREADY_RUNNING = "正在运行：这次点击不起作用"
INTERRUPTED = "已中断：按“单步”继续"
NOTHING_TO_CONTINUE = "没有可以继续的生成：改好上面的输入，再按“重置”"
NO_MODEL = "还没有可用的模型：用 stepper.set_model(model, tokenizer) 传入 load() 返回的那一对"
CLOSED = "这个逐步生成器已经关闭（它的单元格又运行了一次，或调用了 close()）：用新建的那个。"


@torch.inference_mode()
def cross_attention(model, state) -> list[torch.Tensor]:
    """Per decoder layer: how the LAST decoder position attends to each encoder token, head-averaged (4.4).

    sdpa/flash kernels do not return weights, so this pass runs with eager attention and then
    restores the model's own setting. Each returned vector (length m) sums to 1.
    """
    with eager_attention(model):
        out = model(encoder_outputs=(state.encoder_hidden_states,), decoder_input_ids=state.ids[None].to(model.device),
                    output_attentions=True, use_cache=False)
    return [layer[0, :, -1].float().mean(0).cpu() for layer in out.cross_attentions]


def learner_message(err: Exception) -> str:
    """An error as a status line: our own Chinese message as it is, anything else with a hint (4.2, 4.4)."""
    text = str(err)
    if isinstance(err, (ValueError, TypeError)) and any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    return f"出错了（{one_line(err)}）：检查上面的输入和设置，再按“重置”。"


def errors_to_status_line(method):
    """Stepper actions never raise: the message goes to the status line instead of the log (4.2, 4.4)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.closed:
            raise RuntimeError(CLOSED)
        try:
            return method(self, *args, **kwargs)
        except Exception as err:  # noqa: BLE001 - a traceback in a widget helps nobody
            self._say(learner_message(err), error=True)
    return wrapper


def _argument_problem(prompt, encoder_input, top_n, max_new_tokens) -> str | None:
    """What is wrong with the stepper's other arguments, in Chinese (None: nothing); checks from dli_seq.inputs."""
    try:
        for name, value in (("prompt", prompt), ("encoder_input", encoder_input)):
            if value is not None:
                inputs.check_text(value, name)
        inputs.positive_int(top_n, "top_n")
        inputs.check_max_new_tokens(max_new_tokens)
    except (TypeError, ValueError) as err:
        return str(err)
    if top_n > MAX_CANDIDATES:  # one button per candidate
        return f"top_n 最多是 {MAX_CANDIDATES}（每个候选一个按钮），得到的是 {top_n}。"
    return None


class GenerationStepper:
    """Step through generation one token at a time, and branch by clicking a candidate (4.2, 4.4).

    Display it as the last expression of a cell (or ``display(stepper.widget)``). Works for
    decoder-only models (the prompt is the text to continue) and encoder-decoders (the encoder
    input is the source text; the prompt, if any, is a decoder prefix).
    """

    made = LatestPerCell()  # re-running a cell closes the stepper its earlier run made

    def __init__(self, model, tokenizer, prompt: str = "", encoder_input: str | None = None, top_n: int = 8,
                 max_new_tokens: int = 20):
        problem = _argument_problem(prompt, encoder_input, top_n, max_new_tokens)
        if problem is not None:  # the widgets get defaults; the status line says what to fix
            prompt, encoder_input = (v if isinstance(v, str) else "" for v in (prompt, encoder_input))
            top_n = top_n if isinstance(top_n, int) and not isinstance(top_n, bool) and 1 <= top_n <= MAX_CANDIDATES else 8
            max_new_tokens = 20
        self.model, self.tokenizer, self.top_n, self.closed = None, tokenizer, top_n, False
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
        self.top_k = W.BoundedIntText(value=0, min=0, max=0, description="top-k（0 = 不用）",
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
        if problem is not None:
            self.generation = None
            self._render()
            self._say(problem, error=True)
        GenerationStepper.made.add(self)

    def close(self) -> None:
        """Close every widget of this stepper and drop its generation and KV cache (4.2, 4.4)."""
        self.generation, self.attention, self.candidates, self.steps = None, None, [], []
        self.closed = True
        close_all(self.widget)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ----- public actions (each is also a button) -----
    @errors_to_status_line
    def set_model(self, model, tokenizer=None) -> None:
        """Swap in another model (and tokenizer): the running generation is dropped and restarts (4.2, 4.4).

        Without ``tokenizer`` the current one is kept only if it belongs to the new model too.
        """
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        try:
            inputs.check_pair(model, tokenizer or self.tokenizer)  # also: no model, or the two swapped
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

    @errors_to_status_line
    def reset(self) -> None:
        """Start over from the prompt with the current settings (prefill once) (4.2, 4.4)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        if self.model is None:
            return self._say(NO_MODEL, error=True)
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

    @errors_to_status_line
    def step(self, forced_id: int | None = None):
        """Add one token: the model's choice, or ``forced_id``; returns the streaming ``Step`` (4.2)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        if not self._may_continue():
            return None
        return self._advance(forced_id)

    @errors_to_status_line
    def choose(self, k: int):
        """Take candidate number ``k`` (0 = likeliest) as the next token: branching (4.2)."""
        if self._running:
            return self._say(ALREADY_RUNNING, error=True)
        if not isinstance(k, int) or isinstance(k, bool):
            return self._say(f"choose 需要候选的序号（整数，0 = 最可能的那个），得到的是 {k!r}。", error=True)
        if not self._may_continue():
            return None
        if not 0 <= k < len(self.candidates):
            return self._say(f"没有第 {k} 号候选", error=True)
        return self._advance(self.candidates[k][0])

    @errors_to_status_line
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
        enc_dec = self.model is not None and self.model.config.is_encoder_decoder
        return {name: control.value for name, control in self._controls().items()
                if enc_dec or name != "encoder_input"}

    def _changed(self) -> str | None:
        """What differs from the settings of the current generation, as a message (or None)."""
        changed = [k for k, v in self._settings().items() if self._snapshot.get(k) != v]
        if not changed:
            return None
        return PROMPT_CHANGED if {"prompt", "encoder_input"} & set(changed) else SETTINGS_CHANGED

    @errors_to_status_line
    def _on_layer(self, _change) -> None:
        self._render()

    def _bound_max_new(self) -> None:
        """Max new tokens <= the context minus the prompt's tokens, so the box's maximum never makes Reset fail."""
        prompt = self.prompt_box.value
        if self.model is None:
            return
        self.max_new.max = max(1, inputs.max_new_tokens_allowed(self.model, self.tokenizer, prompt))  # as Generation

    @errors_to_status_line
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
