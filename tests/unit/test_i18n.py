"""Both interface languages carry every text."""

from gennai.web.i18n import catalogue, translate


def test_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("ja")) == set(catalogue("en"))


def test_translate_falls_back_visibly() -> None:
    assert translate("en", "chat.send") == "Send"
    assert translate("ja", "chat.send") == "送信"
    assert translate("en", "no.such.key") == "no.such.key"
