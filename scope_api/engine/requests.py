"""From a stored version, variables and parameters to a provider request (or a 422).

Everything here runs before the provider is called and before anything is
recorded: a request that fails here leaves no trace but its error response.
:func:`prepare` is the whole path, for ``POST /executions`` and run cells alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scope_api import templating
from scope_api.errors import ValidationFailed
from scope_api.providers.adapters import adapter_for
from scope_api.providers.simulator.faults import LATENCY_HEADER
from scope_api.providers.types import (
    Adapter,
    CompletionRequest,
    Message,
    Parameters,
    ProviderConfig,
    ProviderError,
)
from scope_api.schemas.executions import ExecutionParameters
from scope_api.telemetry import ExecutionInfo

if TYPE_CHECKING:  # only a type here: building a request needs no database module
    from scope_api.engine.record import Target


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request to one target, rendered and checked: ready to call."""

    target: Target
    rendered: templating.Content
    request: CompletionRequest
    adapter: Adapter
    config: ProviderConfig  #: a simulator's ``latency_ms`` option already applied

    def rendered_record(self) -> dict[str, Any]:
        """What was asked, as the execution record keeps it (``rendered``)."""
        return {"content": self.rendered,
                "parameters": parameters_record(self.request.parameters)}

    def span_info(self, execution_id: str, tenant: str) -> ExecutionInfo:
        """What the execution's span says about the call."""
        target = self.target
        return ExecutionInfo(execution_id=execution_id, tenant=tenant,
                             prompt_name=target.prompt, prompt_version=target.version,
                             provider_name=target.provider, provider_kind=target.kind,
                             request=self.request, base_url=self.config.base_url)


def prepare(target: Target, *, model: str, variables: Mapping[str, Any],
            parameters: ExecutionParameters) -> Prepared:
    """Render ``target``'s version and build the request for ``model``: ``422`` for
    missing variables, a model the provider does not allow or an option it lacks, or
    provider options that cannot be used (saved before they were checked)."""
    if target.options_problem is not None:
        raise ValidationFailed(f"provider '{target.provider}': {target.options_problem}",
                               loc=["body", "provider"])
    rendered = render(target.content, variables)
    adapter = choose_adapter(kind=target.kind, provider=target.provider, model=model,
                             enabled_models=target.enabled_models)
    request = completion_request(model, rendered, parameters_of(parameters), adapter,
                                 provider=target.provider)
    config = simulator_config(target.config) if target.kind == "simulator" else target.config
    return Prepared(target, rendered, request, adapter, config)


def render(content: templating.Content, variables: Mapping[str, Any]) -> templating.Content:
    """The rendered content; ``422`` naming *every* missing variable at once."""
    try:
        return templating.render_content(content, variables)
    except templating.MissingVariablesError as exc:
        errors = [{"loc": ["body", "variables", name], "msg": f"missing variable '{name}'"}
                  for name in exc.names]
        names = ", ".join(exc.names)
        raise ValidationFailed(f"missing variables: {names}", errors=errors) from None
    except templating.RenderLimitError as exc:
        raise ValidationFailed(exc.message, loc=["body", "variables"]) from None
    except templating.TemplateValueError as exc:
        raise ValidationFailed(exc.message, loc=["body", "variables", exc.name]) from None
    except templating.TemplateError as exc:  # a stored template the renderer refuses
        raise ValidationFailed(f"the version cannot be rendered: {exc.message}",
                               loc=["body", "prompt"]) from None


def messages_of(rendered: templating.Content) -> tuple[Message, ...]:
    """A text prompt is one user message; chat content is its messages."""
    if isinstance(rendered, str):
        return (Message("user", rendered),)
    return tuple(Message(m["role"], m["content"]) for m in rendered)  # type: ignore[arg-type]


def parameters_of(body: ExecutionParameters) -> Parameters:
    stop = body.stop
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    return Parameters(temperature=body.temperature, max_tokens=body.max_tokens,
                      top_p=body.top_p, stop=stops, response_format=body.response_format)


def parameters_record(parameters: Parameters) -> dict[str, Any]:
    """The parameters that were set, as stored in ``rendered`` (JSON-ready)."""
    record: dict[str, Any] = {}
    for name in ("temperature", "max_tokens", "top_p", "response_format"):
        value = getattr(parameters, name)
        if value is not None:
            record[name] = value
    if parameters.stop:
        record["stop"] = list(parameters.stop)
    return record


def choose_adapter(*, kind: str, provider: str, model: str,
                   enabled_models: list[str]) -> Adapter:
    """The adapter for ``model`` on this provider; ``422`` if the model is not allowed."""
    if enabled_models and model not in enabled_models:
        raise ValidationFailed(
            f"model '{model}' is not enabled on provider '{provider}' (enabled: "
            f"{', '.join(enabled_models)})", loc=["body", "model"])
    try:
        return adapter_for(kind, model)
    except ProviderError as exc:  # e.g. a simulator model name without a known prefix
        raise ValidationFailed(exc.message, loc=["body", "model"]) from None


def completion_request(model: str, rendered: templating.Content, parameters: Parameters,
                       adapter: Adapter, *, provider: str) -> CompletionRequest:
    if parameters.response_format == "json" and not adapter.supports_json_mode:
        raise ValidationFailed(
            f"provider '{provider}' has no JSON mode for model '{model}': leave "
            "response_format unset or \"text\" and ask for JSON in the prompt",
            loc=["body", "parameters", "response_format"])
    return CompletionRequest(model=model, messages=messages_of(rendered),
                             parameters=parameters)


def simulator_config(config: ProviderConfig) -> ProviderConfig:
    """A simulator provider's config: its ``latency_ms`` option becomes the header.

    A ``simulator`` provider's ``options`` may hold ``headers`` (sent as they are:
    ``x-simulator-fault``, ``x-simulator-fail-times``, ``x-simulator-key``, …; see
    ``providers.simulator.faults``), ``latency_ms`` (extra latency per call) and
    ``timeout_s`` (like any provider).
    """
    latency = config.options.get("latency_ms")  # checked (providers.options)
    if latency is None:
        return config
    options = dict(config.options)
    options["headers"] = {**(options.get("headers") or {}), LATENCY_HEADER: f"{latency:g}"}
    return ProviderConfig(kind=config.kind, base_url=config.base_url, api_key=config.api_key,
                          options=options)
