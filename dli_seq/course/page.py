"""The static HTML page of one executed course notebook (4.1-4.5), readable without network.

Figures and images are embedded, formulas are MathML (converted at build time, no MathJax),
widgets show a static snapshot of their state at the end of the run, and consecutive stream
outputs are merged. The first line of the page names each model the run used and where it came
from (``models.source_of``: local-folder, hub-cache, hub or stand-in).
"""

from __future__ import annotations

import base64
import copy
import html
import re
from pathlib import Path

from ..messages import STANDIN_NOTE

# The "lab" template, minus every <script> it would fetch from a CDN (require.js, MathJax,
# mermaid, the widget manager): formulas are MathML and widgets static HTML by then.
_HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def merge_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same name as one (text never splits mid-word) (4.1-4.5)."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == output.get("name")):
            last["text"] = joined_text(last.get("text", "")) + joined_text(output.get("text", ""))
        else:
            merged.append(output)
    return merged


def joined_text(text) -> str:
    """A notebook text field (a string or a list of lines) as one string (4.1-4.5 pages)."""
    return "".join(text) if isinstance(text, list) else str(text)



_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)(?<![\\$])\$(?!\$)")


def markdown_math_to_mathml(source: str) -> str:
    """Markdown with its ``$...$`` / ``$$...$$`` formulas as MathML, code left alone (4.1-4.5 pages).

    Browsers draw MathML themselves, so the course pages need neither MathJax nor network.
    A formula the converter cannot read stays as it was.
    """
    from latex2mathml.converter import convert

    def to_mathml(match, display: str) -> str:
        try:
            mathml = convert(match.group(1).strip(), display=display)
        except Exception:  # noqa: BLE001 - keep the TeX, readable as it is
            return match.group(0)
        return mathml.replace("\n", " ")

    parts = _CODE.split(source)
    for i in range(0, len(parts), 2):  # even parts are prose, odd ones code
        text = _DISPLAY_MATH.sub(lambda m: to_mathml(m, "block"), parts[i])
        parts[i] = _INLINE_MATH.sub(lambda m: to_mathml(m, "inline"), text)
    return "".join(parts)


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_HTML_IMAGE = re.compile(r"""(<img\b[^>]*?\bsrc=)(["'])([^"']+)\2""")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                ".svg": "image/svg+xml"}


def embed_local_images(source: str, folder: Path) -> str:
    """Markdown with its local images (``![alt](../imgs/x.png)``, ``<img src=...>``) as data URIs (4.1-4.5 pages).

    Paths are relative to the notebook's ``folder``; web addresses and missing files stay as they are.
    """
    def data_uri(src: str) -> str | None:
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I):  # http:, data:, attachment: ...
            return None
        path = (folder / src).resolve()
        kind = _IMAGE_TYPES.get(path.suffix.lower())
        if kind is None or not path.is_file():
            return None
        return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    def markdown_image(m) -> str:
        uri = data_uri(m.group(2))
        return m.group(0) if uri is None else f'<img src="{uri}" alt="{html.escape(m.group(1), quote=True)}"/>'

    def html_image(m) -> str:
        uri = data_uri(m.group(3))
        return m.group(0) if uri is None else f"{m.group(1)}{m.group(2)}{uri}{m.group(2)}"

    parts = _CODE.split(source)
    for i in range(0, len(parts), 2):
        parts[i] = _HTML_IMAGE.sub(html_image, _MD_IMAGE.sub(markdown_image, parts[i]))
    return "".join(parts)


_BOXES = {"VBoxModel": "column", "HBoxModel": "row", "BoxModel": "row", "GridBoxModel": "row"}
_VALUES = {"FloatSliderModel", "IntSliderModel", "BoundedIntTextModel", "BoundedFloatTextModel", "IntTextModel",
           "FloatTextModel", "FloatProgressModel", "IntProgressModel"}


def widget_html(model_id: str, state: dict) -> str:
    """A widget's view at the end of the run as static HTML, from nbclient's widget state (4.2-4.4 pages).

    Boxes become flex rows and columns, HTML widgets keep their HTML, buttons and inputs show
    their label and value (disabled), Output widgets their outputs; hidden children are left out.
    """
    entry = state.get(model_id.removeprefix("IPY_MODEL_"))
    if entry is None:
        return ""
    name, st = entry.get("model_name", ""), entry.get("state", {})
    layout = state.get(str(st.get("layout", "")).removeprefix("IPY_MODEL_"), {}).get("state", {})
    if layout.get("display") == "none" or layout.get("visibility") == "hidden":
        return ""
    desc = html.escape(str(st.get("description", "")))
    label = f"<span style='margin-right:6px'>{desc}</span>" if desc else ""
    value = st.get("value")
    if name in _BOXES:
        children = "".join(widget_html(child, state) for child in st.get("children", []))
        return (f"<div style='display:flex;flex-direction:{_BOXES[name]};flex-wrap:wrap;gap:4px 12px;"
                f"align-items:flex-start'>{children}</div>")
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{label}{value or ''}</div>"
    if name == "LabelModel":
        return f"<div>{html.escape(str(value or ''))}</div>"
    if name == "ButtonModel":
        return f"<button disabled style='padding:2px 8px'>{desc}</button>"
    if name == "TextareaModel":
        return (f"<label style='display:block'>{label}<textarea readonly rows='2' style='width:90%'>"
                f"{html.escape(str(value or ''))}</textarea></label>")
    if name == "TextModel":
        return (f"<label style='display:block'>{label}<input readonly style='width:60%' "
                f"value='{html.escape(str(value or ''), quote=True)}'></label>")
    if name == "CheckboxModel":
        checked = " checked" if value else ""
        return f"<label><input type='checkbox' disabled{checked}> {desc}</label>"
    if name in ("DropdownModel", "SelectModel", "ToggleButtonsModel", "RadioButtonsModel"):
        labels, index = st.get("_options_labels", []), st.get("index")
        chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
        return f"<div>{label}<b>{html.escape(str(chosen))}</b></div>"
    if name in _VALUES:
        return f"<div>{label}<b>{html.escape(str(value))}</b></div>"
    if name == "OutputModel":
        return "".join(_output_html(out) for out in st.get("outputs", []))
    return f"<div><i>[{html.escape(name.removesuffix('Model'))}]</i></div>"


def _output_html(output: dict) -> str:
    """One output kept inside an Output widget, as HTML (images embedded)."""
    if output.get("output_type") == "stream":
        return f"<pre>{html.escape(joined_text(output.get('text', '')))}</pre>"
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return f"<img src='data:{mime};base64,{joined_text(data[mime]).strip()}' style='max-width:100%'>"
    if "image/svg+xml" in data:
        return joined_text(data["image/svg+xml"])
    if "text/html" in data:
        return joined_text(data["text/html"])
    if "text/plain" in data:
        return f"<pre>{html.escape(joined_text(data['text/plain']))}</pre>"
    return ""


_SNAPSHOT_NOTE = "交互控件的静态快照（运行结束时的样子）：在 JupyterLab 里运行 notebook 才能操作。"


def _static_page(nb, models: list[str], notebook_dir: Path = Path(".")):
    """A copy of an executed notebook made for the HTML page: streams merged, math as MathML,
    widgets as static snapshots, and a first line naming the models the run used."""
    import nbformat

    page = copy.deepcopy(nb)
    state = page.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in page.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_math_to_mathml(embed_local_images(cell.source, notebook_dir))
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                snapshot = widget_html(view.get("model_id", ""), state) or "<i>（控件没有可显示的内容）</i>"
                output["data"] = {"text/html": (
                    f"<div class='dli-widget-snapshot' style='border:1px dashed #aaa;padding:6px'>"
                    f"<div style='color:#666;font-size:85%;margin-bottom:4px'>{_SNAPSHOT_NOTE}</div>{snapshot}</div>")}
    if models:
        shown = "；".join(f"`{name}`：{SOURCE_ZH.get(source, source)}"
                         for name, source in (m.rsplit(": ", 1) if ": " in m else (m, "other") for m in models))
        page.cells.insert(0, nbformat.v4.new_markdown_cell(f"> **本页运行所用的模型：** {shown}"))
    return page


# models.source_of's vocabulary, as the top line of a page says it.
SOURCE_ZH = {"stand-in": STANDIN_NOTE, "local-folder": "本地模型文件夹（DLI_SEQ_MODEL_DIR）",
             "hub-cache": "本机的 Hugging Face 缓存", "hub": "从 Hugging Face Hub 下载",
             "other": "不是由 dli_seq.models.load 加载的"}


def export_html(nb, path: Path, notebook_dir: Path, models: list[str] | None = None) -> None:
    """Write one executed course notebook (4.1-4.5) as a static page that reads without network.

    nbconvert's "lab" template with images embedded, no script from a CDN, formulas as MathML,
    widgets as static snapshots (see :func:`widget_html`) and merged stream outputs.
    """
    import jinja2
    from nbconvert import HTMLExporter

    page = _static_page(nb, models or [], notebook_dir)
    exporter = HTMLExporter(
        template_name="lab",
        embed_images=False,  # embed_local_images() did it, also for <img> tags
        extra_loaders=[jinja2.DictLoader({"dli_seq_course.html.j2": _HTML_TEMPLATE})],
        template_file="dli_seq_course.html.j2",
    )
    resources = {"metadata": {"name": path.stem, "path": str(notebook_dir)}}
    body, _ = exporter.from_notebook_node(page, resources=resources)
    path.write_text(body, encoding="utf-8")

