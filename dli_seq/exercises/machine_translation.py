"""Exercise checks of section 4.1 (notebook 04-1, machine translation): chunk alignment of a
Japanese sentence (exercise 1, :func:`check_alignment`) and one more language in the
token-count table (exercise 2, :func:`check_languages`)."""

from __future__ import annotations

import re

from .harness import Outcome, Problem, call_learner, check, short

SECTION = "4.1"  # the section of these checks: with a check's name, its id in the progress file

ALIGNMENT_JAPANESE = "彼は昨日新しい本を買いませんでした"
ALIGNMENT_ENGLISH = "He did not buy a new book yesterday"
# English sentences the chunks may be put in (contractions spelt out, punctuation and case ignored).
ACCEPTED_ENGLISH = ("he did not buy a new book yesterday", "yesterday he did not buy a new book")

# The answer key, one entry per smallest Japanese piece in sentence order: (Japanese, English
# content words, what it means in Chinese). A learner's chunk is one or more consecutive pieces;
# its English must hold exactly their content words (articles, case, order and contractions aside).
MEANING_KEY = (
    ("彼は", ("he",), "他（主语）"),
    ("昨日", ("yesterday",), "昨天"),
    ("新しい", ("new",), "新的"),
    ("本を", ("book",), "书（宾语）"),
    ("買い", ("buy",), "买"),
    ("ませんでした", ("did", "not"), "过去没有……（否定和过去时）"),
)
ARTICLES = frozenset({"a", "an", "the"})


def english_words(text: str) -> list[str]:
    """Lower-case English words of ``text`` with contractions spelt out ("didn't" -> "did not") (4.1)."""
    text = re.sub(r"n['’]t\b", " not", text.casefold())
    return re.findall(r"[a-z]+", text)


def content_words(text: str) -> list[str]:
    """:func:`english_words` without articles, sorted: what a chunk's English means, order aside (4.1)."""
    return sorted(w for w in english_words(text) if w not in ARTICLES)


def key_pieces(japanese: str, start: int) -> int:
    """Index after the answer-key pieces that spell ``japanese`` from piece ``start`` on, or -1 (4.1)."""
    spelt, end = "", start
    while end < len(MEANING_KEY) and len(spelt) < len(japanese):
        spelt += MEANING_KEY[end][0]
        end += 1
    return end if spelt == japanese else -1


def meaning_mistakes(chunks) -> list[str]:
    """One Chinese line per chunk whose English does not mean its Japanese (4.1 exercise 1).

    ``chunks`` already join to the sentence; a chunk that cuts a piece of :data:`MEANING_KEY`
    in two is a :class:`Problem`.
    """
    mistakes, start = [], 0
    for japanese, english, _ in chunks:
        japanese = japanese.replace(" ", "").rstrip("。")
        end = key_pieces(japanese, start)
        if end < 0:
            raise Problem(f"「{japanese}」把一个意义单位切开了：在 彼は / 昨日 / 新しい / 本を / 買い / ませんでした "
                          "这些边界上切分（相邻的可以合成一块，例如 新しい本を）。")
        pieces = MEANING_KEY[start:end]
        if content_words(english) != sorted(w for piece in pieces for w in piece[1]):
            meaning = "".join(piece[2] for piece in pieces)
            mistakes.append(f"「{japanese}」的意思是“{meaning}”，你写的英语是 {english!r}：每块的英语要译出这一块日语。")
        start = end
    return mistakes


@check("练习 1 检查：意义块对齐",
       success="对齐正确。否定和过去时都在日语的最后一块里，英语却紧跟在主语后面就要写出来。")
def check_alignment(outcome: Outcome, chunks, english_order) -> None:
    """Exercise 1 (4.1): ``chunks`` = [(Japanese chunk, English, role), ...] in Japanese order,
    ``english_order`` = the English parts in English order, for 「彼は昨日新しい本を買いませんでした。」.

    Passes when the chunks join to the Japanese sentence, each chunk's English means its
    Japanese (:data:`MEANING_KEY`), the English order uses every English part exactly once
    (spelt the same way) and reads *He did not buy a new book yesterday* (or with *yesterday*
    in front, contractions allowed); then prints the source positions and the number of crossings.
    """
    if not chunks or not english_order:
        raise Problem("my_chunks 或 my_english_order 还是空的：按注释里的格式填写，再运行。")
    if not isinstance(chunks, (list, tuple)) or not isinstance(english_order, (list, tuple)):
        raise Problem("my_chunks 和 my_english_order 都应该是列表（用 [ ] 括起来）。")
    for i, chunk in enumerate(chunks):
        if not (isinstance(chunk, (tuple, list)) and len(chunk) == 3 and all(isinstance(x, str) for x in chunk)):
            raise Problem(f"my_chunks 的第 {i + 1} 项应该是 (日语块, 英语, 角色) 三个字符串，现在是 {short(chunk)}。")
    if not all(isinstance(word, str) for word in english_order):
        raise Problem("my_english_order 里的每一项都应该是字符串（英语部分）。")
    joined = "".join(c[0] for c in chunks).replace(" ", "").rstrip("。")
    if joined != ALIGNMENT_JAPANESE:
        if sorted(joined) == sorted(ALIGNMENT_JAPANESE):
            raise Problem("日语块的顺序不对：my_chunks 要按日语原句的顺序排列（彼は 在最前，買いませんでした 在最后）。")
        raise Problem(f"日语块连起来是「{joined}」，应该正好是原句「{ALIGNMENT_JAPANESE}」：检查有没有漏字或多字。")
    outcome.ok("日语块按原句顺序排列，连起来正好是原句。")
    mistakes = meaning_mistakes(chunks)
    for line in mistakes:
        outcome.fail(line)
    if mistakes:
        return
    parts = [c[1] for c in chunks]
    for word in english_order:
        if word not in parts:
            raise Problem(f"my_english_order 里的 {word!r} 在 my_chunks 的英语部分里找不到：两边要写得一模一样"
                          f"（my_chunks 里有 {parts}）。")
    for part in parts:
        if english_order.count(part) != 1:
            how = "没有出现在" if part not in english_order else "出现了不止一次，在"
            raise Problem(f"英语部分 {part!r} {how} my_english_order 里：每个块要用到，而且只用一次。")
    if " ".join(english_words(" ".join(english_order))) not in ACCEPTED_ENGLISH:
        raise Problem(f"按 my_english_order 连起来是 {' '.join(english_order)!r}，应该读作 {ALIGNMENT_ENGLISH!r}"
                      "（时间词也可以放在句首）：英语顺序是主语、动词（含否定）、宾语，时间词放在句末或句首。")
    outcome.ok(f"英语顺序读作 {' '.join(english_order)!r}。")
    where = {part: i for i, part in enumerate(parts)}
    positions = [where[word] for word in english_order]
    crossings = sum(1 for i in range(len(positions)) for j in range(i + 1, len(positions))
                    if positions[i] > positions[j])
    outcome.info(f"英语顺序中各块在日语里的位置：{positions}，交叉数：{crossings}")


# ---------------------------------------------------------------------------------------------
# Exercise 2: one more language in the token-count table
# ---------------------------------------------------------------------------------------------

LESSON_LANGUAGES = ("English", "French", "German", "Japanese", "Chinese")


@check("练习 2 检查：加入另一种语言",
       success="现在回答练习里的问题：token 数的差别对速度和可处理的文本长度有什么影响？")
def check_languages(outcome: Outcome, same_meaning, gpt2_tokenizer, t5_tokenizer) -> None:
    """Exercise 2 (4.1): ``same_meaning`` has at least one sentence beyond the lesson's five.

    Prints characters, GPT-2 tokens, T5 tokens and T5 ``<unk>`` tokens for the new entries,
    so the learner can answer the exercise's question from numbers of the tokenizers loaded.
    """
    if not isinstance(same_meaning, dict):
        raise Problem("same_meaning 应该是字典 {语言: 句子}。")
    new = {k: v for k, v in same_meaning.items() if k not in LESSON_LANGUAGES}
    if not new:
        raise Problem("same_meaning 里还没有新的一项：加一种语言，例如 "
                      "same_meaning[\"Korean\"] = \"나는 매일 아침 커피를 마십니다.\"，再运行这个单元格。")
    for language, text in new.items():
        if not isinstance(text, str) or not text.strip():
            raise Problem(f"{language!r} 对应的句子是空的：写一句意思相同的话。")
        n_gpt2 = len(call_learner(gpt2_tokenizer, text).input_ids)
        t5_ids = call_learner(t5_tokenizer, text, add_special_tokens=False).input_ids
        n_unk = t5_ids.count(t5_tokenizer.unk_token_id)
        outcome.ok(f"{language}：{len(text)} 个字符，GPT-2 {n_gpt2} 个 token，T5 {len(t5_ids)} 个 token"
                   f"（其中 <unk> {n_unk} 个）")
        if n_unk:
            outcome.info("T5 的词表里没有这些字符：<unk> 越多，它越“看不见”这句话。")


