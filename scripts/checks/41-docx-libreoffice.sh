#!/usr/bin/env bash
# Opens a Word file written by crates/docx (the workspace's .docx export) with LibreOffice
# Writer (converted to text) and with python-docx (paragraph styles, bold and italic runs):
# readers we did not write.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! dpkg -s libreoffice-writer >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-writer >/dev/null
fi
VENV=target/venv-docx
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import docx' 2>/dev/null || "$VENV/bin/pip" install -q python-docx
TEST_BIN=$(scripts/lib/built.sh docx test libreoffice)
(cd crates/docx && DOCX_PYTHON="$PWD/../../$VENV/bin/python" "$TEST_BIN" --ignored)
