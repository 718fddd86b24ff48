"""TLS through the real FreeTDS ODBC driver (1.3): full encryption (Encryption=require), login-only
encryption (FreeTDS's default, "request"), none (Encryption=off), and certificate checks against the
simulator's test CA, which FreeTDS 1.3 only does from a freetds.conf server section (`ca file`): its ODBC
connection string has no key for a CA file."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unittest

from .support import LOGIN, PASSWORD, Simulator

from sim.tds import tls  # noqa: E402  (support puts the simulator on sys.path)


def encryption_of_last_login(sim: Simulator) -> str:
    logins = [line for line in sim.log().splitlines() if "| LOGIN " in line]
    assert logins, sim.log()
    return logins[-1].split("encryption=")[1].split()[0]


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="sim-tls-test-")
        cls.certs = os.path.join(cls.tmp, "certs")
        cls.sim = Simulator(extra=["--tls-dir", cls.certs])
        cls.sim.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def select_one(self, extra: str) -> int:
        import pyodbc
        c = pyodbc.connect(self.sim.conn_str() + ";" + extra, timeout=10)
        try:
            return c.cursor().execute("SELECT 1").fetchone()[0]
        finally:
            c.close()

    def test_certificates_are_made_once_and_chain_to_the_ca(self) -> None:
        files = tls.ensure_certificates(self.certs)
        r = subprocess.run(["openssl", "verify", "-CAfile", files["ca_pem"], files["server_pem"]],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", files["server_pem"]],
                             capture_output=True, text=True).stdout
        self.assertIn("IP Address:127.0.0.1", san)
        self.assertIn("DNS:localhost", san)

    def test_encryption_require_is_full_tls(self) -> None:
        self.assertEqual(self.select_one("Encryption=require"), 1)
        self.assertEqual(encryption_of_last_login(self.sim), "full")

    def test_freetds_default_request_encrypts_the_login_only(self) -> None:
        self.assertEqual(self.select_one(""), 1)
        self.assertEqual(encryption_of_last_login(self.sim), "login")

    def test_encryption_off_is_plain(self) -> None:
        self.assertEqual(self.select_one("Encryption=off"), 1)
        self.assertEqual(encryption_of_last_login(self.sim), "none")

    def test_large_answers_and_many_packets_through_tls(self) -> None:
        import pyodbc
        c = pyodbc.connect(self.sim.conn_str() + ";Encryption=require", timeout=10)
        try:
            rows = c.cursor().execute("/* dmvlog:selftest_rows 5000 */").fetchall()
        finally:
            c.close()
        self.assertEqual(len(rows), 5000)
        self.assertEqual(rows[4999][0], 5000)

    def _servername(self, ca_file: str) -> tuple[bool, str]:
        """Connect through a freetds.conf section that names ca_file; (connected, error text)."""
        import pyodbc
        conf = os.path.join(self.tmp, "freetds.conf")
        with open(conf, "w", encoding="ascii") as f:
            f.write(f"[sim]\n\thost = 127.0.0.1\n\tport = {self.sim.port}\n\ttds version = 7.4\n"
                    f"\tencryption = require\n\tca file = {ca_file}\n")
        old = os.environ.get("FREETDSCONF")
        os.environ["FREETDSCONF"] = conf
        try:
            c = pyodbc.connect(f"Driver=FreeTDS;Servername=sim;UID={LOGIN};PWD={PASSWORD}", timeout=10)
            c.cursor().execute("SELECT 1").fetchone()
            c.close()
            return True, ""
        except pyodbc.Error as e:
            return False, str(e)
        finally:
            if old is None:
                del os.environ["FREETDSCONF"]
            else:
                os.environ["FREETDSCONF"] = old

    def test_ca_file_of_the_simulator_is_trusted(self) -> None:
        ok, err = self._servername(os.path.join(self.certs, "ca.pem"))
        self.assertTrue(ok, err)
        self.assertEqual(encryption_of_last_login(self.sim), "full")

    def test_another_ca_is_refused(self) -> None:
        other = tls.make_certificates(os.path.join(self.tmp, "other"), ca_name="some other CA")
        ok, err = self._servername(other["ca_pem"])
        self.assertFalse(ok)
        self.assertIn("08001", err)
        self.assertIn("TLS handshake failed", self.sim.log())


if __name__ == "__main__":
    unittest.main()
