"""The classroom on JupyterHub (``make workshop``): what runs for a workshop besides the lessons.

One server, many learners, each a real Unix user with their own JupyterLab and copy of the course.
The hub's configuration is ``workshop/jupyterhub_config.py`` at the repository root; these modules are
the pieces it starts or calls. The instructor's guide is README.md, "Running a workshop".

* :mod:`.progress_table`  the class table: learners' verdicts -> rows x exercises (✓ ✗ ·), who is stuck longest
* :mod:`.progress_page`   the admin-only page ``/services/progress/``, a managed service of the hub
                          (``python -m dli_seq.workshop.progress_page``); the verdicts it reads are
                          written by every exercise check (:mod:`dli_seq.exercises.progress`)
"""
