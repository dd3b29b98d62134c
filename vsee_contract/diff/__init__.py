"""The contract change gate: which edits of openapi.yaml break the clients already built on it.

Two methods together: `structural` compares operations, parameters, media types, statuses, security and schemas;
`generative` draws requests from OLD's schemas for NEW's validators and answers from NEW's schemas for OLD's. The CLI
is `vsee-contract diff` (`cli`); `report` renders a verdict for terminals and CI."""

from .judge import DEFAULT_SEED, Verdict, judge
from .model import Change

__all__ = ["DEFAULT_SEED", "Change", "Verdict", "judge"]
