"""The client's resources against a real server: what a notebook user does with them."""

from __future__ import annotations

import uuid

import pytest

import scope_lab
from scope_lab import Scope
from tests.live import LiveServer


def unique(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_prompt_lifecycle_through_versions_promotion_history_and_diff(scope: Scope) -> None:
    name = unique()
    created = scope.prompts.create(name, description="greets", tags=["demo"])
    assert created.name == name
    assert created.production_version is None

    v1 = scope.versions.create(name, "Hello {{ name }}!", message="first")
    v2 = scope.versions.create(name, [{"role": "system", "content": "Be {{ tone }}."},
                                      {"role": "user", "content": "Hi {{ name }}"}])
    assert (v1.number, v1.status, v1.variables) == (1, "draft", ["name"])
    assert v2.number == 2
    assert v2.variables == ["tone", "name"]

    promoted = scope.versions.promote(name, 1, reason="launch")
    assert promoted.status == "published"
    scope.versions.promote(name, 2)
    assert scope.versions.retrieve(name, 1).status == "archived"
    assert scope.prompts.retrieve(name).production_version == 2
    assert scope.versions.production(name).number == 2

    history = list(scope.versions.history(name))
    assert [(h.version, h.previous_version) for h in history] == [(2, 1), (1, None)]
    assert history[1].reason == "launch"

    diff = scope.versions.diff(name, 1, 2)
    assert diff.changed
    assert diff.added_variables == ["tone"]
    assert diff.removed_variables == []
    assert "-Hello {{ name }}!" in diff.text
    assert "+Be {{ tone }}." in diff.text

    assert scope.versions.unarchive(name, 1).status == "draft"
    assert scope.versions.archive(name, 1).status == "archived"
    assert [v.number for v in scope.versions.list(name, status="archived")] == [1]

    updated = scope.prompts.update(name, description="says hello")
    assert updated.description == "says hello"
    assert updated.tags == ["demo"]
    scope.prompts.delete(name)
    with pytest.raises(scope_lab.NotFound):
        scope.prompts.retrieve(name)


def test_lists_iterate_over_every_page_lazily(scope: Scope) -> None:
    tag = unique("tag")
    names = {scope.prompts.create(unique(), tags=[tag]).name for _ in range(5)}
    assert {p.name for p in scope.prompts.list(tag=tag)} == names
    assert len(list(scope.prompts.list(tag=tag, limit=3))) == 3

    # More versions than one page of the API (200) arrive through the iterator.
    name = unique()
    scope.prompts.create(name)
    for i in range(205):
        scope.versions.create(name, f"v{i}")
    numbers = [v.number for v in scope.versions.list(name)]
    assert numbers == list(range(205, 0, -1))


def test_errors_form_one_tree_with_status_code_and_request_id(scope: Scope,
                                                              live: LiveServer) -> None:
    with pytest.raises(scope_lab.NotFound) as missing:
        scope.prompts.retrieve("no-such-prompt")
    error = missing.value
    assert isinstance(error, scope_lab.APIError)
    assert isinstance(error, scope_lab.ScopeError)
    assert (error.status, error.code) == (404, "not_found")
    assert "no-such-prompt" in error.message
    assert error.request_id

    name = unique()
    scope.prompts.create(name)
    with pytest.raises(scope_lab.Conflict):
        scope.prompts.create(name)
    with pytest.raises(scope_lab.ValidationError) as invalid:
        scope.prompts.create("Not A Valid Name")
    assert invalid.value.errors
    assert invalid.value.errors[0]["loc"][-1] == "name"
    with pytest.raises(scope_lab.ValidationError) as bad_template:
        scope.versions.create(name, "{{ name | upper }}")
    assert "filter 'upper'" in bad_template.value.message


def test_roles_and_api_keys(scope: Scope, live: LiveServer) -> None:
    viewer_key = scope.api_keys.create(unique("viewer"), role="viewer")
    assert viewer_key.secret not in repr(viewer_key)
    with Scope(live.base_url, viewer_key.secret) as viewer:
        me = viewer.me()
        assert me.role == "viewer"
        assert me.api_key is not None
        assert me.api_key.id == viewer_key.id
        with pytest.raises(scope_lab.Forbidden):
            viewer.prompts.create(unique())
        assert any(k.id == viewer_key.id for k in scope.api_keys.list())
        scope.api_keys.revoke(viewer_key.id)
    # A revoked key cannot get a token any more.
    with Scope(live.base_url, viewer_key.secret) as revoked, \
            pytest.raises(scope_lab.Unauthenticated):
        revoked.me()


def test_users_are_managed_by_admins(scope: Scope) -> None:
    email = f"{unique('ada')}@example.com"
    user = scope.users.create(email, role="editor")
    assert scope.users.update(user.id, role="viewer").role == "viewer"
    assert email in {u.email for u in scope.users.list()}
    scope.users.delete(user.id)
    assert email not in {u.email for u in scope.users.list()}


def test_execute_on_the_simulator_and_read_executions_and_traces(scope: Scope) -> None:
    provider = unique("sim")
    scope.providers.create(provider, "simulator")
    model = next(iter(scope.models.list(provider=provider))).model
    name = unique()
    scope.prompts.create(name)
    scope.versions.create(name, "Say hi to {{ who }}")
    scope.versions.promote(name, 1)

    execution = scope.executions.create(name, provider=provider, model=model,
                                        variables={"who": "Ada"})
    assert execution.status == "succeeded"
    assert execution.version == 1
    assert execution.output
    assert execution.input_tokens
    assert execution.cost_usd is not None
    assert scope.executions.retrieve(execution.id) == execution
    assert [e.id for e in scope.executions.list(prompt=name)] == [execution.id]
    frame = scope.executions.to_dataframe(prompt=name)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["id"], row["model"], row["status"]) == (execution.id, model, "succeeded")
    assert row["cost_usd"] == pytest.approx(execution.cost_usd)
    spans = scope.traces.retrieve(execution.trace_id)
    assert [s.span_id for s in spans] == [execution.span_id]
    assert any(s.trace_id == execution.trace_id for s in scope.traces.list(prompt=name))
    health = scope.health()  # the live server has no collector: nothing to lose
    assert (health["status"], health["spans"]["exporting"], health["spans"]["dropped"]) \
        == ("ok", False, 0)

    with pytest.raises(scope_lab.ValidationError) as missing:
        scope.executions.create(name, provider=provider, model=model, version=1)
    assert "who" in missing.value.message


def test_providers_never_return_their_key(scope: Scope) -> None:
    name = unique("openai")
    provider = scope.providers.create(name, "openai", api_key="sk-test-0123456789abcd")
    assert provider.has_api_key
    assert provider.api_key_hint == "…abcd"
    assert "0123456789" not in provider.model_dump_json()
    updated = scope.providers.update(name, enabled_models=["gpt-4o-mini"])
    assert updated.enabled_models == ["gpt-4o-mini"]
    assert updated.has_api_key
    assert scope.providers.update(name, api_key="sk-new-key-000wxyz").api_key_hint == "…wxyz"
    with pytest.raises(scope_lab.ValidationError, match="needs an api_key"):
        scope.providers.update(name, api_key=None)
    scope.providers.delete(name)
    with pytest.raises(scope_lab.NotFound):
        scope.providers.retrieve(name)


def test_missing_configuration_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCOPE_BASE_URL", raising=False)
    monkeypatch.delenv("SCOPE_API_KEY", raising=False)
    with pytest.raises(scope_lab.ConfigurationError, match="SCOPE_BASE_URL"):
        Scope()
    with pytest.raises(scope_lab.ConfigurationError, match="SCOPE_API_KEY"):
        Scope("http://127.0.0.1:1")


def test_environment_variables_configure_the_client(monkeypatch: pytest.MonkeyPatch,
                                                    live: LiveServer) -> None:
    monkeypatch.setenv("SCOPE_BASE_URL", live.base_url + "/api/v1/")
    monkeypatch.setenv("SCOPE_API_KEY", live.api_key or "")
    with Scope() as client:
        assert client.me().role == "admin"
