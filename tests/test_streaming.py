"""Streaming generation (sections 4.2, 4.4, 4.5): exact incremental text, sampling, stops, errors."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import example, HealthCheck, given, settings
from hypothesis import strategies as st

from dli_seq.models import REGISTRY
from dli_seq.detok import StopStrings, TextDecoder
from dli_seq.streaming import Generation, generate_text, get_token_generator, stream, stream_steps

from conftest import ARCHS

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that stresses the detokenizer: accents, CJK, emoji (4-byte UTF-8, ZWJ sequences), mixed scripts.
MIXED = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(list("éàüßçñ日本語中文你好世界こんにちは한국어Привет🙂👍🏽👨‍👩‍👧🎉∑≠ \n\t.,!?'")),
), max_size=40)


def pieces_for(tokenizer, ids, prompt_ids=(), use_decode_stream=True) -> list[str]:
    """Feed ids one by one, as generation does, and return the pieces (the last one is the flush)."""
    decoder = TextDecoder(tokenizer, prompt_ids, use_decode_stream=use_decode_stream)
    return [decoder.add(i) for i in ids] + [decoder.flush()]


def check_exact(tokenizer, ids, prompt_ids=(), use_decode_stream=True):
    pieces = pieces_for(tokenizer, ids, prompt_ids, use_decode_stream)
    before = tokenizer.decode(list(prompt_ids), skip_special_tokens=True)
    after = tokenizer.decode(list(prompt_ids) + list(ids), skip_special_tokens=True)
    assert after.startswith(before)
    assert "".join(pieces) == after[len(before):]
    if not prompt_ids:
        assert "".join(pieces) == tokenizer.decode(ids, skip_special_tokens=True)


@pytest.fixture(params=["gpt2", "t5"])
def tokenizer(request, gpt2_tokenizer, t5_tokenizer):
    return gpt2_tokenizer if request.param == "gpt2" else t5_tokenizer


@pytest.mark.parametrize("use_decode_stream", [True, False], ids=["DecodeStream", "re-decode"])
@PROPERTY
@given(text=MIXED)
def test_pieces_join_to_decode_of_encoded_text(tokenizer, use_decode_stream, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    check_exact(tokenizer, ids, use_decode_stream=use_decode_stream)
    # A piece never shows U+FFFD for a character that is merely incomplete so far.
    if "\ufffd" not in tokenizer.decode(ids, skip_special_tokens=True):
        assert not any("\ufffd" in p for p in pieces_for(tokenizer, ids, use_decode_stream=use_decode_stream))


@pytest.mark.parametrize("use_decode_stream", [True, False], ids=["DecodeStream", "re-decode"])
@PROPERTY
@given(data=st.data())
def test_pieces_join_to_decode_of_arbitrary_ids(tokenizer, use_decode_stream, data):
    """Any id sequence (lone UTF-8 bytes, special tokens, sentinels), with and without a prompt."""
    vocab = len(tokenizer)
    special = st.sampled_from(tokenizer.all_special_ids)
    ids = data.draw(st.lists(st.one_of(st.integers(0, vocab - 1), special), max_size=30))
    prompt = data.draw(st.sampled_from([(), tuple(tokenizer.encode("Le chat", add_special_tokens=False)),
                                        (tokenizer.pad_token_id or 0,)]))
    check_exact(tokenizer, ids, prompt, use_decode_stream)


def test_multibyte_characters_wait_until_complete(gpt2_tokenizer):
    ids = gpt2_tokenizer.encode(" 日本語 🙂👍🏽")
    pieces = pieces_for(gpt2_tokenizer, ids)
    assert len(ids) > 5 and "" in pieces  # some tokens are only part of a character...
    assert not any("\ufffd" in p for p in pieces)  # ...and no half character is ever shown
    assert "".join(pieces) == " 日本語 🙂👍🏽"


def test_lone_byte_at_the_end_is_flushed(gpt2_tokenizer):
    lone = gpt2_tokenizer.convert_tokens_to_ids("ï")  # byte 0xEF alone: never a complete character
    ids = gpt2_tokenizer.encode("ok") + [lone]
    pieces = pieces_for(gpt2_tokenizer, ids)
    assert pieces == ["ok", "", "\ufffd"]  # held back while it might still complete, flushed at the end
    assert "".join(pieces) == gpt2_tokenizer.decode(ids)


def test_t5_decoder_prefix_keeps_the_space(t5_tokenizer):
    prompt = [0] + t5_tokenizer.encode("Le", add_special_tokens=False)
    ids = t5_tokenizer.encode("chat", add_special_tokens=False)
    assert "".join(pieces_for(t5_tokenizer, ids, prompt)) == " chat"


# ---- stop strings ---------------------------------------------------------------------------

@PROPERTY
@given(text=st.text("ab\nc", max_size=30), cuts=st.lists(st.integers(0, 30), max_size=8),
       stops=st.lists(st.text("ab\nc", min_size=1, max_size=3), min_size=1, max_size=3))
@example(text="aca", cuts=[2], stops=["c", "aca"])  # "c" completes first, though "aca" starts earlier
def test_stop_strings_cut_right_before_the_first_match(text, cuts, stops):
    bounds = sorted({0, len(text), *[min(c, len(text)) for c in cuts]})
    stop, shown = StopStrings(stops), ""
    for a, b in zip(bounds, bounds[1:]):
        piece, stopped = stop.push(text[a:b])
        shown += piece
        if stopped:
            break
    else:
        shown += stop.flush()
    # The stream ends at the first piece that completes a stop string, right before the earliest
    # stop string seen by then (a longer one that would complete later does not count).
    expected = text
    for b in bounds[1:]:
        starts = [text[:b].find(s) for s in stops if s in text[:b]]
        if starts:
            expected = text[:min(starts)]
            break
    assert shown == expected


def test_stop_string_ends_generation(tiny_models):
    model, tok = tiny_models["gpt2"]
    full = generate_text(model, tok, "Hello world,", max_new_tokens=12)
    stop = full[5:9]  # crosses token boundaries in the middle of the text
    steps = list(stream_steps(model, tok, "Hello world,", max_new_tokens=12, stop_strings=stop))
    assert "".join(s.text for s in steps) == full[:full.find(stop)]
    assert steps[-1].finish_reason == "stop_string" and len(steps) < 12
    assert generate_text(model, tok, "Hello world,", max_new_tokens=12, stop_strings=["zzz", stop]) == full[:full.find(stop)]
    assert generate_text(model, tok, "Hello world,", max_new_tokens=12, stop_strings=["\u2603"]) == full


# ---- generation -----------------------------------------------------------------------------

def _inputs(model, tok):
    if model.config.is_encoder_decoder:
        text = "translate English to French: Hello World!"
        return dict(encoder_input=text), torch.tensor([tok.encode(text)]), 1
    return dict(prompt="Hello world,"), torch.tensor([tok.encode("Hello world,")]), 3


@pytest.mark.parametrize("arch", ARCHS)
def test_stream_matches_generate_and_decode(tiny_models, arch):
    model, tok = tiny_models[arch]
    kwargs, ids, skip = _inputs(model, tok)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        steps = list(stream_steps(model, tok, max_new_tokens=16, **kwargs))
    expected = model.generate(ids, do_sample=False, max_new_tokens=16)[0, skip:].tolist()
    new = [s.token_id for s in steps]
    assert new == expected
    assert "".join(s.text for s in steps) == tok.decode(new, skip_special_tokens=True)
    assert [s.index for s in steps] == list(range(len(steps)))
    start = steps[0].cache_length
    assert [s.cache_length for s in steps] == list(range(start, start + len(steps)))
    for s in steps:
        assert 0.0 <= s.prob <= 1.0 and s.elapsed_s > 0 and len(s.top) == 5
        assert [p for _, _, p in s.top] == sorted((p for _, _, p in s.top), reverse=True)
        assert s.top[0][0] == s.token_id  # greedy picks the top alternative
    assert steps[-1].finish_reason in ("eos", "max_new_tokens")


def test_sampling_is_reproducible_with_a_seed(tiny_models):
    model, tok = tiny_models["gpt2"]
    def run(**kw):
        return [s.token_id for s in stream_steps(model, tok, "Hello", max_new_tokens=10, do_sample=True, **kw)]
    assert run(seed=7) == run(seed=7)
    assert run(seed=7) != run(seed=8)
    assert run(seed=7, temperature=0.7, top_k=50, top_p=0.9) == run(seed=7, temperature=0.7, top_k=50, top_p=0.9)
    greedy = [s.token_id for s in stream_steps(model, tok, "Hello", max_new_tokens=10)]
    assert run(seed=3, top_k=1) == greedy
    steps = list(stream_steps(model, tok, "Hello", max_new_tokens=5, do_sample=True, seed=1, top_k=3))
    assert all(len([p for _, _, p in s.top if p > 0]) == 3 for s in steps)  # top-k is applied before probabilities


def test_eos_ends_generation_and_adds_no_text(tiny_models):
    model, tok = tiny_models["t5-base"]
    force = {2: tok.eos_token_id}.get
    steps = list(stream_steps(model, tok, encoder_input="Hello", max_new_tokens=10, force=force))
    assert len(steps) == 3 and steps[-1].token_id == tok.eos_token_id and steps[-1].finish_reason == "eos"
    assert steps[-1].text == "" or "</s>" not in steps[-1].text
    more = list(stream_steps(model, tok, encoder_input="Hello", max_new_tokens=10, force=force, eos=False))
    assert len(more) == 10 and more[2].token_id == tok.eos_token_id


def test_forced_tokens_branch_the_generation(tiny_models):
    model, tok = tiny_models["gpt2"]
    gen = Generation(model, tok, "Hello world,", max_new_tokens=4)
    first = gen.next(forced_id=tok.encode(" cat")[0])
    assert first.token_id == tok.encode(" cat")[0] and first.text == " cat"
    assert gen.state.cache_length == first.cache_length  # the chosen token is fed lazily...
    gen.feed()
    assert gen.state.cache_length == first.cache_length + 1  # ...or at once, for a widget's candidates
    assert gen.next().cache_length == first.cache_length + 1
    while not gen.done:
        gen.next()
    assert gen.text == tok.decode(gen.new_ids) and len(gen.new_ids) == 4
    with pytest.raises(RuntimeError, match="已经结束"):
        gen.next()


def test_closing_a_stream_early_leaves_nothing_behind(tiny_models):
    model, tok = tiny_models["gpt2"]
    pieces = stream(model, tok, "Hello world,", max_new_tokens=20)
    first = next(pieces)
    pieces.close()
    with pytest.raises(StopIteration):
        next(pieces)
    full = generate_text(model, tok, "Hello world,", max_new_tokens=20)
    assert full.startswith(first)


@pytest.mark.parametrize("arch", ["t5-base", "phi-1_5"])
def test_lesson_token_generator(tiny_models, arch):
    model, tok = tiny_models[arch]
    streamer = get_token_generator(model, tok, max_tokens=12)
    if model.config.is_encoder_decoder:
        text = "translate English to French: Hello World! How's it going?"
        pieces = list(streamer(encoder_input=text))
        assert pieces == list(streamer(encoder_input=text + "</s>"))  # the original wrote </s> by hand
        assert "".join(pieces) == generate_text(model, tok, encoder_input=text, max_new_tokens=12)
        prefixed = "".join(streamer(encoder_input=text, decoder_input="Bonjour"))
        assert prefixed == generate_text(model, tok, "Bonjour", encoder_input=text, max_new_tokens=12)
    else:
        prompt = "Translate from English to Spanish: The book is on the table.\n\nAnswer: "
        pieces = list(streamer(decoder_input=prompt))
        assert "".join(pieces) == generate_text(model, tok, prompt, max_new_tokens=12)
        pipeline_like = type("Pipe", (), {"model": model, "tokenizer": tok})()
        assert list(get_token_generator(pipeline_like, max_tokens=12)(decoder_input=prompt)) == pieces
        assert "\n" not in "".join(streamer(decoder_input=prompt, stop_strings="\n"))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(prompt=""), ValueError, "提示词是空的"),
    (dict(prompt="Hi", encoder_input="source"), ValueError, "仅解码器模型（没有编码器）"),
    (dict(prompt="Hi", max_new_tokens=0), ValueError, "max_new_tokens"),
    (dict(prompt="Hi", max_new_tokens=2.5), ValueError, "max_new_tokens"),
    (dict(prompt="Hi", temperature=0), ValueError, "temperature"),
    (dict(prompt="Hi", top_p=0.0), ValueError, "top_p"),
    (dict(prompt="Hi", top_p=1.5), ValueError, "top_p"),
    (dict(prompt="Hi", top_k=0), ValueError, "top_k"),
    (dict(prompt="Hi", stop_strings=["\n", 3]), TypeError, "stop_strings"),
    (dict(prompt="Hi", stop_strings=[""]), TypeError, "stop_strings"),
    (dict(prompt=b"Hi"), TypeError, "应是字符串"),
    (dict(prompt="word " * 100), ValueError, "上下文长度"),
    (dict(prompt="word " * 90, max_new_tokens=10), ValueError, "上下文长度"),
])
def test_bad_input_fails_at_once_with_a_clear_message(tiny_models, kwargs, error, match):
    model, tok = tiny_models["gpt2"]
    with pytest.raises(error, match=match):
        stream_steps(model, tok, **kwargs)  # no iteration needed: errors come before anything runs


def test_encoder_decoder_needs_encoder_input(tiny_models):
    model, tok = tiny_models["flan-t5-large"]
    with pytest.raises(ValueError, match="encoder_input"):
        stream(model, tok, "Bonjour")
    # T5 has no hard position limit, but the kit reads at most the tokenizer's model_max_length (512 here)
    # unless told otherwise: a source that is too long is refused before the encoder runs.
    with pytest.raises(ValueError, match="max_input_tokens"):
        stream_steps(model, tok, encoder_input="word " * 300, max_new_tokens=2)
    assert generate_text(model, tok, encoder_input="word " * 300, max_new_tokens=2, max_input_tokens=2000) is not None


def test_bos_prompt_starts_from_nothing(tiny_models):
    model, tok = tiny_models["gpt2"]
    steps = list(stream_steps(model, tok, tok.bos_token, max_new_tokens=3))
    assert steps[0].cache_length == 1


# the shipped stand-ins, by folder name -> lesson model id (from the registry, not a copy of it)
STANDINS = {spec.standin: hub_id for hub_id, spec in REGISTRY.items()}


@pytest.mark.parametrize("folder", list(STANDINS))
def test_standin_stream_matches_generate(folder, monkeypatch):
    from dli_seq import models

    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    model, tok = models.load(STANDINS[folder], device="cpu", quiet=True)
    kwargs, ids, skip = _inputs(model, tok)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        steps = list(stream_steps(model, tok, max_new_tokens=16, **kwargs))
    expected = model.generate(ids, do_sample=False, max_new_tokens=16)[0, skip:].tolist()
    assert [s.token_id for s in steps] == expected
    assert "".join(s.text for s in steps) == tok.decode(expected, skip_special_tokens=True)


# ---- options and inputs that used to slip through --------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(temperature=float("inf")), ValueError, "temperature"),
    (dict(temperature=float("nan")), ValueError, "temperature"),
    (dict(temperature=1e-300), ValueError, "temperature"),
    (dict(temperature=True), ValueError, "temperature"),
    (dict(top_p=True), ValueError, "top_p"),
    (dict(top_n=True), ValueError, "top_n"),
    (dict(do_sample="no"), TypeError, "do_sample"),
    (dict(seed="abc"), ValueError, "seed"),
    (dict(seed=1.5), ValueError, "seed"),
    (dict(seed=2**70), ValueError, "seed"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(prompt="Hi \ud800 there"), ValueError, "代理项"),
    (dict(max_input_tokens=0), ValueError, "max_input_tokens"),
])
def test_options_that_used_to_slip_through(tiny_models, kwargs, error, match):
    model, tok = tiny_models["gpt2"]
    kwargs = {"prompt": "Hi", **kwargs}
    with pytest.raises(error, match=match):
        stream_steps(model, tok, **kwargs)


def test_a_seed_up_to_64_bits_is_fine(tiny_models):
    model, tok = tiny_models["gpt2"]
    texts = [generate_text(model, tok, "Hi", do_sample=True, seed=2**64 - 1, max_new_tokens=4) for _ in range(2)]
    assert texts[0] == texts[1]


def test_lone_surrogate_in_the_encoder_input(tiny_models):
    model, tok = tiny_models["t5-base"]
    with pytest.raises(ValueError, match="代理项"):
        stream_steps(model, tok, encoder_input="Bonjour \udc80")


@pytest.mark.parametrize("model_arch, tokenizer_arch", [("gpt2", "t5-base"), ("t5-base", "gpt2"),
                                                        ("phi-1_5", "t5-base")])
def test_model_and_tokenizer_from_different_models(tiny_models, model_arch, tokenizer_arch):
    model, _ = tiny_models[model_arch]
    _, tok = tiny_models[tokenizer_arch]
    kwargs = dict(encoder_input="Hello") if model.config.is_encoder_decoder else {}
    with pytest.raises(ValueError, match="不是同一个模型"):
        generate_text(model, tok, "Hello", max_new_tokens=2, **kwargs)


def test_a_100k_character_source_is_refused_at_once(tiny_models):
    """Used to end in an OOM kill at 24 GB after 31 s; now an error before tokenizing it all."""
    model, tok = tiny_models["t5-base"]
    with pytest.raises(ValueError, match="max_input_tokens"):
        stream_steps(model, tok, encoder_input="translate English to French: " + "x" * 100_000)
    with pytest.raises(ValueError, match="max_input_tokens"):  # just over: counted in tokens
        stream_steps(model, tok, encoder_input="Hello World! " * 200)


def test_forced_token_must_be_an_integer(tiny_models):
    model, tok = tiny_models["gpt2"]
    gen = Generation(model, tok, "Hi", max_new_tokens=3)
    for bad in (1.5, True):
        with pytest.raises(TypeError, match="整数"):
            gen.next(bad)


# ---- byte-fallback tokenizers (Llama / Mistral style), built here without downloads -----------

@pytest.fixture(scope="module")
def byte_fallback_tokenizer():
    """A small BPE with byte fallback: <0x00>..<0xFF> pieces, Metaspace-like ▁, Llama's decoder chain."""
    import json

    from tokenizers import Tokenizer, models, normalizers, trainers
    from transformers import PreTrainedTokenizerFast

    # ASCII-only training text: accents, CJK and emoji can only be spelt with byte pieces
    corpus = ["Hello world, this is the end.", "the end and more text", "Le chat est noir.",
              "numbers 0123456789", "Say: yes! no? (maybe)"] * 20
    base = Tokenizer(models.BPE(unk_token="<unk>"))
    base.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    base.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=150, special_tokens=["<unk>", "<s>", "</s>"],
                                                         show_progress=False))
    spec = json.loads(base.to_str())
    trained = sorted(spec["model"]["vocab"], key=spec["model"]["vocab"].get)[3:]
    vocab = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + trained
    spec["model"].update(vocab={t: i for i, t in enumerate(vocab)}, byte_fallback=True, fuse_unk=True)
    spec["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)), bos_token="<s>",
                                        eos_token="</s>", unk_token="<unk>", clean_up_tokenization_spaces=False)
    assert "<0xE6>" in tokenizer.tokenize("日")  # really byte fallback: 日 is not in the vocabulary
    return tokenizer


def _byte(tokenizer, value: int) -> int:
    return tokenizer.convert_tokens_to_ids(f"<0x{value:02X}>")


def test_byte_fallback_invalid_group_then_text_does_not_crash(byte_fallback_tokenizer):
    """tokenizers' DecodeStream raised 'Invalid prefix encountered while decoding stream' here."""
    tok = byte_fallback_tokenizer
    ids = [_byte(tok, 0xC3)] + tok.encode(" the end", add_special_tokens=False)
    check_exact(tok, ids)
    ids = tok.encode("chat", add_special_tokens=False) + [_byte(tok, 0xE6), _byte(tok, 0x97)] \
        + tok.encode(" Hello", add_special_tokens=False)
    check_exact(tok, ids)


def test_byte_fallback_run_that_turns_invalid_later(byte_fallback_tokenizer):
    """A later byte can turn earlier, valid-looking bytes into U+FFFD: the run waits until it ends."""
    tok = byte_fallback_tokenizer
    ids = [_byte(tok, 0x79), _byte(tok, 0x05), _byte(tok, 0x87)] + tok.encode(" 8", add_special_tokens=False)
    assert tok.decode(ids).startswith("\ufffd\ufffd\ufffd")  # "y" is not in the final text
    pieces = pieces_for(tok, ids)
    assert not pieces[0] and "y" not in "".join(pieces)
    check_exact(tok, ids)


def test_byte_fallback_cjk_waits_for_the_whole_character(byte_fallback_tokenizer):
    tok = byte_fallback_tokenizer
    ids = tok.encode("the end 日本語", add_special_tokens=False)
    pieces = pieces_for(tok, ids)
    assert not any("\ufffd" in p for p in pieces)
    assert "".join(pieces) == "the end 日本語"


@pytest.mark.parametrize("use_decode_stream", [True, False], ids=["DecodeStream", "re-decode"])
@PROPERTY
@given(data=st.data())
def test_byte_fallback_pieces_join_to_decode_of_arbitrary_ids(byte_fallback_tokenizer, use_decode_stream, data):
    """Random ids (3,000 such sequences used to give 192 exceptions and 1,126 inexact texts)."""
    tok = byte_fallback_tokenizer
    ids = data.draw(st.lists(st.one_of(st.integers(0, len(tok) - 1), st.integers(3, 258)), max_size=30))
    prompt = data.draw(st.sampled_from([(), tuple(tok.encode("Le chat", add_special_tokens=False)), (1,)]))
    check_exact(tok, ids, prompt, use_decode_stream)


@PROPERTY
@given(text=MIXED)
def test_byte_fallback_pieces_join_for_encoded_text(byte_fallback_tokenizer, text):
    tok = byte_fallback_tokenizer
    ids = tok.encode(text, add_special_tokens=False)
    check_exact(tok, ids)
    if "\ufffd" not in tok.decode(ids, skip_special_tokens=True):
        assert not any("\ufffd" in p for p in pieces_for(tok, ids))


def test_if_decode_stream_raises_the_decoder_goes_on_by_re_decoding(byte_fallback_tokenizer, monkeypatch):
    """The safety net for any other tokenizer DecodeStream cannot follow: no exception reaches the learner."""
    import dli_seq.detok as detok

    tok = byte_fallback_tokenizer
    monkeypatch.setattr(detok, "byte_fallback_ids", lambda tokenizer: frozenset())  # force DecodeStream
    ids = [_byte(tok, 0x27), _byte(tok, 0xA3)] + tok.encode(" the end", add_special_tokens=False)  # "'", then invalid
    decoder = TextDecoder(tok)
    assert decoder._fast
    pieces = [decoder.add(i) for i in ids] + [decoder.flush()]
    assert not decoder._fast  # it switched
    assert "".join(pieces).endswith("the end")


# ---- stop strings found as soon as the decoded text holds them --------------------------------

def _forced_stop(model, tok, target_ids, stop, prompt="Say:"):
    steps = list(stream_steps(model, tok, prompt, max_new_tokens=len(target_ids), stop_strings=stop,
                              force=lambda i: target_ids[i]))
    return steps


def test_stop_string_before_an_incomplete_character_stops_at_once(tiny_models):
    """"the end 日本語" with stop "end ": GPT-2's " 日" starts with an incomplete byte; stop at token 3, not 5."""
    model, tok = tiny_models["gpt2"]
    target = tok.encode(" the end 日本語")
    first = next(k for k in range(1, len(target) + 1) if "end " in tok.decode(target[:k]).rstrip("\ufffd"))
    assert tok.decode(target[:first]).endswith("\ufffd") and first < len(target)  # 日 still incomplete then
    steps = _forced_stop(model, tok, target, "end ")
    assert len(steps) == first
    assert steps[-1].finish_reason == "stop_string"
    assert "".join(s.text for s in steps) == " the "


def test_stop_string_inside_a_byte_fallback_run(tiny_models, byte_fallback_tokenizer):
    tok = byte_fallback_tokenizer
    model, _ = tiny_models["gpt2"]  # any decoder-only model whose vocabulary covers the tokenizer's
    model_eos = model.generation_config.eos_token_id
    try:
        model.generation_config.eos_token_id = tok.eos_token_id
        target = tok.encode("the end 日本語", add_special_tokens=False)
        steps = _forced_stop(model, tok, target, "日", prompt="Say")
        assert steps[-1].finish_reason == "stop_string"
        assert "".join(s.text for s in steps) == " the end "  # after the prompt "Say": the space is kept
        assert len(steps) == target.index(_byte(tok, 0xA5)) + 1  # the byte that completes 日, not later
    finally:
        model.generation_config.eos_token_id = model_eos


def test_special_token_stop_string_is_refused_with_the_opt_in(tiny_models, gpt2_tokenizer):
    """"<|im_end|>" as a stop string never matched (special tokens are skipped); stop_tokens is the opt-in."""
    import copy

    model, _ = tiny_models["phi-1_5"]  # vocabulary of 51,200 rows: room for an added token
    tok = copy.deepcopy(gpt2_tokenizer)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_end|>"]})
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    with pytest.raises(ValueError, match=r"stop_tokens=\['<\|im_end\|>'\]"):
        stream_steps(model, tok, "Hi", stop_strings=["<|im_end|>"])
    for stop_tokens in (["<|im_end|>"], [im_end], "<|im_end|>"):
        steps = list(stream_steps(model, tok, "Hi", max_new_tokens=6, stop_tokens=stop_tokens,
                                  force=lambda i: [tok.encode(" yes")[0], im_end, 11][i]))
        assert [s.token_id for s in steps] == [tok.encode(" yes")[0], im_end]
        assert steps[-1].finish_reason == "eos" and steps[-1].text == ""
    with pytest.raises(ValueError, match="stop_tokens"):
        stream_steps(model, tok, "Hi", stop_tokens=["<|not_a_token|>"])
