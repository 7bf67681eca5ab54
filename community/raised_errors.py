"""Which errors can an API operation answer? Derived from the code, so the contract cannot drift.

Starting at a view's handler method, :func:`raised_errors` reads the source of every function it
calls (names resolved through the defining module's globals and closures, module attributes such
as ``services.ballot_cast``, ``self.x`` and ``type(self).x`` through the view class), transitively
with a visited set, and collects every construction of a :class:`~community.errors.DomainError`
subclass: its status, its ``code`` (the ``code=`` argument, passed through helpers' parameters
when needed, or the class's ``default_code``) and, for ``field=``, the 400 validation ``attr``.
It also collects ``ErrorDetail(..., code=...)`` built by hand and the serializers a handler
validates request data with (query parameters included).

The walk over-approximates (a branch that cannot run for this operation still counts): a
documented code may never be answered, but an answered code is never undocumented.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError

from community.errors import DomainError

#: Packages whose functions are followed; calls into Django, DRF or the standard library are not.
PROJECT_PACKAGES = frozenset(
    {
        "community",
        "polls",
        "surveys",
        "events",
        "roles",
        "moderation",
        "insights",
        "announcements",
        "games",
        "assistant",
    }
)

#: ``attr`` of a validation error whose field is not known statically (``ErrorDetail`` built by
#: hand): documented on every field of the operation.
ANY_ATTR = "*"
#: Stands for a formatted part of an ``attr`` (``f"answers.{key}"`` -> ``answers.KEY``), as
#: drf-standardized-errors writes dictionary keys.
KEY = "KEY"


@dataclass(frozen=True)
class RaisedError:
    """One error an operation can answer. ``attr`` is set for 400 validation errors only."""

    status: int
    code: str
    attr: str | None = None

    @property
    def is_validation(self) -> bool:
        return self.attr is not None


@dataclass(frozen=True)
class _Param:
    """A value that comes from the enclosing function's parameter ``name``."""

    name: str


@dataclass(frozen=True)
class _Template:
    """An error whose code or field comes from a parameter, resolved at each call site."""

    status: int
    code: str | _Param
    attr: str | _Param | None


@dataclass
class _Summary:
    errors: set[RaisedError] = field(default_factory=set)
    templates: set[_Template] = field(default_factory=set)
    serializers: set[type] = field(default_factory=set)


@dataclass
class Derived:
    """What :func:`raised_errors` found for one handler."""

    errors: set[RaisedError]
    #: serializer classes the handler validates ``data=`` with (body or query parameters)
    serializers: set[type]

    def codes(self, status: int) -> set[str]:
        """Codes answered with ``status`` outside validation errors."""
        return {e.code for e in self.errors if e.status == status and not e.is_validation}

    def validation_codes(self) -> dict[str, set[str]]:
        """``attr`` -> codes of the 400 validation errors (``ANY_ATTR`` for unknown fields)."""
        found: dict[str, set[str]] = {}
        for error in self.errors:
            if error.is_validation:
                found.setdefault(error.attr, set()).add(error.code)
        return found


def _package(obj: Any) -> str:
    return (getattr(obj, "__module__", None) or "").split(".", 1)[0]


def _plain_function(obj: Any) -> types.FunctionType | None:
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    if isinstance(obj, types.FunctionType):
        return inspect.unwrap(obj)
    return None


def _fstring_attr(node: ast.JoinedStr) -> str:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        else:
            parts.append(KEY)
    return "".join(parts)


class _Walker:
    def __init__(self, packages: frozenset[str]) -> None:
        self._packages = packages
        self._done: dict[tuple[Any, Any], _Summary] = {}
        self._active: set[tuple[Any, Any]] = set()

    # --- one function -----------------------------------------------------------------------
    def summary(self, func: types.FunctionType, owner: type | None) -> _Summary:
        key = (func, owner)
        if key in self._done:
            return self._done[key]
        if key in self._active:  # recursion: what it adds is found by the outer visit
            return _Summary()
        self._active.add(key)
        try:
            result = self._summarise(func, owner)
        finally:
            self._active.discard(key)
        self._done[key] = result
        return result

    def _summarise(self, func: types.FunctionType, owner: type | None) -> _Summary:
        result = _Summary()
        try:
            source = textwrap.dedent(inspect.getsource(func))
        except (OSError, TypeError):
            return result
        tree = ast.parse(source)
        node = tree.body[0]
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return result
        params = set(inspect.signature(func).parameters)
        scope = {**func.__globals__, **inspect.getclosurevars(func).nonlocals}
        if owner is None and "." in func.__qualname__:
            owner = self._defining_class(func)
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            callee = self._resolve(call.func, scope, owner)
            if callee is None:
                continue
            self._visit_call(call, callee, params, owner, result)
        return result

    @staticmethod
    def _defining_class(func: types.FunctionType) -> type | None:
        obj: Any = inspect.getmodule(func)
        for part in func.__qualname__.split(".")[:-1]:
            obj = getattr(obj, part, None)
        return obj if isinstance(obj, type) else None

    # --- names -> objects --------------------------------------------------------------------
    def _resolve(self, node: ast.expr, scope: dict, owner: type | None) -> Any:
        if isinstance(node, ast.Name):
            if node.id in ("self", "cls"):
                return owner
            if node.id in scope:
                return scope[node.id]
            return getattr(builtins, node.id, None)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value, scope, owner)
            if isinstance(base, type):
                return inspect.getattr_static(base, node.attr, None)
            if isinstance(base, types.ModuleType):
                return getattr(base, node.attr, None)
            return None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "type"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "self"
        ):
            return owner
        return None

    # --- one call ----------------------------------------------------------------------------
    def _visit_call(
        self, call: ast.Call, callee: Any, params: set[str], owner: type | None, out: _Summary
    ) -> None:
        kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        if isinstance(callee, type):
            if issubclass(callee, DomainError):
                self._construction(callee, kwargs, params, out)
            elif issubclass(callee, ErrorDetail | DjangoValidationError):
                # a validation error built by hand: its field is not known statically
                code = self._value(kwargs.get("code"), params)
                self._add(out, 400, code if code is not None else "invalid", ANY_ATTR)
            elif issubclass(callee, APIException) and not issubclass(callee, ValidationError):
                code = self._value(kwargs.get("code"), params) or callee.default_code
                self._add(out, callee.status_code, code, None)
            elif issubclass(callee, serializers.BaseSerializer) and "data" in kwargs:
                out.serializers.add(callee)
            return
        func = _plain_function(callee)
        if func is None or _package(func) not in self._packages:
            return
        inner = self.summary(func, owner if self._is_method_of(func, owner) else None)
        out.errors |= inner.errors
        out.serializers |= inner.serializers
        if inner.templates:
            bound = self._bind(func, call)
            for template in inner.templates:
                code = self._instantiate(template.code, bound, params)
                attr = template.attr
                if isinstance(attr, _Param):
                    attr = self._instantiate(attr, bound, params) or ANY_ATTR
                if code is not None:
                    self._add(out, template.status, code, attr)

    @staticmethod
    def _is_method_of(func: types.FunctionType, owner: type | None) -> bool:
        return owner is not None and any(
            vars(klass).get(func.__name__) is not None for klass in owner.__mro__
        )

    def _construction(
        self, cls: type[DomainError], kwargs: dict, params: set[str], out: _Summary
    ) -> None:
        code = self._value(kwargs.get("code"), params) if "code" in kwargs else cls.default_code
        if code is None:
            code = cls.default_code
        attr = None
        field_node = kwargs.get("field")
        if field_node is not None and not (
            isinstance(field_node, ast.Constant) and field_node.value is None
        ):
            attr = self._value(field_node, params) or ANY_ATTR
        # The error handler answers a DomainError with ``field`` as a 400 validation error.
        status = 400 if attr is not None else cls.status_code
        self._add(out, status, code, attr)

    @staticmethod
    def _add(out: _Summary, status: int, code: str | _Param, attr: str | _Param | None) -> None:
        if isinstance(code, _Param) or isinstance(attr, _Param):
            out.templates.add(_Template(status, code, attr))
        else:
            out.errors.add(RaisedError(status, code, attr))

    @staticmethod
    def _value(node: ast.expr | None, params: set[str]) -> str | _Param | None:
        """A string constant, an f-string (as an attr pattern) or a parameter of the function."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return _fstring_attr(node)
        if isinstance(node, ast.Name) and node.id in params:
            return _Param(node.id)
        return None

    @staticmethod
    def _bind(func: types.FunctionType, call: ast.Call) -> dict[str, ast.expr | str]:
        """Parameter name -> argument node at this call (or the parameter's default)."""
        signature = inspect.signature(func)
        names = [
            name
            for name, p in signature.parameters.items()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        bound: dict[str, ast.expr | str] = {
            name: p.default
            for name, p in signature.parameters.items()
            if isinstance(p.default, str)
        }
        for name, arg in zip(names, call.args, strict=False):
            bound[name] = arg
        for kw in call.keywords:
            if kw.arg:
                bound[kw.arg] = kw.value
        return bound

    def _instantiate(self, value: Any, bound: dict, params: set[str]) -> str | _Param | None:
        if not isinstance(value, _Param):
            return value
        arg = bound.get(value.name)
        if isinstance(arg, str):
            return arg
        return self._value(arg, params) if arg is not None else None


def raised_errors(handler: Any, view_class: type | None = None) -> Derived:
    """The errors ``handler`` (a view method, or any function) can answer, found by reading the
    functions it calls. ``view_class`` resolves ``self.x`` and ``type(self).x``. Functions of the
    project packages and of the handler's own package are followed."""
    func = _plain_function(handler)
    if func is None:
        return Derived(errors=set(), serializers=set())
    summary = _Walker(PROJECT_PACKAGES | {_package(func)}).summary(func, view_class)
    return Derived(errors=set(summary.errors), serializers=set(summary.serializers))
