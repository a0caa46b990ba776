"""Progress bars in terminals and Jupyter notebooks.

A run or a sweep shows its bar by default where someone watches: in a terminal (standard
error is a TTY) and in a Jupyter notebook (an IPython kernel, whose standard error is no
TTY). In a notebook the bar is a widget when ``ipywidgets`` is installed (``pip install
'continuum-metastasis[notebook]'``) and plain text otherwise, without the "IProgress not
found" warning ``tqdm.auto`` prints then; in a terminal it is plain text.
"""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython's ``IPKernelApp``)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def show_progress(progress: bool | None) -> bool:
    """Whether to show a bar: ``progress`` when given, else in a terminal or a notebook."""
    if progress is None:
        return sys.stderr.isatty() or in_notebook()
    return bool(progress)


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def progress_bar(**options):
    """A tqdm bar (``options`` as ``tqdm.tqdm`` takes them): the notebook widget in a
    Jupyter kernel with ``ipywidgets``, else the text bar on standard error."""
    if in_notebook() and _has_widgets():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(**options)
