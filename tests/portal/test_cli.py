"""The portal's commands: API keys, webhook deliveries, the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from metering.cli import main
from metering.portal.openapi import document_text
from tests.portal.conftest import Env, provider


def test_api_key_create_list_revoke(env: Env, capsys) -> None:
    config = str(env.config.source_file)
    assert main(["api-key", "create", "-c", config, "--tenant", "acme", "--label", "erp"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("mk_")
    assert env.portal.keys.verify(key).tenant_id == "acme"
    assert main(["api-key", "list", "-c", config]) == 0
    listed = capsys.readouterr().out
    key_id = key.split("_")[1]
    assert key_id in listed and key not in listed  # the key itself is never shown again
    assert main(["api-key", "revoke", key_id, "-c", config]) == 0
    assert env.portal.keys.verify(key) is None
    assert main(["api-key", "create", "-c", config, "--tenant", "nobody"]) == 1
    assert main(["api-key", "create", "-c", config]) == 2  # neither --tenant nor --provider
    assert "no tenant 'nobody'" in capsys.readouterr().err


def test_openapi_option_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    assert main(["serve", "--openapi", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == document_text()


def test_webhook_deliveries_page_and_command(env: Env, capsys) -> None:
    assert main(["webhooks", "list", "-c", str(env.config.source_file)]) == 0
    page = provider(env).get("/provider/webhooks")
    assert page.status_code == 200 and 'id="deliveries"' in page.text
