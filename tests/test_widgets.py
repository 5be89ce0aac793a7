"""The widgets of sections 4.2-4.4, driven from Python: buttons clicked, values set, state checked.

Tiny random-init models (tests/conftest.py) stand in for the lesson's models, so every
test runs in well under a second; what is checked is the bookkeeping, not the text quality.
"""

from __future__ import annotations

import gc
import weakref

import ipywidgets as W
import pytest
import torch

from dli_seq.token_view import token_label
from dli_seq.widgets import (ALREADY_RUNNING, FINISHED, NOTHING_TO_CONTINUE, PROMPT_CHANGED, READY,
                             SETTINGS_CHANGED, SETTINGS_RESTORED, GenerationStepper)

SOURCE = "translate English to French: Hello World! How's it going?"


def status(stepper) -> str:
    return stepper.status.value


def test_step_adds_one_token_and_one_cache_position(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=6)
    prompt_len = len(tok.encode("Hello world,"))
    assert s.generation.state.cache_length == prompt_len and not s.steps
    views = [s.text_view.value]
    for n in range(1, 4):
        s.step_button.click()
        assert len(s.steps) == n
        assert s.generation.state.cache_length == prompt_len + n  # the chosen token is already read
        assert s.text_view.value.count("class='dli-tok'") == prompt_len + n
        assert "<sub" in s.text_view.value and str(s.steps[-1].token_id) in s.text_view.value
        assert s.text_view.value != views[-1]
        views.append(s.text_view.value)
        assert f"<b>{prompt_len + n}</b> 个位置" in s.info.value and " ms" in s.info.value
    # prompt tokens and generated tokens are styled differently
    assert "提示词 token" in s.text_view.value and "第 3 个生成的 token" in s.text_view.value


def test_candidates_are_the_next_steps_distribution(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "The cat", max_new_tokens=5, top_n=6)
    for _ in range(3):
        shown = list(s.candidates)
        assert len(shown) == 6 and all(b.layout.display != "none" for b in s.buttons)
        step = s.step()
        assert [c[0] for c in shown] == [t[0] for t in step.top]
        assert [c[2] for c in shown] == pytest.approx([t[2] for t in step.top], rel=1e-5)
        assert step.token_id == shown[0][0]  # greedy takes the likeliest


@pytest.mark.parametrize("k", [1, 4])
def test_clicking_candidate_k_makes_it_the_next_token(gpt2, k):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=5)
    s.step()
    wanted = s.candidates[k][0]
    s.buttons[k].click()
    assert s.steps[-1].token_id == wanted
    assert s.generation.state.ids[-1].item() == wanted
    assert len(s.steps) == 2


def test_run_to_end_stops_at_max_new_tokens_then_step_is_refused(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=4)
    s.run_button.click()
    assert len(s.steps) == 4 and s.generation.done and s.steps[-1].finish_reason == "max_new_tokens"
    assert "生成已结束" in status(s)
    assert all(b.layout.display == "none" for b in s.buttons) and not s.candidates
    assert not s._running and not s.step_button.disabled
    for press in (s.step_button.click, s.run_button.click):
        press()
        assert FINISHED in status(s)
    assert len(s.steps) == 4


def test_run_to_end_stops_at_eos(gpt2, monkeypatch):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=20)
    real_next = s.generation.next
    monkeypatch.setattr(s.generation, "next",  # the model says EOS at the third token
                        lambda forced_id=None: real_next(tok.eos_token_id if len(s.steps) == 2 else forced_id))
    s.run()
    assert len(s.steps) == 3 and s.steps[-1].finish_reason == "eos"
    assert "生成已结束（eos）" in status(s)


def test_pressing_run_twice_is_ignored_with_a_message(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=5)
    messages, real_render = [], s._render

    def render_and_press_again():  # a second press arrives while the loop is running
        real_render()
        if s._running and not messages:
            assert s.run_button.disabled and s.step_button.disabled
            s.run_button.click()
            s.step_button.click()
            s.buttons[0].click()
            messages.append(status(s))
    s._render = render_and_press_again
    s.run_button.click()
    assert messages == [f"<span style='color:#b00020'>{ALREADY_RUNNING}</span>"]
    assert len(s.steps) == 5 and s.generation.done and not s._running


def test_editing_the_prompt_mid_run_needs_reset(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=5)
    s.step()
    s.prompt_box.value = "Once upon a time"
    assert PROMPT_CHANGED in status(s)
    before = s.text_view.value
    s.step_button.click()
    s.buttons[0].click()
    s.run_button.click()
    assert len(s.steps) == 1 and s.text_view.value == before and PROMPT_CHANGED in status(s)
    s.reset_button.click()
    assert READY in status(s) and not s.steps
    assert s.prompt_ids == tok.encode("Once upon a time")


def test_changing_settings_mid_run_needs_reset_and_undo_clears_it(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=5)
    s.step()
    s.max_new.value = 3
    assert SETTINGS_CHANGED in status(s)
    s.step()
    assert len(s.steps) == 1
    s.max_new.value = 5
    assert SETTINGS_RESTORED in status(s)
    s.step()
    assert len(s.steps) == 2


def test_sampling_controls_and_seed(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=6)
    assert s.temperature.disabled  # greedy: the sampling controls do not apply
    s.greedy.value = False
    s.temperature.value, s.top_k.value, s.top_p.value, s.seed.value = 1.5, 5, 0.9, 7
    assert not s.temperature.disabled
    s.reset()
    assert 0 < len(s.candidates) <= 5  # top-k=5 leaves at most five tokens with probability > 0
    s.run()
    first = [st.token_id for st in s.steps]
    s.reset()
    s.run()
    assert [st.token_id for st in s.steps] == first


def test_empty_prompt_and_bad_input_give_messages_not_exceptions(gpt2, t5):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "")
    assert "提示词是空的" in status(s) and s.generation is None
    for press in (s.step_button.click, s.run_button.click, lambda: s.buttons[0].click()):
        press()
        assert NOTHING_TO_CONTINUE in status(s)
    s.prompt_box.value = "Hi"
    s.reset()
    s.step(forced_id=10 ** 9)  # not a token of this model
    assert "不是这个模型的 token id" in status(s) and not s.steps
    s.choose(99)
    assert "没有第 99 号候选" in status(s)
    model, tok = t5
    s = GenerationStepper(model, tok, encoder_input="")
    assert "需要 encoder_input" in status(s)


@pytest.mark.parametrize("arch", ["gpt2", "t5-base", "flan-t5-large", "phi-1_5"])
def test_every_architecture_steps_and_runs(tiny_models, arch):
    model, tok = tiny_models[arch]
    enc_dec = model.config.is_encoder_decoder
    s = GenerationStepper(model, tok, "" if enc_dec else "Hello world,",
                          encoder_input=SOURCE if enc_dec else None, max_new_tokens=4)
    assert READY in status(s)
    s.step()
    s.choose(2)
    s.run()
    assert len(s.steps) <= 4 and s.generation.done
    assert (s.encoder_box.layout.display != "none") == enc_dec
    assert isinstance(s.widget, W.VBox) and "application/vnd.jupyter.widget-view+json" in s._repr_mimebundle_()


def test_t5_cross_attention_rows_sum_to_one(t5):
    model, tok = t5
    before = model.config._attn_implementation
    s = GenerationStepper(model, tok, encoder_input=SOURCE, max_new_tokens=5)
    m = len(tok.encode(SOURCE))
    assert s.generation.state.encoder_ids.numel() == m
    assert len(s.attention) == model.config.num_decoder_layers
    for _ in range(3):
        for layer in range(model.config.num_decoder_layers):
            s.layer.value = layer
            row = s.cross_attention_row
            assert row.shape == (m,) and float(row.sum()) == pytest.approx(1.0, abs=1e-4)
            assert (row >= 0).all()
            assert s.encoder_view.value.count("class='dli-tok'") == m
        s.step()
    assert model.config._attn_implementation == before  # eager only for the attention pass
    views = set()
    for layer in range(model.config.num_decoder_layers):
        s.layer.value = layer
        views.add(s.encoder_view.value)
    assert len(views) == model.config.num_decoder_layers  # each layer has its own picture


def test_cross_attention_is_the_current_decoder_step(t5):
    model, tok = t5
    s = GenerationStepper(model, tok, encoder_input=SOURCE, max_new_tokens=5)
    s.step()
    s.step()
    ids = s.generation.state.ids  # <pad> + two generated tokens: the last one is the current step
    assert ids.tolist() == s.prompt_ids + [st.token_id for st in s.steps]
    original = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(encoder_outputs=(s.generation.state.encoder_hidden_states,), decoder_input_ids=ids[None],
                        output_attentions=True)
    finally:
        model.set_attn_implementation(original)
    expected = out.cross_attentions[s.layer.value][0, :, -1].mean(0)
    assert torch.allclose(s.cross_attention_row, expected.detach(), atol=1e-5)


def test_set_model_switches_between_decoder_only_and_encoder_decoder(gpt2, t5):
    s = GenerationStepper(*gpt2, "Hello", max_new_tokens=3)
    s.step()
    s.encoder_box.value = SOURCE
    s.prompt_box.value = ""
    s.set_model(*t5)
    assert s.encoder_box.layout.display != "none" and s.layer.options and READY in status(s)
    assert s.prompt_box.description == "解码器前缀" and not s.steps
    s.step()
    s.set_model(*gpt2)
    assert "提示词是空的" in status(s)


def test_token_label_keeps_spaces_and_shows_partial_bytes(gpt2, t5):
    model, tok = gpt2
    assert [token_label(tok, i) for i in tok.encode(" ça va\n")] == [" \\xc3", "\\xa7", "a", " va", "↵"]
    model, tok = t5
    labels = [token_label(tok, i) for i in tok.encode("le monde", add_special_tokens=False)]
    assert "".join(labels).strip() == "le monde"
    assert token_label(tok, tok.eos_token_id) == "</s>"


def test_max_new_tokens_is_bounded_by_the_context_left_after_the_prompt(gpt2):
    model, tok = gpt2
    context = model.config.n_positions
    s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=5)
    # n prompt positions + max_new_tokens - 1 fed positions (the last token is never fed): context - n + 1
    assert s.max_new.max == context - len(tok.encode("Hello world,")) + 1
    s.max_new.value = s.max_new.max  # the box's own maximum must give a working Reset
    s.reset()
    assert READY in status(s)
    long_prompt = "Hello world, " * 10
    s.prompt_box.value = long_prompt
    assert s.max_new.max == context - len(tok.encode(long_prompt)) + 1 and s.max_new.value == s.max_new.max
    s.reset()
    assert READY in status(s)
    s.run()
    assert s.generation.state.cache_length <= context


def test_generation_feed_prepares_the_next_tokens_candidates(gpt2):
    """The stepper calls Generation.feed() after each step to show the next token's candidates."""
    model, tok = gpt2
    from dli_seq.streaming import Generation

    gen = Generation(model, tok, "Hello", max_new_tokens=3)
    step = gen.next()
    gen.feed()
    assert gen.state.ids[-1].item() == step.token_id
    gen.next()  # must not feed the token a second time
    assert gen.state.ids.tolist() == tok.encode("Hello") + [step.token_id]


def test_set_model_checks_the_tokenizer(tiny_models):
    gpt2, gpt2_tok = tiny_models["gpt2"]
    t5, t5_tok = tiny_models["t5-base"]
    phi, _ = tiny_models["phi-1_5"]
    stepper = GenerationStepper(gpt2, gpt2_tok, prompt="Hello")
    stepper.set_model(t5)  # GPT-2's tokenizer would be kept for T5: the status line says what to do
    assert "set_model(model, tokenizer)" in stepper.status.value
    assert stepper.model is gpt2 and stepper.tokenizer is gpt2_tok  # nothing changed
    stepper.set_model(t5, gpt2_tok)
    assert "不是同一个模型" in stepper.status.value and stepper.model is gpt2
    stepper.set_model(t5, t5_tok)
    assert stepper.model is t5 and stepper.tokenizer is t5_tok
    stepper.set_model(phi, gpt2_tok)  # Phi-1.5 reads GPT-2's vocabulary: a valid pair
    assert stepper.model is phi


# ----- kernel memory (issue 23) --------------------------------------------------------------------

def open_widgets() -> int:
    """Widgets still registered with the kernel (closed ones have no comm)."""
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), W.Widget) and obj.comm is not None)


def test_rerunning_a_stepper_cell_frees_the_previous_stepper(gpt2):
    """200 steppers used to take a kernel from 466 to 585 MB: ~125 widgets and a KV cache each, never freed."""
    model, tok = gpt2
    generations = []
    for run in range(100):
        s = GenerationStepper(model, tok, "Hello world,", max_new_tokens=5)  # the same line: a re-run cell
        s.step()
        generations.append(weakref.ref(s.generation))
        if run == 0:
            first, before = s, open_widgets()
    gc.collect()
    assert open_widgets() == before  # flat: each new stepper closed the one before
    assert all(ref() is None for ref in generations[:-1]) and generations[-1]() is s.generation
    assert first.closed and first.generation is None and first.widget.comm is None
    with pytest.raises(RuntimeError, match="已经关闭"):
        first.step()
    s.step()  # the newest one still works
    assert len(s.steps) == 2


def test_close_closes_every_widget_and_drops_the_kv_cache(t5):
    model, tok = t5
    before = open_widgets()
    s = GenerationStepper(model, tok, encoder_input=SOURCE, max_new_tokens=5)
    s.step()
    assert open_widgets() - before > 100
    generation = weakref.ref(s.generation)
    s.close()
    gc.collect()
    assert open_widgets() == before and generation() is None


def test_steppers_made_by_one_run_of_a_cell_all_stay_open(gpt2, monkeypatch):
    """In a notebook the cell and its run come from the kernel: a loop in one run keeps every stepper."""
    from dli_seq import cells

    monkeypatch.setattr(cells, "cell_origin", lambda: ("cell-1", "run-1"))
    model, tok = gpt2
    steppers = [GenerationStepper(model, tok, "Hello", max_new_tokens=2) for _ in range(3)]
    assert not any(s.closed for s in steppers)
    monkeypatch.setattr(cells, "cell_origin", lambda: ("cell-1", "run-2"))  # the cell runs again
    again = GenerationStepper(model, tok, "Hello", max_new_tokens=2)
    assert all(s.closed for s in steppers) and not again.closed


# ----- misuse gives Chinese messages in the status line (issue 23) --------------------------------

def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("make, words", [
    (lambda m, t: GenerationStepper(None, None), "model 应是 transformers 的模型"),
    (lambda m, t: GenerationStepper(t, m, "Hello"), "顺序反了"),
    (lambda m, t: GenerationStepper(m, t, prompt=123), "prompt 应是字符串"),
    (lambda m, t: GenerationStepper(m, t, "Hi", max_new_tokens="5"), "max_new_tokens 应是正整数"),
    (lambda m, t: GenerationStepper(m, t, "Hi", top_n=0), "top_n 应是正整数"),
])
def test_bad_arguments_give_a_chinese_status_line(gpt2, make, words):
    model, tok = gpt2
    s = make(model, tok)  # never a traceback
    assert words in status(s) and "Error" not in status(s)
    assert s.generation is None
    s.step_button.click()
    s.run_button.click()
    s.reset_button.click()
    assert chinese(status(s)) and "Error" not in status(s) and "Traceback" not in status(s)


def test_choose_and_set_model_misuse_give_chinese_messages(gpt2):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello", max_new_tokens=4)
    s.choose("a")  # used to show "TypeError: '<=' not supported ..."
    assert "choose 需要候选的序号" in status(s) and not s.steps
    s.set_model(None)  # used to show "AttributeError: 'NoneType' object has no attribute 'config'"
    assert "model 应是 transformers 的模型" in status(s) and s.model is model
    s.set_model(tok, model)
    assert "顺序反了" in status(s) and s.model is model
    s.choose(0)
    assert len(s.steps) == 1  # still works after the refused calls


def test_an_unexpected_error_still_reads_as_chinese(gpt2, monkeypatch):
    model, tok = gpt2
    s = GenerationStepper(model, tok, "Hello", max_new_tokens=4)

    def broken(forced_id=None):
        raise RuntimeError("CUDA out of memory")
    monkeypatch.setattr(s.generation, "next", broken)
    s.step()
    assert status(s).count("出错了") == 1 and "CUDA out of memory" in status(s)


def test_cross_attention_uses_eager_attention_and_restores_it(t5, monkeypatch):
    from dli_seq import models, widgets

    model, tok = t5
    entered = []
    real = models.eager_attention
    monkeypatch.setattr(widgets, "eager_attention", lambda m: entered.append(m) or real(m))
    original = model.config._attn_implementation
    model.set_attn_implementation("sdpa")
    try:
        s = GenerationStepper(model, tok, encoder_input=SOURCE, max_new_tokens=3)
        assert entered and entered[-1] is model and s.attention is not None
        assert model.config._attn_implementation == "sdpa"
    finally:
        model.set_attn_implementation(original)
