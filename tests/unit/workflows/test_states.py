"""Tests for workflows.states: the state names items may carry."""

from __future__ import annotations

from workflows import states
from workflows.states import NOMINATED, PUBLIC_STATES, PUBLISHED, STATES


def test_states_are_unique_and_include_every_constant():
    assert len(set(STATES)) == len(STATES)
    constants = {
        value for name, value in vars(states).items() if name.isupper() and isinstance(value, str)
    }
    assert constants == set(STATES)


def test_workflow_starts_at_nomination_and_publishes():
    assert STATES[0] == NOMINATED
    assert PUBLISHED in STATES
    assert STATES.index(PUBLISHED) > STATES.index(NOMINATED)


def test_only_known_states_are_public():
    assert PUBLIC_STATES <= set(STATES)
    assert PUBLIC_STATES == {PUBLISHED}


def test_state_names_are_url_and_catalog_safe():
    for state in STATES:
        assert state == state.lower()
        assert state.replace("-", "").isalpha()
