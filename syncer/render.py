"""Render: a bundle's templates and values → Kubernetes objects. Pure: no I/O.

Under the templates directory, `*.j2` files are rendered by a sandboxed Jinja2 environment
with `StrictUndefined` (an unset value is an error, not an empty string); `*.yaml`/`*.yml`
files are taken as they are; files whose name starts with `_` are partials, used only through
`{% include %}`/`{% import %}`. Templates see `values` (the channel's values files merged in
order), `channel` and `namespace`. Every error names the file and, where known, the line.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from syncer import yamlsafe
from syncer.config import ChannelConfig, RepoConfig, merge_values
from syncer.errors import RenderError
from syncer.model import Obj, ObjectRef
from syncer.renderlimits import BoundedSandbox, Limits, OverLimit, capped, deadline

__all__ = ["RenderContext", "load_values", "render", "render_channel"]

_MANIFEST_SUFFIXES = (".yaml", ".yml")
_LIMITS = Limits()


@dataclass(frozen=True)
class RenderContext:
    """What templates see besides their own text."""

    channel: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)


def load_values(files: Mapping[str, bytes], paths: Sequence[str]) -> dict[str, Any]:
    """The values files `paths`, parsed and deep-merged in order (later wins)."""
    merged: dict[str, Any] = {}
    for path in paths:
        if path not in files:
            raise RenderError("values file is not in the bundle", where=path)
        data = _load_yaml(files[path], where=path)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise RenderError("values must be a mapping at the top level", where=path)
        merged = merge_values(merged, data)
    return merged


def render(files: Mapping[str, bytes], *, templates: str, context: RenderContext,
           limits: Limits = _LIMITS) -> list[Obj]:
    """Every object the templates directory produces, in path then document order; each
    template within `limits` (renderlimits)."""
    root = templates.rstrip("/") + "/"
    sources = {p: files[p] for p in sorted(files) if p.startswith(root)}
    env = _environment(sources)
    objects: list[Obj] = []
    seen: dict[ObjectRef, str] = {}
    for path, data in sources.items():
        for obj in _objects_of(path, data, env=env, context=context, limits=limits):
            _check_unique(obj, path, seen)
            objects.append(obj)
    return objects


def _objects_of(path: str, data: bytes, *, env: SandboxedEnvironment,
                context: RenderContext, limits: Limits) -> Iterator[Obj]:
    name = PurePosixPath(path).name
    if name.startswith("_"):
        return
    if name.endswith(".j2"):
        text = _render_template(env, path, context, limits)
    elif name.endswith(_MANIFEST_SUFFIXES):
        text = _decode(data, path)
    else:
        return
    yield from _documents(text, path)


def _environment(sources: Mapping[str, bytes]) -> SandboxedEnvironment:
    def load(name: str) -> tuple[str, str, Any] | None:
        if name not in sources:
            return None
        return _decode(sources[name], name), name, lambda: True

    env = BoundedSandbox(loader=jinja2.FunctionLoader(load), autoescape=False,
                         undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["to_yaml"] = _to_yaml
    env.policies["json.dumps_function"] = _to_json
    return env


def _to_json(value: Any, **kwargs: Any) -> str:
    """json.dumps for `tojson` that reports an undefined value as StrictUndefined would."""
    return json.dumps(value, default=_json_default, **kwargs)


def _json_default(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"{type(value).__name__} values cannot be written as JSON")


def _to_yaml(value: Any) -> str:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return yamlsafe.dump(value, default_flow_style=False, sort_keys=False).rstrip("\n")


def _render_template(env: SandboxedEnvironment, path: str, context: RenderContext,
                     limits: Limits) -> str:
    try:
        template = env.get_template(path)
        chunks = template.generate(values=dict(context.values), channel=context.channel,
                                   namespace=context.namespace)
        with deadline(limits.max_seconds):
            return "".join(capped(chunks, limits.max_output))
    except OverLimit as e:
        raise RenderError(f"template stopped: {e}", where=path) from e
    except jinja2.TemplateSyntaxError as e:
        where = f"{e.filename or e.name or path}:{e.lineno}"
        raise RenderError(f"template syntax error: {e.message}", where=where) from e
    except jinja2.TemplateError as e:
        raise RenderError(f"template error: {e.message or e}",
                          where=_template_line(e, path)) from e
    except (TypeError, ValueError, ArithmeticError, LookupError) as e:
        raise RenderError(f"template error: {e}", where=_template_line(e, path)) from e
    except RecursionError as e:
        raise RenderError("template error: it recurses without end (a macro or an include "
                          "that calls itself)", where=path) from e
    except MemoryError as e:
        raise RenderError("template error: its output does not fit in memory",
                          where=path) from e


def _template_line(error: BaseException, path: str) -> str:
    """file:line of the innermost template frame of the error's traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if frame.filename.endswith(".j2") and frame.lineno:
            return f"{frame.filename}:{frame.lineno}"
    return path


def _documents(text: str, path: str) -> Iterator[Obj]:
    docs = yamlsafe.load_all(text, where=path, error=RenderError)
    for index, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise RenderError(f"document {index} is not a mapping (a Kubernetes object)",
                              where=path)
        yield from _expand_list(doc, path, index)


def _expand_list(doc: Obj, path: str, index: int) -> Iterator[Obj]:
    if doc.get("kind") != "List" or "items" not in doc:
        yield doc
        return
    for item in doc.get("items") or []:
        if not isinstance(item, dict):
            raise RenderError(f"document {index}: List items must be objects", where=path)
        yield item


def _check_unique(obj: Obj, path: str, seen: dict[ObjectRef, str]) -> None:
    try:
        ref = ObjectRef.of(obj)
    except RenderError as e:
        raise RenderError(f"{e.message} ({e.where})", where=path) from e
    if ref in seen:
        raise RenderError(f"duplicate object {ref} (also in {seen[ref]})", where=path)
    seen[ref] = path


def _load_yaml(data: bytes, *, where: str) -> Any:
    return yamlsafe.load(_decode(data, where), where=where, error=RenderError)


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RenderError("not UTF-8 text", where=path) from e


def render_channel(files: Mapping[str, bytes], *, config: RepoConfig,
                   channel: ChannelConfig) -> list[Obj]:
    """The objects one channel gets from a bundle's files: its values, then its templates."""
    values = load_values(files, channel.values)
    context = RenderContext(channel.name, channel.namespace, values)
    return render(files, templates=config.templates, context=context)
