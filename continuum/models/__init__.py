"""Models: systems of fields and compartments with their right-hand sides."""

from continuum.models.acid_mediated import AcidMediated
from continuum.models.anderson_chaplain import AndersonChaplain
from continuum.models.base import KernelSet, Model, Parameter, Transport, parameter_index
from continuum.models.cascade import Cascade, Iwata
from continuum.models.immune_invasion import ImmuneInvasion
from continuum.models.invasion import Invasion
from continuum.models.keller_segel import KellerSegel
from continuum.models.lumped import LumpedPrimary
from continuum.models.pde import PDE
from continuum.models.simple import FisherKPP, Heat, Taxis
from continuum.models.sites import Circulation, SecondarySite

__all__ = [
    "PDE",
    "AcidMediated",
    "AndersonChaplain",
    "Cascade",
    "Circulation",
    "FisherKPP",
    "Heat",
    "ImmuneInvasion",
    "Invasion",
    "Iwata",
    "KellerSegel",
    "KernelSet",
    "LumpedPrimary",
    "Model",
    "Parameter",
    "SecondarySite",
    "Taxis",
    "Transport",
    "parameter_index",
]
