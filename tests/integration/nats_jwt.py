"""Mints NATS decentralised-auth credentials for tests: an operator, an account with JetStream
and a user, as nkeys (Ed25519) and JWTs signed the way nats-server checks them (nkeys' base32
encoding with a CRC-16, JWT header {"typ": "JWT", "alg": "ed25519-nkey"}). Writes a server
config fragment (operator mode, memory resolver) and the user's .creds file."""
import base64
import json
import os
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PREFIX = {"operator": 14 << 3, "account": 0, "user": 20 << 3}
SEED = 18 << 3


def _crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _b32(raw):
    raw = raw + _crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class NKey:
    def __init__(self, kind):
        self.kind = kind
        self.key = Ed25519PrivateKey.generate()
        seed = self.key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption())
        pub = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        p = PREFIX[kind]
        self.public = _b32(bytes([p]) + pub)
        self.seed = _b32(bytes([SEED | (p >> 5), (p & 31) << 3]) + seed)

    def sign_jwt(self, subject, name, nats):
        header = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
        claims = {"jti": _b64(os.urandom(24)), "iat": int(time.time()), "iss": self.public,
                  "name": name, "sub": subject.public, "nats": nats}
        body = header + "." + _b64(json.dumps(claims).encode())
        return body + "." + _b64(self.key.sign(body.encode()))


def mint(directory, user_name="shoal"):
    """Writes DIR/auth.conf (include it in a server config) and DIR/<user_name>.creds (mode 0600).
    Returns the creds path."""
    op, acct, user, system = NKey("operator"), NKey("account"), NKey("user"), NKey("account")
    op_jwt = op.sign_jwt(op, "shoal-test-operator", {"type": "operator", "version": 2})
    unlimited = {k: -1 for k in ("subs", "data", "payload", "imports", "exports", "conn", "leaf",
                                 "mem_storage", "disk_storage", "streams", "consumer")}
    acct_jwt = op.sign_jwt(acct, "shoal-test-account",
                           {"limits": dict(unlimited, wildcards=True), "type": "account", "version": 2})
    # JetStream needs the server's system account.
    sys_jwt = op.sign_jwt(system, "SYS", {"limits": {k: -1 for k in ("subs", "data", "payload", "imports",
                                                                   "exports", "conn", "leaf")},
                                          "type": "account", "version": 2})
    user_jwt = acct.sign_jwt(user, user_name,
                             {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                              "type": "user", "version": 2})
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "operator.jwt"), "w") as f:
        f.write(op_jwt)
    with open(os.path.join(directory, "auth.conf"), "w") as f:
        f.write(f'operator: "{os.path.join(directory, "operator.jwt")}"\n'
                f'system_account: {system.public}\nresolver: MEMORY\n'
                f'resolver_preload: {{ {acct.public}: "{acct_jwt}", {system.public}: "{sys_jwt}" }}\n')
    creds = os.path.join(directory, f"{user_name}.creds")
    with open(os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(f"-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n"
                f"-----BEGIN USER NKEY SEED-----\n{user.seed}\n------END USER NKEY SEED------\n")
    return creds
