"""Layer 2: schemathesis' links-driven state machine (createRoom → getRoom / providers / queue / addUserRoom → …)."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
from hypothesis import settings
from schemathesis import Response
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.schemas import BaseSchema

from .generated import ContractCase, judge, prepare, record, token_headers
from .target import Target


def workflow(target: Target, schema: BaseSchema) -> type[APIStateMachine]:
    """The schema's state machine, sending through `target` and judged like layer 1."""

    class ContractWorkflow(schema.as_state_machine()):  # type: ignore[misc]
        """Each scenario starts from a fresh in-process app (a live target keeps its state; slugs are unique)."""

        def setup(self) -> None:
            self.app = target.fresh_app()

        def before_call(self, case: ContractCase) -> None:
            prepare(target, case)

        def get_call_kwargs(self, case: ContractCase) -> dict[str, Any]:
            kwargs: dict[str, Any] = {"headers": token_headers(target, case)}
            if self.app is not None:
                kwargs["app"] = self.app
            return kwargs

        def after_call(self, response: Response, case: ContractCase) -> None:
            super().after_call(response, case)
            record(target, case, response, {"stateful-links"})

        def validate_response(
            self, response: Response, case: ContractCase, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            """The per-call token is forwarded so `ignored_auth` knows it was explicit."""
            headers = kwargs.pop("headers", None) or {}
            judge(target, case, response, headers, kwargs, recorder=self.recorder, additional_checks=additional_checks)

    return ContractWorkflow


def _workflows(target: Target, contract_schema: BaseSchema) -> None:
    """Step sequences of the profile's count and length; --contract-seed replays the same ones."""
    machine = workflow(target, contract_schema)
    hypothesis.seed(target.settings.seed)(machine)
    profile = target.settings.profile
    try:
        machine.run(
            settings=settings(
                machine.TestCase.settings,
                max_examples=profile.stateful_examples,
                stateful_step_count=profile.stateful_steps,
                database=None,
            )
        )
    except FailureGroup as exc:  # reported like schemathesis' own state-machine tests
        raise as_reported_failure(exc) from None


@pytest.mark.contract_writes
@pytest.mark.contract_side_by_side("links", _workflows, rooms=1, more=True)  # a room its links follow
def test_the_links_driven_workflow_conforms(target: Target, request: pytest.FixtureRequest) -> None:
    target.side_by_side.outcome(request)
