"""A real DNS server on loopback (dnslib's, in a thread) serving the TXT records a test
publishes: DKIM keys, SPF and DMARC. Every other name is NXDOMAIN, at once."""

from __future__ import annotations

import base64
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):
    def __init__(self):
        self.records: dict[str, list[str]] = {}
        self.asked: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def txt(self, name: str, value: str) -> None:
        self.records.setdefault(name.lower().rstrip(".") + ".", []).append(value)

    def resolve(self, request, handler):
        reply = request.reply()
        name, qtype = str(request.q.qname).lower(), QTYPE[request.q.qtype]
        with self.lock:
            self.asked.append((name, qtype))
        values = self.records.get(name, []) if qtype == "TXT" else []
        for value in values:
            chunks = [value[i : i + 255] for i in range(0, len(value), 255)]
            reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
        if not values and name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply

    def serve(self) -> DNSServer:
        server = DNSServer(
            self,
            address="127.0.0.1",
            port=0,
            logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"),
        )
        server.start_thread()
        return server


def port_of(server: DNSServer) -> int:
    return server.server.server_address[1]


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def dkim_record(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
