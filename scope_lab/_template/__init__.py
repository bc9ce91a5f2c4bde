"""Offline rendering of prompt templates, with exactly the server's results.

The template language (a small, strict subset of Jinja2) is defined in the
docstring of ``scope_api.templating`` and pinned down by the shared vectors in
``tests/vectors/templates.json``.  This package implements it in pure Python --
no Jinja2, which the SDK does not depend on -- and reproduces the server's
behaviour, down to which construct is refused on which line: the lexer, the
token scan, the parser and the allow-list follow the server's stages in order.

Templates are untrusted input: nothing here evaluates code.  The compiled form is
a tiny tree of text, names, ``if`` and ``for`` that a recursive evaluator walks;
values are only ever looked up by name, printed, tested for truth or iterated.

``compile_template`` caches compiled templates by source (LRU).
"""

from scope_lab._template._compiled import Template, compile_template
from scope_lab._template._content import Content, content_variables, render_content
from scope_lab._template._errors import (
    MissingVariablesError,
    TemplateError,
    TemplateSyntaxError,
    TemplateValueError,
)

__all__ = [
    "Content",
    "MissingVariablesError",
    "Template",
    "TemplateError",
    "TemplateSyntaxError",
    "TemplateValueError",
    "compile_template",
    "content_variables",
    "render_content",
]
