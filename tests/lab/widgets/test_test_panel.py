"""TestPanel against a live server with simulator providers, driven through its widgets."""

from __future__ import annotations

import pytest

from scope_lab.widgets import TestPanel
from scope_lab.widgets._outputs import format_cost
from tests.lab.widgets.conftest import WAIT_S, Lab, unique

# The simulator answers 500 on every call; Retry-After 0 keeps the server's retries quick.
FAILING = {"x-simulator-fault": "500", "x-simulator-retry-after": "0"}


def fields(panel: TestPanel) -> list[tuple[str, str]]:
    return [(box.description, type(box).__name__) for box in panel.variables.children]


def type_in(panel: TestPanel, **typed: str) -> None:
    """Type into the generated variable fields, as a user does."""
    for box in panel.variables.children:
        if box.description in typed:
            box.value = typed[box.description]


def test_run_compares_versions_on_targets_with_usage_and_cost(lab: Lab) -> None:
    name = lab.prompt("Say hi to {{ who }}", "Greet {{ who }} warmly")
    sim = lab.simulator()
    targets = [(sim, "sim-gpt-mini"), (sim, "sim-claude-haiku")]
    panel = lab.panel(name, versions=[1, 2], targets=targets)
    assert fields(panel) == [("who", "Text")]
    type_in(panel, who="Ada")
    lab.recorder.clear()

    panel.run_button.click()
    results = panel.wait(WAIT_S)

    assert [(e.version, e.provider, e.model, e.status) for e in results] == [
        (1, sim, "sim-gpt-mini", "succeeded"), (1, sim, "sim-claude-haiku", "succeeded"),
        (2, sim, "sim-gpt-mini", "succeeded"), (2, sim, "sim-claude-haiku", "succeeded")]
    assert {e.rendered["content"] for e in results} == {"Say hi to Ada", "Greet Ada warmly"}
    assert lab.posts("/executions") == 4
    stored = {e.id for e in lab.scope.executions.list(prompt=name)}
    assert stored == {e.id for e in results}

    for execution, cell in zip(results, panel.cells, strict=True):
        assert cell["output"] == execution.output
        assert execution.input_tokens
        assert execution.output_tokens
        assert execution.cost_usd is not None
        assert execution.cost_usd > 0
        assert (cell["input_tokens"], cell["latency_ms"], cell["cost_usd"]) == (
            execution.input_tokens, execution.latency_ms, execution.cost_usd)
        assert format_cost(execution.cost_usd) in panel.grid.value
    assert panel.grid.value.count('data-status="succeeded"') == 4
    assert (panel.message, panel.message_is_error) == ("4 of 4 done.", False)
    assert panel.busy.value == ""

    frame = panel.dataframe
    assert list(frame["version"]) == [1, 1, 2, 2]
    assert list(frame["target"].astype(str)) == [f"{sim}/sim-gpt-mini",
                                                 f"{sim}/sim-claude-haiku"] * 2
    assert frame["cost_usd"].sum() == pytest.approx(sum(e.cost_usd or 0 for e in results))


def test_the_form_follows_the_chosen_versions_and_keeps_what_was_typed(lab: Lab) -> None:
    name = lab.prompt("Hi {{ who }}",
                      "Hi {{ who }}: {% for t in topics %}{{ t }} {% endfor %}")
    panel = lab.panel(name, versions=[1])
    assert fields(panel) == [("who", "Text")]
    type_in(panel, who="Ada")

    panel.versions.value = (1, 2)
    assert fields(panel) == [("who", "Text"), ("topics", "Textarea")]  # a list: JSON
    assert panel.variables.children[0].value == "Ada"
    assert "scope-var-topics" in panel.variables.children[1]._dom_classes


def test_missing_or_unreadable_variables_stop_the_run_before_any_request(lab: Lab) -> None:
    name = lab.prompt("Hi {{ who }}", "{% for t in topics %}{{ t }}{% endfor %}")
    sim = lab.simulator()
    panel = lab.panel(name, versions=[1, 2], targets=[(sim, "sim-gpt-mini")])
    lab.recorder.clear()

    assert panel.run() == []
    assert panel.message_is_error
    assert panel.message == ("Cannot run: v1: missing variables: who; "
                             "v2: missing variables: topics")
    type_in(panel, who="Ada", topics="tea, cake")
    panel.run()
    assert panel.message.startswith("Cannot run: topics: not valid JSON")
    assert lab.recorder.sent == []
    assert panel.results == []


def test_a_provider_error_is_shown_in_its_cell_and_the_others_still_answer(lab: Lab) -> None:
    name = lab.prompt("Hi {{ who }}")
    good, bad = lab.simulator(), lab.simulator(FAILING)
    panel = lab.panel(name, versions=[1],
                      targets=[(good, "sim-gpt-mini"), (bad, "sim-gpt-mini")])
    panel.set_variables(who="Ada")
    panel.run()
    results = panel.wait(WAIT_S)

    ok, failed = panel.cells
    assert ok["status"] == "succeeded"
    assert failed["status"] == "failed"
    assert failed["error"] is not None
    assert "HTTP 500" in failed["error"]
    assert failed["output"] is None
    # The failed call was recorded by the server: it is among the results, with its id.
    assert [e.status for e in results] == ["succeeded", "failed"]
    assert failed["execution_id"] == results[1].id
    assert 'data-testid="scope-output-error"' in panel.grid.value
    assert (panel.message, panel.message_is_error) == ("2 of 2 done, 1 failed.", True)


def test_a_request_that_runs_nothing_is_a_readable_error_in_its_cell(lab: Lab) -> None:
    name = lab.prompt("Hi {{ who }}")
    sim = lab.simulator()
    panel = lab.panel(name, versions=[1], targets=[(sim, "sim-gpt-mini")])
    lab.scope.providers.delete(sim)  # someone removed it after the panel was opened
    panel.set_variables(who="Ada")
    panel.run()
    assert panel.wait(WAIT_S) == []

    [cell] = panel.cells
    assert cell["status"] == "error"
    assert cell["error"] is not None
    assert cell["error"].endswith("(404 not_found)")
    assert sim in cell["error"]
    assert "Traceback" not in panel.grid.value


def test_run_returns_at_once_and_cells_fill_in_when_answers_arrive(lab: Lab) -> None:
    name = lab.prompt("Hi {{ who }}")
    sim = lab.simulator()
    panel = lab.panel(name, versions=[1], targets=[(sim, "sim-gpt-mini")])
    panel.set_variables(who="Ada")
    lab.gate.hold("POST", "/executions")

    [future] = panel.run()
    assert lab.gate.arrived.wait(WAIT_S)  # the request is out; run() has returned
    assert not future.done()
    assert [c["status"] for c in panel.cells] == ["pending"]
    assert "running 1" in panel.busy.value
    assert panel.results == []
    assert panel.message == "0 of 1 done…"

    lab.gate.release()
    assert future.result(WAIT_S)["status"] == "succeeded"
    assert [e.status for e in panel.wait(WAIT_S)] == ["succeeded"]
    assert panel.busy.value == ""


def test_rerun_runs_one_target_again_and_leaves_the_others(lab: Lab) -> None:
    name = lab.prompt("Hi {{ who }}", "Hello {{ who }}")
    sim = lab.simulator()
    targets = [(sim, "sim-gpt-mini"), (sim, "sim-gemini-flash")]
    panel = lab.panel(name, versions=[1, 2], targets=targets)
    panel.set_variables(who="Ada")
    panel.run()
    before = {(e.version, e.model): e.id for e in panel.wait(WAIT_S)}
    assert [b.description for b in panel.reruns.children] == [
        f"rerun {sim}/sim-gpt-mini", f"rerun {sim}/sim-gemini-flash"]
    lab.recorder.clear()

    panel.reruns.children[1].click()
    after = {(e.version, e.model): e.id for e in panel.wait(WAIT_S)}

    assert lab.posts("/executions") == 2  # one per version, on that target only
    assert after[(1, "sim-gpt-mini")] == before[(1, "sim-gpt-mini")]
    assert after[(2, "sim-gpt-mini")] == before[(2, "sim-gpt-mini")]
    assert after[(1, "sim-gemini-flash")] != before[(1, "sim-gemini-flash")]
    assert after[(2, "sim-gemini-flash")] != before[(2, "sim-gemini-flash")]
    assert panel.rerun(sim, "sim-claude-haiku") == []
    assert panel.message == f"{sim}/sim-claude-haiku is not in the grid: run it first."


def test_nothing_chosen_or_an_unknown_prompt_is_a_message(lab: Lab) -> None:
    panel = lab.panel(lab.prompt("Hi"))
    assert panel.run() == []
    assert panel.message == "Choose at least one version and one target."

    missing = lab.panel(unique())
    assert missing.message_is_error
    assert missing.message.startswith("Could not load prompt ")
    assert missing.message.endswith("(404 not_found)")
    assert list(missing.versions.options) == []
