"""Settings: environment, TOML file, defaults, and one clear message per invalid setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gennai.config import LOCAL_MODEL_NAME, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GENNAI_CONFIG", "GENNAI_MODELS", "GENNAI_DATABASE_URL", "GENNAI_DATA_DIR", "GENNAI_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_nothing_configured() -> None:
    settings = load_settings()
    assert [m.name for m in settings.models] == [LOCAL_MODEL_NAME]
    assert settings.models[0].provider == "local"
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("data/gennai.db")
    assert settings.redis_url is None


def test_models_from_environment_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GENNAI_MODELS",
        json.dumps(
            [
                {"name": "vllm", "provider": "openai-compatible", "model": "m", "base_url": "http://h/v1"},
                {"name": "local", "provider": "local"},
            ]
        ),
    )
    monkeypatch.setenv("GENNAI_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    settings = load_settings()
    assert [m.name for m in settings.models] == ["vllm", "local"]
    assert settings.effective_default_model == "vllm"
    assert settings.effective_database_url == "postgresql+asyncpg://u@h/db"


def test_toml_file_and_environment_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(
        'port = 9000\ndefault_model = "azure"\n'
        '[[models]]\nname = "azure"\nprovider = "azure-openai"\nmodel = "gpt-4o"\n'
        'base_url = "https://x.openai.azure.com"\napi_version = "2024-10-21"\napi_key_env = "AZ_KEY"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GENNAI_CONFIG", str(config))
    monkeypatch.setenv("AZ_KEY", "secret-from-env")
    monkeypatch.setenv("GENNAI_PORT", "9100")
    settings = load_settings()
    assert settings.port == 9100
    assert settings.models[0].resolved_api_key() == "secret-from-env"
    assert "secret-from-env" not in repr(settings)


EMBEDDER = '{"name": "e", "provider": "test", "kind": "embedding"}'


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GENNAI_PORT": "eighty"}, "GENNAI_PORT"),
        ({"GENNAI_MODELS": '[{"name": "x", "provider": "nope"}]'}, "GENNAI_MODELS[0].provider"),
        ({"GENNAI_MODELS": '[{"name": "x", "provider": "openai-compatible", "model": "m"}]'}, "needs base_url"),
        ({"GENNAI_MODELS": '[{"name": "a", "provider": "test"}, {"name": "a", "provider": "test"}]'}, "repeated: a"),
        (
            {"GENNAI_MODELS": '[{"name": "a", "provider": "openai", "model": "m", "api_key_env": "NOPE_X"}]'},
            "NOPE_X is not set",
        ),
        ({"GENNAI_DATABASE_URL": "mysql://x"}, "database_url must start with"),
        ({"GENNAI_DEFAULT_MODEL": "ghost"}, "default_model 'ghost'"),
        ({"GENNAI_MODELS": f"[{EMBEDDER}]"}, "at least one model must be a chat"),
        (
            {"GENNAI_MODELS": f'[{{"name": "c", "provider": "test"}}, {EMBEDDER}]', "GENNAI_DEFAULT_MODEL": "e"},
            "default_model 'e' is an embedding model",
        ),
        ({"GENNAI_MODELS": '[{"name": "x", "provider": "test", "kind": "vector"}]'}, "GENNAI_MODELS[0].kind"),
        ({"GENNAI_SURPRISE": "1"}, "GENNAI_SURPRISE"),
    ],
)
def test_invalid_settings_name_the_setting(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_settings()


def test_the_default_model_is_the_first_chat_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GENNAI_MODELS",
        json.dumps(
            [
                {"name": "vectors", "provider": "local", "kind": "embedding"},
                {"name": "local", "provider": "local"},
            ]
        ),
    )
    settings = load_settings()
    assert settings.effective_default_model == "local"
    assert [m.kind for m in settings.models] == ["embedding", "chat"]


def test_missing_config_file_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENNAI_CONFIG", "/nonexistent/gennai.toml")
    with pytest.raises(SettingsError, match="GENNAI_CONFIG: file not found"):
        load_settings()


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path / "d").effective_secret_key
    second = load_settings(data_dir=tmp_path / "d").effective_secret_key
    assert first == second and len(first) > 40
    assert oct((tmp_path / "d" / "secret_key").stat().st_mode)[-3:] == "600"
