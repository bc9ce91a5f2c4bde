"""PromptEditor against a live server, driven as the browser drives it."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import TimeoutError as FutureTimeout

import pytest
from httpx_retries import Retry

import scope_lab
from scope_lab import Scope
from scope_lab.widgets import PromptEditor
from tests.lab.widgets.conftest import WAIT_S, Lab, from_browser, send_from_browser, unique
from tests.live import free_port


def test_typing_updates_highlight_variables_form_and_preview(lab: Lab) -> None:
    editor = lab.editor(unique(), create=True)
    assert (editor.source, editor.base_version, editor.versions) == ("", None, [])
    assert "save to create version 1" in editor.status

    from_browser(editor, source="Hi {{ name }}!\n{% for t in topics %}- {{ t }}\n{% endfor %}")
    assert editor.variables == ["name", "topics"]
    assert [s["kind"] for s in editor.segments] == [
        "text", "variable", "text", "tag", "text", "variable", "text", "tag"]
    assert [(f["name"], f["kind"]) for f in editor.fields] == [("name", "text"),
                                                               ("topics", "json")]
    assert editor.error is None
    assert editor.dirty
    assert editor.preview is None
    assert editor.preview_error == "missing variables: name, topics"

    from_browser(editor, preview_values={"name": "Ada", "topics": '["tea", "cake"]'})
    assert editor.preview == "Hi Ada!\n- tea\n- cake\n"
    assert editor.preview_error == ""

    from_browser(editor, preview_values={"name": "Ada", "topics": "tea"})
    assert editor.preview is None
    assert editor.preview_error.startswith("topics: not valid JSON")


def test_an_error_is_shown_at_its_place_and_the_form_survives_it(lab: Lab) -> None:
    editor = lab.editor(unique(), create=True)
    from_browser(editor, source="Dear {{ name }},")
    from_browser(editor, preview_values={"name": "Ada"})
    assert editor.preview == "Dear Ada,"

    from_browser(editor, source="Dear {{ name }},\n{{ name | upper }}")
    assert editor.error == {
        "message": "unsupported construct: filter 'upper' (line 2)", "line": 2,
        "construct": "filter 'upper'", "field": 0, "start": 17, "end": 35}
    [mark] = [s for s in editor.segments if s["kind"] == "error"]
    assert mark["text"] == "{{ name | upper }}"
    assert editor.preview is None
    assert editor.preview_error == "Fix the template error to see a preview."
    # The last good variables and what was typed for them stay while the error lasts.
    assert editor.variables == ["name"]
    assert editor.preview_values == {"name": "Ada"}

    from_browser(editor, source="Dear {{ name }},\n{{ sign }}")
    assert editor.error is None
    assert editor.variables == ["name", "sign"]
    assert editor.preview_error == "missing variables: sign"


def test_it_opens_the_latest_or_the_given_version(lab: Lab) -> None:
    chat = [{"role": "system", "content": "Be {{ tone }}."},
            {"role": "user", "content": "Hi {{ name }}"}]
    name = lab.prompt("Hello {{ name }}", chat)

    latest = lab.editor(name)
    assert (latest.mode, latest.messages, latest.source) == ("chat", chat, "")
    assert (latest.base_version, latest.versions, latest.dirty) == (2, [2, 1], False)
    assert latest.variables == ["tone", "name"]
    assert {s["field"] for s in latest.segments} == {0, 1}

    first = lab.editor(name, version=1)
    assert (first.mode, first.source, first.base_version) == ("text", "Hello {{ name }}", 1)


def test_chat_messages_are_checked_and_previewed_one_by_one(lab: Lab) -> None:
    editor = lab.editor(unique(), create=True, chat=True)
    assert editor.mode == "chat"
    from_browser(editor, messages=[{"role": "system", "content": "Be {{ tone }}."},
                                   {"role": "user", "content": "{{ q | trim }}"}])
    assert editor.error is not None
    assert editor.error["message"] == "messages[1]: unsupported construct: filter 'trim' (line 1)"
    assert editor.error["field"] == 1

    from_browser(editor, messages=[{"role": "system", "content": "Be {{ tone }}."},
                                   {"role": "user", "content": "{{ q }}"}])
    from_browser(editor, preview_values={"tone": "brief", "q": "Why?"})
    assert editor.preview == [{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": "Why?"}]


def test_switching_mode_keeps_the_words(lab: Lab) -> None:
    editor = lab.editor(unique(), create=True)
    from_browser(editor, source="Hi {{ name }}")
    from_browser(editor, mode="chat")
    assert editor.messages == [{"role": "user", "content": "Hi {{ name }}"}]
    assert editor.variables == ["name"]
    from_browser(editor, messages=[{"role": "system", "content": "A"},
                                   {"role": "user", "content": "B {{ x }}"}])
    from_browser(editor, mode="text")
    assert (editor.source, editor.messages, editor.variables) == ("A\n\nB {{ x }}", [], ["x"])


def test_save_from_the_browser_creates_a_version_with_its_message(lab: Lab) -> None:
    name = lab.prompt("Hello {{ name }}")
    editor = lab.editor(name)
    lab.recorder.clear()
    from_browser(editor, source="Hello {{ name }}, welcome back")
    from_browser(editor, preview_values={"name": "Ada"})
    assert editor.preview == "Hello Ada, welcome back"
    assert lab.recorder.sent == []  # highlighting and the preview are computed locally
    send_from_browser(editor, {"action": "save", "message": "warmer"})
    editor.wait(WAIT_S)

    [newest, _] = lab.scope.versions.list(name)
    assert (newest.number, newest.content, newest.message) == (
        2, "Hello {{ name }}, welcome back", "warmer")
    assert (editor.base_version, editor.versions, editor.dirty) == (2, [2, 1], False)
    assert (editor.status, editor.status_kind) == ("Saved as version 2.", "info")
    assert lab.posts(f"/prompts/{name}/versions") == 1


def test_a_refused_save_is_a_readable_message_and_creates_nothing(lab: Lab) -> None:
    name = lab.prompt("Hello {{ name }}")
    editor = lab.editor(name)
    from_browser(editor, source="{{ name | upper }}")
    future = editor.save("shout")
    with pytest.raises(scope_lab.ValidationError):
        future.result(WAIT_S)
    editor.wait(WAIT_S)
    assert editor.status_kind == "error"
    assert editor.status == ("Could not save: invalid template: unsupported construct: "
                             "filter 'upper' (line 1) (422 validation_error)")
    assert [v.number for v in lab.scope.versions.list(name)] == [1]
    assert (editor.base_version, editor.dirty) == (1, True)


def test_saving_runs_in_the_background_with_a_busy_indicator(lab: Lab) -> None:
    name = lab.prompt("v1")
    editor = lab.editor(name)
    from_browser(editor, source="v2")
    lab.gate.hold("POST", f"/prompts/{name}/versions")
    future = editor.save()
    # save() returned while the server has not answered: the kernel is free.
    assert lab.gate.arrived.wait(WAIT_S)
    assert not future.done()
    assert (editor.busy, editor.status) == (True, "Saving…")
    from_browser(editor, source="v2, edited meanwhile")  # the editor still answers
    assert editor.dirty

    lab.gate.release()
    assert future.result(WAIT_S).number == 2
    editor.wait(WAIT_S)
    assert editor.busy is False
    # What was saved is v2; the edit made while saving is still unsaved.
    assert (editor.base_version, editor.dirty) == (2, True)


def test_diff_against_a_saved_version_or_the_unsaved_content(lab: Lab) -> None:
    name = lab.prompt("Hi {{ name }}\nBye", "Hello {{ name }}\nBye")
    editor = lab.editor(name)
    send_from_browser(editor, {"action": "diff", "version": 1})
    editor.wait(WAIT_S)
    assert editor.diff == lab.scope.versions.diff(name, 1, 2).text
    assert (editor.diff_version, editor.status) == (1, "Compared with version 1.")

    from_browser(editor, source="Hello {{ name }}\nSee you")
    assert editor.compare(2).result(WAIT_S) == editor.diff
    assert editor.diff.splitlines() == [
        f"--- {name} v2", f"+++ {name} (unsaved)", "@@ -1,2 +1,2 @@",
        " Hello {{ name }}", "-Bye", "+See you"]


def test_a_missing_version_or_prompt_is_a_message_not_a_traceback(lab: Lab) -> None:
    name = lab.prompt("x")
    editor = lab.editor(name)
    with pytest.raises(scope_lab.NotFound):
        editor.compare(9).result(WAIT_S)
    editor.wait(WAIT_S)
    assert editor.status_kind == "error"
    assert editor.status.startswith("Could not compare with version 9: ")
    assert editor.status.endswith("(404 not_found)")

    missing = lab.editor(unique())
    assert missing.status_kind == "error"
    assert missing.status.startswith("Could not open the prompt: prompt ")
    assert "not found (404 not_found)" in missing.status


def test_load_from_the_browser_replaces_the_content(lab: Lab) -> None:
    name = lab.prompt("first {{ a }}", "second {{ b }}")
    editor = lab.editor(name)
    from_browser(editor, source="draft")
    send_from_browser(editor, {"action": "load", "version": 1})
    editor.wait(WAIT_S)
    assert (editor.source, editor.base_version, editor.dirty) == ("first {{ a }}", 1, False)
    assert editor.variables == ["a"]
    assert editor.status == "Opened version 1."


def test_unreadable_browser_requests_are_reported(lab: Lab) -> None:
    editor = lab.editor(lab.prompt("x"))
    send_from_browser(editor, {"action": "diff", "version": "latest"})
    assert (editor.status_kind, editor.status) == (
        "error", "The browser sent an unreadable 'diff' request.")
    send_from_browser(editor, {"action": "publish"})
    assert editor.status == "Unknown action from the browser: 'publish'"


def test_an_unreachable_server_is_a_message(lab: Lab) -> None:
    with Scope(f"http://127.0.0.1:{free_port()}", "key", retry=Retry(total=0)) as down:
        editor = PromptEditor(down, "greeting")
        try:
            assert editor.status_kind == "error"
            assert editor.status.startswith("Could not open the prompt: could not reach Scope")
            with pytest.raises(scope_lab.ConnectionError):
                editor.save("x").result(WAIT_S)
            assert editor.status.startswith("Could not save: could not reach Scope")
        finally:
            editor.close()


def test_the_front_end_ships_with_the_widget() -> None:
    # anywidget reads static/*.js and *.css when the class is defined.
    source, style = str(PromptEditor._esm), str(PromptEditor._css)
    assert "export default" in source
    for testid in ("scope-editor", "scope-variable", "scope-error", "scope-preview",
                   "scope-save", "scope-diff"):
        assert f'"{testid}"' in source
    assert ".scope-seg-error" in style


def test_importing_the_sdk_or_the_widgets_package_loads_no_widget_library() -> None:
    code = ("import sys, scope_lab, scope_lab.widgets; "
            "print(sorted(m for m in ('anywidget', 'ipywidgets') if m in sys.modules)); "
            "from scope_lab.widgets import PromptEditor; "
            "print('anywidget' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "True"]


def test_a_future_can_time_out_without_breaking_the_editor(lab: Lab) -> None:
    name = lab.prompt("a")
    editor = lab.editor(name)
    lab.gate.hold("GET", f"/prompts/{name}/versions/1")
    future = editor.load(1)
    with pytest.raises(FutureTimeout):
        future.result(0)
    with pytest.raises(TimeoutError):
        editor.wait(0)
    lab.gate.release()
    assert future.result(WAIT_S).number == 1
