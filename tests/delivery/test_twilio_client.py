"""The Twilio client reads the environment's proxy and CA settings once, when it is made."""

from assistant.delivery.backends import twilio as backend

URL = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages.json"


def _new_client(monkeypatch, account: str):
    monkeypatch.setattr(backend, "_clients", {})
    return backend._client(account, "token", 5.0, "https://api.twilio.com")


def test_a_proxy_and_a_ca_bundle_set_in_the_environment_are_used_for_every_call(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    session = _new_client(monkeypatch, "AC" + "1" * 32).http_client.session
    # What the library asks requests for each call: the settings read when it was made.
    monkeypatch.delenv("HTTPS_PROXY")
    settings = session.merge_environment_settings(URL, {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.example:3128"
    assert settings["verify"] == "/etc/ssl/certs/ca-certificates.crt"
    assert session.trust_env is False


def test_a_host_in_no_proxy_is_called_directly(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.twilio.com")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = _new_client(monkeypatch, "AC" + "2" * 32).http_client.session
    settings = session.merge_environment_settings(URL, {}, None, None, None)
    assert "https" not in settings["proxies"]
    assert settings["verify"] is True
