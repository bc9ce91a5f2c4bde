"""Random templates rendered by the server's renderer, for the Ruby differential test.

Prints one JSON object per line: ``template``, ``variables`` and either ``expected``
(with ``inputs``, the template's input variables) or ``error`` (``type`` and the
fields the Ruby renderer must reproduce). Half the templates are drawn from the
valid subset only; the other half mix in refused constructs, broken tags and
stray delimiters. Run with the Python that has ``scope_api`` installed.
"""

from __future__ import annotations

import argparse
import json
import random
from typing import Any

from scope_api.templating import (
    MissingVariablesError,
    TemplateSyntaxError,
    TemplateValueError,
    render,
    validate,
)

NAMES = ["a", "b", "c", "x", "xs", "name", "items", "loop"]
GOOD_EXPRS = ["N", "N", "N", "N|default('d')", 'N | default("q")']
BAD_EXPRS = [
    "a.b", "a[0]", "a(1)", "a + b", "not a", "a if b else c", "'x'", "42", "1.5", "1e20", "(a)",
    "[1]", "{'a': 1}", "a | upper", "a|default(b)", "a is defined", "a,b", "", "a b", "café",
    "a|default('x')|upper", "-a", "a ~ b", "a[1:2:3]", "x.y.z()", "a == b", "a not in b", "True",
    "none", "a|default('}}')", "a.0", "{'a': {'b': 1}}", "a)", "a[", "'x' 'y'",
    "a|default('a\\\\b')", "x is not defined", "a and b or c", "a // b", "a ** 2", "a|d('x')",
    "a|default()", "a|default(default_value='x')", "a|default('x', true)", "(a, b)", "()",
    "a[:]", "a[b]['c']", "$", "a|f.g",
]
GOOD_TESTS = ["N", "N", "N"]
BAD_TESTS = ["a == b", "not a", "a is defined", "", "true", "a.b", "a,b", "a:", "(a)", "a if b"]
GOOD_LOOPS = ["x in N", "x in N", "N in N"]
BAD_LOOPS = ["a, b in xs", "x in xs if x", "x in xs recursive", "x in a.b", "true in xs", "x in",
             "x xs", "a.b in xs", "x in xs:"]
TEXT = ["a", " ", "\n", "\r\n", "\r", "{", "}", "%", "#", "ü", "{ {", "text", "-", "}}", "%}"]
BAD_TAGS = ["{% set x = 1 %}", "{% raw %}x{% endraw %}", "{% do x %}", "{# c #}",
            "{%+ if a %}x{% endif %}", "{% if a -%}x{% endif %}", "{% %}", "{% endif %}",
            "{% else %}", "{% endfor %}", "{{", "{%", "{#", "{{- a }}", "{{ a -}}\n"]
VALUES: list[Any] = [
    "", "s", "0", "ü🎉", 'q"b\\c\n\t\x01\x7f', "{{ y }}", "false", 0, 1, -7, 10**20, 2**63,
    0.0, -0.0, 0.5, 1e16, 1e15, 1e-5, 1e-4, 0.1 + 0.2, 123456789.123, 1e300, 5e-324, -1.5e-7,
    12345678901234567.0, True, False, None,
]


class Generator:
    """Draws templates and variables from one seeded random source."""

    def __init__(self, seed: int, clean: bool) -> None:
        self.rng = random.Random(seed)
        self.clean = clean

    def pick(self, good: list[str], bad: list[str]) -> str:
        choice = self.rng.choice(good if self.clean or self.rng.random() < 0.5 else bad)
        return choice.replace("N", self.rng.choice(NAMES))

    def body(self, depth: int) -> str:
        return "".join(self.piece(depth) for _ in range(self.rng.randrange(4)))

    def piece(self, depth: int) -> str:
        roll = self.rng.random()
        if roll < 0.25:
            return self.rng.choice(TEXT)
        if roll < 0.55:
            return "{{ " + self.pick(GOOD_EXPRS, BAD_EXPRS) + " }}"
        if roll < 0.62:
            return "x" if self.clean else self.rng.choice(BAD_TAGS)
        if depth > 3:
            return "z"
        if roll < 0.82:
            return self.conditional(depth)
        return self.loop(depth)

    def conditional(self, depth: int) -> str:
        text = "{% if " + self.pick(GOOD_TESTS, BAD_TESTS) + " %}" + self.body(depth + 1)
        for _ in range(self.rng.randrange(3)):
            text += "{% elif " + self.pick(GOOD_TESTS, BAD_TESTS) + " %}" + self.body(depth + 1)
        if self.rng.random() < 0.5:
            text += "{% else %}" + self.body(depth + 1)
        return text + self.end("{% endif %}", ["{% endfor %}", "{% endif x %}", ""])

    def loop(self, depth: int) -> str:
        text = "{% for " + self.pick(GOOD_LOOPS, BAD_LOOPS) + " %}" + self.body(depth + 1)
        return text + self.end("{% endfor %}", ["{% endif %}", "{% else %}y{% endfor %}", ""])

    def end(self, good: str, bad: list[str]) -> str:
        return good if self.clean or self.rng.random() < 0.9 else self.rng.choice(bad)

    def value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if roll < 0.6 or depth > 2:
            return self.rng.choice(VALUES)
        if roll < 0.8:
            return [self.value(depth + 1) for _ in range(self.rng.randrange(4))]
        keys = ["k", "ü", "a b", '"', "1"]
        return {self.rng.choice(keys): self.value(depth + 1) for _ in range(self.rng.randrange(3))}

    def case(self) -> dict[str, Any]:
        template = self.body(0)
        variables = {name: self.value() for name in NAMES if self.rng.random() < 0.6}
        case: dict[str, Any] = {"template": template, "variables": variables}
        try:
            case["expected"] = render(template, variables)
            case["inputs"] = validate(template)
        except TemplateSyntaxError as exc:
            case["error"] = {"type": "syntax", "construct": exc.construct, "line": exc.line,
                             "message": exc.message}
        except MissingVariablesError as exc:
            case["error"] = {"type": "missing_variables", "names": exc.names}
        except TemplateValueError as exc:
            case["error"] = {"type": "value", "name": exc.name, "message": exc.message}
        return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    for index in range(args.count):
        generator = Generator(args.seed * 1_000_003 + index, clean=index % 2 == 0)
        print(json.dumps(generator.case(), ensure_ascii=False))


if __name__ == "__main__":
    main()
