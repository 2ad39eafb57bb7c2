"""The syntax tree; each node evaluates itself (`ev(env)`) with M's semantics: lazy let bindings and record fields,
eager function arguments, short-circuit `and`/`or`, errors as `MError` exceptions."""

from __future__ import annotations

from typing import Any

from . import operators as ops
from .values import (
    MError,
    MFunction,
    MList,
    MRecord,
    MTable,
    MType,
    Thunk,
    call,
    expression_error,
    kind_of,
)


class Env:
    __slots__ = ("vars", "parent")

    def __init__(self, vars: dict[str, Any], parent: Env | None) -> None:
        self.vars = vars
        self.parent = parent

    def lookup(self, name: str, inclusive: bool = False) -> Any:
        env: Env | None = self
        while env is not None:
            v = env.vars.get(name, _MISSING)
            if v is not _MISSING:
                if type(v) is Skip:  # the binding's own name, seen from its own expression
                    env = env.parent if inclusive else v.outer
                    continue
                return v.get() if type(v) is Thunk else v
            env = env.parent
        raise expression_error(f"The name '{name}' wasn't recognized.  Make sure it's spelled correctly.", name)


_MISSING = object()


class Skip:
    """In the environment of a let binding's (or record field's) own expression, its own name: M leaves a
    binding out of its own scope (`x = x + 1` means the outer x); `@x` (inclusive) sees it."""

    __slots__ = ("outer",)

    def __init__(self, outer: Env | None) -> None:
        self.outer = outer


def _binding_thunk(name: str, node: Node, inner: Env) -> Any:
    if type(node) is Const:
        return node.value
    own = Env({name: Skip(inner.parent)}, inner)
    return Thunk(lambda: node.ev(own))


class Node:
    __slots__ = ()

    def ev(self, env: Env) -> Any:
        raise NotImplementedError


class Const(Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def ev(self, env: Env) -> Any:
        return self.value


class Ident(Node):
    __slots__ = ("name", "inclusive")

    def __init__(self, name: str, inclusive: bool = False) -> None:
        self.name = name
        self.inclusive = inclusive

    def ev(self, env: Env) -> Any:
        return env.lookup(self.name, self.inclusive)


def _thunk(node: Node, env: Env) -> Any:
    if type(node) is Const:
        return node.value
    return Thunk(lambda: node.ev(env))


class ListLit(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node]) -> None:
        self.items = items

    def ev(self, env: Env) -> Any:
        out: list[Any] = []
        for item in self.items:
            if type(item) is Range:
                lo, hi = item.lo.ev(env), item.hi.ev(env)
                if type(lo) is not int and not (type(lo) is float and lo.is_integer()):
                    raise expression_error("We cannot convert the value to type Number in a list range.")
                lo, hi = int(lo), int(hi)
                out.extend(range(lo, hi + 1))
            else:
                out.append(_thunk(item, env))
        return MList(out)


class Range(Node):
    __slots__ = ("lo", "hi")

    def __init__(self, lo: Node, hi: Node) -> None:
        self.lo, self.hi = lo, hi


class RecordLit(Node):
    __slots__ = ("fields",)

    def __init__(self, fields: list[tuple[str, Node]]) -> None:
        self.fields = fields

    def ev(self, env: Env) -> Any:
        inner = Env({}, env)
        for name, node in self.fields:
            if name in inner.vars:
                raise expression_error(f"The field '{name}' already exists in the record.")
            inner.vars[name] = _binding_thunk(name, node, inner)
        return MRecord(dict(inner.vars))


class Let(Node):
    __slots__ = ("bindings", "body")

    def __init__(self, bindings: list[tuple[str, Node]], body: Node) -> None:
        self.bindings, self.body = bindings, body

    def ev(self, env: Env) -> Any:
        inner = Env({}, env)
        for name, node in self.bindings:
            inner.vars[name] = _binding_thunk(name, node, inner)
        return self.body.ev(inner)


class If(Node):
    __slots__ = ("cond", "then", "other")

    def __init__(self, cond: Node, then: Node, other: Node) -> None:
        self.cond, self.then, self.other = cond, then, other

    def ev(self, env: Env) -> Any:
        c = self.cond.ev(env)
        if c is True:
            return self.then.ev(env)
        if c is False:
            return self.other.ev(env)
        return self.then.ev(env) if ops.logical(c) else self.other.ev(env)


class Param:
    __slots__ = ("name", "optional", "type")

    def __init__(self, name: str, optional: bool, type: TypeSpec | None) -> None:
        self.name, self.optional, self.type = name, optional, type


class FuncLit(Node):
    __slots__ = ("params", "ret", "body", "name")

    def __init__(self, params: list[Param], ret: TypeSpec | None, body: Node, name: str = "function") -> None:
        self.params, self.ret, self.body, self.name = params, ret, body, name

    def ev(self, env: Env) -> Any:
        params = self.params
        names = [p.name for p in params]
        ptypes = [p.type.ev(env) if p.type is not None else None for p in params]
        ret = self.ret.ev(env) if self.ret is not None else None
        body = self.body
        required = sum(1 for p in params if not p.optional)
        if any(p.optional for p in params[:required]):
            raise expression_error("An optional parameter is followed by a required one.")
        n = len(params)

        if n == 1 and ptypes[0] is None and ret is None:
            name0 = names[0]

            def invoke1(args: list[Any]) -> Any:
                return body.ev(Env({name0: args[0] if args else None}, env))

            invoke = invoke1
        else:

            def invoke(args: list[Any]) -> Any:
                values = {}
                for i in range(n):
                    v = args[i] if i < len(args) else None
                    t = ptypes[i]
                    if t is not None:
                        ops.assert_type(v, t if v is not None or not params[i].optional else MType("any"))
                    values[names[i]] = v
                result = body.ev(Env(values, env))
                return ops.assert_type(result, ret) if ret is not None else result

        ftype = MType(
            "function",
            params=[(p.name, t or MType("any"), p.optional) for p, t in zip(params, ptypes, strict=False)],
            ret=ret or MType("any"),
        )
        return MFunction(self.name, invoke, required, n, ftype)


class Each(Node):
    __slots__ = ("body",)

    def __init__(self, body: Node) -> None:
        self.body = body

    def ev(self, env: Env) -> Any:
        body = self.body

        def invoke(args: list[Any]) -> Any:
            return body.ev(Env({"_": args[0]}, env))

        return MFunction("each", invoke, 1, 1, MType("function", params=[("_", MType("any"), False)], ret=MType("any")))


class Call(Node):
    __slots__ = ("fn", "args")

    def __init__(self, fn: Node, args: list[Node]) -> None:
        self.fn, self.args = fn, args

    def ev(self, env: Env) -> Any:
        fn = self.fn.ev(env)
        return call(fn, [a.ev(env) for a in self.args])


class Field(Node):
    __slots__ = ("target", "name", "optional")

    def __init__(self, target: Node, name: str, optional: bool) -> None:
        self.target, self.name, self.optional = target, name, optional

    def ev(self, env: Env) -> Any:
        target = self.target.ev(env)
        t = type(target)
        if t is MRecord:
            if self.optional and self.name not in target.fields:
                return None
            return target.get(self.name)
        if t is MTable:  # a column as a list
            if self.optional and self.name not in target.columns:
                return None
            i = target.index(self.name)
            return MList([row[i] for row in target.rows])
        if target is None and self.optional:
            return None
        raise expression_error(
            f"We cannot apply field access to the type {ops.type_title(MType(kind_of(target)))}.",
            MRecord({"Value": target, "Key": self.name}),
        )


class Project(Node):
    __slots__ = ("target", "names", "optional")

    def __init__(self, target: Node, names: list[str], optional: bool) -> None:
        self.target, self.names, self.optional = target, names, optional

    def ev(self, env: Env) -> Any:
        target = self.target.ev(env)
        if type(target) is MRecord:
            out = {}
            for n in self.names:
                if n in target.fields:
                    out[n] = target.fields[n]
                elif self.optional:
                    out[n] = None
                else:
                    raise expression_error(f"The field '{n}' of the record wasn't found.", target)
            return MRecord(out)
        if type(target) is MTable:
            from .library.table import select_columns

            return select_columns(target, self.names, 2 if self.optional else 0)
        raise expression_error("We cannot apply field access to this value.", target)


class Item(Node):
    __slots__ = ("target", "index", "optional")

    def __init__(self, target: Node, index: Node, optional: bool) -> None:
        self.target, self.index, self.optional = target, index, optional

    def ev(self, env: Env) -> Any:
        target = self.target.ev(env)
        index = self.index.ev(env)
        t = type(target)
        if t is MList or t is MTable:
            if t is MTable and type(index) is MRecord:
                from .library.table import find_rows

                found = find_rows(target, index)
                if len(found) == 1:
                    return target.row_record(found[0])
                if not found and self.optional:
                    return None
                raise expression_error(
                    "The key didn't match any rows in the table."
                    if not found
                    else "The key matched more than one row in the table.",
                    MRecord({"Key": index, "Table": target}),
                )
            if not ops.is_number(index):
                raise expression_error(f"We cannot convert the value {ops.show_quoted(index)} to type Number.")
            if index < 0 or index != int(index):
                raise expression_error("The index must be a whole number, 0 or more.", index)
            n = len(target.items) if t is MList else len(target.rows)
            if index >= n:
                if self.optional:
                    return None
                raise expression_error("There weren't enough elements in the enumeration to complete the operation.")
            return target.get(int(index)) if t is MList else target.row_record(target.rows[int(index)])
        raise expression_error(
            f"We cannot apply operator {{}} to a value of type {ops.type_title(MType(kind_of(target)))}.",
            MRecord({"Value": target, "Index": index}),
        )


class Binary(Node):
    __slots__ = ("op", "a", "b")

    def __init__(self, op: str, a: Node, b: Node) -> None:
        self.op, self.a, self.b = op, a, b

    def ev(self, env: Env) -> Any:
        op = self.op
        a = self.a.ev(env)
        if op == "and":
            if a is False:
                return False
            if a is not True and a is not None:
                raise ops.cannot_apply("and", a, self.b.ev(env))
            b = self.b.ev(env)
            if type(b) is not bool and b is not None:
                raise ops.cannot_apply("and", a, b)
            if a is None:
                return False if b is False else None
            return b
        if op == "or":
            if a is True:
                return True
            if a is not False and a is not None:
                raise ops.cannot_apply("or", a, self.b.ev(env))
            b = self.b.ev(env)
            if type(b) is not bool and b is not None:
                raise ops.cannot_apply("or", a, b)
            if a is None:
                return True if b is True else None
            return b
        if op == "??":
            return a if a is not None else self.b.ev(env)
        b = self.b.ev(env)
        if op == "=":
            return ops.equals(a, b)
        if op == "<>":
            return not ops.equals(a, b)
        if op == "&":
            return ops.combine(a, b)
        if op in ("<", "<=", ">", ">="):
            return ops.compare(op, a, b)
        if op == "meta":
            from .library.values_lib import add_meta

            return add_meta(a, b)
        return ops.arith(op, a, b)


class Unary(Node):
    __slots__ = ("op", "a")

    def __init__(self, op: str, a: Node) -> None:
        self.op, self.a = op, a

    def ev(self, env: Env) -> Any:
        a = self.a.ev(env)
        if a is None:
            return None
        if self.op == "not":
            if type(a) is bool:
                return not a
            raise ops.cannot_apply("not", a)
        if ops.is_number(a) or kind_of(a) == "duration":
            return -a if self.op == "-" else a
        raise ops.cannot_apply(f"unary {self.op}", a)


class Is(Node):
    __slots__ = ("a", "type", "assert_")

    def __init__(self, a: Node, type: TypeSpec, assert_: bool) -> None:
        self.a, self.type, self.assert_ = a, type, assert_

    def ev(self, env: Env) -> Any:
        value = self.a.ev(env)
        t = self.type.ev(env)
        if self.assert_:
            return ops.assert_type(value, t)
        return ops.conforms(value, t)


class Try(Node):
    __slots__ = ("a", "otherwise", "catch")

    def __init__(self, a: Node, otherwise: Node | None, catch: Node | None) -> None:
        self.a, self.otherwise, self.catch = a, otherwise, catch

    def ev(self, env: Env) -> Any:
        try:
            value = self.a.ev(env)
        except MError as ex:
            if self.otherwise is not None:
                return self.otherwise.ev(env)
            if self.catch is not None:
                handler = self.catch.ev(env)
                return call(handler, [ex.record()] if handler.max_args else [])
            return MRecord({"HasError": True, "Error": ex.record()})
        if self.otherwise is not None or self.catch is not None:
            return value
        return MRecord({"HasError": False, "Value": value})


class Error(Node):
    __slots__ = ("a",)

    def __init__(self, a: Node) -> None:
        self.a = a

    def ev(self, env: Env) -> Any:
        value = self.a.ev(env)
        if type(value) is str:
            raise MError("Expression.Error", value)
        if type(value) is MRecord:
            from .library.errors import error_from_record

            raise error_from_record(value)
        raise expression_error("We cannot convert a value to an error: give a text or an error record.", value)


# --- Types -----------------------------------------------------------------------------------------------------


class TypeSpec(Node):
    __slots__ = ()


class PrimType(TypeSpec):
    __slots__ = ("t",)

    def __init__(self, kind: str, nullable: bool = False) -> None:
        self.t = MType(kind, nullable)

    def ev(self, env: Env) -> Any:
        return self.t


class Nullable(TypeSpec):
    __slots__ = ("inner",)

    def __init__(self, inner: Node) -> None:
        self.inner = inner

    def ev(self, env: Env) -> Any:
        t = _as_type(self.inner.ev(env))
        return t.copy(nullable=True)


class RecordType(TypeSpec):
    __slots__ = ("fields", "open")

    def __init__(self, fields: list[tuple[str, Node | None, bool]], open: bool) -> None:
        self.fields, self.open = fields, open

    def ev(self, env: Env) -> Any:
        fields = {
            n: (_as_type(spec.ev(env)) if spec is not None else MType("any"), optional)
            for n, spec, optional in self.fields
        }
        return MType("record", fields=fields, open=self.open)


class ListType(TypeSpec):
    __slots__ = ("item",)

    def __init__(self, item: Node) -> None:
        self.item = item

    def ev(self, env: Env) -> Any:
        return MType("list", item=_as_type(self.item.ev(env)))


class TableType(TypeSpec):
    __slots__ = ("row",)

    def __init__(self, row: Node) -> None:
        self.row = row

    def ev(self, env: Env) -> Any:
        row = _as_type(self.row.ev(env))
        return MType("table", fields=row.fields or {}, open=row.open)


class FunctionType(TypeSpec):
    __slots__ = ("params", "ret")

    def __init__(self, params: list[tuple[str, Node | None, bool]], ret: Node) -> None:
        self.params, self.ret = params, ret

    def ev(self, env: Env) -> Any:
        params = [(n, _as_type(spec.ev(env)) if spec is not None else MType("any"), o) for n, spec, o in self.params]
        return MType("function", params=params, ret=_as_type(self.ret.ev(env)))


class ExprType(TypeSpec):
    __slots__ = ("expr",)

    def __init__(self, expr: Node) -> None:
        self.expr = expr

    def ev(self, env: Env) -> Any:
        return _as_type(self.expr.ev(env))


def _as_type(value: Any) -> MType:
    if type(value) is MType:
        return value
    raise expression_error(f"We cannot convert a value of type {kind_of(value)} to type Type.", value)


__all__ = ["Env", "MList", "MTable"]
