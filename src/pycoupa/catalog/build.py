"""Generate the committed catalog data from Coupa's R39 OpenAPI files and the OAuth scope table.

Facts only are kept (paths, methods, parameters, field types/formats/enums/flags, XML names,
scopes); descriptions and summaries are dropped. Run with ``make catalog``; the output is
committed so that nothing at run time needs ../shared.

    python -m pycoupa.catalog.build --openapi ../shared/coupa-openapi/R39 \
        --scopes ../shared/seeds/000_939ad20a2dd80c15.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pycoupa.catalog.scope_table import map_scope_table

DATA_DIR = Path(__file__).parent / "data"
METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _field(prop: dict[str, Any]) -> dict[str, Any]:
    """Compact one property: keep type, format, enum, readOnly and the referenced definition."""
    out: dict[str, Any] = {}
    if "$ref" in prop:
        out["ref"] = _ref_name(prop["$ref"])
        return out
    if prop.get("type") is not None:
        out["type"] = prop["type"]
    if prop.get("format") is not None:
        out["format"] = str(prop["format"])
    if prop.get("enum"):
        out["enum"] = list(prop["enum"])
    if prop.get("readOnly"):
        out["ro"] = True
    items = prop.get("items")
    if isinstance(items, dict):
        if "$ref" in items:
            out["ref"] = _ref_name(items["$ref"])
        elif items.get("type"):
            out["items"] = items["type"]
    return out


def _definition(raw: dict[str, Any]) -> dict[str, Any]:
    fields = {name: _field(prop) for name, prop in sorted(raw.get("properties", {}).items())}
    out: dict[str, Any] = {"fields": fields}
    if raw.get("required"):
        out["required"] = list(raw["required"])
    return out


def _param(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": raw["name"], "in": raw["in"]}
    if raw.get("type"):
        out["type"] = raw["type"]
    if raw.get("required"):
        out["required"] = True
    if raw.get("enum"):
        out["enum"] = list(raw["enum"])
    if raw.get("in") == "body" and "$ref" in raw.get("schema", {}):
        out["ref"] = _ref_name(raw["schema"]["$ref"])
    return out


def _response(responses: dict[str, Any]) -> dict[str, Any] | None:
    for code in ("200", "201"):
        schema = responses.get(code, {}).get("schema")
        if not schema:
            continue
        out: dict[str, Any] = {"status": int(code)}
        if schema.get("type") == "array":
            out["array"] = True
            items = schema.get("items", {})
            if "$ref" in items:
                out["ref"] = _ref_name(items["$ref"])
            if schema.get("xml", {}).get("name"):
                out["xml"] = schema["xml"]["name"]
        else:
            # R39 writes single-object responses of actions as {"items": {"$ref"}} without a type.
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            if ref:
                out["ref"] = _ref_name(ref)
        return out
    return None


def build(openapi_dir: Path, scope_table: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    definitions: dict[str, Any] = {}
    operations: list[dict[str, Any]] = []
    files = sorted(openapi_dir.glob("*.json"))
    if len(files) != 10:
        raise SystemExit(f"expected 10 OpenAPI files in {openapi_dir}, found {len(files)}")
    for path in files:
        spec = json.loads(path.read_text())
        area = path.stem.removeprefix("R39_").removesuffix("_API")
        for name, raw in spec.get("definitions", {}).items():
            compact = _definition(raw)
            if name in definitions and definitions[name] != compact:
                raise SystemExit(f"definition {name} differs between files")
            definitions[name] = compact
        for route, item in spec["paths"].items():
            for method in METHODS:
                op = item.get(method)
                if op is None:
                    continue
                params = [_param(p) for p in op.get("parameters", [])]
                entry: dict[str, Any] = {
                    "method": method.upper(),
                    "path": route,
                    "area": area,
                    "tag": (op.get("tags") or [None])[0],
                    "params": [p for p in params if p["in"] != "body"],
                }
                body = next((p for p in params if p["in"] == "body"), None)
                if body and body.get("ref"):
                    entry["body"] = body["ref"]
                if op.get("consumes"):
                    entry["consumes"] = list(op["consumes"])
                response = _response(op.get("responses", {}))
                if response:
                    entry["response"] = response
                entry["statuses"] = sorted(int(c) for c in op.get("responses", {}) if c.isdigit())
                operations.append(entry)
    operations.sort(key=lambda o: (o["path"], METHODS.index(o["method"].lower())))
    catalog = {"release": "R39", "definitions": dict(sorted(definitions.items())), "operations": operations}
    routes = [(o["method"], o["path"]) for o in operations]
    scopes = map_scope_table(scope_table.read_text(), routes)
    return catalog, scopes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--openapi", type=Path, required=True, help="folder of the ten R39 OpenAPI files")
    parser.add_argument("--scopes", type=Path, required=True, help="the OAuth scope table seed")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    catalog, scopes = build(args.openapi, args.scopes)
    args.out.mkdir(parents=True, exist_ok=True)
    # One definition / operation per line keeps diffs of regenerated data readable.
    with (args.out / "catalog.json").open("w") as fh:
        fh.write('{"release": "R39",\n"definitions": {\n')
        fh.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in catalog["definitions"].items()))
        fh.write('\n},\n"operations": [\n')
        fh.write(",\n".join(json.dumps(o) for o in catalog["operations"]))
        fh.write("\n]}\n")
    with (args.out / "scopes.json").open("w") as fh:
        fh.write("{\n")
        fh.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in scopes.items()))
        fh.write("\n}\n")
    n_lines = sum(len(v) for v in scopes.values())
    unmapped = sum(1 for v in scopes.values() for line in v if not line["routes"])
    print(
        f"{len(catalog['operations'])} operations on {len({o['path'] for o in catalog['operations']})} paths, "
        f"{len(catalog['definitions'])} definitions, {len(scopes)} scopes, "
        f"{n_lines} scope lines ({unmapped} unmapped)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
