"""Installation: `pip install ./python` into a --system-site-packages
virtual environment, offline, gives a package that carries its own
libminima.so; scripts/install_python.sh (what setup.sh runs) makes Debian's
python3 import this tree through a .pth file."""
import os
import shutil
import subprocess
import sys

import pytest

import minima

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = ("import minima, numpy as np; X, y = minima.generate('xor', n=50, noise=0.1); "
         "m = minima.Model('2-3-1', act='tanh', loss='squared'); t = m.init(3); "
         "print(minima.library_path); print(repr(m.loss(t, X, y)))")


def probe_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("MINIMA_LIBRARY", "PYTHONPATH")}
    env.update(extra)
    return env


def expected():
    X, y = minima.generate("xor", n=50, noise=0.1)
    m = minima.Model("2-3-1", act="tanh", loss="squared")
    return repr(m.loss(m.init(3), X, y))


def test_pip_install_into_a_venv_offline(tmp_path):
    venv = tmp_path / "venv"
    # README's commands: python3 -m venv --system-site-packages DIR; DIR/bin/pip install
    # --no-build-isolation --no-index ./python (with the network made unreachable)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    src = tmp_path / "src"           # a copy: the build must not write into the tree
    shutil.copytree(os.path.join(ROOT, "python"), src, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    env = probe_env(MINIMA_LIBRARY=minima.library_path, PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1",
                    http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", str(src)], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    out = subprocess.run([py, "-c", PROBE], env=probe_env(), cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lib, loss = out.stdout.split()
    assert lib.startswith(str(venv)) and lib.endswith("minima/libminima.so")
    assert loss == expected()


def test_setup_pth_file(tmp_path):
    site = tmp_path / "site"
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "install_python.sh"), str(site)], check=True,
                   capture_output=True)
    assert (site / "minima.pth").read_text().strip() == os.path.join(ROOT, "python")
    code = f"import site; site.addsitedir({str(site)!r}); " + PROBE
    out = subprocess.run(["/usr/bin/python3", "-c", code], env=probe_env(), cwd=tmp_path, capture_output=True,
                         text=True)
    if not os.path.exists(os.path.join(ROOT, "build", "libminima.so")):
        pytest.skip("no build/libminima.so in this tree (built elsewhere)")
    assert out.returncode == 0, out.stderr
    lib, loss = out.stdout.split()
    assert lib == os.path.join(ROOT, "build", "libminima.so") and loss == expected()
