"""A real SMS gateway for tests: http.server on 127.0.0.1 in a thread, answering as
told, and recording every request it got (path, headers, body)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET = "a-test-secret-for-the-local-gateway-0123456789"


@dataclass
class Gateway:
    url: str
    status: int = 200
    delay: float = 0.0
    location: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            gateway.requests.append({"path": self.path, "headers": self.headers, "body": body})
            if gateway.delay:
                time.sleep(gateway.delay)
            self.send_response(gateway.status)
            if gateway.location:
                self.send_header("Location", gateway.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `requests` instead."""

    return Handler


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[Gateway]:
    """The gateway running and configured as the deployment's: plain http allowed for
    127.0.0.1 by the explicit setting, tiny timeouts so that a slow gateway is quick."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    port = server.server_address[1]
    gateway = Gateway(url=f"http://127.0.0.1:{port}/sms/send")
    server.RequestHandlerClass = _handler(gateway)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.MINYI_SMS_URL = gateway.url
    settings.MINYI_SMS_SECRET = SECRET
    settings.MINYI_SMS_ALLOW_LOOPBACK_HTTP = True
    settings.MINYI_SMS_CONNECT_TIMEOUT = 1.0
    settings.MINYI_SMS_READ_TIMEOUT = 0.3
    yield gateway
    server.shutdown()
    server.server_close()


def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens: a port taken and let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/sms/send"


def self_signed_cert(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no authority signed: files (cert, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_sms_gateway(sms_gateway: Gateway, tmp_path: Any, settings: Any) -> Iterator[Gateway]:
    """The same kind of gateway on https, with a certificate no authority signed."""
    import ssl

    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sms_gateway))
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed_cert(tmp_path))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.MINYI_SMS_URL = f"https://127.0.0.1:{server.server_address[1]}/sms/send"
    yield sms_gateway
    server.shutdown()
    server.server_close()
