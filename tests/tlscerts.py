"""Test certificates for TLS, made with the openssl CLI (Debian's openssl package)
once per session, and laid out as Docker lays them.

    certs = tls_certs              # session fixture (imported into conftest.py)
    certs.ca, certs.ca2            # two CAs (CN=sp-test-ca, CN=sp-other-ca)
    certs.server                   # SAN IP:127.0.0.1, DNS:localhost; EC P-256
    certs.server2                  # the same names, another key: a rotation's new cert
    certs.server_rsa               # RSA-2048 (PKCS#1 key file), same CA
    certs.client(name)             # client certificates by name, see CLIENTS (else CN=name)
    certs.proxy_dir(server=None, ca=...)   # ca.pem server-cert.pem server-key.pem
    certs.client_dir(client=None, ca=...)  # ca.pem cert.pem key.pem (DOCKER_CERT_PATH)

Each Cert has .cert .key (paths) .ca (its issuer) .pem (bytes) .fingerprint
(sha256 of the DER form, as ssl's getpeercert(binary_form=True) gives it)."""
import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile

import pytest

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

# name -> (subject, subjectAltName or None, issuer, key type, validity)
# "valid" certificates run from now to ten years on; "expired" ended in 2021, "future"
# begins in 2090.
CLIENTS = {
    "traefik": ("/CN=traefik", None, "ca", "ec", "valid"),
    "portainer": ("/O=example/CN=portainer", None, "ca", "ec", "valid"),
    "nobody": ("/CN=nobody", None, "ca", "ec", "valid"),
    # names by subject alternative name only (the CN matches nothing)
    "dns": ("/CN=some-agent", "DNS:agent.example.org", "ca", "ec", "valid"),
    "email": ("/CN=ops-person", "email:ops@example.org", "ca", "ec", "valid"),
    "uri": ("/CN=spiffe-workload", "URI:spiffe://example.org/dozzle", "ca", "ec", "valid"),
    "rsa": ("/CN=rsa-client", None, "ca", "rsa", "valid"),
    # names that must not pass for "traefik" or "agent.example.org"
    "wildcard": ("/CN=wild", "DNS:*.example.org", "ca", "ec", "valid"),
    "prefix": ("/CN=traefik-evil", "DNS:agent.example.org.evil", "ca", "ec", "valid"),
    "lookalike": ("/O=CN=traefik/OU=traefik/CN=someone", "email:traefik@example.org", "ca", "ec", "valid"),
    # the names of two profiles at once
    "both": ("/CN=traefik", "DNS:agent.example.org", "ca", "ec", "valid"),
    # refused: the right name, but expired, not yet valid, or from another CA
    "expired": ("/CN=traefik", None, "ca", "ec", "expired"),
    "future": ("/CN=traefik", None, "ca", "ec", "future"),
    "stranger": ("/CN=traefik", None, "ca2", "ec", "valid"),
}

DATES = {
    "valid": None,  # -days
    "expired": ("20200101000000Z", "20210101000000Z"),
    "future": ("20900101000000Z", "20910101000000Z"),
}

CA_CONF = """\
[ ca ]
default_ca = sp_ca
[ sp_ca ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/issued
serial = $dir/serial
default_md = sha256
policy = sp_policy
unique_subject = no
email_in_dn = yes
copy_extensions = none
[ sp_policy ]
organizationName = optional
commonName = optional
[ req ]
distinguished_name = sp_dn
prompt = no
[ sp_dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""

EXTENSIONS = """\
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
{client_san}
"""


def openssl(*args, cwd=None):
    r = subprocess.run([OPENSSL] + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr}")
    return r.stdout


def new_key(path, kind):
    """EC P-256 (PKCS#8 PEM), or RSA-2048 in the traditional PKCS#1 form
    ("BEGIN RSA PRIVATE KEY", what Docker's documented openssl steps gave)."""
    if kind == "ec":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    elif kind == "rsa":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path + ".p8")
        openssl("rsa", "-in", path + ".p8", "-traditional", "-out", path)
        os.unlink(path + ".p8")
    else:
        raise ValueError(kind)
    os.chmod(path, 0o600)


class Cert:
    def __init__(self, name, cert, key, ca):
        self.name = name
        self.cert = cert
        self.key = key
        self.ca = ca

    @property
    def pem(self):
        with open(self.cert, "rb") as f:
            return f.read()

    @property
    def der(self):
        return ssl.PEM_cert_to_DER_cert(self.pem.decode())

    @property
    def fingerprint(self):
        return hashlib.sha256(self.der).hexdigest()

    def __repr__(self):
        return f"<Cert {self.name} {self.cert}>"


class CA(Cert):
    """A self-signed CA that issues with `openssl ca` (explicit dates possible)."""

    def __init__(self, root, name, cn, kind="ec"):
        d = os.path.join(root, name)
        os.makedirs(os.path.join(d, "issued"))
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        self.dir = d
        self.conf = os.path.join(d, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write(CA_CONF.format(dir=d))
        key = os.path.join(d, "ca-key.pem")
        cert = os.path.join(d, "ca.pem")
        new_key(key, kind)
        openssl("req", "-config", self.conf, "-new", "-x509", "-key", key, "-subj", f"/CN={cn}", "-days", "3650",
                "-sha256", "-extensions", "v3_ca", "-out", cert)
        super().__init__(name, cert, key, None)

    def issue(self, name, subject, san=None, server=False, kind="ec", validity="valid"):
        base = os.path.join(self.dir, "issued", name)
        key, csr, cert, ext = base + "-key.pem", base + ".csr", base + "-cert.pem", base + ".cnf"
        new_key(key, kind)
        openssl("req", "-config", self.conf, "-new", "-utf8", "-key", key, "-subj", subject, "-out", csr)
        with open(ext, "w") as f:
            f.write(EXTENSIONS.format(san=san or "DNS:unused", client_san=f"subjectAltName = {san}" if san else ""))
        dates = DATES[validity]
        when = ["-startdate", dates[0], "-enddate", dates[1]] if dates else ["-days", "3650"]
        openssl("ca", "-config", self.conf, "-batch", "-notext", "-in", csr, "-cert", self.cert, "-keyfile", self.key,
                "-extfile", ext, "-extensions", "server" if server else "client", "-out", cert, *when)
        return Cert(name, cert, key, self)


class Certs:
    def __init__(self, root):
        self.root = root
        self.ca = CA(root, "ca", "sp-test-ca")
        self.ca2 = CA(root, "ca2", "sp-other-ca")
        san = "IP:127.0.0.1, DNS:localhost"
        self.server = self.ca.issue("server", "/CN=socket-proxy", san, server=True)
        self.server2 = self.ca.issue("server2", "/CN=socket-proxy", san, server=True)
        self.server_rsa = self.ca.issue("server-rsa", "/CN=socket-proxy-rsa", san, server=True, kind="rsa")
        self._clients = {}
        for name, (subject, csan, issuer, kind, validity) in CLIENTS.items():
            ca = self.ca if issuer == "ca" else self.ca2
            self._clients[name] = ca.issue("client-" + name, subject, csan, kind=kind, validity=validity)
        self._n = 0

    def client(self, name):
        """A client certificate of CLIENTS, or (made on first use) one of ca's
        with subject CN=name."""
        if name not in self._clients:
            self._clients[name] = self.ca.issue("client-" + name, f"/CN={name}")
        return self._clients[name]

    def _dir(self, prefix):
        self._n += 1
        d = os.path.join(self.root, "dirs", f"{prefix}-{self._n}")
        os.makedirs(d)
        return d

    def proxy_dir(self, server=None, ca="ca"):
        """A fresh directory as the proxy reads it (SOCKET_PROXY_TLS_DIR): ca.pem
        (left out with ca=None: server-only TLS), server-cert.pem, server-key.pem.
        Fresh each call: a test may change its files."""
        server = server or self.server
        d = self._dir("proxy")
        shutil.copy(server.cert, os.path.join(d, "server-cert.pem"))
        shutil.copy(server.key, os.path.join(d, "server-key.pem"))
        if ca:
            shutil.copy(getattr(self, ca).cert, os.path.join(d, "ca.pem"))
        return d

    def client_dir(self, client="traefik", ca="ca"):
        """A fresh directory as the docker CLI reads it (DOCKER_CERT_PATH): ca.pem
        (to verify the server), and cert.pem/key.pem unless client is None."""
        d = self._dir("client")
        shutil.copy(getattr(self, ca).cert, os.path.join(d, "ca.pem"))
        if client:
            c = self.client(client) if isinstance(client, str) else client
            shutil.copy(c.cert, os.path.join(d, "cert.pem"))
            shutil.copy(c.key, os.path.join(d, "key.pem"))
        return d


@pytest.fixture(scope="session")
def tls_certs():
    if not os.access(OPENSSL, os.X_OK):
        msg = f"{OPENSSL} missing (Debian package openssl): cannot make the test certificates"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    root = tempfile.mkdtemp(prefix="sp-tls-", dir="/tmp")
    try:
        yield Certs(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
