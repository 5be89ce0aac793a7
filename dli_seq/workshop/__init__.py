"""The classroom on JupyterHub (``make workshop``): what runs for a workshop besides the lessons.

One server, many learners, each a real Unix user with their own JupyterLab and copy of the course.
The hub's configuration is ``workshop/jupyterhub_config.py`` at the repository root; these modules are
the pieces it starts or calls. The instructor's guide is README.md, "Running a workshop".
"""
