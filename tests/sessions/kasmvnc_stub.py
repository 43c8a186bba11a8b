"""A stand-in for a KasmVNC workspace: HTTPS with a self-signed certificate, basic auth as
kasm_user with the session's VNC_PW, and RFB with VNC authentication behind /websockify."""

import base64
import datetime
import os
import ssl
import tempfile
from http import HTTPStatus

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.sessions.rfb_server import accept_with_vnc_auth, serve_in_background


def self_signed_context() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kasmvnc-stub")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory = tempfile.mkdtemp()
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def start_kasmvnc_stub(port: int, password: str) -> None:
    expected = "Basic " + base64.b64encode(f"kasm_user:{password}".encode()).decode()

    def check_request(connection, request):
        if request.headers.get("Authorization") != expected:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong credentials\n")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return connection.respond(HTTPStatus.OK, "KasmVNC client page\n")
        return None

    async def rfb(websocket):
        await accept_with_vnc_auth(websocket, password)
        async for message in websocket:
            await websocket.send(message)

    serve_in_background(rfb, port, ssl=self_signed_context(), process_request=check_request)
