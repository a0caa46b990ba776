"""help() of a model reads as text: equations without LaTeX, and a Parameters entry per
parameter with its default, unit and rule, written from the model's own table."""

import inspect
import pydoc

import pytest

import continuum as ct
from continuum.models.base import Model, Parameter
from continuum.models.parameter_docs import document_parameters

MODELS = [
    getattr(ct.models, name)
    for name in ct.models.__all__
    if inspect.isclass(getattr(ct.models, name))
    and (issubclass(getattr(ct.models, name), Model) or name == "SecondarySite")
]


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_help_shows_no_latex_and_every_parameter(cls):
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    doc = inspect.getdoc(cls)
    for latex in ("\\partial", "\\nabla", "\\frac", ".. math::", ":math:", "\\int"):
        assert latex not in doc, f"{cls.__name__}: {latex}"
    for parameter in getattr(cls, "PARAMETERS", ()):
        if parameter.name in getattr(cls, "parameters_set_otherwise", ()):
            assert f"\n{parameter.name} :" not in doc
            continue
        assert f"\n{parameter.name} : float, default " in doc, parameter.name
    assert "Python Library Documentation" in text


def test_invasion_help_gives_defaults_units_and_rules():
    doc = inspect.getdoc(ct.models.Invasion)
    assert "K_cell : float, default 100000\n    Carrying capacity of tissue" in doc
    assert "[cells/mm^3]; > 0." in doc
    assert "first_pass : float, default 0\n" in doc and "in [0, 1]." in doc
    assert "∂m/∂t = ∇·(D_m ∇m − χ m ∇f)" in doc  # the equations as text


def test_a_meaning_that_starts_with_a_symbol_keeps_it():
    doc = inspect.getdoc(ct.models.FisherKPP)
    assert "growth_rate : float, default 0.012\n    ρ, net proliferation rate" in doc  # not Ρ
    assert "A toy rate [1/day]" in document_parameters(_with("a toy rate")).__doc__


def _with(description):
    class Toy:
        """A toy."""

        PARAMETERS = (Parameter("rate", 1.0, "1/day", description),)

    return Toy


def test_the_docstring_as_written_is_kept_for_the_documentation_pages():
    from continuum.models.parameter_docs import handwritten_docstring

    written = handwritten_docstring(ct.models.Heat)
    assert "diffusivity :" not in written and "bc : boundary conditions" in written
    assert "diffusivity : float, default 1" in ct.models.Heat.__doc__
    assert handwritten_docstring(int) is None


def test_entries_go_into_the_parameters_section_and_keep_hand_written_ones():
    class Toy(Model):
        """A toy.

        Parameters
        ----------
        bc : boundary conditions.
        rate : the rate, written by hand.

        Notes
        -----
        Nothing.
        """

        PARAMETERS = (
            Parameter("rate", 1.0, "1/day", "a rate"),
            Parameter("share", 0.25, "1", "a share", "fraction"),
        )

    doc = Toy.__doc__
    assert doc.count("rate :") == 1 and "the rate, written by hand" in doc
    entry = "share : float, default 0.25\n    A share [dimensionless]; in [0, 1]."
    assert doc.index("bc :") < doc.index(entry) < doc.index("Notes\n-----")

    class Bare:
        """Without a section."""

        PARAMETERS = (Parameter("speed", 2.0, "mm/day", "a speed", "positive"),)

    assert document_parameters(Bare).__doc__ == (
        "Without a section.\n\nParameters\n----------\n"
        "speed : float, default 2\n    A speed [mm/day]; > 0.\n"
    )
