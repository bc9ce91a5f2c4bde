"""Expression parser: Jinja's full expression grammar, kept only to refuse it precisely.

The subset allows bare names and ``name | default("text")``, but the server parses
every expression with Jinja's grammar before its allow-list runs.  Parsing the same
grammar here gives the same verdict (plain syntax error versus refused construct)
and the same node -- hence the same ``construct`` and ``line`` -- for anything a
user may type, e.g. ``a.b + 1`` is refused as ``operator '+'`` on the line where
``a`` starts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from scope_lab._template._stream import PToken, TokenStream, describe

_COMPARE = frozenset(["==", "!=", "<", "<=", ">", ">="])
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False, "none": None,
              "None": None}


class Expr(NamedTuple):
    """A parsed expression (a Jinja expression node, reduced to what errors need)."""

    kind: str  # name const getattr getitem slice call filter test binop unary concat ...
    line: int
    value: Any = None  # name, constant, attribute, filter/test name or operator
    node: Expr | None = None  # the operand of a postfix, filter, test or operator
    items: tuple[Expr | None, ...] = ()  # arguments, elements, right operands, slice parts
    extra: bool = False  # a call or filter has keyword or */** arguments


class ExpressionParser(TokenStream):
    """Recursive descent over the tokens of a template, one expression at a time."""

    def parse_tuple(self, *, simplified: bool = False, with_condexpr: bool = True,
                    explicit_parens: bool = False) -> Expr:
        """Expressions separated by commas: one expression, or a tuple.

        A tuple ends only before ``}}``, ``%}`` or ``)``.  Jinja 3.1 also takes
        "extra end rules" (``in`` for a ``for`` target) but never matches them, as
        it passes them to ``test_any`` as one tuple; so ``{% for in x %}`` reads
        ``in`` as the target, and the server's errors depend on that.
        """
        line = self.current.line
        items: list[Expr] = []
        is_tuple = False
        while True:
            if items:
                self.expect(",")
            if self.current.kind in ("variable_end", "block_end", ")"):
                break
            if simplified:
                items.append(self.parse_primary())
            else:
                items.append(self.parse_expression(with_condexpr=with_condexpr))
            if self.current.kind != ",":
                break
            is_tuple = True
            line = self.current.line
        if not is_tuple:
            if items:
                return items[0]
            if not explicit_parens:
                self.fail(f"expected an expression, got '{describe(self.current)}'")
        return Expr("tuple", line, items=tuple(items))

    def parse_expression(self, *, with_condexpr: bool = True) -> Expr:
        return self.parse_condexpr() if with_condexpr else self.parse_or()

    def parse_condexpr(self) -> Expr:
        line = self.current.line
        expr = self.parse_or()
        while self.skip_if("name", "if"):
            test = self.parse_or()
            orelse = self.parse_condexpr() if self.skip_if("name", "else") else None
            expr = Expr("condexpr", line, node=test, items=(expr, orelse))
            line = self.current.line
        return expr

    # The binary levels are written out rather than shared through a helper so that
    # one level of nesting costs as many Python frames as in Jinja: deeply nested
    # input then hits the recursion limit ("nested too deeply") at about the same
    # depth in both.

    def parse_or(self) -> Expr:
        line = self.current.line
        left = self.parse_and()
        while self.skip_if("name", "or"):
            left = Expr("binop", line, "or", left, (self.parse_and(),))
            line = self.current.line
        return left

    def parse_and(self) -> Expr:
        line = self.current.line
        left = self.parse_not()
        while self.skip_if("name", "and"):
            left = Expr("binop", line, "and", left, (self.parse_not(),))
            line = self.current.line
        return left

    def parse_not(self) -> Expr:
        if self.test("name", "not"):
            line = self.advance().line
            return Expr("unary", line, "not", self.parse_not())
        return self.parse_compare()

    def parse_compare(self) -> Expr:
        line = self.current.line
        expr = self.parse_math1()
        operators: list[str] = []
        operands: list[Expr] = []
        while True:
            if self.current.kind in _COMPARE:
                operators.append(self.advance().kind)
            elif self.skip_if("name", "in"):
                operators.append("in")
            elif self.test("name", "not") and self.look()[1:] == ("name", "in"):
                self.advance()
                self.advance()
                operators.append("not in")
            else:
                break
            operands.append(self.parse_math1())
            line = self.current.line
        if not operators:
            return expr
        return Expr("compare", line, operators[0], expr, tuple(operands))

    def parse_math1(self) -> Expr:
        line = self.current.line
        left = self.parse_concat()
        while self.current.kind in ("+", "-"):
            operator = self.advance().kind
            left = Expr("binop", line, operator, left, (self.parse_concat(),))
            line = self.current.line
        return left

    def parse_concat(self) -> Expr:
        line = self.current.line
        items = [self.parse_math2()]
        while self.skip_if("~"):
            items.append(self.parse_math2())
        return items[0] if len(items) == 1 else Expr("concat", line, items=tuple(items))

    def parse_math2(self) -> Expr:
        line = self.current.line
        left = self.parse_pow()
        while self.current.kind in ("*", "/", "//", "%"):
            operator = self.advance().kind
            left = Expr("binop", line, operator, left, (self.parse_pow(),))
            line = self.current.line
        return left

    def parse_pow(self) -> Expr:
        line = self.current.line
        left = self.parse_unary()
        while self.skip_if("**"):
            left = Expr("binop", line, "**", left, (self.parse_unary(),))
            line = self.current.line
        return left

    def parse_unary(self, with_filter: bool = True) -> Expr:
        kind, line = self.current.kind, self.current.line
        if kind in ("-", "+"):
            self.advance()
            node = Expr("unary", line, kind, self.parse_unary(False))
        else:
            node = self.parse_primary()
        node = self.parse_postfix(node)
        return self.parse_filter_expr(node) if with_filter else node

    def parse_primary(self) -> Expr:
        token = self.current
        if token.kind == "name":
            self.advance()
            if token.value in _CONSTANTS:
                return Expr("const", token.line, _CONSTANTS[token.value])
            return Expr("name", token.line, token.value)
        if token.kind in ("string", "integer", "float"):
            self.advance()
            return Expr("const", token.line, token.value)
        if token.kind == "(":
            self.advance()
            node = self.parse_tuple(explicit_parens=True)
            self.expect(")")
            return node
        if token.kind in ("[", "{"):
            return self.parse_collection()
        self.fail(f"unexpected '{describe(token)}'", token.line)

    def parse_collection(self) -> Expr:
        """A list ``[a, b]`` or a dict ``{k: v}`` literal (with optional trailing comma)."""
        opening = self.advance()
        closing = "]" if opening.kind == "[" else "}"
        items: list[Expr] = []
        while self.current.kind != closing:
            if items:
                self.expect(",")
            if self.current.kind == closing:
                break
            items.append(self.parse_expression())
            if closing == "}":
                self.expect(":")
                items.append(self.parse_expression())
        self.expect(closing)
        return Expr("list" if closing == "]" else "dict", opening.line, items=tuple(items))

    def parse_postfix(self, node: Expr) -> Expr:
        while True:
            if self.current.kind in (".", "["):
                node = self.parse_subscript(node)
            elif self.current.kind == "(":
                node = self.parse_call(node)
            else:
                return node

    def parse_filter_expr(self, node: Expr) -> Expr:
        while True:
            if self.current.kind == "|":
                node = self.parse_filter(node)
            elif self.test("name", "is"):
                node = self.parse_test(node)
            elif self.current.kind == "(":
                node = self.parse_call(node)
            else:
                return node

    def parse_subscript(self, node: Expr) -> Expr:
        token = self.advance()
        if token.kind == ".":
            attribute = self.advance()
            if attribute.kind == "name":
                return Expr("getattr", token.line, attribute.value, node)
            if attribute.kind != "integer":
                self.fail("expected name or number", attribute.line)
            index = Expr("const", attribute.line, attribute.value)
            return Expr("getitem", token.line, node=node, items=(index,))
        args: list[Expr] = []
        while self.current.kind != "]":
            if args:
                self.expect(",")
            args.append(self.parse_subscribed())
        self.expect("]")
        arg = args[0] if len(args) == 1 else Expr("tuple", token.line, items=tuple(args))
        return Expr("getitem", token.line, node=node, items=(arg,))

    def parse_subscribed(self) -> Expr:
        line = self.current.line
        parts: list[Expr | None] = []
        if self.skip_if(":"):
            parts.append(None)
        else:
            node = self.parse_expression()
            if not self.skip_if(":"):
                return node
            parts.append(node)
        ends = ("]", ",")
        if self.current.kind == ":":
            parts.append(None)
        else:
            parts.append(None if self.current.kind in ends else self.parse_expression())
        if self.skip_if(":"):
            parts.append(None if self.current.kind in ends else self.parse_expression())
        else:
            parts.append(None)
        return Expr("slice", line, items=tuple(parts))

    def parse_call_args(self) -> tuple[tuple[Expr, ...], bool]:
        """``( ... )``: the positional arguments, and whether there are any others."""
        line = self.expect("(").line
        args: list[Expr] = []
        extra = dyn_args = dyn_kwargs = has_kwargs = False
        while self.current.kind != ")":
            if args or extra:
                self.expect(",")
                if self.current.kind == ")":
                    break
            if self.current.kind in ("*", "**"):
                star = self.advance().kind == "*"
                if (dyn_args or dyn_kwargs) if star else dyn_kwargs:
                    self.fail("invalid syntax for function call expression", line)
                dyn_args, dyn_kwargs = dyn_args or star, dyn_kwargs or not star
                self.parse_expression()
            elif self.current.kind == "name" and self.look().kind == "=":
                if dyn_kwargs:
                    self.fail("invalid syntax for function call expression", line)
                self.advance()
                self.advance()
                self.parse_expression()
                has_kwargs = True
            else:
                if dyn_args or dyn_kwargs or has_kwargs:
                    self.fail("invalid syntax for function call expression", line)
                args.append(self.parse_expression())
            extra = dyn_args or dyn_kwargs or has_kwargs
        self.expect(")")
        return tuple(args), extra

    def parse_call(self, node: Expr) -> Expr:
        line = self.current.line
        args, extra = self.parse_call_args()
        return Expr("call", line, node=node, items=args, extra=extra)

    def _dotted_name(self) -> tuple[PToken, str]:
        token = self.expect("name")
        name = str(token.value)
        while self.skip_if("."):
            name += "." + str(self.expect("name").value)
        return token, name

    def parse_filter(self, node: Expr) -> Expr:
        while self.skip_if("|"):
            token, name = self._dotted_name()
            args: tuple[Expr, ...] = ()
            extra = False
            if self.current.kind == "(":
                args, extra = self.parse_call_args()
            node = Expr("filter", token.line, name, node, args, extra)
        return node

    def parse_test(self, node: Expr) -> Expr:
        line = self.advance().line
        negated = self.skip_if("name", "not")
        _, name = self._dotted_name()
        if self.current.kind == "(":
            self.parse_call_args()
        elif self.current.kind in ("name", "string", "integer", "float", "(", "[", "{") and not (
            self.current.kind == "name" and self.current.value in ("else", "or", "and")
        ):
            if self.test("name", "is"):
                self.fail("you cannot chain multiple tests with is")
            self.parse_postfix(self.parse_primary())
        node = Expr("test", line, name, node)
        return Expr("unary", line, "not", node) if negated else node
