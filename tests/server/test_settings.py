"""The Coupa budget's settings: Coupa's own figures by default, the headroom checked against the burst."""

from __future__ import annotations

import pytest

from pycoupa.server.settings import ServerSettings, SettingsError


def test_the_coupa_budget_defaults_to_coupas_figures_with_half_the_burst_in_reserve() -> None:
    settings = ServerSettings.load(environ={})
    assert (settings.coupa_rps, settings.coupa_burst, settings.coupa_headroom) == (25.0, 20, 10)
    assert ServerSettings.load({"coupa_burst": 7}, environ={}).coupa_headroom == 3
    assert ServerSettings.load(environ={"PYCOUPA_COUPA_HEADROOM": "0"}).coupa_headroom == 0


@pytest.mark.parametrize("headroom", ["20", "-2", "35"])
def test_a_headroom_outside_the_burst_is_refused_naming_the_variable(headroom: str) -> None:
    with pytest.raises(
        SettingsError, match=r"coupa_headroom must be 0 to coupa_burst - 1 \(19\).*PYCOUPA_COUPA_HEADROOM"
    ):
        ServerSettings.load(environ={"PYCOUPA_COUPA_HEADROOM": headroom})
