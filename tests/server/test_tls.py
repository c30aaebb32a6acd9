"""HTTPS when a certificate is configured (``--tls-cert``/``--tls-key`` or ``QUANTA_TLS_CERT``/
``QUANTA_TLS_KEY``): a client verifying against the certificate reads rows, plain HTTP and a client
trusting another certificate are refused, and a bad certificate or key is said before serving."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from quanta.errors import ConfigError
from quanta.project import Mesh
from quanta.project.platform import Platform
from quanta.server.run import tls_files
from serving_mesh import PRINCIPALS, build, make_certificate, start_serve, write_mesh


@pytest.fixture(scope="module")
def mesh_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = write_mesh(tmp_path_factory.mktemp("tls") / "demo", rows=40)
    build(root)
    mesh = Mesh.load(root)
    platform = Platform.open(mesh.settings(), root)
    try:
        platform.add_principal(PRINCIPALS["ann"])
        token, _ = platform.create_token("ann")
    finally:
        platform.close()
        mesh.close()
    return root, token


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def test_https_with_the_certificate_from_the_command_line(mesh_root: tuple[Path, str], tmp_path: Path) -> None:
    root, token = mesh_root
    cert, key = make_certificate(tmp_path)
    other, _ = make_certificate(tmp_path, "other")
    process, url = start_serve(
        [str(root), "--tls-cert", str(cert), "--tls-key", str(key)], root.parent, verify=_trusting(cert)
    )
    try:
        assert url.startswith("https://")
        with httpx.Client(base_url=url, verify=_trusting(cert), headers={"Authorization": f"Bearer {token}"}) as c:
            rows = c.get("/api/v1/products/sales/orders/v1/rows", params={"limit": 3})
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url + "/api/v1/health", verify=_trusting(other))
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https://", "http://") + "/api/v1/health", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert rows.status_code == 200 and len(rows.json()["items"]) == 3
    assert "serving the catalog on https://127.0.0.1:" in stderr
    assert process.returncode == 0, stderr


def test_https_from_the_environment_with_the_key_in_the_certificate_file(
    mesh_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, token = mesh_root
    cert, key = make_certificate(tmp_path)
    both = tmp_path / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    process, url = start_serve([str(root)], root.parent, {"QUANTA_TLS_CERT": str(both)}, verify=_trusting(cert))
    try:
        response = httpx.get(
            url + "/api/v1/products/sales/orders/v1/rows/o-00007",
            verify=_trusting(cert),
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert response.status_code == 200 and response.json()["order_id"] == "o-00007"


def test_a_bad_certificate_or_key_is_said_before_serving(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    _, other_key = make_certificate(tmp_path, "other")
    _, locked = make_certificate(tmp_path, "locked", password=b"secret")
    assert tls_files(None, None) is None
    tls = tls_files(str(cert), str(key))
    assert tls is not None and tls.cert == cert.resolve() and tls.key == key.resolve()
    with pytest.raises(ConfigError, match="without a certificate"):
        tls_files(None, str(key))
    with pytest.raises(ConfigError, match="is not a file"):
        tls_files(str(tmp_path / "missing.crt"), str(key))
    with pytest.raises(ConfigError, match="could not be loaded"):
        tls_files(str(cert), str(other_key))  # not this certificate's key
    with pytest.raises(ConfigError, match="give --tls-key if apart"):
        tls_files(str(cert), None)  # the key is in another file
    with pytest.raises(ConfigError, match="encrypted"):
        tls_files(str(cert), str(locked))
    with pytest.raises(ConfigError, match="could not be loaded"):
        tls_files(str(key), str(cert))  # swapped


def test_the_cli_refuses_a_mismatched_key(mesh_root: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = mesh_root
    cert, _ = make_certificate(tmp_path)
    _, other_key = make_certificate(tmp_path, "other")
    result = subprocess.run(
        [sys.executable, "-m", "quanta", "serve", str(root), "--tls-cert", str(cert), "--tls-key", str(other_key)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "TLS: the certificate and key could not be loaded" in result.stderr
    assert "Traceback" not in result.stderr
