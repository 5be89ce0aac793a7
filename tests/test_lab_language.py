"""JupyterLab speaks Simplified Chinese by default, and the notebooks name its menus as it shows them.

`make lab` installs JupyterLab's official language pack (jupyterlab-language-pack-zh-CN, pinned
like every dependency) and copies tools/jupyterlab-overrides.json, which sets the default locale
to zh_CN (a learner can switch back in 设置 → 语言 / Settings → Language). Every menu path a
notebook quotes in bold (``**内核 → 关闭内核**``) must be what the installed pack shows: the
Chinese names are read from the pack's own translations, never typed into this test.
tests/test_learner_path.py checks the menu bar in a real browser.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACK = "jupyterlab-language-pack-zh-CN"
OVERRIDES = ROOT / "tools" / "jupyterlab-overrides.json"
# The menu paths the course points learners at (English as JupyterLab's menus define them).
MENU_PATHS = [("Kernel", "Shut Down Kernel"), ("Kernel", "Interrupt Kernel"), ("Kernel", "Restart Kernel…"),
              ("Run", "Run All Cells"), ("Settings", "Language")]
TOP_MENUS = ("File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help")
# "**内核 → 关闭内核**": a bold menu path written in Chinese (an English one in parentheses is a hint).
BOLD_MENU_PATH = re.compile(r"\*\*([\u4e00-\u9fff]{1,6}) → ([^*\n→，。“”]{1,16})\*\*")


@lru_cache(maxsize=1)
def translations() -> dict[str, str]:
    """The installed zh_CN pack's JupyterLab catalogue: {msgid (with its context), first translation}."""
    try:
        files = metadata.files(PACK) or []
    except metadata.PackageNotFoundError:
        pytest.fail(f"{PACK} is not installed: run `make install` (it is pinned in requirements/constraints.txt)")
    catalogue = next(f for f in files if f.as_posix().endswith("zh_CN/LC_MESSAGES/jupyterlab.json"))
    data = json.loads(Path(catalogue.locate()).read_text(encoding="utf-8"))
    return {key: value[0] for key, value in data.items() if key and isinstance(value, list) and value}


def menu_label(english: str) -> str:
    """A main-menu title (File, Run, Kernel, ...) as the pack shows it."""
    table = translations()
    return table.get(f"menu\x04{english}") or table[english]


def item_label(english: str) -> str:
    """A menu item (Shut Down Kernel, Run All Cells, Language, ...) as the pack shows it."""
    table = translations()
    return table.get(english) or table[f"menu\x04{english}"]


def chinese_menu_paths() -> dict[str, str]:
    """{"内核 → 关闭内核": "Kernel → Shut Down Kernel", ...} for the paths the course may quote."""
    return {f"{menu_label(menu)} → {item_label(item)}": f"{menu} → {item}" for menu, item in MENU_PATHS}


def test_the_pack_translates_the_menus_the_course_names():
    labels = [menu_label(m) for m in TOP_MENUS]
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels), labels
    paths = chinese_menu_paths()
    assert len(paths) == len(MENU_PATHS) and all(re.search(r"[\u4e00-\u9fff]", p) for p in paths)


def test_lab_defaults_to_chinese():
    overrides = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json" in makefile
    assert re.search(r"^\$\(STAMP\):.*tools/jupyterlab-overrides\.json", makefile, re.M)


def _notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def quoted_menu_paths(text: str) -> list[str]:
    """Every bold Chinese menu path in a markdown text, as "菜单 → 菜单项"."""
    return [f"{a.strip()} → {b.strip()}" for a, b in BOLD_MENU_PATH.findall(text)]


def test_quoted_menu_paths_are_found():
    text = ("选择 **内核 → 关闭内核**（英文界面是 Kernel → Shut Down Kernel），或 **运行 → 运行全部**。**注意：** x"
            "**编码器做“前文 → 下一个 token”的映射，反复调用**")
    assert quoted_menu_paths(text) == ["内核 → 关闭内核", "运行 → 运行全部"]


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebooks_name_menus_as_the_language_pack_shows_them(path):
    known = chinese_menu_paths()
    nb = nbformat.read(path, as_version=4)
    quoted = [(i, p) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" for p in quoted_menu_paths(c.source)]
    wrong = [(i, p) for i, p in quoted if p not in known]
    assert not wrong, f"{path.name}: menu paths {wrong} are not what JupyterLab shows; use one of {sorted(known)}"
    english = [(i, m) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
               for m in re.findall(r"\*\*(?:Kernel|Run|File|Edit|View|Settings) → [^*]+\*\*", c.source)]
    assert not english, f"{path.name}: {english}: name the Chinese menu in bold, the English one in parentheses"


def test_every_lesson_quotes_the_shut_down_path():
    shut_down = f"{menu_label('Kernel')} → {item_label('Shut Down Kernel')}"
    lessons = sorted((ROOT / "notebooks").glob("04-*.ipynb"))
    assert lessons
    for path in lessons:
        last = nbformat.read(path, as_version=4).cells[-1]
        assert shut_down in quoted_menu_paths(last.source), f"{path.name}: the last cell should name **{shut_down}**"
