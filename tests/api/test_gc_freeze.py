"""``scope serve`` keeps its start-up objects out of the garbage collector's full passes."""

from __future__ import annotations

import gc
from pathlib import Path

from scope_api.app import create_app
from scope_api.config import Settings
from tests.conftest import JWT_KEY


async def test_start_up_objects_are_frozen_while_serving_and_released_after(
        tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scope.db'}",
                        data_dir=tmp_path / "data", jwt_keys=[JWT_KEY], gc_freeze=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000  # the app, its routes, every module
    assert gc.get_freeze_count() == 0


def test_the_test_suite_turns_it_off_for_its_in_process_apps() -> None:
    assert Settings().gc_freeze is False  # tests/conftest.py: SCOPE_GC_FREEZE=false
