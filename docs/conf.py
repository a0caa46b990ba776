"""Sphinx configuration of the continuum documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` after ``pip
install -e ".[docs]"``. The parameter tables of the models and the scenario-file
reference are generated at every build from the tables the code itself uses
(``_ext/generated_pages.py``), so they cannot drift from it.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # document this checkout, installed or not

import continuum  # noqa: E402

project = "continuum"
author = "the continuum authors"
copyright = "the continuum authors"
release = version = continuum.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "generated_pages",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}  # .rst: autosummary
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
highlight_language = "none"  # fences without a language are plain text

myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the docstrings state types and units
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"continuum {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
