"""A recursive-descent parser for M expressions (specification, "Consolidated grammar"), giving `nodes` trees."""

from __future__ import annotations

from typing import Any

from . import nodes as n
from .lexer import Token, syntax_error, tokens
from .values import PRIMITIVES

_PRIMITIVE_NAMES = frozenset(PRIMITIVES) - {"null", "type"} | {"null", "type"}


class _Backtrack(Exception):
    pass


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokens(text)
        self.i = 0

    # --- helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, value: str, kind: str | None = None) -> bool:
        t = self.tok
        return t.value == value and (kind is None or t.kind == kind) and t.kind in ("punct", "keyword", kind or "")

    def accept(self, value: str) -> bool:
        if self.at(value):
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> Token:
        if not self.at(value):
            raise self.error(f"expected '{value}', found {self.tok.value or 'end of text'!r}")
        t = self.tok
        self.i += 1
        return t

    def error(self, message: str) -> Exception:
        return syntax_error(self.text, self.tok.start, message)

    def ident(self) -> str:
        t = self.tok
        if t.kind != "ident":
            raise self.error(f"expected a name, found {t.value or 'end of text'!r}")
        self.i += 1
        return t.value

    # --- documents
    def document(self) -> n.Node:
        node = self.expression()
        if self.tok.kind != "eof":
            raise self.error(f"unexpected {self.tok.value!r} after the expression")
        return node

    def expression(self) -> n.Node:
        t = self.tok
        if t.kind == "keyword":
            v = t.value
            if v == "let":
                return self.let()
            if v == "if":
                self.i += 1
                c = self.expression()
                self.expect("then")
                a = self.expression()
                self.expect("else")
                return n.If(c, a, self.expression())
            if v == "each":
                self.i += 1
                return n.Each(self.expression())
            if v == "try":
                self.i += 1
                a = self.expression()
                if self.accept("otherwise"):
                    return n.Try(a, self.expression(), None)
                if self.accept("catch"):
                    return n.Try(a, None, self.function_or_paren(catch=True))
                return n.Try(a, None, None)
            if v == "error":
                self.i += 1
                return n.Error(self.expression())
        if t.kind == "punct" and t.value == "(":
            fn = self.try_function()
            if fn is not None:
                return fn
        return self.coalesce()

    def function_or_paren(self, catch: bool = False) -> n.Node:
        fn = self.try_function()
        if fn is None:
            raise self.error("expected a function (catch (e) => ...)")
        return fn

    def let(self) -> n.Node:
        self.expect("let")
        bindings = []
        while True:
            name = self.generalized_name(("=",))
            self.expect("=")
            value = self.expression()
            if isinstance(value, n.FuncLit):
                value.name = name
            bindings.append((name, value))
            if not self.accept(","):
                break
        self.expect("in")
        return n.Let(bindings, self.expression())

    def try_function(self) -> n.Node | None:
        start = self.i
        try:
            params = self.parameter_list()
            ret = None
            if self.accept("as"):
                ret = self.nullable_primitive_type()
            if not self.at("=>"):
                raise _Backtrack
            self.i += 1
        except _Backtrack:
            self.i = start
            return None
        except Exception:
            self.i = start
            return None
        return n.FuncLit(params, ret, self.expression())

    def parameter_list(self) -> list[n.Param]:
        if not self.accept("("):
            raise _Backtrack
        params: list[n.Param] = []
        if self.accept(")"):
            return params
        while True:
            optional = False
            if self.tok.kind == "ident" and self.tok.value == "optional" and self.peek().kind == "ident":
                optional = True
                self.i += 1
            if self.tok.kind != "ident":
                raise _Backtrack
            name = self.ident()
            ptype = None
            if self.accept("as"):
                ptype = self.nullable_primitive_type()
            params.append(n.Param(name, optional, ptype))
            if self.accept(")"):
                return params
            if not self.accept(","):
                raise _Backtrack

    def nullable_primitive_type(self) -> n.TypeSpec:
        nullable = False
        if self.tok.kind == "ident" and self.tok.value == "nullable":
            nullable = True
            self.i += 1
        t = self.tok
        if t.value in _PRIMITIVE_NAMES and t.kind in ("ident", "keyword"):
            self.i += 1
            return n.PrimType(t.value, nullable)
        raise self.error(f"expected a primitive type, found {t.value!r}")

    # --- operators, lowest first
    def coalesce(self) -> n.Node:
        a = self.logical_or()
        if self.accept("??"):
            return n.Binary("??", a, self.coalesce())
        return a

    def logical_or(self) -> n.Node:
        return self.binary(0)

    #: Left-associative binary operators, lowest precedence first (`is`/`as` take a type, not an operand).
    LEVELS: tuple[tuple[str, ...], ...] = (
        ("or",),
        ("and",),
        ("is",),
        ("as",),
        ("=", "<>"),
        ("<", "<=", ">", ">="),
        ("+", "-", "&"),
        ("*", "/"),
        ("meta",),
    )

    def binary(self, level: int) -> n.Node:
        if level == len(self.LEVELS):
            return self.unary()
        ops = self.LEVELS[level]
        a = self.binary(level + 1)
        while self.tok.kind in ("punct", "keyword") and self.tok.value in ops:
            op = self.tok.value
            self.i += 1
            if op in ("is", "as"):
                a = n.Is(a, self.nullable_primitive_type(), op == "as")
            else:
                a = n.Binary(op, a, self.binary(level + 1))
        return a

    def unary(self) -> n.Node:
        t = self.tok
        if t.kind == "punct" and t.value in ("+", "-"):
            self.i += 1
            operand = self.unary()
            if isinstance(operand, n.Const) and type(operand.value) in (int, float) and t.value == "-":
                return n.Const(-operand.value)
            return n.Unary(t.value, operand)
        if t.kind == "keyword" and t.value == "not":
            self.i += 1
            return n.Unary("not", self.unary())
        if t.kind == "keyword" and t.value == "type":
            self.i += 1
            return self.primary_type()
        return self.primary()

    # --- types
    def primary_type(self) -> n.Node:
        t = self.tok
        if t.kind == "ident" and t.value == "nullable":
            self.i += 1
            return n.Nullable(self.primary_type())
        if t.value == "table" and t.kind == "ident" and self.peek().value == "[":
            self.i += 1
            return n.TableType(self.row_type())
        if t.value == "function" and t.kind == "ident" and self.peek().value == "(":
            self.i += 1
            self.expect("(")
            params: list[tuple[str, n.Node | None, bool]] = []
            if not self.accept(")"):
                while True:
                    optional = False
                    if self.tok.value == "optional" and self.peek().kind == "ident":
                        optional = True
                        self.i += 1
                    name = self.ident()
                    spec = self.type_in_type() if self.accept("as") else None
                    params.append((name, spec, optional))
                    if self.accept(")"):
                        break
                    self.expect(",")
            self.expect("as")
            return n.FunctionType(params, self.type_in_type())
        if t.kind == "punct" and t.value == "[":
            return self.record_type()
        if t.kind == "punct" and t.value == "{":
            self.i += 1
            item = self.type_in_type()
            self.expect("}")
            return n.ListType(item)
        if t.value in _PRIMITIVE_NAMES and t.kind in ("ident", "keyword"):
            self.i += 1
            return n.PrimType(t.value)
        return n.ExprType(self.primary())

    def type_in_type(self) -> n.Node:
        """A type inside a type: a primary type, or a parenthesized expression (`(type text meta [...])`)."""
        if self.at("("):
            self.i += 1
            e = self.expression()
            self.expect(")")
            return n.ExprType(e)
        return self.primary_type()

    def row_type(self) -> n.Node:
        return self.record_type()

    def record_type(self) -> n.Node:
        self.expect("[")
        fields: list[tuple[str, n.Node | None, bool]] = []
        open_ = False
        if self.accept("]"):
            return n.RecordType(fields, False)
        while True:
            if self.accept("..."):
                open_ = True
                self.expect("]")
                break
            optional = False
            if self.tok.value == "optional" and self.peek().kind in ("ident", "keyword") and self.peek().value != "=":
                optional = True
                self.i += 1
            name = self.generalized_name(("=", ",", "]"))
            spec = self.type_in_type() if self.accept("=") else None
            fields.append((name, spec, optional))
            if self.accept("]"):
                break
            self.expect(",")
        return n.RecordType(fields, open_)

    # --- primary expressions
    def generalized_name(self, stops: tuple[str, ...]) -> str:
        """A generalized identifier (record field names, `[x]`): the words up to a stop token, spaces kept."""
        first = self.tok
        if first.kind == "ident" and self.text[first.start] == "#":
            self.i += 1
            return first.value
        if first.kind not in ("ident", "keyword", "number"):
            raise self.error(f"expected a name, found {first.value or 'end of text'!r}")
        last = first
        while True:
            self.i += 1
            t = self.tok
            if t.kind in ("ident", "keyword", "number") and not (t.kind == "keyword" and t.value in stops):
                last = t
                continue
            break
        return self.text[first.start : last.end]

    def primary(self) -> n.Node:
        node = self.primary_base()
        while True:
            t = self.tok
            if t.kind != "punct":
                return node
            if t.value == "(":
                self.i += 1
                args: list[n.Node] = []
                if not self.accept(")"):
                    while True:
                        args.append(self.expression())
                        if self.accept(")"):
                            break
                        self.expect(",")
                node = n.Call(node, args)
            elif t.value == "[":
                node = self.field_access(node)
            elif t.value == "{":
                self.i += 1
                index = self.expression()
                self.expect("}")
                node = n.Item(node, index, self.accept("?"))
            else:
                return node

    def field_access(self, target: n.Node) -> n.Node:
        self.expect("[")
        if self.at("["):  # projection [[a], [b]]
            names = []
            while True:
                self.expect("[")
                names.append(self.generalized_name(("]",)))
                self.expect("]")
                if self.accept("]"):
                    break
                self.expect(",")
            return n.Project(target, names, self.accept("?"))
        name = self.generalized_name(("]",))
        self.expect("]")
        return n.Field(target, name, self.accept("?"))

    def primary_base(self) -> n.Node:
        t = self.tok
        k = t.kind
        if k == "number":
            self.i += 1
            v = t.value
            if v[:2].lower() == "0x":
                return n.Const(int(v, 16))
            if "." in v or "e" in v or "E" in v:
                f = float(v)
                return n.Const(int(f) if f.is_integer() and abs(f) < 2**53 else f)
            return n.Const(int(v))
        if k == "text":
            self.i += 1
            return n.Const(t.value)
        if k == "ident":
            self.i += 1
            if t.value == "#infinity":
                return n.Const(float("inf"))
            if t.value == "#nan":
                return n.Const(float("nan"))
            return n.Ident(t.value)
        if k == "keyword":
            if t.value in ("true", "false"):
                self.i += 1
                return n.Const(t.value == "true")
            if t.value == "null":
                self.i += 1
                return n.Const(None)
            if t.value in ("let", "if", "each", "try", "error"):
                return self.expression()
        if k == "punct":
            v = t.value
            if v == "@":
                self.i += 1
                return n.Ident(self.ident(), True)
            if v == "(":
                fn = self.try_function()
                if fn is not None:
                    return fn
                self.i += 1
                e = self.expression()
                self.expect(")")
                return e
            if v == "[":
                return self.record_or_implicit()
            if v == "{":
                self.i += 1
                items: list[n.Node] = []
                if not self.accept("}"):
                    while True:
                        a = self.expression()
                        if self.accept(".."):
                            a = n.Range(a, self.expression())
                        items.append(a)
                        if self.accept("}"):
                            break
                        self.expect(",")
                return n.ListLit(items)
        raise self.error(f"unexpected {t.value or 'end of text'!r}")

    def record_or_implicit(self) -> n.Node:
        start = self.i
        self.expect("[")
        if self.accept("]"):
            return n.RecordLit([])
        if self.at("["):
            self.i = start
            return self.field_access(n.Ident("_"))
        self.generalized_name(("=", "]"))
        is_record = self.at("=")
        self.i = start
        if not is_record:
            return self.field_access(n.Ident("_"))
        self.expect("[")
        fields: list[tuple[str, n.Node]] = []
        while True:
            name = self.generalized_name(("=",))
            self.expect("=")
            value = self.expression()
            if isinstance(value, n.FuncLit):
                value.name = name
            fields.append((name, value))
            if self.accept("]"):
                break
            self.expect(",")
        return n.RecordLit(fields)


def parse(text: str) -> n.Node:
    return Parser(text).document()


__all__ = ["parse", "Any"]
