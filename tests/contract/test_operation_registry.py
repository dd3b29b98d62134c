"""The operation registry (`vsee_contract.operations`) against the spec: every operation declared once, each
declaration about an operation there is, and what each says consistent with the spec."""

from __future__ import annotations

import re

import pytest

from vsee_contract import load_spec, rules
from vsee_contract.operations import MODULES, REGISTRY, Descriptor, Effect, View, descriptor, showing

SPEC = load_spec()
ASSOCIATIONS = (Effect.ADDS_PROVIDER, Effect.REMOVES_PROVIDER)


def test_every_operation_of_the_spec_has_a_descriptor_and_every_descriptor_an_operation() -> None:
    assert sorted(set(SPEC.operations) - set(REGISTRY)) == [], "add a module to vsee_contract/operations/"
    assert sorted(set(REGISTRY) - set(SPEC.operations)) == [], "a descriptor names no operation of openapi.yaml"


def test_each_operation_is_declared_once_in_a_module_of_its_own() -> None:
    ids = [module.OPERATION.operation_id for module in MODULES]
    assert len(ids) == len(set(ids)) == len(REGISTRY)
    for module in MODULES:
        assert module.OPERATION.operation_id == module.ID
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", module.ID).lower()
        assert module.__name__.rsplit(".", 1)[1] == snake, "name the module after its operationId"


@pytest.mark.parametrize("operation_id", sorted(REGISTRY))
def test_what_a_descriptor_says_fits_its_operation(operation_id: str) -> None:
    found, operation = REGISTRY[operation_id], SPEC.operations[operation_id]
    assert found.handler is not None, "the mock answers every operation from state"
    for rule in found.rules:
        assert rule.name in rules.CATALOGUE
    if found.session is not None:
        assert found.session.name in rules.CATALOGUE
    assert set(found.shown_by) <= set(operation.responses), "shown_by names documented statuses"
    assert set(found.shown_by.values()) <= set(rules.CATALOGUE)
    assert found.effect is None or operation.is_write, "only a write changes state"
    assert (found.association is not None) == (found.effect in ASSOCIATIONS)
    assert not found.valid_refusals or "2xx" in found.valid_refusals
    if found.shows is not None:  # a view of the state: a read, named by exactly the view's path parameters
        assert not operation.is_write
        assert sorted(p.name for p in operation.params_in("path")) == sorted(found.shows.parameters)


def test_every_view_of_the_clinic_is_shown_by_an_operation() -> None:
    assert {view: showing(view) for view in View if not showing(view)} == {}


def test_an_operation_the_registry_does_not_know_is_judged_by_its_schema_only() -> None:
    assert descriptor("listUserInvoices") == Descriptor("listUserInvoices")
    assert descriptor(None) == Descriptor("")
