"""The one error a learner sees when a lesson model cannot be loaded or placed (4.1-4.5)."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """A lesson model could not be loaded; the message says what to do (in Chinese)."""
