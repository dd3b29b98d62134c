"""The one contract core: openapi.yaml loaded once, its validators compiled, the behavioural rules.

The mock validates with it, the contract suite judges deployments with it, the proxy judges traffic with it. What
each operation means (its handler, rules, hooks) is declared once, in its module of `operations/`.
"""

from . import rules
from .contract import RESPONSE_SCHEMA, Contract, Violation
from .curl import curl_command, form_value
from .errors import Refusal, VseeError
from .redaction import REDACTED, SECRET_HEADERS, is_secret_header, redact, redact_headers
from .session import SessionRules
from .spec import DEFAULT_SPEC_PATH, READ_METHODS, Operation, Spec, load_spec, v4_base
from .validation import ContractValidator, OperationValidator, ParsedRequest

__all__ = [
    "DEFAULT_SPEC_PATH",
    "READ_METHODS",
    "REDACTED",
    "RESPONSE_SCHEMA",
    "SECRET_HEADERS",
    "Contract",
    "ContractValidator",
    "Operation",
    "OperationValidator",
    "ParsedRequest",
    "Refusal",
    "SessionRules",
    "Spec",
    "Violation",
    "VseeError",
    "curl_command",
    "form_value",
    "is_secret_header",
    "load_spec",
    "redact",
    "redact_headers",
    "rules",
    "v4_base",
]
