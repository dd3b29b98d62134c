"""Layer 2: schemathesis' links-driven state machine (createRoom → getRoom / providers / queue / addUserRoom → …)."""

from __future__ import annotations

from typing import Any

import pytest
import hypothesis
from hypothesis import settings
from schemathesis import Case, Response

from . import state
from .generated import judge, load_schema, prepare, record, token_headers
from .plugin import build_target

TARGET = state.target(build_target)
Workflow = load_schema(TARGET).as_state_machine()


class ContractWorkflow(Workflow):  # type: ignore[misc, valid-type]
    """Each scenario starts from a fresh in-process app (a live target keeps its state; slugs are unique)."""

    def setup(self) -> None:
        self.app = TARGET.fresh_app()

    def before_call(self, case: Case) -> None:
        prepare(TARGET, case)

    def get_call_kwargs(self, case: Case) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": token_headers(TARGET, case)}
        if self.app is not None:
            kwargs["app"] = self.app
        return kwargs

    def after_call(self, response: Response, case: Case) -> None:
        super().after_call(response, case)
        record(TARGET, case, response, {"stateful-links"})

    def validate_response(self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any) -> None:
        """Judged like layer 1; the per-call token is forwarded so `ignored_auth` knows it was explicit."""
        headers = kwargs.pop("headers", None) or {}
        judge(TARGET, case, response, headers, kwargs, recorder=self.recorder, additional_checks=additional_checks)


profile = state.settings().profile
hypothesis.seed(state.settings().seed)(ContractWorkflow)  # --contract-seed replays the same step sequences
TestContractWorkflow = pytest.mark.contract_writes(ContractWorkflow.TestCase)
TestContractWorkflow.settings = settings(
    ContractWorkflow.TestCase.settings,
    max_examples=profile.stateful_examples,
    stateful_step_count=profile.stateful_steps,
    database=None,
)
