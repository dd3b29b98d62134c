"""The one contract core: openapi.yaml loaded once, its validators compiled, the behavioural rules.

The mock validates with it, the contract suite judges deployments with it, the proxy judges traffic with it.
"""

from . import rules
from .contract import RESPONSE_SCHEMA, Contract, Violation
from .spec import DEFAULT_SPEC_PATH, Operation, Spec, load_spec
from .validation import ContractValidator, OperationValidator, ParsedRequest, RequestInvalid

__all__ = [
    "RESPONSE_SCHEMA",
    "Contract",
    "Violation",
    "DEFAULT_SPEC_PATH",
    "ContractValidator",
    "Operation",
    "OperationValidator",
    "ParsedRequest",
    "RequestInvalid",
    "Spec",
    "load_spec",
    "rules",
]
