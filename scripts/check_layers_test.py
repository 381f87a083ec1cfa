#!/usr/bin/env python3
"""scripts/check_layers.py passes on this checkout and catches each kind of back-edge planted in a copy."""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check_layers.py"


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="bucketpay-layers-"))
        shutil.copy(ROOT / "README.md", self.tmp / "README.md")
        keep = shutil.ignore_patterns("corpus", "*.json", "*.md")
        shutil.copytree(ROOT / "include", self.tmp / "include", ignore=keep)
        shutil.copytree(ROOT / "src", self.tmp / "src", ignore=keep)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check(self):
        return subprocess.run([sys.executable, str(CHECK), str(self.tmp)], capture_output=True, text=True)

    def plant(self, relative, line):
        path = self.tmp / relative
        path.write_text(path.read_text() + "\n" + line + "\n")

    def test_the_checkout_passes(self):
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("all downward", result.stdout)

    def test_a_public_header_of_a_higher_layer_is_caught(self):
        self.plant("src/store/sql_store.cpp", '#include "bucketpay/wallet.h"')
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("src/store/sql_store.cpp", result.stdout)
        self.assertIn("'store' includes \"bucketpay/wallet.h\" of 'wallet'", result.stdout)

    def test_a_private_header_of_a_higher_layer_is_caught(self):
        self.plant("src/engine/engine.cpp", '#include "service/codec.h"')
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("'engine' includes \"service/codec.h\", a private header of 'service'", result.stdout)

    def test_a_private_header_of_a_lower_layer_is_caught(self):
        self.plant("src/wallet/wallet.cpp", '#include "store/sql.h"')
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("'wallet' includes \"store/sql.h\", a private header of 'store'", result.stdout)

    def test_a_module_of_the_same_layer_is_caught(self):
        self.plant("src/devnet/devnet.cpp", '#include "bucketpay/wallet.h"')
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("'devnet' includes \"bucketpay/wallet.h\" of 'wallet'", result.stdout)

    def test_test_support_in_library_code_is_caught(self):
        self.plant("src/chain/rpc.cpp", '#include "testing/testing.h"')
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("includes test support", result.stdout)

    def test_tests_may_use_higher_layers(self):
        # poseidon2's tests check it against bb, a higher layer: only library code is held to the order.
        self.plant("src/poseidon2/poseidon2_test.cpp", '#include "bucketpay/bb.h"')
        self.assertEqual(self.check().returncode, 0)

    def test_a_module_the_readme_does_not_list_is_caught(self):
        readme = self.tmp / "README.md"
        readme.write_text(readme.read_text().replace(" <- `cli`", ""))
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("not listed ['cli']", result.stdout)

    def test_a_public_header_without_a_module_is_caught(self):
        (self.tmp / "include" / "bucketpay" / "orphan.h").write_text("#pragma once\n")
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("include/bucketpay/orphan.h: no module owns it", result.stdout)


if __name__ == "__main__":
    unittest.main()
