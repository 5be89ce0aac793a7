"""``make course``: run the course notebooks (4.1-4.5 and solutions) headless and write pages to hand out.

:mod:`~dli_seq.course.runner` finds and runs the notebooks, :mod:`~dli_seq.course.summary` says how each went,
:mod:`~dli_seq.course.page` turns an executed notebook into a static page that reads without network,
:mod:`~dli_seq.course.processes` stops a run cleanly on Ctrl-C or SIGTERM.
"""

from .page import embed_local_images, export_html, markdown_math_to_mathml, merge_streams, widget_html
from .runner import (DEFAULT_PATTERNS, check_out_dir, default_jobs, find_notebooks, kernel_env, main, output_stem,
                     overwrite_problem, probe_models, run_notebook)
from .summary import NotebookResult, format_summary

__all__ = ["DEFAULT_PATTERNS", "NotebookResult", "check_out_dir", "default_jobs", "embed_local_images",
           "export_html", "find_notebooks", "format_summary", "kernel_env", "main", "markdown_math_to_mathml",
           "merge_streams", "output_stem", "overwrite_problem", "probe_models", "run_notebook", "widget_html"]
