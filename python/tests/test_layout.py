"""The struct and enum declarations cffi uses (minima/_lib.py, ABI mode)
agree with the C compiler's reading of the public headers: every field's
offset and size, every struct's size, every enum value."""
import os
import subprocess
import sys

import pytest

from minima._lib import ffi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_layouts_match_the_compiler(tmp_path):
    lines, want = [], []
    for name in sorted(ffi.list_types()[0]):       # typedef names
        t = ffi.typeof(name)
        if t.kind == "struct" and t.fields is not None:
            lines.append(f'printf("%zu\\n", sizeof({name}));')
            want.append(ffi.sizeof(t))
            for fname, f in t.fields:
                lines.append(f'printf("%zu %zu\\n", offsetof({name}, {fname}), sizeof((({name} *)0)->{fname}));')
                want.append(f"{f.offset} {ffi.sizeof(f.type)}")
        elif t.kind == "enum":
            for value, label in sorted(t.elements.items()):
                lines.append(f'printf("%d\\n", (int){label});')
                want.append(value)
    assert len(want) > 100
    src = tmp_path / "layout.c"
    src.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <minima.h>\n#include <minima/sweep.h>\n#include <minima/popul.h>\n"
                   "int main(void)\n{\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    exe = tmp_path / "layout"
    cc = subprocess.run(["cc", "-std=c11", "-I", os.path.join(ROOT, "include"), str(src), "-o", str(exe)],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")
    assert got[:-1] == [str(w) for w in want]
