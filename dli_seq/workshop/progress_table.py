"""The class table of the workshop's progress page: learners' verdicts -> rows, then a Chinese HTML page.

Pure functions, no hub and no files (:mod:`.progress_page` fetches the learners and reads their
files): :func:`class_table` turns each learner's verdicts (:func:`dli_seq.exercises.progress.read`)
into rows with one cell per exercise in lesson order, ✓ (passed at least once), ✗ (tried, not
passed yet) or · (not tried), the counts per column, and who has been stuck longest;
:func:`render_html` writes it as a self-contained page that reloads itself every 30 seconds.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

PASSED, FAILED, NOT_TRIED = "✓", "✗", "·"
REFRESH_S = 30


def exercise_label(exercise) -> str:
    """``"4.2 练习 2"``: a column's short heading on the progress page (the full title is its tooltip)."""
    return f"{exercise.section} 练习 {exercise.number}"


def duration_text(seconds: float) -> str:
    """A duration in Chinese for the page: ``"不到 1 分钟"``, ``"25 分钟"``, ``"2 小时 5 分钟"``, ``"3 天 4 小时"``."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return "不到 1 分钟"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟"


def class_table(records: dict[str, list[dict]], exercises: list, now: datetime | None = None,
                notes: dict[str, str] | None = None) -> dict:
    """Rows, columns and "stuck longest" for the progress page (workshop; pure, tested without a hub).

    ``records`` maps each learner to their verdicts (dicts with ``exercise``, ``passed`` and an
    aware ``time``, as :func:`dli_seq.exercises.progress.read` returns them); ``exercises`` are
    the columns in lesson order (:func:`dli_seq.exercises.lesson_exercises`). Verdicts of other
    exercise ids are left out. ``notes`` (learner -> a Chinese remark, e.g. an unreadable file)
    go on the rows. Returns a dict that is also the page's JSON (times as ISO strings).
    """
    now = now or datetime.now(timezone.utc)
    notes = notes or {}
    ids = [e.id for e in exercises]
    columns = [{"id": e.id, "section": e.section, "number": e.number, "title": e.title,
                "label": exercise_label(e), "passed": 0, "not_passed": 0, "not_tried": 0} for e in exercises]
    by_id = {c["id"]: c for c in columns}
    rows, stuck = [], []
    for learner in sorted(set(records) | set(notes)):
        passed, failures = set(), {}  # failures: id -> (first failed time, number of failed attempts)
        for entry in records.get(learner, ()):
            exercise = entry.get("exercise")
            if exercise not in by_id:
                continue
            if entry["passed"]:
                passed.add(exercise)
            else:
                first, count = failures.get(exercise, (entry["time"], 0))
                failures[exercise] = (min(first, entry["time"]), count + 1)
        cells = []
        for exercise_id in ids:
            cell = PASSED if exercise_id in passed else FAILED if exercise_id in failures else NOT_TRIED
            by_id[exercise_id][{PASSED: "passed", FAILED: "not_passed", NOT_TRIED: "not_tried"}[cell]] += 1
            cells.append(cell)
        rows.append({"learner": learner, "cells": cells, "passed": len(passed), "note": notes.get(learner, "")})
        open_failures = sorted((first, exercise_id, count) for exercise_id, (first, count) in failures.items()
                               if exercise_id not in passed)
        if open_failures:
            first, exercise_id, count = open_failures[0]  # the longest-standing one
            column = by_id[exercise_id]
            stuck.append({"learner": learner, "exercise": exercise_id, "label": column["label"],
                          "title": column["title"], "since": first.isoformat(),
                          "seconds": max(0, int((now - first).total_seconds())), "attempts": count,
                          "other_exercises": len(open_failures) - 1})
    stuck.sort(key=lambda s: (-s["seconds"], s["learner"]))
    return {"generated": now.isoformat(timespec="seconds"), "columns": columns, "rows": rows, "stuck": stuck}


STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: center; }
th.learner, td.learner { text-align: left; }
td.pass { color: #1a7f37; font-weight: bold; } td.fail { color: #c62828; font-weight: bold; } td.none { color: #999; }
tr.counts td { background: #f5f5f5; font-size: 0.9em; }
.note { color: #8a5a00; font-size: 0.9em; text-align: left; }
.muted { color: #666; font-size: 0.9em; }
"""


def render_html(table: dict, json_url: str = "?format=json") -> str:
    """The progress page (workshop; Simplified Chinese, no script, no CDN, reloads every 30 s)."""
    esc = html.escape
    klass = {PASSED: "pass", FAILED: "fail", NOT_TRIED: "none"}
    head = "".join(f'<th title="{esc(c["title"])}">{esc(c["label"])}</th>' for c in table["columns"])
    body = []
    for row in table["rows"]:
        cells = "".join(f'<td class="{klass[cell]}">{cell}</td>' for cell in row["cells"])
        body.append(f'<tr><td class="learner">{esc(row["learner"])}</td>{cells}'
                    f'<td>{row["passed"]}</td><td class="note">{esc(row["note"])}</td></tr>')
    counts = "".join(f'<td title="通过 / 试过没通过 / 没试">{c["passed"]} / {c["not_passed"]} / {c["not_tried"]}</td>'
                     for c in table["columns"])
    stuck = "".join(
        f'<li><b>{esc(s["learner"])}</b>：{esc(s["label"])}（{esc(s["title"])}），第一次没通过是 '
        f'{duration_text(s["seconds"])}前，已经试了 {s["attempts"]} 次'
        + (f'；另有 {s["other_exercises"]} 个练习也还没通过' if s["other_exercises"] else "") + "</li>"
        for s in table["stuck"])
    legend = "".join(f'<li><b>{esc(c["label"])}</b>：{esc(c["title"])}</li>' for c in table["columns"])
    empty = "" if table["rows"] else "<p>还没有学员。</p>"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_S}">
<title>班级练习进度</title><style>{STYLE}</style></head>
<body>
<h1>班级练习进度</h1>
<p class="muted">共 {len(table["rows"])} 名学员；生成于 {esc(table["generated"])}（UTC），每 {REFRESH_S} 秒自动刷新。
{PASSED} 至少通过一次，{FAILED} 试过但还没通过，{NOT_TRIED} 还没试过。<a href="{esc(json_url)}">JSON 格式</a></p>
{empty}<table>
<thead><tr><th class="learner">学员</th>{head}<th>通过数</th><th>备注</th></tr></thead>
<tbody>
<tr class="counts"><td class="learner">通过 / 未通过 / 没试</td>{counts}<td></td><td></td></tr>
{"".join(body)}
</tbody></table>
<h2>卡得最久</h2>
{f"<ol>{stuck}</ol>" if stuck else "<p>目前没有学员卡在某个练习上。</p>"}
<h2>练习列表</h2>
<ul>{legend}</ul>
</body></html>
"""
