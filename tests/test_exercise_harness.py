"""The harness around learner code in the exercise checks: one learner's experiment must not
break the rest of their day. The time limit sticks even through a bare ``except:``, an outer
deadline keeps only the time it had left, and what the learner's code changes (submodules,
hooks, configs, the tokenizer, torch's global functions and switches) is put back or reported.
"""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dli_seq import exercises, models

from test_exercises import loop_solution, pick_next_solution, one_shot_solution

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def t5():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLI_SEQ_MODELS", "offline")
        return models.load("t5-base", device="cpu", quiet=True)


def verdict(capsys, check, *args):
    passed = check(*args)
    out = capsys.readouterr().out
    assert isinstance(passed, bool) and "Traceback" not in out
    assert ("✓ 通过：" in out) == passed
    return passed, out


# --- the time limit ----------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="SIGALRM timers are Unix-only")
def test_a_bare_except_around_an_endless_loop_cannot_defeat_the_time_limit():
    """The timer raised once; ``except:`` swallowed it and the check hung for ever."""
    script = textwrap.dedent("""
        import sys
        import time
        from dli_seq import exercises
        from dli_seq.exercises import harness
        harness.TIME_LIMIT_S = 0.5

        def pick_next(last_logits, k=5, generator=None):
            while True:
                try:
                    while True:
                        pass
                except:
                    pass

        started = time.monotonic()
        passed = exercises.check_pick_next(pick_next)
        print("SECONDS", time.monotonic() - started, "PASSED", passed)
        sys.settrace(lambda *args: None)  # a debugger starts later: the code that called the check runs on
        after = 1
        sys.settrace(None)
        print("AFTER", after)
    """)
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("the check never ended: the bare except swallowed the time limit")
    assert run.returncode == 0, run.stderr
    assert "0.5 秒还没有结束" in run.stdout and "PASSED False" in run.stdout and "AFTER 1" in run.stdout
    seconds = float(run.stdout.split("SECONDS")[1].split()[0])
    assert seconds < 3, "the check ends within a couple of seconds of the limit"


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="SIGALRM timers are Unix-only")
def test_an_outer_deadline_keeps_only_the_time_it_had_left(capsys):
    """The check put the outer timer back with its full original time, pushing it back."""
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    calls = []

    def slow_greedy(last_logits, k=5, generator=None):
        if not calls:
            time.sleep(1.0)
        calls.append(1)
        return int(last_logits.argmax())
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        passed, out = verdict(capsys, exercises.check_pick_next, slow_greedy)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not passed and "还是贪心" in out
    assert 0 < left <= 4.1, f"the outer timer was re-armed with {left:.2f} s, not what was left of 5 s"
    assert not fired


def test_a_check_called_the_wrong_way_says_so_instead_of_raising(capsys):
    passed, out = verdict(capsys, exercises.check_pick_next)
    assert not passed and "调用方式不对" in out and "check_pick_next(pick_next)" in out
    passed, out = verdict(capsys, exercises.check_alignment, [], [], "extra")
    assert not passed and "调用方式不对" in out


# --- what the learner's code changes ----------------------------------------------------------------

def loop_replaces_lm_head(model, tokenizer, text, max_new_tokens=40):
    ids = loop_solution(model, tokenizer, text, max_new_tokens)
    model.lm_head = torch.nn.Linear(model.lm_head.in_features, model.lm_head.out_features, bias=False)
    return ids


def test_a_replaced_submodule_is_put_back(capsys, t5):
    model, tokenizer = t5
    head = model.lm_head
    passed, out = verdict(capsys, exercises.check_encoder_decoder_loop, loop_replaces_lm_head, model, tokenizer)
    assert model.lm_head is head, "the module tree is restored"
    assert not passed and "替换了子模块（lm_head" in out and "models.load" not in out


def test_a_hook_left_behind_is_removed_and_not_blamed_on_the_loop(capsys, t5):
    model, tokenizer = t5
    hooks_before = len(model.lm_head._forward_hooks), len(model._forward_pre_hooks)

    def loop_leaves_a_hook(model, tokenizer, text, max_new_tokens=40):
        ids = loop_solution(model, tokenizer, text, max_new_tokens)
        model.lm_head.register_forward_hook(lambda module, args, output: torch.zeros_like(output))
        model.register_forward_pre_hook(lambda module, args: None)
        return ids
    passed, out = verdict(capsys, exercises.check_encoder_decoder_loop, loop_leaves_a_hook, model, tokenizer)
    assert (len(model.lm_head._forward_hooks), len(model._forward_pre_hooks)) == hooks_before
    assert not passed and "钩子" in out and "generate() 不同" not in out
    assert verdict(capsys, exercises.check_encoder_decoder_loop, loop_solution, model, tokenizer)[0]


def test_config_changes_are_put_back(capsys, t5):
    model, tokenizer = t5
    start, eos = model.generation_config.decoder_start_token_id, model.config.eos_token_id

    def loop_edits_config(model, tokenizer, text, max_new_tokens=40):
        ids = loop_solution(model, tokenizer, text, max_new_tokens)
        model.generation_config.decoder_start_token_id = 5
        model.config.eos_token_id = None
        return ids
    passed, out = verdict(capsys, exercises.check_encoder_decoder_loop, loop_edits_config, model, tokenizer)
    assert (model.generation_config.decoder_start_token_id, model.config.eos_token_id) == (start, eos)
    assert not passed and "decoder_start_token_id" in out and "eos_token_id" in out


def test_a_grown_vocabulary_is_reported_with_how_to_reload(capsys, tiny_models, t5_tokenizer):
    model, _ = tiny_models["flan-t5-large"]
    tokenizer = copy.deepcopy(t5_tokenizer)
    size = len(tokenizer)

    def adds_a_token(entry):
        tokenizer.add_tokens(["<brand-new-token>"])
        return one_shot_solution(entry)
    passed, out = verdict(capsys, exercises.check_flan_one_shot, adds_a_token, model, tokenizer)
    assert not passed and f"{size} → {size + 1}" in out and "models.load(" in out


def test_torch_global_state_is_put_back(capsys):
    cat, dtype, grad = torch.cat, torch.get_default_dtype(), torch.is_grad_enabled()

    def pick_and_meddle(last_logits, k=5, generator=None):
        token = pick_next_solution(last_logits, k, generator)
        torch.cat = lambda *args, **kwargs: None
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
        return token
    try:
        passed, out = verdict(capsys, exercises.check_pick_next, pick_and_meddle)
        state = torch.cat, torch.get_default_dtype(), torch.is_grad_enabled()
    finally:
        torch.cat = cat
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
    assert state == (cat, dtype, grad)
    assert not passed and "torch.cat" in out and "float64" in out and "set_grad_enabled" in out


# --- numpy integers are integers -------------------------------------------------------------------

def test_numpy_integers_are_accepted(capsys, t5):
    passed, out = verdict(capsys, exercises.check_pick_next,
                          lambda logits, k=5, generator=None: np.int64(pick_next_solution(logits, k, generator)))
    assert passed, out
    model, tokenizer = t5
    passed, out = verdict(capsys, exercises.check_encoder_decoder_loop,
                          lambda *args: np.array(loop_solution(*args), dtype=np.int64), model, tokenizer)
    assert passed, out
    source, prefix = "translate English to German: Thank you very much.", "Vielen"
    n = 1 + len(tokenizer(prefix, add_special_tokens=False).input_ids)
    shape = tuple(np.int64(x) for x in (1, model.config.num_heads, n, len(tokenizer(source).input_ids)))
    assert verdict(capsys, exercises.check_cross_attention_shape, shape, model, tokenizer, source, prefix)[0]
    assert not verdict(capsys, exercises.check_pick_next, lambda logits, k=5, generator=None: np.float64(1.0))[0]
