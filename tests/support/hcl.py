"""Reading terraform/*.tf (and .tfvars) as data for the static Terraform tests, with python-hcl2."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Tuple, Union

import hcl2

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"


def strip_metadata(value: Any) -> Any:
    """Drop python-hcl2's own keys (``__is_block__``, ``__comments__``, ...), keep the HCL."""
    if isinstance(value, dict):
        return {k: strip_metadata(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [strip_metadata(item) for item in value]
    return value


def load(path: Union[str, Path]) -> Dict[str, Any]:
    """One HCL file as data; a relative path is read below terraform/."""
    with open(TERRAFORM_DIR / path) as handle:
        return strip_metadata(hcl2.load(handle))


def unquote(text: Any) -> str:
    """python-hcl2 keeps the quotes of block labels and strings: "x" -> x."""
    return str(text).strip('"')


def resources(path: Union[str, Path]) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    """(type, name, body) of every resource block in one file."""
    for block in load(path).get("resource", []):
        for kind, named in block.items():
            for name, body in named.items():
                yield unquote(kind), unquote(name), body


def resource(path: Union[str, Path], kind: str, name: str) -> Dict[str, Any]:
    """The body of resource ``kind.name`` in one file."""
    for found_kind, found_name, body in resources(path):
        if (found_kind, found_name) == (kind, name):
            return body
    raise AssertionError(f"{kind}.{name} not found in {path}")
