"""The server extension's proxy, over HTTP against real Jupyter and real Scope servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.jupyter import JupyterServer, run_jupyter
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jupyter(scope_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[JupyterServer]:
    with run_jupyter(tmp_path_factory.mktemp("jupyter"), scope_url=scope_server.base_url,
                     api_key=scope_server.api_key) as server:
        yield server


@pytest.fixture
def client(jupyter: JupyterServer, scope_server: LiveServer) -> Iterator[httpx.Client]:
    """A client signed in to Jupyter (not to Scope), with the good settings restored."""
    with httpx.Client(base_url=jupyter.url, headers=jupyter.headers(), timeout=30) as http:
        yield http
        http.post("/scope/settings", json={"base_url": scope_server.base_url,
                                           "api_key": scope_server.api_key})


def test_lists_prompts_with_scope_auth_added(client: httpx.Client) -> None:
    # The caller sends only Jupyter's token: the Bearer token Scope needs comes from the proxy.
    response = client.get("/scope/api/prompts", params={"tag": "support"})
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["data"]] == ["greeting"]
    assert response.json()["data"][0]["production_version"] == 1


def test_requires_jupyter_login(jupyter: JupyterServer) -> None:
    response = httpx.get(f"{jupyter.url}/scope/api/prompts", timeout=10)
    assert response.status_code == 403
    settings = httpx.get(f"{jupyter.url}/scope/settings", timeout=10)
    assert settings.status_code == 403


def test_key_never_returned(client: httpx.Client, scope_server: LiveServer) -> None:
    key = scope_server.api_key
    assert key is not None
    settings = client.get("/scope/settings")
    assert settings.json() == {"base_url": scope_server.base_url, "has_api_key": True}
    answers = [settings, client.get("/scope/api/me"), client.get("/scope/api/prompts"),
               client.post("/scope/settings", json={"api_key": key})]
    for answer in answers:
        assert key not in answer.text
        assert all(key not in value for value in answer.headers.values())


def test_post_is_forwarded_and_scope_errors_pass_through(client: httpx.Client) -> None:
    missing = client.get("/scope/api/prompts/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    # An illegal transition (v1 is already published) keeps Scope's 409 and message.
    conflict = client.post("/scope/api/prompts/greeting/versions/1/unarchive")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"


def test_forbidden_for_viewer_keeps_scope_body(client: httpx.Client,
                                               scope_server: LiveServer) -> None:
    created = httpx.post(f"{scope_server.base_url}/api/v1/api-keys",
                         json={"name": "panel-viewer", "role": "viewer"},
                         headers=scope_server.headers(), timeout=10)
    created.raise_for_status()
    client.post("/scope/settings", json={"api_key": created.json()["secret"]})
    assert client.get("/scope/api/me").json()["role"] == "viewer"
    response = client.post("/scope/api/prompts/farewell/versions/1/archive")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_bad_key_says_the_key_was_refused(client: httpx.Client) -> None:
    client.post("/scope/settings", json={"api_key": "not-a-real-key-" + "x" * 32})
    response = client.get("/scope/api/prompts")
    assert response.status_code == 401
    assert "Scope refused the API key" in response.json()["error"]["message"]


def test_unreachable_scope_is_a_502_with_a_message(client: httpx.Client) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    assert client.post("/scope/settings", json={"base_url": dead}).json()["base_url"] == dead
    response = client.get("/scope/api/prompts")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "scope_unreachable"
    assert dead in error["message"]


def test_settings_refuse_a_url_that_is_not_http(client: httpx.Client,
                                                scope_server: LiveServer) -> None:
    response = client.post("/scope/settings", json={"base_url": "file:///etc/passwd"})
    assert response.status_code == 400
    assert client.get("/scope/settings").json()["base_url"] == scope_server.base_url


def test_unconfigured_server_says_how_to_configure(tmp_path: Path) -> None:
    with run_jupyter(tmp_path) as jupyter:
        response = httpx.get(f"{jupyter.url}/scope/api/prompts", headers=jupyter.headers(),
                             timeout=10)
        settings = httpx.get(f"{jupyter.url}/scope/settings", headers=jupyter.headers(),
                             timeout=10)
    assert response.status_code == 503
    assert "SCOPE_BASE_URL" in response.json()["error"]["message"]
    assert settings.json() == {"base_url": None, "has_api_key": False}
