"""Browsing the register for the web pages and their JSON twins: lists with filters and pages of
one record, each checking access (`ctx.require…`) before its transaction, keeping only records in
reach (`ctx.visible`) and masking protected fields (`ctx.mask`)."""

from svidok.services.browse.cases import custody_search, missing_cases, missing_detail
from svidok.services.browse.common import Page, shown_name
from svidok.services.browse.incidents import IncidentFilters, incident_detail, list_incidents
from svidok.services.browse.people import person_detail, unit_detail
from svidok.services.browse.reference import places, units
from svidok.services.browse.review import LINK_KINDS, review_queue

__all__ = [
    "LINK_KINDS",
    "IncidentFilters",
    "Page",
    "custody_search",
    "incident_detail",
    "list_incidents",
    "missing_cases",
    "missing_detail",
    "person_detail",
    "places",
    "review_queue",
    "shown_name",
    "unit_detail",
    "units",
]
