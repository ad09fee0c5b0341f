"""Rebuild accounts/data/common-passwords.txt.gz, the list that accounts.passwords refuses.

Run by hand when a source changes, then commit the result (the portal never downloads anything):

    .venv/bin/pip download --no-deps zxcvbn==4.5.0 -d var/
    .venv/bin/python accounts/data/build_common_passwords.py var/zxcvbn-4.5.0-py2.py3-none-any.whl

Sources (both MIT licensed, so the merged list may be redistributed; see README.md beside this file):
- Django's own list, django/contrib/auth/common-passwords.txt.gz (20,000 passwords by Royce Williams);
- the 30,000 most common passwords of zxcvbn's `frequency_lists.py` (zxcvbn 4.5.0 on PyPI, a port of
  Dropbox's zxcvbn; the list is derived from Mark Burnett's 10 million leaked passwords).

The output is lower-cased (Django's CommonPasswordValidator compares lower-cased), sorted, one a line, and
gzipped without a timestamp, so the same sources give the same bytes.
"""

import ast
import gzip
import sys
import zipfile
from pathlib import Path

import django

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "common-passwords.txt.gz"


def django_list() -> set[str]:
    path = Path(django.__file__).parent / "contrib" / "auth" / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {line.strip() for line in f}


def zxcvbn_list(wheel: Path) -> set[str]:
    """The "passwords" frequency list, read from the wheel as data (parsed, never imported or run)."""
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("zxcvbn/frequency_lists.py").decode("utf-8")
    # FREQUENCY_LISTS = {"passwords": "123456,password,...".split(","), ...}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "passwords":
                    words = ast.literal_eval(value.func.value).split(",")  # type: ignore[attr-defined]
                    return {word.strip().lower() for word in words}
    raise SystemExit("the passwords list was not found in the wheel")


def main(wheel: str) -> None:
    words = sorted(w for w in django_list() | zxcvbn_list(Path(wheel)) if w)
    with OUTPUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words)} passwords written to {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1])
