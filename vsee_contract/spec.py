"""Load openapi.yaml once and index its operations, so every tool reads the contract the same way."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the spec in 25 ms, not 220

DEFAULT_SPEC_PATH = Path(__file__).with_name("openapi.yaml")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
V3, V4 = "api_v3", "api_v4"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query" | "header"
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, with its $refs to parameters resolved."""

    operation_id: str
    method: str  # upper case
    path: str  # template, e.g. /rooms/{code}
    parameters: tuple[Parameter, ...]
    request_body: dict[str, Any] | None
    responses: dict[str, Any]
    needs_token: bool
    servers: tuple[str, ...]

    def params_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == location)

    def response_key(self, status: int) -> str | None:
        """The responses key that covers `status`: exact code first, then its range (4XX), then `default`."""
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in self.responses:
                return key
        return None

    @property
    def is_write(self) -> bool:
        """Whether calling it may change state: what a live run sends only with --allow-writes."""
        return self.method not in READ_METHODS

    @property
    def media_types(self) -> tuple[str, ...]:
        return tuple((self.request_body or {}).get("content", {}))

    def local_base_paths(self) -> tuple[str, ...]:
        """Base paths of the 127.0.0.1 servers: where the mock serves this operation (e.g. /api_v3, /api_v4)."""
        paths = []
        for url in self.servers:
            parts = urlsplit(url)
            if parts.hostname and (parts.hostname in LOCAL_HOSTS or f"[{parts.hostname}]" in LOCAL_HOSTS):
                paths.append(parts.path.rstrip("/"))
        return tuple(dict.fromkeys(paths))


class Spec:
    """The parsed contract: raw document plus an operation index."""

    def __init__(self, document: dict[str, Any], path: Path | None = None) -> None:
        self.document = document
        self.path = path
        self.operations: dict[str, Operation] = {}
        for template, item in document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                params = [self.resolve(p) for p in shared + op.get("parameters", [])]
                security = op.get("security", document.get("security", []))
                servers = op.get("servers") or item.get("servers") or document.get("servers", [])
                self.operations[op["operationId"]] = Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=template,
                    parameters=tuple(
                        Parameter(p["name"], p["in"], bool(p.get("required")), p.get("schema", {})) for p in params
                    ),
                    request_body=self.resolve(op["requestBody"]) if "requestBody" in op else None,
                    responses={k: self.resolve(v) for k, v in op.get("responses", {}).items()},
                    needs_token=any(req for req in security),
                    servers=tuple(s["url"] for s in servers),
                )

    @property
    def components(self) -> dict[str, Any]:
        components: dict[str, Any] = self.document.get("components", {})
        return components

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (e.g. #/components/parameters/AccountCode) to its target, repeatedly."""
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
            target: Any = self.document
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def bundle(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A standalone JSON Schema: `schema` plus the components its `#/components/...` refs point into."""
        return {**schema, "components": {"schemas": self.components.get("schemas", {})}}

    def schema(self, name: str) -> dict[str, Any]:
        return self.bundle({"$ref": f"#/components/schemas/{name}"})

    def response_schema(self, operation_id: str, status: int) -> dict[str, Any] | None:
        op = self.operations[operation_id]
        key = op.response_key(status)
        if key is None:
            return None
        content = op.responses[key].get("content", {})
        media = content.get("application/json")
        return self.bundle(media["schema"]) if media and "schema" in media else None

    def examples(self, operation_id: str) -> dict[str, tuple[str, Any]]:
        """Named response examples of an operation: name -> (status key, value)."""
        found: dict[str, tuple[str, Any]] = {}
        for key, response in self.operations[operation_id].responses.items():
            for media in response.get("content", {}).values():
                for name, example in media.get("examples", {}).items():
                    found.setdefault(name, (key, copy.deepcopy(self.resolve(example)["value"])))
        return found

    def stated_rules(self) -> frozenset[str]:
        """The rules the spec states under `x-contract-rules` (what its schemas leave to the core, because generators
        cannot type it): part of what an answer may be, as much as the schemas are."""
        found: set[str] = set()
        nodes: list[Any] = [self.document]
        while nodes:
            node = nodes.pop()
            if isinstance(node, dict):
                found.update(node.get("x-contract-rules") or {})
                nodes.extend(node.values())
            elif isinstance(node, list):
                nodes.extend(node)
        return frozenset(found)

    def security_header(self) -> str:
        """The header that carries the admin token (X-ApiToken): read from the security scheme, never restated."""
        return str(self.components["securitySchemes"]["AdminToken"]["name"])

    def account_header(self) -> str:
        """The header that names the clinic account (X-AccountCode): read from its shared parameter, never restated."""
        return str(self.components["parameters"]["AccountCode"]["name"])


def v4_base(v3_base: str) -> str | None:
    """The api_v4 base beside an api_v3 base (the room detail is on both), or None when it cannot be derived."""
    base = v3_base.rstrip("/")
    return base[: -len(V3)] + V4 if base.endswith(V3) else None


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, mtime: float) -> Spec:
    with path.open(encoding="utf-8") as fh:
        return Spec(yaml.load(fh, Loader=SAFE_LOADER), path)


def load_spec(path: str | Path | None = None) -> Spec:
    """Load (and cache, until the file changes) the contract at `path`, or the packaged openapi.yaml."""
    resolved = Path(path or DEFAULT_SPEC_PATH).resolve()
    return _load_cached(resolved, resolved.stat().st_mtime)
